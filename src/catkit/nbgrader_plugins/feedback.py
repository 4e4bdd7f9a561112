"""Feedback steps: a per-function summary on top, and nothing of the hidden tests.

nbgrader's feedback shows cells as autograded, so hidden tests would appear in full.
HideHiddenTests, run by ``nbgrader generate_feedback``, removes the hidden region from the source
(nbgrader's own ClearHiddenTests) and cuts tracebacks in those cells down to their last
line, which for a failed assert is its message; messages of hidden tests never quote
expected values.
"""

import html
from typing import Any

from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor
from traitlets import List

from catkit.course import Course
from catkit.grading.hints import shorten
from catkit.nbgrader_plugins.trust import mark_kit_cell


def _display_data_priority() -> List:
    """nbconvert's HTML exporter configures ``display_data_priority`` for every step of its pipeline;
    nbgrader's base step declares it without ``config=True``, so traitlets would warn about it at every
    ``generate_feedback`` ("Config option `display_data_priority` not recognized"). Declared as its
    own GetGrades step does, it is taken quietly."""
    return List(GetGrades.class_traits()["display_data_priority"].default_value).tag(config=True)


class HideHiddenTests(ClearHiddenTests):
    display_data_priority = _display_data_priority()

    def preprocess_cell(self, cell, resources, cell_index):
        hidden = self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if hidden and cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


def _text(text, limit=160):
    """Student-controlled text, shortened and HTML-escaped (the summary is raw HTML, so no
    markdown in an error message can become a link or an image). Shortened as
    :func:`catkit.grading.hints.shorten` does: values first, then the middle, never the diagnosis
    at the start nor the hint at the end."""
    return html.escape(shorten(text, limit))


NOT_ATTEMPTED = "not attempted (the function still raises NotImplementedError)"


def _verdict(row):
    """What went wrong in a function: 'nothing', 'not attempted' for a stub left as released, or
    its first two distinct problems."""
    problems = list(dict.fromkeys(row["problems"]))  # each message once
    if problems and all(p.startswith("NotImplementedError:") and not p[len("NotImplementedError:"):].strip()
                        for p in problems):
        return NOT_ATTEMPTED
    return "; ".join(_text(p) for p in problems[:2]) or "nothing"


class FunctionScores(NbGraderPreprocessor):
    """Opens the feedback with a table: points per function, and what went wrong in each.

    Runs after nbgrader's GetGrades, which puts each graded cell's score in its metadata.
    """

    display_data_priority = _display_data_priority()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        layout = Course.of(self).notebook_layout(info["assignment"], info["notebook"])
        rows: dict[str, dict[str, Any]] = {name: {"score": 0.0, "points": 0.0, "problems": []}
                                           for name in layout.functions}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            function = layout.function_of(meta.get("grade_id", "")) if meta.get("grade") else None
            if function is None or "score" not in meta:
                continue
            rows[function]["score"] += meta["score"] or 0.0
            rows[function]["points"] += meta["points"]
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    rows[function]["problems"].append(f"{output.ename}: {output.evalue}")
                elif output.output_type == "stream" and output.name == "stderr":
                    rows[function]["problems"].append("wrote to stderr (a warning?)")
        lines = ["## Points per function", "",
                 '<table class="catkit-scores"><tr><th>function</th><th>points</th><th>what went wrong</th></tr>']
        for name, row in rows.items():
            lines.append(f"<tr><td><code>{name}</code></td><td>{row['score']:g} / {row['points']:g}</td>"
                         f"<td>{_verdict(row)}</td></tr>")
        lines.append("</table>")
        nb.cells.insert(0, new_markdown_cell("\n".join(lines)))
        mark_kit_cell(resources, nb.cells[0].source)  # rendered as the kit's, not as the submission's
        return nb, resources
