"""What the kit prints and writes, from plain data: catkit grade's table, the class report's page, the
shards of a class. Fast: no nbgrader command, no gradebook, no sandbox."""

import html
import re
from urllib.parse import quote

import pytest

from catkit import cluster, report
from catkit.workflow import StudentResult, table

MAXIMA = {"sigmoid": 3.0, "initialize_with_zeros": 2.0, "propagate": 5.0}


def test_the_table_has_a_column_per_function_in_order_and_says_why_not_graded():
    results = [
        StudentResult("alice", {"sigmoid": 3.0, "initialize_with_zeros": 2.0, "propagate": 5.0, "total": 10.0},
                      1.25, "graded"),
        StudentResult("bob-with-a-long-id", {"sigmoid": 0.0, "initialize_with_zeros": 2.0, "propagate": 2.5,
                                             "total": 4.5}, 0.5, "graded"),
        StudentResult("carol", {}, 0.0, "not graded: no submission\nsecond line"),
    ]
    lines = table(MAXIMA, results).splitlines()
    assert lines[0].split() == ["student", "sigmoid", "initialize_with_zeros", "propagate", "total", "seconds"]
    assert set(lines[1]) == {"-"} and len(lines[1]) == len(lines[0])
    assert lines[2].split() == ["alice", "3/3", "2/2", "5/5", "10/10", "1.2"]
    assert lines[3].split() == ["bob-with-a-long-id", "0/3", "2/2", "2.5/5", "4.5/10", "0.5"]
    assert lines[4].split(None, 1) == ["carol", "not graded: no submission"]  # its first line only
    # columns line up under their headers
    assert lines[2].index("5/5") + 3 == lines[0].index("propagate") + len("propagate")


@pytest.mark.parametrize("students, count, expected", [
    (["a", "b", "c", "d", "e"], 2, [["a", "c", "e"], ["b", "d"]]),
    (["a", "b"], 5, [["a"], ["b"]]),
    ([], 3, []),
])
def test_a_class_is_dealt_into_shards_of_nearly_equal_size(students, count, expected):
    assert cluster.shards(students, count) == expected


def _report_data():
    scores = {"sigmoid": 3.0, "initialize_with_zeros": 2.0, "propagate": 5.0, "total": 10.0}

    def graded(student, seconds, diagnoses=None, **points):
        feedback = [("work", f"../feedback/{quote(student, safe='')}/week%3C1%3E/work.html")]
        return {"student": student, "status": "graded", "scores": {**scores, **points}, "seconds": seconds,
                "diagnoses": diagnoses or {}, "feedback": feedback}
    rows = [
        graded("alice", 1.5),
        graded("<b>bob</b>", 0.5, {"sigmoid": "sigmoid(0) should be 0.5, got 7 <script>"}, sigmoid=0.0, total=7.0),
        graded("carol", 0.7, {"sigmoid": "sigmoid(0) should be 0.5, got 9 <script>"}, sigmoid=0.0, total=7.0),
        graded('eve" onmouseover="x', 0.9, {f: report.NOT_ATTEMPTED for f in MAXIMA},
               sigmoid=0.0, initialize_with_zeros=0.0, propagate=0.0, total=0.0),
        graded("fay", 0.8, {"propagate": report.NOT_ATTEMPTED}, propagate=0.0, total=5.0),
        {"student": "dan", "status": "not graded: no notebook named work.ipynb", "scores": None, "seconds": None,
         "diagnoses": {}, "feedback": []},
    ]
    return {"assignment": "week<1>", "functions": tuple(MAXIMA), "maxima": MAXIMA, "rows": rows,
            "db_url": "postgresql://grader:***@db/course"}


def _views(page):
    """view id -> [student id shown in each row, in order]"""
    views = {}
    for view, rows in re.findall(r'<div class="view[^"]*" id="(students-by-[\w-]+)"><table class="grid">(.*?)</table>',
                                 page, re.S):
        views[view] = [html.unescape(m) for m in re.findall(r"<tr><td>(?:<a href=\"[^\"]*\">)?(.*?)(?:</a>)?</td>",
                                                           rows)]
    return views


def test_the_report_page_groups_failures_escapes_everything_and_loads_nothing():
    page = report.render(_report_data())
    assert "6 submissions: 5 graded, 1 not graded" in page
    assert "Mean total 5.8 / 10." in page
    # per function, hardest first: sigmoid (mean 1.2 of 3), propagate (3 of 5), initialize_with_zeros (1.6 of 2)
    order = re.findall(r'<h3 id="failures-(\w+)">', page)
    assert order == ["sigmoid", "propagate", "initialize_with_zeros"], order
    sigmoid = page[page.index('<h3 id="failures-sigmoid">'):page.index('<h3 id="failures-propagate">')]
    # messages that differ only in numbers count together: two students, one row; the not attempted in one row
    rows = re.findall(r'<tr( class="na")?><td class="num">(\d+)</td><td>(.*?)</td><td>(.*?)</td></tr>', sigmoid)
    assert [(na, count) for na, count, _, _ in rows] == [("", "2"), (' class="na"', "1")], rows
    assert "&lt;script&gt;" in rows[0][2] and html.escape("<b>bob</b>") in rows[0][3] and "carol" in rows[0][3]
    assert rows[1][2] == html.escape(report.NOT_ATTEMPTED)
    propagate = page[page.index('<h3 id="failures-propagate">'):page.index('<h3 id="failures-initialize')]
    assert re.findall(r'<tr class="na"><td class="num">(\d+)</td>', propagate) == ["2"]  # eve and fay, one row
    assert "<b>bob</b>" not in page and "week&lt;1&gt;" in page and "<script" not in page
    assert 'eve" onmouseover' not in page and "eve&quot; onmouseover=&quot;x" in page
    assert "dan</td><td>not graded: no notebook named work.ipynb" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing remote
    assert "default-src 'none'" in page  # and the browser is told so
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)


def test_the_grid_has_a_row_per_student_linked_to_their_feedback_in_every_order():
    page = report.render(_report_data())
    views = _views(page)
    # a view per column (student, each function, total, seconds) and direction; the default last
    assert len(views) == 2 * (len(MAXIMA) + 3) and list(views)[-1] == "students-by-total-up"
    assert 'class="view default" id="students-by-total-up"' in page
    students = ["alice", "<b>bob</b>", "carol", 'eve" onmouseover="x', "fay", "dan"]
    for shown in views.values():
        assert sorted(shown) == sorted(students)
        assert shown[-1] == "dan"  # the not graded last, whatever the order
    assert views["students-by-total-up"] == ['eve" onmouseover="x', "fay", "<b>bob</b>", "carol", "alice", "dan"]
    assert views["students-by-total-down"] == ["alice", "<b>bob</b>", "carol", "fay", 'eve" onmouseover="x', "dan"]
    assert views["students-by-student-up"] == ["<b>bob</b>", "alice", "carol", 'eve" onmouseover="x', "fay", "dan"]
    assert views["students-by-seconds-down"][:2] == ["alice", 'eve" onmouseover="x']
    assert views["students-by-f3-up"][:2] == ['eve" onmouseover="x', "fay"]  # propagate: 0 first
    # each row links to the student's feedback page, the id escaped inside the quoted, percent-encoded path
    assert '<a href="../feedback/eve%22%20onmouseover%3D%22x/week%3C1%3E/work.html">eve&quot; onmouseover=' in page
    assert '<a href="../feedback/%3Cb%3Ebob%3C%2Fb%3E/week%3C1%3E/work.html">&lt;b&gt;bob&lt;/b&gt;</a>' in page
    # the column headings link to the other orders: the sorted column to its reverse
    total_up = page[page.index('id="students-by-total-up"'):]
    assert '<th aria-sort="ascending"><a href="#students-by-total-down">total</a> ▲' in total_up
    assert '<a href="#students-by-f1-up">sigmoid</a>' in total_up
    # not attempted is shown as such, not as a zero
    eve = re.search(r"eve&quot; onmouseover=&quot;x</a></td>(.*?)</tr>", total_up).group(1)
    assert eve.count('class="na"') == 3 and 'class="zero total">0<' in eve


def test_a_failing_function_is_diagnosed_once_by_its_first_failing_cell():
    stub = ("NotImplementedError", "")
    assert report.diagnosis([stub, stub]) == report.NOT_ATTEMPTED
    assert report.diagnosis([("AssertionError", "dw is  m times\ntoo large"), ("AssertionError", "hidden")]) == \
        "dw is m times too large"
    assert report.diagnosis([stub, ("NameError", "name 'x' is not defined")]) == "NameError: name 'x' is not defined"
    assert report.diagnosis([("", report.STDERR)]) == report.STDERR
    assert report.diagnosis([]) == report.NO_MESSAGE


def test_a_report_with_nobody_graded_says_so():
    data = _report_data()
    data["rows"] = [data["rows"][-1]]
    page = report.render(data)
    assert "1 submissions: 0 graded, 1 not graded" in page and "<img" not in page
