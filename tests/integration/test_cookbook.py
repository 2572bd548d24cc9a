"""The Python of docs/cookbook.md, run as written: the headless-client recipe is a test in its
own right, and the request/answer recipe is driven by the client against a real kernel."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

# The client runs in this process: use this checkout's syncstate (the kernel has its own).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jupyter_client.manager import start_new_kernel

from syncstate.client import Client

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "cookbook.md"


def _python_blocks() -> dict[str, str]:
    """The python block of each `## ` section, by heading."""
    blocks = {}
    for section in COOKBOOK.read_text().split("\n## ")[1:]:
        heading = section.splitlines()[0]
        code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
        if code:
            blocks[heading] = code.group(1)
    return blocks


def test_every_python_block_is_valid_python() -> None:
    blocks = _python_blocks()
    assert len(blocks) >= 5
    for heading, code in blocks.items():
        compile(code, f"cookbook: {heading}", "exec")


def test_the_headless_client_recipe_passes() -> None:
    namespace: dict[str, Any] = {}
    exec(_python_blocks()["Testing a model with the headless client"], namespace)
    namespace["test_counter_takes_edits_and_refuses_negative_counts"]()


def test_calling_python_from_the_view_answers_with_the_request_id() -> None:
    recipe = _python_blocks()["Calling Python from the view and getting a result"]
    km, kc = start_new_kernel(kernel_name="python3")
    client = Client(km.client())
    try:
        client.execute("import syncstate\n" + recipe + "\ncalculator = Calculator()")
        (calculator,) = client.models.values()
        answers: list[Any] = []
        calculator.on_custom(lambda content, buffers: answers.append(content))

        calculator.send_custom({"id": 1, "method": "mean", "args": [[1, 2, 6]]})
        calculator.send_custom({"id": 2, "method": "median", "args": [[1]]})
        client.wait(lambda: len(answers) == 2, timeout=30)
        assert answers[0] == {"id": 1, "result": 3.0}
        assert answers[1] == {"id": 2, "error": "KeyError: 'median'"}
    finally:
        client.close()
        kc.stop_channels()
        km.shutdown_kernel(now=True)
