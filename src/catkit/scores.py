"""Points per graded function, read from nbgrader's gradebook.

A function's points are the sum over the test cells whose grade_id starts with its name (see
:meth:`catkit.grading.layout.Layout.function_of`); the functions come from the assignment's
notebooks, never from a list in the kit. Used by the export, the class report and ``catkit grade``.
"""

from __future__ import annotations

from nbgrader.api import Gradebook, MissingEntry

from catkit.grading.layout import Layout


def function_scores(gradebook: Gradebook, assignment: str, student: str, layout: Layout) -> dict[str, float]:
    """Points per function of ``layout`` (and total) of one student's submission; zeros if none.
    The total is nbgrader's: less the late-submission penalty of the course's ``LateSubmissionPlugin``
    (never below 0), which the functions' points do not show."""
    scores = dict.fromkeys(layout.functions, 0.0)
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:  # no submission scores zero
        return {**scores, "total": 0.0}
    penalty = 0.0
    for notebook in submission.notebooks:
        penalty += notebook.late_submission_penalty or 0.0
        for grade in notebook.grades:
            function = layout.function_of(grade.name)
            if function is not None:
                scores[function] += grade.score
    return {**scores, "total": max(0.0, sum(scores.values()) - penalty)}


def function_maxima(gradebook: Gradebook, assignment: str, layout: Layout) -> dict[str, float]:
    """Points each function is worth in the assignment, from its graded cells (MissingEntry if the
    assignment is not in the gradebook)."""
    maxima = dict.fromkeys(layout.functions, 0.0)
    for notebook in gradebook.find_assignment(assignment).notebooks:
        for cell in notebook.grade_cells:
            function = layout.function_of(cell.name)
            if function is not None:
                maxima[function] += cell.max_score
    return maxima
