"""NeutraliseSubmission: the autograded notebook holds nothing of a submission that a viewer would run.

The autograded notebook is what the formgrader, ``generate_feedback`` and an instructor's Jupyter open.
Run by ``nbgrader autograde`` after grading (``c.Autograde.autograde_preprocessors``), this step keeps
of every output only what no viewer executes or renders as markup: ``text/plain`` and PNG/JPEG images
(HTML, SVG, JavaScript, markdown, LaTeX and widget views are replaced by a line saying what was left
out), drops output metadata (``isolated`` frames, image sizes) and the notebook's widget state, and
turns a raw cell that is not the instructor's (trust.py) into a markdown cell showing its text as code:
nbconvert writes raw cells into HTML pages unescaped. Markdown cells keep their source (an edit would
change the student's text); every page renders them through SafeMarkdown (safe_markdown.py).
"""

from __future__ import annotations

import re
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor

from catkit.course import Course
from catkit.nbgrader_plugins.trust import instructor_sources

SHOWN = ("text/plain", "image/png", "image/jpeg")  # rendered as text or as a data: image, never as markup
RICH = ("display_data", "execute_result")


def plain_output(output: NotebookNode) -> NotebookNode:
    """The output with only the data no page runs or renders as markup, and without metadata."""
    if output.get("output_type") not in RICH:
        return output
    data = output.get("data", {})
    kept = {key: value for key, value in data.items() if key in SHOWN}
    left_out = sorted(key for key in data if key not in SHOWN)
    if left_out and "text/plain" not in kept:
        kept["text/plain"] = f"[{', '.join(left_out)} output left out: it would run or render in the reader's page]"
    output["data"] = kept
    output["metadata"] = {}
    return output


def raw_as_markdown(cell: NotebookNode) -> NotebookNode:
    """A raw cell as a markdown cell that shows its text verbatim (a fenced block longer than any
    run of backticks in it)."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", cell.source)), default=0))
    shown = new_markdown_cell(f"Raw cell of the submission:\n\n{fence}text\n{cell.source}\n{fence}")
    shown.metadata = cell.metadata
    if "id" in cell:
        shown["id"] = cell["id"]
    return shown


class NeutraliseSubmission(NbGraderPreprocessor):

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources.get("nbgrader", {})
        try:
            trusted = instructor_sources(Course.of(self), info["assignment"], info["notebook"])
        except Exception:  # noqa: BLE001 - the instructor's cells unknown: no raw cell is vouched for
            trusted = frozenset()
        nb.metadata.pop("widgets", None)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                cell.outputs = [plain_output(output) for output in cell.get("outputs", [])]
            elif cell.cell_type == "raw" and cell.source not in trusted:
                nb.cells[index] = raw_as_markdown(cell)
        return nb, resources
