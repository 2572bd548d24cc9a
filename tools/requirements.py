"""Print, one per line, what a development venv needs: the build requirements, the runtime
dependencies and the given extras of pyproject.toml, so that `make setup` has one source of truth.

Usage: python tools/requirements.py test dev
"""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

with open("pyproject.toml", "rb") as f:
    pyproject = tomllib.load(f)

project = pyproject["project"]
requirements = [*pyproject["build-system"]["requires"], *project["dependencies"]]
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
print("\n".join(requirements))
