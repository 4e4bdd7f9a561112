"""PerFunctionCsvExport: one row per student, one column per graded function, plus the total.

Selected in nbgrader_config.py (``c.ExportApp.plugin_class``), so ``nbgrader export`` writes
it; points come from the gradebook, summed over the test cells whose grade_id starts with
the function's name.
"""

import csv

from nbgrader.plugins import ExportPlugin

from catkit.grading.notebook import FUNCTIONS, function_of

COLUMNS = ["student_id", "first_name", "last_name", "email", "assignment", *FUNCTIONS, "total"]


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
        assignments = [a.name for a in gradebook.assignments
                       if not self.assignment or a.name in self.assignment]
        students = [s for s in gradebook.students if not self.student or s.id in self.student]
        self.log.info("Exporting per-function grades to %s", path)
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for assignment in sorted(assignments):
                for student in sorted(students, key=lambda s: s.id):
                    scores = function_scores(gradebook, assignment, student.id)
                    writer.writerow({"student_id": student.id, "first_name": student.first_name or "",
                                     "last_name": student.last_name or "", "email": student.email or "",
                                     "assignment": assignment,
                                     **{key: f"{value:g}" for key, value in scores.items()}})
