"""Build submissions the way a student would: the release notebook with its stubs filled in.

Used for the bundled example submissions and by the tests. A submission starts from the
student version (release/) and takes, for each answer cell, the body of the instructor's
solution, optionally with edits (old -> new text) that plant a mistake. An edit whose old text
is not found is an error: a stale mistake must not silently turn into a correct answer.
"""

import nbformat

from catkit.errors import CatkitError
from catkit.grading.layout import grade_id

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _without_markers(source):
    return "\n".join(line for line in source.split("\n") if line.strip() not in SOLUTION_MARKERS)


def answers(source_nb):
    """grade_id -> solution source (markers removed) of every answer cell of the instructor's notebook."""
    return {grade_id(cell): _without_markers(cell.source) for cell in source_nb.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution")}


def fill(release_nb, source_nb, edits=None, keep_stubs=()):
    """A copy of ``release_nb`` with every answer cell (except ``keep_stubs``) solved.

    ``edits`` maps a grade_id to a list of (old, new) replacements applied to that cell's answer
    (old None replaces the whole cell); a grade_id may also be a test cell's, to tamper with it.
    """
    solved = answers(source_nb)
    edits = dict(edits or {})
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        cell_id = grade_id(cell)
        if cell_id in solved and cell_id not in keep_stubs:
            cell.source = solved[cell_id]
        for old, new in edits.pop(cell_id, []):
            if old is None:
                cell.source = new
                continue
            if old not in cell.source:
                raise CatkitError(f"edit for {cell_id}: {old!r} is not in the cell")
            cell.source = cell.source.replace(old, new)
    if edits:
        raise CatkitError(f"edits name cells that do not exist: {sorted(edits)}")
    return nb
