"""Feedback steps: a per-function summary on top, nothing of the hidden tests, and progress.

nbgrader's feedback shows cells as autograded, so hidden tests would appear in full.
HideHiddenTests, run by ``nbgrader generate_feedback``, removes the hidden region from the source
(nbgrader's own ClearHiddenTests) and cuts tracebacks in those cells down to their last
line, which for a failed assert is its message; messages of hidden tests never quote
expected values. FeedbackProgress shows how far ``generate_feedback`` is, as autograde does.
"""

import html
import os
import re
from typing import Any

from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor
from traitlets import List

from catkit.course import Course
from catkit.grading.hints import shorten
from catkit.nbgrader_plugins.progress import Progress
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


class FeedbackProgress(NbGraderPreprocessor):
    """A progress bar for ``nbgrader generate_feedback`` (first of ``c.GenerateFeedback.preprocessors``):
    it advances as each notebook's page is started; on a terminal a bar, elsewhere a line every
    5 notebooks (progress.py). The total is what this run will write: the notebooks of the
    autograded submissions nbgrader found, less those it skips (feedback already up to date, students
    excluded), decided as nbgrader decides."""

    display_data_priority = _display_data_priority()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._progress = None

    def preprocess(self, nb, resources):
        if self._progress is None:
            self._progress = Progress(self._total(resources), self.log, desc="Feedback", unit="notebook",
                                      done="Writing the feedback of")
        self._progress.advance()
        return nb, resources

    def _converter(self):
        node = self.parent
        while node is not None and not isinstance(getattr(node, "assignments", None), dict):
            node = getattr(node, "parent", None)
        return node

    def _total(self, resources):
        """Notebooks this run converts: the submission being converted and those after it that
        nbgrader will not skip (those before it were skipped: this is the first page of the run)."""
        converter = self._converter()
        if converter is None:  # not run by nbgrader's converter: one notebook at a time
            return 1
        info = resources.get("nbgrader", {})
        current = os.path.normpath(converter._format_source(info.get("assignment", ""), info.get("student", "")))
        folders = sorted(converter.assignments)  # in the order nbgrader converts them
        here = next((i for i, folder in enumerate(folders) if os.path.normpath(folder) == current), len(folders))
        return len(converter.notebooks) + sum(len(converter.assignments[folder]) for folder in folders[here + 1:]
                                              if self._will_convert(converter, folder))

    @staticmethod
    def _will_convert(converter, folder):
        """nbgrader's BaseConverter.init_destination, without its side effects."""
        regexp = converter._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True)
        match = re.match(regexp, folder)
        if match is None:
            return True
        assignment, student = match.group("assignment_id"), match.group("student_id")
        coursedir = converter.coursedir
        if student in filter(None, coursedir.student_id_exclude.split(",")):
            return False
        dest = os.path.normpath(converter._format_dest(assignment, student))
        if coursedir.notebook_id == "*":
            if not os.path.exists(dest):
                return True
        elif any(not os.path.exists(os.path.join(dest, os.path.splitext(os.path.basename(path))[0] + ".html"))
                 for path in converter.assignments[folder]):
            return True
        if converter.force:
            return True
        new, old = coursedir.get_existing_timestamp(folder), coursedir.get_existing_timestamp(dest)
        return new is not None and old is not None and new > old


def what_went_wrong(problems: list[str]) -> str:
    """The verdict of the feedback's table for one function, from its test cells' problems
    ("ename: evalue", or the stderr note): 'nothing', 'not attempted', or its first two problems,
    shortened and HTML-escaped (the formgrader's table says the same: formgrader.py)."""
    return str(_verdict({"problems": problems}))
