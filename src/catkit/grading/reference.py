"""The reference solution, taken from the instructor's source notebook.

The solution lives in one place, the source notebook's solution cells. The grader defines those
functions in its own (trusted) process, where test cells use them as oracles; the reference
sandbox (:mod:`catkit.grading.oracle`) defines them too, to compute the functions a student's
function calls. They never enter a process that runs student code.
"""

import hashlib
import json

from catkit.grading.notebook import FUNCTIONS, PREAMBLE, function_source

_cache = {}


class MissingReference(LookupError):
    """The source notebook lacks a reference function."""


def sources_from_notebook(path):
    """function name -> source of its solution cell in the instructor's notebook at ``path``."""
    import nbformat  # only the grader's main process reads notebooks: grading processes start faster
    nb = nbformat.read(path, as_version=4)
    sources = {}
    for name in FUNCTIONS:
        source = function_source(nb, name)
        if source is None:
            raise MissingReference(f"{path} has no solution cell defining {name}()")
        sources[name] = source
    return sources


def functions(sources):
    """The reference functions defined from ``sources`` in a namespace of their own (cached)."""
    key = hashlib.sha256(json.dumps(sorted(sources.items())).encode()).hexdigest()
    if key not in _cache:
        namespace = {"__name__": "catkit_reference"}
        exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
        for name, source in sources.items():
            exec(compile(source, f"<reference {name}>", "exec"), namespace)
        _cache[key] = {name: namespace[name] for name in sources}
    return _cache[key]
