"""Grades into Canvas: fill one column of the gradebook CSV that Canvas exports, ready to import.

Canvas exports its gradebook as CSV: the columns ``Student, ID, SIS User ID, SIS Login ID, Section``,
then one column per assignment (with its Canvas id in the header, e.g. ``Cat or not (1234)``) and a
few totals; the first rows after the header may be ``Points Possible`` (and, in some exports,
``Muted``) rows. Importing a file with the same columns updates the gradebook; Canvas ignores a
column it is not asked to change only if its values are unchanged, so every other column and row is
written back exactly as it came.

:func:`fill` puts each graded student's total in the chosen column, matched on ``SIS Login ID`` by
default (the course's student ids are usually the students' logins), and leaves the cell EMPTY for a
student who was not graded or did not submit, never 0: an empty cell is "no grade yet" in Canvas, a 0
is a grade. Students graded but absent from the Canvas file, and Canvas students unknown to the
course, are listed for the instructor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from catkit.errors import CatkitError

if TYPE_CHECKING:
    from catkit.course import Course

MATCH = "SIS Login ID"
SPECIAL_ROWS = ("Points Possible", "Muted")  # rows under the header that are not students


@dataclass
class Filled:
    """What :func:`fill` did."""

    rows: list[list[str]]                              # the whole file, header first
    graded: int = 0                                    # students whose cell got a total
    empty: list[str] = field(default_factory=list)     # in Canvas and the course, not graded: left empty
    not_in_canvas: list[str] = field(default_factory=list)  # graded students the Canvas file does not hold
    not_in_course: list[str] = field(default_factory=list)  # Canvas students the course does not know


def read(path: Path) -> list[list[str]]:
    """The rows of a Canvas gradebook CSV (a byte-order mark, as Canvas writes it, is accepted)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CatkitError(f"cannot read the Canvas export {path}: {error}") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or "Student" not in rows[0]:
        raise CatkitError(f"{path} is not a Canvas gradebook export: its first row has no 'Student' column "
                          "(in Canvas: Grades, Export, Export Entire Gradebook)")
    return rows


def _column(header: list[str], name: str, path: Path, what: str) -> int:
    if name in header:
        return header.index(name)
    matches = [i for i, column in enumerate(header) if column.startswith(name + " (")]  # "Name (1234)"
    if len(matches) == 1:
        return matches[0]
    raise CatkitError(f"the Canvas export {path} has no {what} column {name!r}; its columns are: "
                      + ", ".join(repr(column) for column in header))


def _is_special(row: list[str], student: int) -> bool:
    return len(row) > student and row[student].strip() in SPECIAL_ROWS


def fill(rows: list[list[str]], column: str, totals: Mapping[str, float | None], path: Path,
         match: str = MATCH) -> Filled:
    """Rows with ``column`` set from ``totals`` (course student id -> total, None when not graded)."""
    header = rows[0]
    target, key, student = (_column(header, column, path, "assignment"), _column(header, match, path, "student id"),
                            header.index("Student"))
    filled = Filled([list(header)])
    seen = set()
    for row in rows[1:]:
        row = list(row) + [""] * (len(header) - len(row))
        if not _is_special(row, student) and any(cell.strip() for cell in row):
            who = row[key].strip()
            seen.add(who)
            total = totals.get(who)
            if who not in totals:
                filled.not_in_course.append(who or row[student])
            elif total is None:
                filled.empty.append(who)
                row[target] = ""
            else:
                filled.graded += 1
                row[target] = f"{total:g}"
        filled.rows.append(row)
    filled.not_in_canvas = sorted(who for who, total in totals.items() if total is not None and who not in seen)
    return filled


def write(rows: list[list[str]], out: Path) -> None:
    with open(out, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def course_totals(course: Course, assignment: str) -> dict[str, float | None]:
    """Course student id -> total of ``assignment``, None for a student not graded (or without a
    submission): every student of the gradebook and every one who submitted."""
    from nbgrader.api import MissingEntry

    from catkit.course import is_graded
    from catkit.scores import function_scores

    layout = course.layout(assignment)
    with course.open_gradebook() as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise CatkitError(f"assignment '{assignment}' is not in the gradebook {course.shown_db_url}: "
                              f"grade it first") from None
        students = {s.id for s in gb.students} | set(course.submitted_students(assignment))
        return {s: function_scores(gb, assignment, s, layout)["total"] if is_graded(course.status(assignment, s))
                else None for s in sorted(students)}


def export(course: Course, assignment: str, canvas: Path, column: str, out: Path, match: str = MATCH,
           force: bool = False) -> Filled:
    """Read the Canvas export ``canvas``, fill ``column`` with the totals of ``assignment``, write ``out``."""
    course.notebooks(assignment)  # an unknown assignment: say which exist
    if out.resolve() == canvas.resolve():
        raise CatkitError(f"--out {out} is the Canvas export itself: write the filled file elsewhere (nothing is "
                          "overwritten)")
    if out.exists() and not force:
        raise CatkitError(f"{out} exists: choose another --out, or add --force to replace it")
    filled = fill(read(canvas), column, course_totals(course, assignment), canvas, match)
    write(filled.rows, out)
    return filled
