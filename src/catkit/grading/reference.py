"""The reference solution, taken from the instructor's source notebook.

The solution lives in one place, the source notebook's solution cells. The grader defines
those functions in its own (trusted) process, where test cells use them as oracles, and
sends their source to the sandbox, where they stand in for the functions a student's
function calls, so that one mistake is never charged twice.
"""

import os

import nbformat

from catkit.grading.notebook import FUNCTIONS, PREAMBLE, function_source

_cache = {}


class MissingReference(LookupError):
    """The source notebook lacks a reference function."""


class Reference:
    def __init__(self, sources):
        self.sources = sources  # function name -> source of its solution cell
        namespace = {"__name__": "catkit_reference"}
        exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
        for name, source in sources.items():
            exec(compile(source, f"<reference {name}>", "exec"), namespace)
        self.functions = {name: namespace[name] for name in sources}

    @classmethod
    def from_notebook(cls, path):
        """Load (and cache, per file version) the reference from a source notebook."""
        key = (os.path.realpath(path), os.stat(path).st_mtime_ns)
        if key not in _cache:
            nb = nbformat.read(path, as_version=4)
            sources = {}
            for name in FUNCTIONS:
                source = function_source(nb, name)
                if source is None:
                    raise MissingReference(f"{path} has no solution cell defining {name}()")
                sources[name] = source
            _cache[key] = cls(sources)
        return _cache[key]

    def others(self, function):
        """Reference sources of every function except ``function``."""
        return {name: source for name, source in self.sources.items() if name != function}
