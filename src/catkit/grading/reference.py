"""The reference solution, taken from the instructor's source notebook.

The solution lives in one place, the source notebook's answer cells. The grader defines those
functions in its own (trusted) process, where test cells use them as oracles; the reference
sandbox (:mod:`catkit.grading.oracle`) defines them too, to compute the functions a student's
function calls. They never enter a process that runs student code.
"""

import hashlib
import json

from catkit.grading.layout import LayoutError, function_source, layout_of

_cache = {}


def from_notebook(path):
    """(layout, {function: source of its answer cell}) of the instructor's notebook at ``path``."""
    import nbformat  # only the grader's main process reads notebooks: grading processes start faster
    nb = nbformat.read(path, as_version=4)
    layout = layout_of(nb, str(path))
    if not layout.functions:
        raise LayoutError(f"{path} has no answer cell with a grade_id '<function>_solution' defining that "
                          "function: the engine finds no graded function (see README: Writing an assignment)")
    return layout, {name: function_source(nb, name) for name in layout.functions}


def functions(sources, preamble):
    """The reference functions defined from ``sources`` in a namespace of their own (cached)."""
    key = hashlib.sha256(json.dumps([preamble, sorted(sources.items())]).encode()).hexdigest()
    if key not in _cache:
        namespace = {"__name__": "catkit_reference"}
        exec(compile(preamble, "<preamble>", "exec"), namespace)
        for name, source in sources.items():
            exec(compile(source, f"<reference {name}>", "exec"), namespace)
        _cache[key] = {name: namespace[name] for name in sources}
    return _cache[key]
