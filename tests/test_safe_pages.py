"""Unit checks of the safe-pages pieces: cleaning, the autograded notebook's outputs and raw cells,
the maths budget, spreadsheet-safe exports and printable terminal tables (no process started)."""

import re
import time

from nbformat.v4 import new_output, new_raw_cell

from catkit.nbgrader_plugins.cleaning import ansi_text, clean_instructor, clean_student
from catkit.nbgrader_plugins.export import spreadsheet_safe
from catkit.nbgrader_plugins.maths import MAX_SNIPPETS, MathsBudget, render_maths
from catkit.nbgrader_plugins.untrusted import plain_output, raw_as_markdown
from catkit.workflow import StudentResult, printable, table

HOSTILE = ('<h2 id="sigmoid_hidden_tests" class="catkit-scores" style="height:2000px">T</h2>'
           '<img src=x onerror="alert(1)"><a href="javascript:alert(1)">j</a>'
           '<img alt="b" src="https://e.org/beacon.png"><a href="https://e.org/">site</a>'
           '<script>alert(1)</script><svg onload="alert(1)"></svg><div style="background:url(https://e.org/x)">d</div>')


def test_student_html_keeps_text_only():
    html = clean_student(HOSTILE)
    assert not re.search(r"<[a-z0-9]+ [^>]*=", html), html  # no attribute at all
    assert "<script" not in html and "<svg" not in html and "<img" not in html and "<a" not in html
    assert "&lt;script&gt;" in html and "site (https://e.org/)" in html
    assert "[image: b] (https://e.org/beacon.png)" in html


def test_instructor_html_keeps_anchors_offline():
    html = clean_instructor(HOSTILE + '<a name="4-2"></a><a href="#ex-1">ex</a><img src="images/cat.png">')
    assert 'id="sigmoid_hidden_tests"' in html and '<a name="4-2">' in html and 'href="#ex-1"' in html
    assert '<img src="images/cat.png">' in html
    assert "onerror" not in html.replace("onerror=&quot;", "") and "javascript:" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html) and "url(" not in html


def test_outputs_and_raw_cells_become_text():
    output = new_output("display_data", data={"text/html": "<script>x</script>", "application/javascript": "x",
                                              "image/svg+xml": "<svg/>", "image/png": "iVBOR"},
                        metadata={"text/html": {"isolated": True}})
    kept = plain_output(output)
    assert set(kept["data"]) == {"image/png", "text/plain"} and kept["metadata"] == {}
    cell = raw_as_markdown(new_raw_cell("```\n<script>x</script>"))
    assert cell.cell_type == "markdown" and "\n````text\n```\n<script>x</script>\n````" in cell.source


def test_maths_budget_bounds_the_time():
    flood = " ".join(f"${i}y^{{2}}$" for i in range(3000))
    start = time.monotonic()
    drawn = render_maths(flood, MathsBudget())
    assert drawn.count('class="catkit-maths"') == MAX_SNIPPETS
    assert time.monotonic() - start < 20
    assert "$2999y^{2}$" in drawn


def test_exports_hold_no_formula():
    assert spreadsheet_safe("=HYPERLINK(\"http://e.org\")") == "'=HYPERLINK(\"http://e.org\")"
    for text in ("+1+1", "-1+A1", "@SUM(A1)", "\tx", "\rx", "-cmd"):
        assert spreadsheet_safe(text) == "'" + text
    for number in ("-1", "-0.5", "+2", "3", "1e-3"):
        assert spreadsheet_safe(number) == number
    assert spreadsheet_safe("alice") == "alice" and spreadsheet_safe("") == ""


def test_terminal_table_prints_no_escape():
    evil = "eve\x1b[2J\x1b]0;owned\x07\rbob"
    result = StudentResult(student=evil, status="graded", scores={"f": 1.0, "total": 1.0}, seconds=1.0)
    shown = table({"f": 1.0}, [result])
    assert "\x1b" not in shown and "\r" not in shown and "\x07" not in shown
    assert printable(evil) in shown and "\\x1b[2J" in shown


def test_printed_output_loses_control_characters():
    assert ansi_text("\x1b[31mred\x1b[0m \x1b]8;;https://e.org\x07link\x1b[2J</pre>").count("\x1b") == 0
    assert "&lt;/pre&gt;" in ansi_text("</pre>")
