"""Exported notebooks show syncstate views with their saved state, offline.

Plain `jupyter nbconvert --to html notebook.ipynb` runs `StaticViews`: the wheel installs
`<prefix>/etc/jupyter/jupyter_nbconvert_config.json`, which nbconvert reads from the Jupyter
config path, naming it in `HTMLExporter.preprocessors` (a user's own `HTMLExporter.preprocessors`
replaces that list: add `"syncstate.nbconvert.StaticViews"` to it). Each view output gets a
`text/html` form: its output data as JSON, rendered by a small viewer (the JS mirror and view
loader, ~25 kB) inlined once per page. Nothing of a view is fetched: its `_esm` is in the saved
state, and the page works from `file://`. `--to syncstate-html` (the `StaticHTMLExporter`) also
drops nbconvert's CDN scripts (require.js, MathJax), so that the page fetches nothing at all.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import default

from .protocol import MIME_TYPE


@cache
def viewer_source() -> str:
    """The prebuilt viewer shipped in the wheel (js/src/static, built by `jlpm build:static`)."""
    return (files("syncstate") / "static" / "viewer.js").read_text(encoding="utf-8")


def _script_json(value: Any) -> str:
    """JSON that cannot end the <script> element it sits in."""
    return json.dumps(value).replace("<", "\\u003c")


def _script_text(source: str) -> str:
    return source.replace("</script", "<\\/script")


class StaticViews(Preprocessor):
    """Gives every syncstate view output an HTML form that renders its saved state."""

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        viewer_included = False
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                view = output.get("data", {}).get(MIME_TYPE)
                if not isinstance(view, dict):
                    continue
                html = (
                    '<div class="syncstate-view syncstate-saved" data-syncstate-view>'
                    f'<script type="{MIME_TYPE}">{_script_json(view)}</script></div>'
                )
                if not viewer_included:
                    # Once per page; it mounts every view when the document has loaded.
                    html = f"<script>{_script_text(viewer_source())}</script>" + html
                    viewer_included = True
                output["data"]["text/html"] = html
        return nb, resources


#: Loads nothing: what the page would otherwise fetch from a CDN (require.js, MathJax).
NOTHING = "data:text/javascript,"


class StaticHTMLExporter(HTMLExporter):
    """`--to syncstate-html`: the HTML exporter with `StaticViews`, and a page that fetches
    nothing (nbconvert's require.js and MathJax come from a CDN: give `--HTMLExporter.mathjax_url`
    a local copy to typeset math offline)."""

    export_from_notebook = "HTML with syncstate views"

    @default("require_js_url")
    def _offline_require_js(self) -> str:
        return NOTHING

    @default("mathjax_url")
    def _offline_mathjax(self) -> str:
        return NOTHING

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        # Config (the installed jupyter_nbconvert_config.json) may have registered it already.
        if not any(isinstance(p, StaticViews) for p in self._preprocessors):
            self.register_preprocessor(StaticViews, enabled=True)  # type: ignore[no-untyped-call]
