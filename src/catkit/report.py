"""The class report: one self-contained HTML page per assignment, for the instructor, after grading.

``catkit report ASSIGNMENT`` (and the end of ``catkit grade``) writes ``reports/<assignment>.html``
in the course root, made to act on:

- the functions, **hardest first** (lowest mean fraction of their points), each with a chart of its
  points over its whole range (0 to its maximum: matplotlib, embedded as data: images);
- **what went wrong**, per function in the same order: each failing student's diagnosis (the
  message of the first failing test cell of that function, the kit's hint in it), grouped (messages
  that differ only in numbers count together) with counts and the students, linked to their
  feedback; students who left the function as released folded into one "not attempted" row;
- a **student × function grid**, sortable by any column without a script: each sort order is its own
  pre-sorted table, shown by CSS ``:target`` when its column heading (a link to its anchor) is
  clicked; each student links to their feedback page (a relative path, so the page works wherever
  the course folder is opened);
- the submissions that were not graded and why, and the grading times.

Points come from the gradebook wherever the course's configuration puts it (``CourseDirectory.db_url``);
messages and grading times from the autograded notebooks. Every string (student ids, messages) is
escaped; the page loads nothing and runs nothing (its Content-Security-Policy forbids both).
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
from nbgrader.api import MissingEntry

from catkit.course import Course, is_graded
from catkit.errors import CatkitError, LayoutError
from catkit.grading.hints import shorten
from catkit.grading.layout import Layout
from catkit.scores import function_maxima, function_scores

NOT_ATTEMPTED = "not attempted (left as released: NotImplementedError)"
NO_MESSAGE = "lost points without an error message (a grade changed by hand?)"
STDERR = "wrote to stderr (a warning?)"
NAMES_SHOWN = 12  # students listed in a failure group before the rest fold into "… and N more"
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _not_attempted(ename: str, evalue: str) -> bool:
    """The released stub's error (as the feedback decides): NotImplementedError without a message."""
    return ename == "NotImplementedError" and not str(evalue).strip()


def _message(ename: str, evalue: str) -> str:
    text = " ".join(f"{ename}: {evalue}".split())
    # (the kit's checks fail with assertions: that word is noise; a long message keeps its diagnosis and hint)
    return shorten(text.removeprefix("AssertionError: "), 300)


def _outputs(path: Path, layout: Layout) -> dict[str, list[tuple[str, str]]]:
    """function -> [(ename, evalue)] of the errors and stderr writes of its test cells, in notebook
    order (stderr as ("", STDERR)), of one autograded notebook."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
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
            if output.output_type == "error":
                found[function].append((str(output.ename), str(output.evalue)))
            elif output.output_type == "stream" and output.name == "stderr":
                found[function].append(("", STDERR))
    return found


def diagnosis(problems: list[tuple[str, str]]) -> str:
    """What went wrong in a failing function, from its test cells' errors in notebook order:
    NOT_ATTEMPTED if they are all the stub's; else the first real error's message (the visible
    checks come first: their messages name the mistake); a stderr write; or NO_MESSAGE."""
    errors = [(ename, evalue) for ename, evalue in problems if ename]
    if errors and all(_not_attempted(*error) for error in errors):
        return NOT_ATTEMPTED
    for error in errors:
        if not _not_attempted(*error):
            return _message(*error)
    return STDERR if problems else NO_MESSAGE


def _link(target: Path, folder: Path) -> str:
    """``target`` relative to ``folder``, as a URL path: every segment percent-encoded (a student
    id with '#', '?', ':' or quotes stays one path segment, never a scheme or a fragment)."""
    relative = os.path.relpath(target, folder)
    return "/".join(quote(part, safe="") for part in Path(relative).parts)


def collect(course: Course, assignment: str) -> dict[str, Any]:
    """Everything the page shows, as plain data."""
    course.notebooks(assignment)  # an unknown assignment: say which exist
    try:
        layout = course.layout(assignment)
    except LayoutError as error:
        raise CatkitError(f"cannot report on '{assignment}': {error}") from None
    reports = course.root / "reports"
    notebooks = course.notebook_names(assignment)
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
                                   "diagnoses": {}, "feedback": []}
            if is_graded(status):
                scores = row["scores"] = function_scores(gb, assignment, student, layout)
                row["seconds"] = course.grading_seconds(assignment, student)
                problems: dict[str, list[tuple[str, str]]] = defaultdict(list)
                for name in notebooks:
                    for function, found in _outputs(course.autograded_dir(student, assignment) / name,
                                                    layout).items():
                        problems[function].extend(found)
                row["diagnoses"] = {f: diagnosis(problems.get(f, [])) for f in layout.functions
                                    if scores[f] < maxima[f]}
                for name in notebooks:  # the feedback pages written so far
                    page = course.feedback_dir(student, assignment) / f"{Path(name).stem}.html"
                    if page.is_file():
                        row["feedback"].append((Path(name).stem, _link(page, reports)))
            rows.append(row)
    from catkit import similarity
    return {"assignment": assignment, "functions": layout.functions, "maxima": maxima, "rows": rows,
            "db_url": course.shown_db_url,  # the page shows it: no password
            "similarity": similarity.report_section(course, assignment)}  # (HTML, escaped)


def _pattern(message: str) -> str:
    """Messages that differ only in numbers (hidden tests draw random shapes) count together."""
    return re.sub(r"\d+(\.\d+)?(e-?\d+)?", "#", message)


def hardest_first(functions: tuple[str, ...], maxima: dict[str, float], graded: list[dict[str, Any]]) -> list[str]:
    """The functions by mean fraction of their points, lowest first (notebook order among equals)."""
    def mean_fraction(function: str) -> float:
        top = maxima[function] or 1.0
        return sum(row["scores"][function] for row in graded) / (len(graded) * top) if graded else 1.0
    return sorted(functions, key=lambda f: (mean_fraction(f), functions.index(f)))


def failure_groups(function: str, graded: list[dict[str, Any]]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """([(message, students)] most common first, students who did not attempt ``function``)."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    not_attempted = []
    for row in graded:
        found = row["diagnoses"].get(function)
        if found == NOT_ATTEMPTED:
            not_attempted.append(row["student"])
        elif found is not None:
            groups[_pattern(found)].append((row["student"], found))
    ranked = []
    for members in groups.values():
        message = Counter(m for _, m in members).most_common(1)[0][0]
        ranked.append((message, sorted({s for s, _ in members})))
    ranked.sort(key=lambda group: (-len(group[1]), group[0]))
    return ranked, sorted(not_attempted)


# --- the page -------------------------------------------------------------------------------------

def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


COLOURS = {"full": "#27ae60", "part": "#f39c12", "zero": "#c0392b", "na": "#9e9e9e"}


def _distribution_plot(names: list[str], tops: dict[str, float], graded: list[dict[str, Any]]) -> str:
    """One bar chart per function (and the total): students per score, on a numeric axis from 0 to
    the function's maximum; at 0, those who did not attempt it in grey."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    columns = min(len(names), 3 if len(names) <= 9 else 4)
    lines = math.ceil(len(names) / columns)
    figure, axes = plt.subplots(lines, columns, figsize=(3.7 * columns, 2.7 * lines), squeeze=False)
    for axis in axes.flat[len(names):]:
        axis.set_visible(False)
    for axis, name in zip(axes.flat, names, strict=False):
        top = float(tops[name])
        scores = [float(row["scores"][name]) for row in graded]
        skipped = Counter(float(row["scores"][name]) for row in graded
                          if row["diagnoses"].get(name) == NOT_ATTEMPTED)
        counts = Counter(scores)
        values = sorted(counts)
        gaps = [b - a for a, b in zip(values, values[1:], strict=False)]
        width = 0.8 * min([1.0, *gaps]) if top >= 1 else 0.8 * min([top or 1.0, *gaps])
        attempted = [counts[v] - skipped.get(v, 0) for v in values]
        axis.bar(values, attempted, width=width,
                 color=[COLOURS["zero"] if v == 0 else COLOURS["full"] if v == top else COLOURS["part"]
                        for v in values])
        axis.bar(values, [skipped.get(v, 0) for v in values], bottom=attempted, width=width, color=COLOURS["na"])
        margin = max(width, 0.5)
        axis.set_xlim(-margin, top + margin)
        if top == int(top) and 1 <= top <= 10:  # every point of the range
            axis.set_xticks(range(int(top) + 1))
        else:
            axis.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=top >= 1))
            axis.set_xticks(sorted({*(t for t in axis.get_xticks() if 0 <= t <= top), 0.0, top}))
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylim(0, max(counts.values(), default=1) * 1.15)
        mean = sum(scores) / len(scores) if scores else 0.0
        axis.set_title(f"{name}: mean {mean:.3g} of {top:g}", fontsize=10)
        axis.set_xlabel("points", fontsize=8)
        axis.set_ylabel("students", fontsize=8)
        axis.tick_params(labelsize=8)
        axis.spines[["top", "right"]].set_visible(False)
    figure.legend(handles=[Patch(color=COLOURS[k], label=label) for k, label in
                           (("full", "full marks"), ("part", "part of the points"), ("zero", "no points"),
                            ("na", "not attempted"))],
                  loc="lower center", ncol=4, fontsize=9, frameon=False, bbox_to_anchor=(0.5, -0.01))
    figure.tight_layout(rect=(0, 0.04, 1, 1), h_pad=1.2, w_pad=1.5)
    try:
        return _png(figure)
    finally:
        plt.close(figure)


STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 1.3em 0 0.3em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 4px 12px; text-align: left; vertical-align: top; border-bottom: 1px solid #e3e3e3; }
th { background: #f3f3f3; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
code { background: #f6f6f6; padding: 0 3px; }
.none, .small { color: #777; } .small { font-size: 85%; font-weight: normal; }
img { max-width: 100%; }
nav a { margin-right: 1em; }
table.failures { width: 100%; } table.failures td:first-child { width: 5em; }
table.failures td:nth-child(2) { width: 60%; }
table.failures tr.na td { color: #555; background: #f4f4f4; }
details summary { cursor: pointer; }
.grid td { text-align: center; padding: 3px 8px; } .grid td:first-child { text-align: left; white-space: nowrap; }
.grid th a { color: inherit; } .grid th { text-align: center; }
.grid td.full { background: #dff3e4; } .grid td.part { background: #fdebd0; }
.grid td.zero { background: #f6d5d1; } .grid td.na { background: #ececec; color: #666; }
.grid td.total { font-weight: bold; } .grid td.ng { text-align: left; color: #8a5a00; }
.grid caption { text-align: left; color: #555; padding: 0.3em 0; }
.legend span { padding: 1px 8px; margin-right: 6px; }
.legend .full { background: #dff3e4; } .legend .part { background: #fdebd0; }
.legend .zero { background: #f6d5d1; } .legend .na { background: #ececec; }
/* Sorting without a script: one pre-sorted table per order, the one whose anchor is the page's
   target shown; without a target, the default (the last one). */
.view { display: none; } .view.default, .view:target { display: block; }
.view:target ~ .view.default { display: none; }
"""


def _students_html(students: list[str], links: dict[str, str]) -> str:
    """Student ids, escaped, each linked to their feedback page when there is one."""
    def one(student: str) -> str:
        href = links.get(student)
        return f'<a href="{html.escape(href)}">{html.escape(student)}</a>' if href else html.escape(student)
    shown = ", ".join(one(s) for s in students[:NAMES_SHOWN])
    if len(students) <= NAMES_SHOWN:
        return shown
    return (f"<details><summary>{shown} … and {len(students) - NAMES_SHOWN} more</summary>"
            + ", ".join(one(s) for s in students[NAMES_SHOWN:]) + "</details>")


def _fraction(value: float, top: float) -> str:
    return f"{100 * value / top:.0f}%" if top else "–"


def _functions_section(order: list[str], maxima: dict[str, float], graded: list[dict[str, Any]]) -> list[str]:
    e = html.escape
    total = sum(maxima.values())
    parts = ['<h2 id="functions">Functions, hardest first</h2>',
             '<table><tr><th>function</th><th class="num">mean</th><th class="num">of its points</th>'
             '<th class="num">full marks</th><th class="num">part</th><th class="num">no points</th>'
             '<th class="num">not attempted</th></tr>']
    for function in [*order, "total"]:
        top = total if function == "total" else maxima[function]
        scores = [row["scores"][function] for row in graded]
        mean = sum(scores) / len(scores)
        skipped = 0 if function == "total" else sum(row["diagnoses"].get(function) == NOT_ATTEMPTED for row in graded)
        zero = sum(s == 0 for s in scores) - skipped
        full = sum(s == top for s in scores)
        name = "<b>total</b>" if function == "total" else f"<code>{e(function)}</code>"
        parts.append(f'<tr><td>{name}</td><td class="num">{mean:.3g} / {top:g}</td>'
                     f'<td class="num">{_fraction(mean, top)}</td><td class="num">{full}</td>'
                     f'<td class="num">{len(scores) - full - zero - skipped}</td><td class="num">{zero}</td>'
                     f'<td class="num">{skipped if function != "total" else ""}</td></tr>')
    parts.append("</table>")
    plot = _distribution_plot([*order, "total"], {**maxima, "total": total}, graded)
    parts.append(f'<img alt="points per function, hardest first, and the total" src="{plot}">')
    return parts


def _failures_section(order: list[str], maxima: dict[str, float], graded: list[dict[str, Any]],
                      links: dict[str, str]) -> list[str]:
    e = html.escape
    parts = ['<h2 id="failures">What went wrong, per function (hardest first)</h2>',
             '<p class="small">Each failing student counted once per function, under the message of the '
             "first of its test cells that failed (messages differing only in numbers together); students "
             "who left the function as released in one &ldquo;not attempted&rdquo; row. Names link to the "
             "feedback pages.</p>"]
    for function in order:
        groups, skipped = failure_groups(function, graded)
        failing = sum(len(students) for _, students in groups) + len(skipped)
        parts.append(f'<h3 id="failures-{e(function)}"><code>{e(function)}</code> '
                     f'<span class="small">{failing} of {len(graded)} without full marks '
                     f"(worth {maxima[function]:g})</span></h3>")
        if not failing:
            parts.append('<p class="none">no failure: every graded student has full marks.</p>')
            continue
        parts.append('<table class="failures"><tr><th class="num">students</th><th>diagnosis</th><th>who</th></tr>')
        for message, students in groups:
            parts.append(f'<tr><td class="num">{len(students)}</td><td>{e(message)}</td>'
                         f"<td>{_students_html(students, links)}</td></tr>")
        if skipped:
            parts.append(f'<tr class="na"><td class="num">{len(skipped)}</td><td>{e(NOT_ATTEMPTED)}</td>'
                         f"<td>{_students_html(skipped, links)}</td></tr>")
        parts.append("</table>")
    return parts


def _ordered(rows: list[dict[str, Any]], column: str, direction: str) -> list[dict[str, Any]]:
    """The rows sorted by ``column`` ("student", "seconds", a function or "total"), ``direction`` "up"
    (A to Z, lowest first) or "down"; equal values by student id; the not graded last, by id."""
    def name(row: dict[str, Any]) -> tuple[str, str]:
        return (row["student"].casefold(), row["student"])
    graded = [row for row in rows if row["scores"] is not None]
    if column == "student":
        graded.sort(key=name, reverse=direction == "down")
    else:
        sign = 1.0 if direction == "up" else -1.0
        graded.sort(key=lambda row: (sign * float(row["seconds"] if column == "seconds" else row["scores"][column]),
                                     name(row)))
    return graded + sorted((row for row in rows if row["scores"] is None), key=name)


def _grid_section(data: dict[str, Any], rows: list[dict[str, Any]], links: dict[str, str]) -> list[str]:
    """The student × function grid: one pre-sorted table per column and direction; the column
    headings link to the other orders (CSS ``:target`` shows the one chosen)."""
    e = html.escape
    functions, maxima = data["functions"], data["maxima"]
    total = sum(maxima.values())
    columns = [("student", "student", ""), *((f, f, f"/{maxima[f]:g}") for f in functions),
               ("total", "total", f"/{total:g}"), ("seconds", "seconds", "")]
    ids = {column: "student" if column == "student" else "total" if column == "total" else
           "seconds" if column == "seconds" else f"f{functions.index(column) + 1}" for column, _, _ in columns}
    default = ("total", "up")
    words = {"student": ("A to Z", "Z to A")}

    def describe(column: str, direction: str) -> str:
        low, high = words.get(column, ("lowest first", "highest first"))
        return f"sorted by {column}, {low if direction == 'up' else high}"

    def cell(row: dict[str, Any], column: str) -> str:
        value = row["scores"][column]
        top = total if column == "total" else maxima[column]
        if column != "total" and row["diagnoses"].get(column) == NOT_ATTEMPTED:
            return '<td class="na" title="not attempted">–</td>'
        kind = "full" if value == top else "zero" if value == 0 else "part"
        return f'<td class="{kind}{" total" if column == "total" else ""}">{value:g}</td>'

    def student_cell(row: dict[str, Any]) -> str:
        student = e(row["student"])
        pages = row.get("feedback") or []
        if not pages:
            return f"<td>{student}</td>"
        first, *others = pages
        more = "".join(f' <a class="small" href="{e(href)}">{e(label)}</a>' for label, href in others)
        return f'<td><a href="{e(first[1])}">{student}</a>{more}</td>'

    def view(column: str, direction: str) -> str:
        ordered = _ordered(rows, column, direction)
        head = []
        for name, label, top in columns:
            here = name == column
            goes = "down" if here and direction == "up" else "up"
            arrow = (" ▲" if direction == "up" else " ▼") if here else ""
            sort = f' aria-sort="{"ascending" if direction == "up" else "descending"}"' if here else ""
            under = f'<br><span class="small">{e(top)}</span>' if top else ""
            head.append(f'<th{sort}><a href="#students-by-{ids[name]}-{goes}">{e(label)}</a>{arrow}{under}</th>')
        body = []
        for row in ordered:
            if row["scores"] is None:
                body.append(f'<tr>{student_cell(row)}<td class="ng" colspan="{len(columns) - 1}">'
                            f"{e(row['status'])}</td></tr>")
                continue
            body.append("<tr>" + student_cell(row) + "".join(cell(row, f) for f in (*functions, "total"))
                        + f'<td class="num">{row["seconds"]:.1f}</td></tr>')
        classes = "view default" if (column, direction) == default else "view"
        return (f'<div class="{classes}" id="students-by-{ids[column]}-{direction}"><table class="grid">'
                f"<caption>{e(describe(column, direction))}: click a column heading to sort by it, again "
                f"to reverse</caption><tr>{''.join(head)}</tr>{''.join(body)}</table></div>")

    orders = [(column, direction) for column, _, _ in columns for direction in ("up", "down")]
    orders.remove(default)
    return ['<h2 id="students">Students</h2>',
            '<p class="legend small"><span class="full">full marks</span><span class="part">part</span>'
            '<span class="zero">no points</span><span class="na">– not attempted</span> Each name links to '
            "the student's feedback page.</p>",
            '<div class="views">', *(view(c, d) for c, d in orders), view(*default), "</div>"]


def render(data: dict[str, Any]) -> str:
    """The report page, from :func:`collect`'s data (every string escaped)."""
    e = html.escape
    assignment, functions, maxima, rows = data["assignment"], data["functions"], data["maxima"], data["rows"]
    graded = [row for row in rows if row["scores"] is not None]
    not_graded = [row for row in rows if row["scores"] is None]
    total = sum(maxima.values())
    links = {row["student"]: row["feedback"][0][1] for row in rows if row.get("feedback")}
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
             f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
             f"<title>Class report: {e(assignment)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Class report: <code>{e(assignment)}</code></h1>",
             f"<p>{len(rows)} submissions: {len(graded)} graded, {len(not_graded)} not graded. "
             f"Gradebook: <code>{e(str(data['db_url']))}</code>.</p>"]
    if graded:
        mean = sum(row["scores"]["total"] for row in graded) / len(graded)
        order = hardest_first(functions, maxima, graded)
        parts.append(f"<p>Mean total {mean:.1f} / {total:g}. Hardest function: <code>{e(order[0])}</code>.</p>")
        parts.append('<nav><a href="#functions">Functions</a><a href="#failures">What went wrong</a>'
                     '<a href="#students">Students</a><a href="#not-graded">Not graded</a>'
                     '<a href="#times">Grading time</a></nav>')
        parts += _functions_section(order, maxima, graded)
        parts += _failures_section(order, maxima, graded, links)
    if rows:
        parts += _grid_section(data, rows, links)
    parts.append('<h2 id="not-graded">Submissions not graded</h2>')
    if not_graded:
        parts.append("<table><tr><th>student</th><th>why</th></tr>" + "".join(
            f"<tr><td>{e(row['student'])}</td><td>{e(row['status'])}</td></tr>" for row in not_graded) + "</table>")
    else:
        parts.append('<p class="none">none: every submission was graded.</p>')
    parts.append('<h2 id="times">Grading time per submission</h2>')
    if graded:
        seconds = [row["seconds"] for row in graded]
        slowest = max(graded, key=lambda row: row["seconds"])
        parts.append(f"<p>{sum(seconds):.1f} s in all, {sum(seconds) / len(seconds):.2f} s on average, "
                     f"{max(seconds):.2f} s at most ({e(slowest['student'])}). Each submission's time is the "
                     f'<a href="#students-by-seconds-down">seconds</a> column of the grid above.</p>')
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
