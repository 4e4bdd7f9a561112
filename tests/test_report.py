"""The class report: one self-contained page, from a class graded once by ``catkit grade``.

The class: the reference, two typical mistakes (one made by two students), the untouched release
(twice) and a renamed notebook (not graded). The page must show the functions hardest first with
their points as embedded plots; what went wrong per function, each failing student counted once
under a diagnosis with the others who made it, the untouched in one "not attempted" row; a student
× function grid with a row per student linked to their feedback page, sortable by any column
without a script (checked in headless Chromium); the submission not graded and why, and grading
times. It must load nothing from anywhere (checked offline), and follow the gradebook to wherever
``CourseDirectory.db_url`` points. ``catkit grade`` announces each of its phases and shows the
feedback's progress as it shows autograde's.
"""

import fcntl
import html
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import ASSIGNMENT, FUNCTIONS, NOTEBOOK, REPO, make_course
from devtools import Browser
from test_feedback_html import CHROMIUM, chromium

pytestmark = pytest.mark.slow  # the class is graded with the real `catkit grade`

CATKIT = str(Path(sys.executable).with_name("catkit"))
CLASS = {"alice": "example-correct", "bob": "example-sigmoid-sign-error", "carol": "example-propagate-no-1-over-m",
         "dave": "example-untouched", "erin": "example-correct", "frank": "example-propagate-no-1-over-m",
         "gina": "example-untouched"}
GRADED = ["alice", "bob", "carol", "dave", "frank", "gina"]
PAGE = NOTEBOOK.replace(".ipynb", ".html")


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


def test_grade_announces_each_phase_and_the_feedbacks_progress(graded):
    _, result = graded
    phases = re.findall(r"^catkit: (.*?)\.\.\.$", result.stderr, re.M)
    assert [p.split(" (")[0] for p in phases] == [
        f"Making the student version of {ASSIGNMENT}", "Grading 7 submissions", "Exporting the grades",
        "Writing the feedback of 6 submissions", "Writing the class report"], result.stderr
    # Not on a terminal: a line every 5 items and at the end, for autograde and for the feedback alike.
    assert re.search(r"Graded 5/7 submissions \([\d.]+ per minute", result.stderr), result.stderr
    lines = re.findall(r"Writing the feedback of (\d+)/6 notebooks \([\d.]+ per minute", result.stderr)
    assert lines == ["5", "6"], result.stderr
    feedback = result.stderr[result.stderr.index("Writing the feedback of 6 submissions"):]
    assert "WARNING" not in feedback, feedback  # nbgrader's feedback says nothing else


def _page(root):
    return (root / "reports" / f"{ASSIGNMENT}.html").read_text()


def test_the_report_shows_functions_hardest_first_and_what_went_wrong_grouped(graded):
    root, _ = graded
    page = _page(root)
    assert "7 submissions: 6 graded, 1 not graded" in page
    assert re.search(r'<img alt="points per function, hardest first, and the total" '
                     r'src="data:image/png;base64,[A-Za-z0-9+/=]{2000,}"', page)
    # propagate: 4 of 6 without points (carol, frank, dave, gina), sigmoid 3 (bob, dave, gina), the others 2
    order = re.findall(r'<h3 id="failures-(\w+)">', page)
    assert order == ["propagate", "sigmoid", *(f for f in FUNCTIONS if f not in ("propagate", "sigmoid"))], order
    functions_table = page[page.index('<h2 id="functions">'):page.index("<img")]
    assert re.findall(r"<tr><td><code>(\w+)</code>", functions_table) == order
    sections = dict(re.findall(r'<h3 id="failures-(\w+)">(.*?)(?=<h3 |<h2 )', page, re.S))
    rows = {f: re.findall(r'<tr( class="na")?><td class="num">(\d+)</td><td>(.*?)</td><td>(.*?)</td></tr>', text)
            for f, text in sections.items()}

    def names(cell):
        return re.findall(r'<a href="[^"]+">(\w+)</a>', cell)
    # carol and frank made the same mistake: one row, counted 2, its diagnosis the test's hint
    (_, count, message, who), (na, skipped, why, untouched) = rows["propagate"]
    assert (count, names(who)) == ("2", ["carol", "frank"]) and "did you forget the 1/m?" in message
    assert not message.startswith("AssertionError")  # the message, not the exception's name
    # dave and gina left every function as released: one "not attempted" row per function, counted 2
    assert (na, skipped, names(untouched)) == (' class="na"', "2", ["dave", "gina"])
    assert html.unescape(why).startswith("not attempted")
    (_, count, message, who), _ = rows["sigmoid"]
    assert (count, names(who)) == ("1", ["bob"]) and "sign of the exponent" in message
    assert [(na, n) for na, n, _, _ in rows["model"]] == [(' class="na"', "2")]
    # each failing student once per function: carol's checks and hidden tests both failed
    assert sum(int(n) for _, n, _, _ in rows["propagate"]) == 4
    assert "<td>erin</td><td>not graded: no notebook named" in page and "Copy of notebook.ipynb" in page


def _views(page):
    """view id -> [(student, feedback link or None)] of its rows, in order."""
    found = {}
    for view, table in re.findall(r'<div class="view[^"]*" id="(students-by-[\w-]+)"><table class="grid">'
                                  r"(.*?)</table>", page, re.S):
        found[view] = [(student, href) for href, student in
                       re.findall(r'<tr><td>(?:<a href="([^"]*)">)?(\w+)', table)]
    return found


def test_the_grid_has_a_row_per_student_linked_to_their_feedback_and_sorted(graded):
    root, _ = graded
    views = _views(_page(root))
    assert len(views) == 2 * (len(FUNCTIONS) + 3)  # student, each function, total, seconds; up and down
    for view, rows in views.items():
        assert sorted(student for student, _ in rows) == sorted(CLASS), view
        for student, href in rows:
            if student == "erin":  # not graded: no feedback page, and last in every order
                assert not href and rows[-1][0] == "erin"
                continue
            target = (root / "reports" / unquote(href)).resolve()
            assert target == root / "feedback" / student / ASSIGNMENT / PAGE and target.is_file(), href
    default = [student for student, _ in views["students-by-total-up"]]
    assert default == ["dave", "gina", "carol", "frank", "bob", "alice", "erin"]  # lowest total first, then by id
    assert [s for s, _ in views["students-by-student-down"]] == [*sorted(GRADED, reverse=True), "erin"]
    assert 'class="view default" id="students-by-total-up"' in _page(root)
    grid = _page(root)[_page(root).index('<h2 id="students">'):_page(root).index('<h2 id="not-graded">')]
    times = re.findall(r'<td class="num">([\d.]+)</td></tr>', grid)
    assert len(times) == len(views) * len(GRADED) and all(float(t) > 0 for t in times)


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
    assert "What went wrong, per function" in dom and screenshot.stat().st_size > 30_000


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
    assert f"sqlite:///{elsewhere}" in page and "7 submissions: 6 graded, 1 not graded" in page
    assert not (course / "gradebook.db").exists()


def _shown(browser):
    return browser.evaluate("[...document.querySelectorAll('.view')].filter(v => getComputedStyle(v).display "
                            "!= 'none').map(v => [v.id, [...v.querySelectorAll('tr td:first-child')]"
                            ".map(td => td.innerText)])")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian's chromium)")
def test_the_grid_sorts_in_a_browser_without_a_script(graded, tmp_path):
    """The page's own policy forbids scripts: its column headings sort by CSS :target alone."""
    root, _ = graded
    url = (root / "reports" / f"{ASSIGNMENT}.html").as_uri()
    with Browser(tmp_path / "chromium", width=1300, height=1200) as browser:
        browser.open(url)
        assert _shown(browser) == [["students-by-total-up", ["dave", "gina", "carol", "frank", "bob", "alice",
                                                             "erin"]]]
        assert browser.evaluate("document.querySelectorAll('img').length") == 1
        assert browser.evaluate("document.querySelector('img').naturalWidth") > 500  # the charts drawn
        # click "propagate": lowest first; click it again: highest first
        heading = "#students-by-total-up th a[href='#students-by-f3-up']"
        browser.evaluate(f"document.querySelector(\"{heading}\").click()")
        time.sleep(0.3)
        (view, order), = _shown(browser)
        assert view == "students-by-f3-up" and order[:4] == ["carol", "dave", "frank", "gina"]
        browser.evaluate("document.querySelector(\"#students-by-f3-up th a[href='#students-by-f3-down']\").click()")
        time.sleep(0.3)
        (view, order), = _shown(browser)
        assert view == "students-by-f3-down" and order == ["alice", "bob", "carol", "dave", "frank", "gina", "erin"]
        browser.screenshot(tmp_path / "grid.png", selector="#students")
        browser.open(url)
        browser.screenshot(tmp_path / "report.png", full_page=True)  # to look at: charts, failures, grid
        assert (tmp_path / "report.png").stat().st_size > 100_000


def test_grading_again_on_a_terminal_shows_the_feedbacks_bar_and_no_warning(graded):
    """``catkit grade`` run again (as after new submissions) on a terminal (a pseudo-terminal 120
    columns wide): the feedback gets a bar as autograde does, that reaches the number of notebooks,
    and nbgrader's "Removing existing assignment" for each student's old feedback is not shown."""
    root, _ = graded
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = subprocess.Popen([CATKIT, "grade", ASSIGNMENT, "--submissions", str(root.parent / "incoming")],
                               cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=terminal)
    os.close(terminal)
    shown = b""
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(controller, 1 << 16)
                except OSError:  # the terminal closed: catkit is done
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
        assert process.wait(timeout=600) == 2, shown.decode(errors="replace")[-2000:]  # erin, still
    finally:
        os.close(controller)
    text = shown.decode(errors="replace")
    feedback = text[text.index("catkit: Writing the feedback of 6 submissions"):text.index("catkit: Writing the class")]
    assert re.search(r"Feedback: 100%\|[^|]*\| 6/6 \[", feedback), feedback[-2000:]
    assert "WARNING" not in feedback and "Writing the feedback of" not in feedback.split("\n", 1)[1]  # a bar only
