"""PerFunctionCsvExport: ``nbgrader export`` as CSV files an LMS imports, points per graded function.

Selected in nbgrader_config.py (``c.ExportApp.plugin_class``). For ``--to grades.csv`` it writes:

- ``grades.csv``: one row per student and assignment: ``student_id, first_name, last_name, email,
  assignment, total, max_score, status``, whatever the assignments (the course's overview);
- ``grades_<assignment>.csv`` for each assignment: one row per student, ``student_id, first_name,
  last_name, email``, one column per graded function of that assignment in notebook order, then
  ``total`` and ``status`` (one LMS import per assignment, a column per function).

Points come from the gradebook, summed over the test cells whose grade_id starts with the
function's name; the functions are read from the assignment's notebooks (see
:class:`catkit.course.Course`). ``status`` is ``graded`` or ``not graded: <why>``
(see :meth:`catkit.course.Course.status`): a submission that was not graded has empty points,
never zeros that would pass for a real zero.

Every cell is written through :func:`spreadsheet_safe`: text a spreadsheet would take for a formula
(a student id, name or status starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets
a leading ``'``, as OWASP recommends; numbers (points, ``-1`` included) stay numbers.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

from catkit.course import Course, is_graded
from catkit.grading.layout import Layout
from catkit.scores import function_maxima, function_scores

PEOPLE = ["student_id", "first_name", "last_name", "email"]
SUMMARY = [*PEOPLE, "assignment", "total", "max_score", "status"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a CSV cell no spreadsheet evaluates: text that would start a formula is
    prefixed with ``'``; numbers, and text that starts otherwise, are unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START) or NUMBER.fullmatch(value):
        return value
    return "'" + value


class SafeWriter(csv.DictWriter):
    """csv.DictWriter whose cells go through :func:`spreadsheet_safe`."""

    def writerow(self, rowdict: Any) -> Any:
        return super().writerow({key: spreadsheet_safe(value) for key, value in rowdict.items()})


def assignment_file(path: Path | str, assignment: str) -> Path:
    """Where the per-function CSV of ``assignment`` goes, beside the summary ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_{assignment}{path.suffix or '.csv'}")


class PerFunctionCsvExport(ExportPlugin):

    def export(self, gradebook: Gradebook) -> None:
        path = self.to or "grades.csv"
        course = Course.of(self)
        assignments = sorted(a.name for a in gradebook.assignments
                             if not self.assignment or a.name in self.assignment)
        self.log.info("Exporting grades to %s and per-function grades to %s", path,
                      ", ".join(str(assignment_file(path, a)) for a in assignments) or "no other file")
        with open(path, "w", newline="", encoding="utf-8") as summary:
            overview = SafeWriter(summary, fieldnames=SUMMARY)
            overview.writeheader()
            for assignment in assignments:
                layout = course.layout(assignment)
                maximum = sum(function_maxima(gradebook, assignment, layout).values())
                with open(assignment_file(path, assignment), "w", newline="", encoding="utf-8") as handle:
                    writer = SafeWriter(handle, fieldnames=[*PEOPLE, *layout.functions, "total", "status"])
                    writer.writeheader()
                    for student in self._students(gradebook, course, assignment):
                        row = self._row(gradebook, course, assignment, student, layout)
                        writer.writerow(row)
                        overview.writerow({**{key: row[key] for key in PEOPLE}, "assignment": assignment,
                                           "total": row["total"], "max_score": f"{maximum:g}",
                                           "status": row["status"]})

    def _students(self, gradebook: Gradebook, course: Course, assignment: str) -> list[str]:
        """Ids of the gradebook's students and of those with a folder in submitted/: nbgrader never
        adds a student whose submission folder holds no notebook, who must still be listed."""
        ids = {s.id for s in gradebook.students} | set(course.submitted_students(assignment))
        return sorted(i for i in ids if not self.student or i in self.student)

    def _row(self, gradebook: Gradebook, course: Course, assignment: str, student_id: str,
             layout: Layout) -> dict[str, Any]:
        status = course.status(assignment, student_id)
        if is_graded(status):
            scores = function_scores(gradebook, assignment, student_id, layout)
            points = {key: f"{value:g}" for key, value in scores.items()}
        else:  # empty, not 0: no points were given
            points = dict.fromkeys([*layout.functions, "total"], "")
        return {"student_id": student_id, **_names(gradebook, student_id), **points, "status": status}


def _names(gradebook: Gradebook, student_id: str) -> dict[str, str]:
    """The student's names and email from the gradebook; empty for a student it does not hold."""
    try:
        student = gradebook.find_student(student_id)
    except MissingEntry:
        return {"first_name": "", "last_name": "", "email": ""}
    return {"first_name": student.first_name or "", "last_name": student.last_name or "",
            "email": student.email or ""}
