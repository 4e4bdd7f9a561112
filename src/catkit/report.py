"""The class report: one self-contained HTML page per assignment, for the instructor, after grading.

``catkit report ASSIGNMENT`` (and the end of ``catkit grade``) writes ``reports/<assignment>.html``
in the course root: the distribution of points per function (matplotlib, embedded as data:
images), the most common failure messages per function with their counts and example students,
the submissions that were not graded and why, and the grading time of each submission. Points come
from the gradebook wherever the course's configuration puts it (``CourseDirectory.db_url``);
messages and grading times from the autograded notebooks. The page loads nothing: no script, no
remote style, font or image.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import MissingEntry

from catkit.course import Course, is_graded
from catkit.errors import CatkitError, LayoutError
from catkit.grading.layout import Layout
from catkit.scores import function_maxima, function_scores

NOT_ATTEMPTED = "not attempted (NotImplementedError)"
EXAMPLES = 3      # example students shown per message
MESSAGES = 5      # most common messages shown per function


def _message(output: Any) -> str:
    if output.output_type == "stream":
        return "wrote to stderr (a warning?)"
    if output.ename == "NotImplementedError" and not str(output.evalue).strip():
        return NOT_ATTEMPTED
    return " ".join(f"{output.ename}: {output.evalue}".split())[:300]


def _failures(path: Path, layout: Layout) -> dict[str, list[str]]:
    """function -> messages of the failed test cells of one autograded notebook (each message once)."""
    found: dict[str, list[str]] = defaultdict(list)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable notebook is reported as not graded elsewhere
        return found
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        function = (layout.function_of(meta.get("grade_id", ""))
                    if meta.get("grade") and not meta.get("solution") else None)
        if function is None or cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error" or (output.output_type == "stream" and output.name == "stderr"):
                message = _message(output)
                if message not in found[function]:
                    found[function].append(message)
    return found


def _pattern(message: str) -> str:
    """Messages that differ only in numbers (hidden tests draw random shapes) count together."""
    return re.sub(r"\d+(\.\d+)?(e-?\d+)?", "#", message)


def collect(course: Course, assignment: str) -> dict[str, Any]:
    """Everything the page shows, as plain data."""
    course.notebooks(assignment)  # an unknown assignment: say which exist
    try:
        layout = course.layout(assignment)
    except LayoutError as error:
        raise CatkitError(f"cannot report on '{assignment}': {error}") from None
    with course.open_gradebook() as gb:
        try:
            maxima = function_maxima(gb, assignment, layout)
        except MissingEntry:
            raise CatkitError(f"assignment '{assignment}' is not in the gradebook {course.shown_db_url}: "
                              f"run 'nbgrader generate_assignment {assignment}' and grade first") from None
        in_gradebook = {s.student.id for s in gb.find_assignment(assignment).submissions}
        students = sorted(set(course.submitted_students(assignment)) | in_gradebook)
        rows = []
        for student in students:
            status = course.status(assignment, student)
            row: dict[str, Any] = {"student": student, "status": status, "scores": None, "seconds": None,
                                   "failures": {}}
            if is_graded(status):
                row["scores"] = function_scores(gb, assignment, student, layout)
                row["seconds"] = course.grading_seconds(assignment, student)
                for path in sorted(course.autograded_dir(student, assignment).glob("*.ipynb")):
                    for function, messages in _failures(path, layout).items():
                        row["failures"].setdefault(function, []).extend(messages)
            rows.append(row)
    from catkit import similarity
    return {"assignment": assignment, "functions": layout.functions, "maxima": maxima, "rows": rows,
            "db_url": course.shown_db_url,  # the page shows it: no password
            "similarity": similarity.report_section(course, assignment)}  # (HTML, escaped)


def _common_failures(functions: tuple[str, ...], rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """function -> [(count, example message, example students)], most common first."""
    table = {}
    for function in functions:
        groups = defaultdict(list)
        for row in rows:
            for message in row["failures"].get(function, []):
                groups[_pattern(message)].append((row["student"], message))
        ranked = sorted(groups.values(), key=lambda found: (-len({s for s, _ in found}), found[0][1]))
        table[function] = [(len({s for s, _ in found}), found[0][1], sorted({s for s, _ in found}))
                           for found in ranked[:MESSAGES]]
    return table


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _distribution_plot(functions: tuple[str, ...], maxima: dict[str, float], graded: list[dict[str, Any]]) -> str:
    """One bar chart per function (students per score) and one for the total."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    names = [*functions, "total"]
    tops = {**maxima, "total": sum(maxima.values())}
    figure, axes = plt.subplots(1, len(names), figsize=(2.3 * len(names), 2.6), squeeze=False)
    for axis, name in zip(axes[0], names, strict=True):
        counts = Counter(row["scores"][name] for row in graded)
        values = sorted({0.0, float(tops[name]), *counts})
        axis.bar([f"{v:g}" for v in values], [counts.get(v, 0) for v in values],
                 color=["#c0392b" if v == 0 else "#27ae60" if v == tops[name] else "#f39c12" for v in values])
        axis.set_title(f"{name} (/{tops[name]:g})", fontsize=9)
        axis.set_xlabel("points", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.yaxis.get_major_locator().set_params(integer=True)
    axes[0][0].set_ylabel("students", fontsize=8)
    figure.tight_layout()
    try:
        return _png(figure)
    finally:
        plt.close(figure)


STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 4px 14px; text-align: left; vertical-align: top; border-bottom: 1px solid #e3e3e3; }
th { background: #f3f3f3; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; }
code { background: #f6f6f6; padding: 0 3px; }
.none { color: #777; }
img { max-width: 100%; }
"""


def render(data: dict[str, Any]) -> str:
    """The report page, from :func:`collect`'s data (every string escaped)."""
    e = html.escape
    assignment, functions, maxima, rows = data["assignment"], data["functions"], data["maxima"], data["rows"]
    graded = [row for row in rows if row["scores"] is not None]
    not_graded = [row for row in rows if row["scores"] is None]
    total = sum(maxima.values())
    tops = {**maxima, "total": total}
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Class report: {e(assignment)}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>Class report: <code>{e(assignment)}</code></h1>",
             f"<p>{len(rows)} submissions: {len(graded)} graded, {len(not_graded)} not graded. "
             f"Gradebook: <code>{e(str(data['db_url']))}</code>.</p>"]
    if graded:
        mean = sum(row["scores"]["total"] for row in graded) / len(graded)
        parts.append(f"<p>Mean total {mean:.1f} / {total:g}.</p>")
        parts.append("<h2>Points per function</h2>")
        plot = _distribution_plot(functions, maxima, graded)
        parts.append(f'<img alt="distribution of points per function" src="{plot}">')
        header = "".join(f"<th>{e(n)}</th>" for n in [*functions, "total"])
        parts.append(f"<table><tr><th>function</th>{header}</tr><tr><td>mean</td>"
                     + "".join(f'<td class="num">{sum(r["scores"][n] for r in graded) / len(graded):.3g} / '
                               f'{tops[n]:g}</td>' for n in [*functions, "total"])
                     + "</tr><tr><td>full marks</td>"
                     + "".join(f'<td class="num">{sum(r["scores"][n] == tops[n] for r in graded)}'
                               f" of {len(graded)}</td>" for n in [*functions, "total"]) + "</tr></table>")
    parts.append("<h2>Most common failures per function</h2>")
    failures = _common_failures(functions, graded)
    parts.append("<table><tr><th>function</th><th>students</th><th>message (an example)</th><th>for example</th></tr>")
    for function in functions:
        if not failures[function]:
            parts.append(f'<tr><td><code>{e(function)}</code></td><td class="num">0</td>'
                         f'<td class="none">no failure</td><td></td></tr>')
        for count, message, students in failures[function]:
            examples = ", ".join(e(s) for s in students[:EXAMPLES]) + (" …" if len(students) > EXAMPLES else "")
            parts.append(f'<tr><td><code>{e(function)}</code></td><td class="num">{count}</td>'
                         f"<td>{e(message)}</td><td>{examples}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Submissions not graded</h2>")
    if not_graded:
        parts.append("<table><tr><th>student</th><th>why</th></tr>" + "".join(
            f"<tr><td>{e(row['student'])}</td><td>{e(row['status'])}</td></tr>" for row in not_graded) + "</table>")
    else:
        parts.append('<p class="none">none: every submission was graded.</p>')
    parts.append("<h2>Grading time per submission</h2>")
    if graded:
        seconds = [row["seconds"] for row in graded]
        parts.append(f"<p>{sum(seconds):.1f} s in all, {sum(seconds) / len(seconds):.2f} s on average, "
                     f"{max(seconds):.2f} s at most.</p>")
        parts.append("<table><tr><th>student</th><th>total</th><th>seconds</th></tr>" + "".join(
            f"<tr><td>{e(row['student'])}</td><td class='num'>{row['scores']['total']:g} / {total:g}</td>"
            f"<td class='num'>{row['seconds']:.2f}</td></tr>"
            for row in sorted(graded, key=lambda row: -row["seconds"])) + "</table>")
    parts.append(data.get("similarity", ""))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write(course: Course, assignment: str) -> Path:
    """Write ``reports/<assignment>.html`` in the course root; return its path."""
    page = render(collect(course, assignment))
    path = course.root / "reports" / f"{assignment}.html"
    path.parent.mkdir(exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
