"""PerFunctionCsvExport: one row per student, one column per graded function, the total, the status.

Selected in nbgrader_config.py (``c.ExportApp.plugin_class``), so ``nbgrader export`` writes
it; points come from the gradebook, summed over the test cells whose grade_id starts with
the function's name. ``status`` is ``graded`` or ``not graded: <why>``
(see :mod:`catkit.nbgrader_plugins.status`): a submission that was not graded has empty points,
never zeros that would pass for a real zero.
"""

import csv

from nbgrader.api import MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import ExportPlugin

from catkit.grading.notebook import FUNCTIONS, function_of
from catkit.nbgrader_plugins.status import is_graded, submission_status, submitted_students

COLUMNS = ["student_id", "first_name", "last_name", "email", "assignment", *FUNCTIONS, "total", "status"]


def function_scores(gradebook, assignment, student):
    """Points per function (and total) of one student's submission; zeros if none."""
    scores = dict.fromkeys(FUNCTIONS, 0.0)
    try:
        submission = gradebook.find_submission(assignment, student)
    except Exception:  # nbgrader raises MissingEntry: no submission scores zero
        return {**scores, "total": 0.0}
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            function = function_of(grade.name)
            if function is not None:
                scores[function] += grade.score
    return {**scores, "total": sum(scores.values())}


def function_maxima(gradebook, assignment):
    """Points each function is worth in the assignment, from its graded cells."""
    maxima = dict.fromkeys(FUNCTIONS, 0.0)
    for notebook in gradebook.find_assignment(assignment).notebooks:
        for cell in notebook.grade_cells:
            function = function_of(cell.name)
            if function is not None:
                maxima[function] += cell.max_score
    return maxima


class PerFunctionCsvExport(ExportPlugin):

    def export(self, gradebook):
        path = self.to or "grades.csv"
        coursedir = CourseDirectory(config=self.config)
        assignments = [a.name for a in gradebook.assignments
                       if not self.assignment or a.name in self.assignment]
        self.log.info("Exporting per-function grades to %s", path)
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for assignment in sorted(assignments):
                for student in self._students(gradebook, coursedir, assignment):
                    writer.writerow(self._row(gradebook, coursedir, assignment, student))

    def _students(self, gradebook, coursedir, assignment):
        """Ids of the gradebook's students and of those with a folder in submitted/: nbgrader never
        adds a student whose submission folder holds no notebook, who must still be listed."""
        ids = {s.id for s in gradebook.students} | set(submitted_students(coursedir, assignment))
        return sorted(i for i in ids if not self.student or i in self.student)

    def _row(self, gradebook, coursedir, assignment, student_id):
        status = submission_status(coursedir, assignment, student_id)
        if is_graded(status):
            scores = function_scores(gradebook, assignment, student_id)
            points = {key: f"{value:g}" for key, value in scores.items()}
        else:  # empty, not 0: no points were given
            points = dict.fromkeys([*FUNCTIONS, "total"], "")
        return {"student_id": student_id, **_names(gradebook, student_id), "assignment": assignment,
                **points, "status": status}


def _names(gradebook, student_id):
    """The student's names and email from the gradebook; empty for a student it does not hold."""
    try:
        student = gradebook.find_student(student_id)
    except MissingEntry:
        return {"first_name": "", "last_name": "", "email": ""}
    return {"first_name": student.first_name or "", "last_name": student.last_name or "",
            "email": student.email or ""}
