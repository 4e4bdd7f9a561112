"""What the kit prints and writes, from plain data: catkit grade's table, the class report's page, the
shards of a class. Fast: no nbgrader command, no gradebook, no sandbox."""

import html
import re

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
    rows = [
        {"student": "alice", "status": "graded", "scores": {"sigmoid": 3.0, "initialize_with_zeros": 2.0,
                                                          "propagate": 5.0, "total": 10.0},
         "seconds": 1.5, "failures": {}},
        {"student": "<b>bob</b>", "status": "graded", "scores": {"sigmoid": 0.0, "initialize_with_zeros": 2.0,
                                                               "propagate": 5.0, "total": 7.0},
         "seconds": 0.5, "failures": {"sigmoid": ["AssertionError: sigmoid(0) should be 0.5, got 7 <script>"]}},
        {"student": "carol", "status": "graded", "scores": {"sigmoid": 0.0, "initialize_with_zeros": 2.0,
                                                          "propagate": 5.0, "total": 7.0},
         "seconds": 0.7, "failures": {"sigmoid": ["AssertionError: sigmoid(0) should be 0.5, got 9 <script>"]}},
        {"student": "dan", "status": "not graded: no notebook named work.ipynb", "scores": None, "seconds": None,
         "failures": {}},
    ]
    return {"assignment": "week<1>", "functions": tuple(MAXIMA), "maxima": MAXIMA, "rows": rows,
            "db_url": "postgresql://grader:***@db/course"}


def test_the_report_page_counts_failures_together_escapes_everything_and_loads_nothing():
    page = report.render(_report_data())
    assert "4 submissions: 3 graded, 1 not graded" in page
    assert "Mean total 8.0 / 10." in page
    # messages that differ only in numbers count together: two students, one row
    row = re.search(r"<tr><td><code>sigmoid</code></td><td class=\"num\">(\d+)</td><td>(.*?)</td><td>(.*?)</td>", page)
    assert row and row.group(1) == "2" and "&lt;script&gt;" in row.group(2)
    assert html.escape("<b>bob</b>") in row.group(3) and "<b>bob</b>" not in page
    assert "week&lt;1&gt;" in page and "<script" not in page
    assert "dan</td><td>not graded: no notebook named work.ipynb" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing remote
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)


def test_a_report_with_nobody_graded_says_so():
    data = _report_data()
    data["rows"] = [data["rows"][-1]]
    page = report.render(data)
    assert "1 submissions: 0 graded, 1 not graded" in page and "<img" not in page
