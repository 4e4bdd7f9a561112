"""An assignment's layout (graded functions, imports, limits), read from its source notebooks.

Export, feedback, the class report and the course table all follow the assignment they show:
its functions come from the instructor's notebooks in ``source/<assignment>/`` (see
:mod:`catkit.grading.layout`), never from a list in the kit.
"""

from pathlib import Path

from catkit.grading.layout import Layout, LayoutError, layout_of

_cache = {}  # (path, mtime) -> Layout


def source_notebooks(coursedir, assignment):
    folder = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    return sorted(folder.glob("*.ipynb"))


def _read(path):
    import nbformat
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _cache:
        _cache[key] = layout_of(nbformat.read(path, as_version=4), str(path))
    return _cache[key]


def notebook_layout(coursedir, assignment, notebook):
    """The layout of one notebook (``notebook`` without .ipynb) of the assignment."""
    path = Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{notebook}.ipynb"
    if not path.is_file():
        raise LayoutError(f"the instructor's notebook {path} is missing: the graded functions of "
                          f"{assignment}/{notebook} are read from it")
    return _read(path)


def assignment_layout(coursedir, assignment):
    """One layout for the whole assignment: its notebooks' functions, in notebook order."""
    paths = source_notebooks(coursedir, assignment)
    if not paths:
        raise LayoutError(f"no instructor notebook in {coursedir.format_path(coursedir.source_directory, '.', assignment)}"
                          f": the graded functions of {assignment} are read from it")
    layout = Layout()
    for path in paths:
        layout = layout.merged(_read(path))
    return layout
