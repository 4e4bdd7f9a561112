"""The similarity report page: self-contained HTML (no script, no remote resource), every string escaped.

Per function: the flagged pairs, most similar first; clusters of three or more students linked by
flagged pairs; and each flagged pair's two answers side by side, line by line, the lines holding
rare code both wrote marked, lines both share with much of the class shaded, the released stub's
lines dimmed. Students' ids and code are untrusted input: they are only ever written escaped.
"""

from __future__ import annotations

import html
import re
import zlib

from catkit.similarity.compare import FunctionResult, Pair, Result
from catkit.similarity.normalise import Answer

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1400px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 4px 14px; text-align: left; vertical-align: top; border-bottom: 1px solid #e3e3e3; }
th { background: #f3f3f3; white-space: nowrap; }
td.num { text-align: right; }
code { background: #f6f6f6; padding: 0 3px; }
.none { color: #777; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 1em; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.side pre { margin: 0; padding: 0.5em 0; background: #fafafa; border: 1px solid #e3e3e3; overflow-x: auto;
            font-size: 12.5px; line-height: 1.35; }
.side h4 { margin: 0.2em 0; font-size: 0.95em; }
.line { display: block; padding: 0 0.6em; white-space: pre; }
.line .n { display: inline-block; width: 2.5em; color: #999; user-select: none; }
mark.match { display: block; background: #ffd6a5; color: inherit; }
.shared { background: #eef2f7; }
.template { color: #aaa; }
.legend mark, .legend span { padding: 0 0.4em; }
"""


def _slug(*parts: str) -> str:
    """An id for an anchor: only letters, digits and dashes (whatever the student ids hold)."""
    return "-".join(re.sub(r"[^A-Za-z0-9]+", "_", part) for part in parts) + f"-{zlib.crc32(repr(parts).encode()):08x}"


def _code(answer: Answer, matched: frozenset[int], shared: frozenset[int]) -> str:
    """The answer cell's source, line by line, escaped, with the matching lines marked."""
    rows = []
    for number, line in enumerate(answer.source.splitlines() or [""], start=1):
        text = f'<span class="n">{number}</span>{html.escape(line)}'
        if number in matched:
            rows.append(f'<mark class="match line">{text}</mark>')
        elif number in shared:
            rows.append(f'<span class="shared line">{text}</span>')
        elif number in answer.template_lines:
            rows.append(f'<span class="template line">{text}</span>')
        else:
            rows.append(f'<span class="line">{text}</span>')
    return "<pre>" + "".join(rows) + "</pre>"


def _pair(found: FunctionResult, pair: Pair, anchor: str) -> str:
    e = html.escape
    a, b = found.answers[pair.student_a], found.answers[pair.student_b]
    return (f'<h3 id="{anchor}"><code>{e(found.function)}</code>: {e(pair.student_a)} and {e(pair.student_b)}, '
            f"similarity {pair.similarity:.2f}</h3>"
            f'<div class="side"><div><h4>{e(pair.student_a)}</h4>{_code(a, pair.matched_a, pair.common_a)}</div>'
            f'<div><h4>{e(pair.student_b)}</h4>{_code(b, pair.matched_b, pair.common_b)}</div></div>')


def _function(found: FunctionResult) -> str:
    e = html.escape
    untouched = sum(why.startswith("untouched") for why in found.skipped.values())
    parts = [f'<h2 id="{_slug("function", found.function)}">Function <code>{e(found.function)}</code></h2>',
             f"<p>{len(found.answers)} answers compared ({found.candidates} candidate pairs scored); "
             f"{len(found.skipped)} {'student' if len(found.skipped) == 1 else 'students'} skipped "
             f"({untouched} left it untouched, "
             f"{len(found.skipped) - untouched} gave no answer).</p>"]
    if not found.pairs:
        parts.append('<p class="none">No pair flagged.</p>')
        return "\n".join(parts)
    anchors = {(pair.student_a, pair.student_b): _slug(found.function, pair.student_a, pair.student_b)
               for pair in found.pairs}
    parts.append("<table><tr><th>student</th><th>student</th><th>similarity</th><th></th></tr>" + "".join(
        f"<tr><td>{e(pair.student_a)}</td><td>{e(pair.student_b)}</td><td class='num'>{pair.similarity:.2f}</td>"
        f'<td><a href="#{anchors[pair.student_a, pair.student_b]}">side by side</a></td></tr>'
        for pair in found.pairs) + "</table>")
    clusters = found.clusters
    if clusters:
        parts.append("<p>Clusters of three or more students linked by flagged pairs:</p><ul>" + "".join(
            f"<li>{len(group)} students: {', '.join(e(student) for student in group)}</li>" for group in clusters)
            + "</ul>")
    parts += [_pair(found, pair, anchors[pair.student_a, pair.student_b]) for pair in found.pairs]
    return "\n".join(parts)


def render(result: Result) -> str:
    """The page of an assignment's comparison."""
    e = html.escape
    assignment, threshold, functions = result.assignment, result.threshold, result.functions
    students, unreadable, no_notebook = result.students, result.unreadable, result.no_notebook
    flagged = sum(len(found.pairs) for found in functions)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Similar answers: {e(assignment)}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>Similar answers: <code>{e(assignment)}</code></h1>",
             '<p class="note">A flag is a reason to look, not a verdict: it says two answers to one function share '
             "code that few others in the class wrote. Read the two answers side by side, and ask the students "
             "before concluding anything.</p>",
             f"<p>{len(students)} students, {len(functions)} functions, {flagged} pair(s) flagged at similarity "
             f"{threshold:.2f} or above. Each function's answers are compared on their own, the released stub "
             f"removed, after normalisation (names, comments, docstrings, blank lines, strings and statement "
             f"order do not count); shared code counts by how rare it is in the class.</p>",
             '<p class="legend"><mark class="match">rare code both wrote</mark> '
             '<span class="shared">code both share with much of the class</span> '
             '<span class="template">the released stub</span></p>']
    if no_notebook:
        parts.append(f"<p>{len(no_notebook)} student(s) submitted no notebook: "
                     f"{', '.join(e(student) for student in no_notebook)}.</p>")
    if unreadable:
        parts.append(f"<p>{len(unreadable)} unreadable notebook(s), skipped:</p><ul>" + "".join(
            f"<li>{e(student)}: {e(why)}</li>" for student, why in sorted(unreadable.items())) + "</ul>")
    parts.append("<table><tr><th>function</th><th>answers compared</th><th>pairs flagged</th>"
                 "<th>clusters of 3+</th></tr>" + "".join(
                     f'<tr><td><a href="#{_slug("function", found.function)}"><code>{e(found.function)}</code></a>'
                     f"</td><td class='num'>{len(found.answers)}</td><td class='num'>{len(found.pairs)}</td>"
                     f"<td class='num'>{len(found.clusters)}</td></tr>" for found in functions) + "</table>")
    parts += [_function(found) for found in functions]
    parts.append("</body></html>\n")
    return "\n".join(parts)
