"""The reference solution, taken from the instructor's source notebook.

The solution lives in one place, the source notebook's answer cells (read by
:meth:`catkit.course.Course.reference_answers` for grading, by :func:`from_notebook` for a test that
grades without a course). The grader defines those
functions in its own (trusted) process, where test cells use them as oracles; the reference
sandbox (:mod:`catkit.grading.sandboxed.oracle`) defines them too, to compute the functions a
student's function calls. They never enter a process that runs student code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catkit.errors import LayoutError
from catkit.grading.layout import DEFAULT_HIDDEN_MARKER, Layout, function_source, layout_of

_cache: dict[str, dict[str, Callable[..., Any]]] = {}


if TYPE_CHECKING:
    from nbformat import NotebookNode


def answers(nb: NotebookNode, layout: Layout) -> dict[str, str]:
    """{function: source of the instructor's answer cell} of the instructor notebook ``nb``."""
    return {name: function_source(nb, name) or "" for name in layout.functions}


def from_notebook(path: str | Path, hidden_marker: str = DEFAULT_HIDDEN_MARKER) -> tuple[Layout, dict[str, str]]:
    """(layout, {function: source of its answer cell}) of the instructor's notebook at ``path`` (the
    layout with the modules of its folder that its test cells import)."""
    import nbformat  # only the grader's main process reads notebooks: grading processes start faster
    nb = nbformat.read(path, as_version=4)
    layout = layout_of(nb, str(path), hidden_marker, folder=Path(path).parent)
    if not layout.functions:
        raise LayoutError(f"{path} has no answer cell with a grade_id '<function>_solution' defining that "
                          "function: the engine finds no graded function (see README: Writing an assignment)")
    return layout, answers(nb, layout)


def functions(sources: Mapping[str, str], preamble: str) -> dict[str, Callable[..., Any]]:
    """The reference functions defined from ``sources`` in a namespace of their own (cached)."""
    key = hashlib.sha256(json.dumps([preamble, sorted(sources.items())]).encode()).hexdigest()
    if key not in _cache:
        namespace: dict[str, Any] = {"__name__": "catkit_reference"}
        exec(compile(preamble, "<preamble>", "exec"), namespace)
        for name, source in sources.items():
            exec(compile(source, f"<reference {name}>", "exec"), namespace)
        _cache[key] = {name: namespace[name] for name in sources}
    return _cache[key]
