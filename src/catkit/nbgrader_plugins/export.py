"""PerFunctionCsvExport: ``nbgrader export`` as CSV files an LMS imports, points per graded function.

Selected in nbgrader_config.py (``c.ExportApp.plugin_class``). For ``--to grades.csv`` it writes:

- ``grades.csv``: one row per student and assignment: ``student_id, first_name, last_name, email,
  assignment, total, max_score, status``, whatever the assignments (the course's overview);
- ``grades_<assignment>.csv`` for each assignment: one row per student, ``student_id, first_name,
  last_name, email``, one column per graded function of that assignment in notebook order, then
  ``total`` and ``status`` (one LMS import per assignment, a column per function).

Points come from the gradebook, summed over the test cells whose grade_id starts with the
function's name; the functions are read from the assignment's notebooks (see
:mod:`catkit.nbgrader_plugins.assignments`). ``status`` is ``graded`` or ``not graded: <why>``
(see :mod:`catkit.nbgrader_plugins.status`): a submission that was not graded has empty points,
never zeros that would pass for a real zero.
"""

import csv
from pathlib import Path

from nbgrader.api import MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import ExportPlugin

from catkit.nbgrader_plugins.assignments import assignment_layout
from catkit.nbgrader_plugins.status import is_graded, submission_status, submitted_students

PEOPLE = ["student_id", "first_name", "last_name", "email"]
SUMMARY = [*PEOPLE, "assignment", "total", "max_score", "status"]


def function_scores(gradebook, assignment, student, layout):
    """Points per function of ``layout`` (and total) of one student's submission; zeros if none."""
    scores = dict.fromkeys(layout.functions, 0.0)
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:  # no submission scores zero
        return {**scores, "total": 0.0}
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            function = layout.function_of(grade.name)
            if function is not None:
                scores[function] += grade.score
    return {**scores, "total": sum(scores.values())}


def function_maxima(gradebook, assignment, layout):
    """Points each function is worth in the assignment, from its graded cells."""
    maxima = dict.fromkeys(layout.functions, 0.0)
    for notebook in gradebook.find_assignment(assignment).notebooks:
        for cell in notebook.grade_cells:
            function = layout.function_of(cell.name)
            if function is not None:
                maxima[function] += cell.max_score
    return maxima


def assignment_file(path, assignment):
    """Where the per-function CSV of ``assignment`` goes, beside the summary ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_{assignment}{path.suffix or '.csv'}")


class PerFunctionCsvExport(ExportPlugin):

    def export(self, gradebook):
        path = self.to or "grades.csv"
        coursedir = CourseDirectory(config=self.config)
        assignments = sorted(a.name for a in gradebook.assignments
                             if not self.assignment or a.name in self.assignment)
        self.log.info("Exporting grades to %s and per-function grades to %s", path,
                      ", ".join(str(assignment_file(path, a)) for a in assignments) or "no other file")
        with open(path, "w", newline="", encoding="utf-8") as summary:
            overview = csv.DictWriter(summary, fieldnames=SUMMARY)
            overview.writeheader()
            for assignment in assignments:
                layout = assignment_layout(coursedir, assignment)
                maximum = sum(function_maxima(gradebook, assignment, layout).values())
                with open(assignment_file(path, assignment), "w", newline="", encoding="utf-8") as handle:
                    writer = csv.DictWriter(handle, fieldnames=[*PEOPLE, *layout.functions, "total", "status"])
                    writer.writeheader()
                    for student in self._students(gradebook, coursedir, assignment):
                        row = self._row(gradebook, coursedir, assignment, student, layout)
                        writer.writerow(row)
                        overview.writerow({**{key: row[key] for key in PEOPLE}, "assignment": assignment,
                                           "total": row["total"], "max_score": f"{maximum:g}",
                                           "status": row["status"]})

    def _students(self, gradebook, coursedir, assignment):
        """Ids of the gradebook's students and of those with a folder in submitted/: nbgrader never
        adds a student whose submission folder holds no notebook, who must still be listed."""
        ids = {s.id for s in gradebook.students} | set(submitted_students(coursedir, assignment))
        return sorted(i for i in ids if not self.student or i in self.student)

    def _row(self, gradebook, coursedir, assignment, student_id, layout):
        status = submission_status(coursedir, assignment, student_id)
        if is_graded(status):
            scores = function_scores(gradebook, assignment, student_id, layout)
            points = {key: f"{value:g}" for key, value in scores.items()}
        else:  # empty, not 0: no points were given
            points = dict.fromkeys([*layout.functions, "total"], "")
        return {"student_id": student_id, **_names(gradebook, student_id), **points, "status": status}


def _names(gradebook, student_id):
    """The student's names and email from the gradebook; empty for a student it does not hold."""
    try:
        student = gradebook.find_student(student_id)
    except MissingEntry:
        return {"first_name": "", "last_name": "", "email": ""}
    return {"first_name": student.first_name or "", "last_name": student.last_name or "",
            "email": student.email or ""}
