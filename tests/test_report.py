"""The class report: one self-contained page, from a class graded once by ``catkit grade``.

The class: the reference, two typical mistakes, the untouched release and a renamed notebook (not
graded). The page must show the points per function as an embedded plot, the common failures with
counts and example students, the submission not graded and why, and grading times; it must load
nothing from anywhere (checked in headless Chromium, offline), and follow the gradebook to wherever
``CourseDirectory.db_url`` points.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ASSIGNMENT, FUNCTIONS, NOTEBOOK, REPO, make_course
from test_feedback_html import CHROMIUM, chromium

pytestmark = pytest.mark.slow  # the class is graded with the real `catkit grade`

CATKIT = str(Path(sys.executable).with_name("catkit"))
CLASS = {"alice": "example-correct", "bob": "example-sigmoid-sign-error", "carol": "example-propagate-no-1-over-m",
         "dave": "example-untouched", "erin": "example-correct"}


def catkit(*args, cwd):
    return subprocess.run([CATKIT, *args], cwd=cwd, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    root = make_course(tmp / "course")
    incoming = tmp / "incoming"
    for student, example in CLASS.items():
        shutil.copytree(REPO / "examples" / "submissions" / example, incoming / student)
    notebook = incoming / "erin" / ASSIGNMENT / NOTEBOOK
    notebook.rename(notebook.with_name("Copy of notebook.ipynb"))  # erin is not graded
    result = catkit("grade", ASSIGNMENT, "--submissions", str(incoming), cwd=root)
    assert result.returncode == 2, result.stderr[-3000:]  # erin was not graded
    return root, result


def test_grade_prints_the_report_path(graded):
    root, result = graded
    assert f"Class report:         {root / 'reports' / (ASSIGNMENT + '.html')}" in result.stdout


def test_the_report_shows_points_failures_not_graded_and_times(graded):
    root, _ = graded
    page = (root / "reports" / f"{ASSIGNMENT}.html").read_text()
    assert "5 submissions: 4 graded, 1 not graded" in page
    assert re.search(r'<img alt="distribution of points per function" '
                     r'src="data:image/png;base64,[A-Za-z0-9+/=]{2000,}"', page)
    rows = re.findall(r"<tr><td><code>(\w+)</code></td><td class=\"num\">(\d+)</td>"
                      r"<td>(.*?)</td><td>(.*?)</td></tr>", page)
    by_function = {}
    for function, count, message, students in rows:
        by_function.setdefault(function, []).append((int(count), message, students))
    assert set(by_function) == set(FUNCTIONS)
    assert (1, "not attempted (NotImplementedError)", "dave") in by_function["model"]
    sigmoid = dict(((m.split(":")[0], s) for _, m, s in by_function["sigmoid"]))
    assert sigmoid.get("AssertionError") == "bob", by_function["sigmoid"]  # bob's sign error
    assert any(s == "carol" and "AssertionError" in m for _, m, s in by_function["propagate"]), by_function["propagate"]
    assert "<td>erin</td><td>not graded: no notebook named" in page and "Copy of notebook.ipynb" in page
    times = re.findall(r"<tr><td>(\w+)</td><td class='num'>[\d.]+ / 20</td><td class='num'>([\d.]+)</td></tr>", page)
    assert sorted(s for s, _ in times) == ["alice", "bob", "carol", "dave"] and all(float(t) > 0 for _, t in times)


@pytest.mark.browser
def test_the_report_is_self_contained_and_renders_offline(graded, tmp_path):
    root, _ = graded
    page_path = root / "reports" / f"{ASSIGNMENT}.html"
    page = page_path.read_text()
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"(src|href)=[\"']?(?!data:)[a-z]+:", page) and "url(" not in page
    if CHROMIUM is None:
        pytest.skip("needs headless Chromium to render the page")
    screenshot = tmp_path / "report.png"  # to look at: the bar charts, the tables
    dom = chromium(page_path.as_uri(), tmp_path, "--window-size=1300,1500", f"--screenshot={screenshot}")
    assert "Most common failures per function" in dom and screenshot.stat().st_size > 30_000


def test_the_report_follows_the_gradebook_where_db_url_points(graded, tmp_path):
    root, _ = graded
    course = tmp_path / "course"
    shutil.copytree(root, course, ignore=shutil.ignore_patterns("reports", "gradebook.db"))
    elsewhere = tmp_path / "elsewhere" / "grades.sqlite"
    elsewhere.parent.mkdir()
    shutil.copy(root / "gradebook.db", elsewhere)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = 'sqlite:///{elsewhere}'\n")
    result = catkit("report", ASSIGNMENT, cwd=course)
    assert result.returncode == 0, result.stderr
    page = (course / "reports" / f"{ASSIGNMENT}.html").read_text()
    assert f"sqlite:///{elsewhere}" in page and "5 submissions: 4 graded, 1 not graded" in page
    assert not (course / "gradebook.db").exists()
