"""Which cells of a submission are the instructor's: the only ones rendered with the instructor's markup.

A notebook's markdown and raw cells are not in nbgrader's gradebook unless locked, and a student may
edit, add or copy any of them. So a cell counts as the instructor's when its source is exactly that of
a markdown or raw cell of the instructor's notebook (``source/``) or of its student version
(``release/``): unchanged text is the instructor's wherever it stands, and any edit makes the cell
the student's. The kit's own cells (FunctionScores' table) are named in the page's resources.
Everything else, and every cell when the instructor's notebooks cannot be read, is the student's.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat

from catkit.course import Course

KIT_CELLS = "catkit_kit_cells"  # resources key: sources of the markdown cells the kit wrote into the page


@lru_cache(maxsize=64)
def _sources(path: Path, mtime: float) -> frozenset[str]:
    nb = nbformat.read(path, as_version=4)
    return frozenset(cell.source for cell in nb.cells if cell.cell_type in ("markdown", "raw"))


def instructor_sources(course: Course, assignment: str, notebook: str) -> frozenset[str]:
    """Sources of the markdown and raw cells of the instructor's notebook and of its release."""
    found: frozenset[str] = frozenset()
    for folder in (course.source_dir(assignment), course.release_dir(assignment)):
        path = folder / f"{notebook}.ipynb"
        try:
            found |= _sources(path, path.stat().st_mtime)
        except (OSError, ValueError):  # missing or unreadable: its cells are not vouched for
            continue
    return found


def page_notebook(resources: dict[str, Any]) -> tuple[str, str] | None:
    """(assignment, notebook) of the page being written: nbgrader's feedback and the formgrader
    name them differently."""
    info = resources.get("nbgrader") or {}
    assignment = info.get("assignment") or resources.get("assignment_id")
    notebook = info.get("notebook") or resources.get("notebook_id")
    return (str(assignment), str(notebook)) if assignment and notebook else None


def mark_kit_cell(resources: dict[str, Any], source: str) -> None:
    """Record a markdown cell the kit wrote (so it renders as the instructor's)."""
    resources.setdefault(KIT_CELLS, []).append(source)


def is_instructors(source: str, trusted: frozenset[str], resources: dict[str, Any]) -> bool:
    return source in trusted or source in resources.get(KIT_CELLS, ())
