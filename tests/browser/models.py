"""The counter model that browser tests define in a notebook cell, shared by their modules."""

from __future__ import annotations

#: The counter's view: a button that reads "label: N", or "count is N" without a label.
_COUNTER_VIEW = """
export default {
  render({ model, el }) {
    const button = document.createElement("button");
    button.className = "counter";
    const draw = () => {
      const [label, count] = [model.get("label"), model.get("count")];
      button.textContent = label ? `${label}: ${count}` : `count is ${count}`;
    };
    model.on("change:count", draw);
    draw();
    button.onclick = () =>
      model.patch([{ op: "replace", path: "/count", value: model.get("count") + 1 }]);
    el.append(button);
  },
};
"""

_COUNTER_CLASS = f'''
import syncstate
from traitlets import Int, Unicode

class Counter(syncstate.Model):
    _esm = """{_COUNTER_VIEW}"""
    _css = ".counter {{ background: rgb(255, 224, 138); font-size: 16px; padding: 4px 12px; }}"
    label = Unicode("").tag(sync=True)
    count = Int(0).tag(sync=True)
'''

#: One counter, `counter`, shown as the cell's output.
COUNTER = (
    _COUNTER_CLASS
    + """
counter = Counter()
counter
"""
)

#: `make(label)` makes a labelled counter; `seen` records, in order, each (label, count) its
#: observers saw.
COUNTERS = (
    _COUNTER_CLASS
    + """
seen = []

def make(label):
    counter = Counter(label=label)
    counter.observe(lambda change: seen.append((label, change["new"])), "count")
    return counter
"""
)
