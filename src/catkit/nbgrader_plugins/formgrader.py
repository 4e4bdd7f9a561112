"""The formgrader's view of a submission: points per function on top, printed output and errors wrapped.

nbgrader's formgrader renders a submission with nbconvert's ``HTMLExporter`` (its ``formgrade``
template), configured from the course's nbgrader_config.py (``c.HTMLExporter.*``). Two additions:

- :class:`FunctionPoints` (``c.HTMLExporter.preprocessors``) opens the page with the feedback's
  table: each function's points, read from the gradebook when the page is opened (the score boxes
  below stay the live ones), each test cell's points linked to its score box, and what went wrong
  (the feedback's verdict, every message shortened and escaped). It writes only on the formgrader's
  pages: the feedback, made by a subclass of the same exporter, has its own table (feedback.py).
- :func:`wrapped_text` (the ``ansi2html`` filter) wraps printed output and tracebacks inside their
  box: the formgrader's page has no style for them, so a long line (a test's message and its hint,
  "did you forget the 1/m?") ran off the panel, past the right edge of the window.
"""

from __future__ import annotations

import html
from typing import Any

from nbformat.v4 import new_markdown_cell
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor
from traitlets import List

from catkit.course import Course
from catkit.nbgrader_plugins.cleaning import ansi_text
from catkit.nbgrader_plugins.feedback import what_went_wrong
from catkit.nbgrader_plugins.trust import mark_kit_cell

WRAP = '<span class="catkit-wrap" style="white-space: pre-wrap; overflow-wrap: anywhere;">{}</span>'


def wrapped_text(text: str) -> str:
    """Printed output as HTML (``ansi_text``: colours kept, text escaped, control characters out),
    in a span that wraps long lines inside the ``<pre>`` around it (the kit's own markup)."""
    return WRAP.format(ansi_text(text))


def formgrader_page(resources: dict[str, Any]) -> tuple[str, str, str] | None:
    """(assignment, notebook, student) of a page the formgrader is rendering; None for any other
    page (nbgrader's feedback names its notebook under resources['nbgrader'])."""
    if "nbgrader" in resources or "submission_id" not in resources:
        return None
    found = tuple(str(resources.get(key) or "") for key in ("assignment_id", "notebook_id", "student"))
    return (found[0], found[1], found[2]) if all(found) else None


class FunctionPoints(NbGraderPreprocessor):
    """Opens the formgrader's page of a submission with its points per function (see the module)."""

    # nbconvert's HTML exporter configures it for every step (declared as feedback.py's steps do, so
    # that traitlets takes it quietly)
    display_data_priority = List(GetGrades.class_traits()["display_data_priority"].default_value).tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        page = formgrader_page(resources)
        if page is None:
            return nb, resources
        assignment, notebook, student = page
        course = Course.of(self)
        try:
            layout = course.notebook_layout(assignment, notebook)
            with course.open_gradebook() as gb:
                grades = {grade.name: (grade.score, grade.max_score, grade.needs_manual_grade)
                          for grade in gb.find_submission_notebook(notebook, assignment, student).grades}
        except (MissingEntry, OSError, ValueError) as error:
            self.log.warning("catkit: no points per function on the formgrader's page of %s/%s/%s: %s",
                             student, assignment, notebook, error)
            return nb, resources
        rows: dict[str, dict[str, Any]] = {f: {"score": 0.0, "points": 0.0, "cells": [], "problems": []}
                                           for f in layout.functions}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            function = layout.function_of(grade_id) if grade_id in grades else None
            if function is None:
                continue
            score, points, manual = grades[grade_id]
            row = rows[function]
            row["score"] += score or 0.0
            row["points"] += points or 0.0
            kind = "hidden tests" if layout.is_hidden(cell.source) else "visible checks"
            row["cells"].append(f'<a href="#{html.escape(grade_id)}">{kind}</a> {score or 0:g} / {points or 0:g}'
                                + (" (to grade by hand)" if manual else ""))
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    row["problems"].append(f"{output.ename}: {output.evalue}")
                elif output.output_type == "stream" and output.name == "stderr":
                    row["problems"].append("wrote to stderr (a warning?)")
        lines = ["## Points per function", "",
                 "As the gradebook held them when this page was opened: the score boxes below are the live "
                 "ones (reload the page to see a change here). Each test cell's points link to its score box.",
                 "",
                 '<table class="table table-condensed catkit-scores"><tr><th>function</th><th>points</th>'
                 "<th>test cells</th><th>what went wrong</th></tr>"]
        for name, row in rows.items():
            lines.append(f'<tr><td><code>{html.escape(name)}</code></td><td class="text-nowrap">{row["score"]:g} / '
                         f'{row["points"]:g}</td><td class="text-nowrap">{"<br>".join(row["cells"])}</td>'
                         f"<td>{what_went_wrong(row['problems'])}</td></tr>")
        lines.append("</table>")
        nb.cells.insert(0, new_markdown_cell("\n".join(lines)))
        mark_kit_cell(resources, nb.cells[0].source)  # rendered as the kit's, not as the submission's
        return nb, resources
