"""The formgrader's view of a submission runs nothing the student wrote (issue: safe pages).

A real ``jupyter server`` with nbgrader's formgrader serves a course in which a hostile submission
was autograded; headless Chromium, logged in as the instructor (the server's token), opens the
submission in the formgrader. The submission's scripts (``<img onerror>``, ``<script>``, ``<svg
onload>``, a ``javascript:`` link, an HTML and a JavaScript output, a raw cell, an error message)
would each call a small HTTP server the test runs, set ``document.title`` and leave a mark in the
page: none may. The page must still show the student's work and the points. The same course with
the protection taken out of its nbgrader_config.py shows that the check can fail.

The page of a submission with a typical mistake (propagate without the 1/m) must show the points
per function at its top, each test cell's points linked to its score box, and its long error
messages wrapped inside their box (measured in the browser); without the kit's formgrader settings,
they run off it.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output, new_raw_cell

from catkit.course import Course
from conftest import ASSIGNMENT, FUNCTIONS, NOTEBOOK, REPO, autograde, make_course, read, solved, submit
from devtools import Browser
from formgrader_server import JupyterServer
from test_feedback_html import CHROMIUM, chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian's chromium)")]
UNPROTECTED = """
# The protection taken out (the test shows its check fails without it).
c.HTMLExporter.sanitize_html = False
c.HTMLExporter.filters = {}
"""
WITHOUT_THE_VIEW = """
# The kit's formgrader view taken out: no points per function, printed output not wrapped.
c.HTMLExporter.preprocessors = []
c.HTMLExporter.filters["ansi2html"] = "catkit.nbgrader_plugins.cleaning.ansi_text"
"""
MISTAKE = REPO / "examples" / "submissions" / "example-propagate-no-1-over-m" / ASSIGNMENT / NOTEBOOK


class Beacon:
    """A local HTTP server counting the requests a student's script makes."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def script(beacon: Beacon, n: int) -> str:
    """JavaScript with three visible effects: a request to the beacon, the page's title, a mark
    built at run time (so the escaped source, 'pw'+'ned', never matches)."""
    return (f"fetch('{beacon.url}/hit-{n}',{{mode:'no-cors'}});document.title='pw'+'ned-{n}';"
            f"document.body.appendChild(document.createElement('i')).id='pw'+'ned-{n}'")


def hostile(root: Path, beacon: Beacon):
    raises = f"def sigmoid(z):\n    raise ValueError('''<img src=x onerror=\"{script(beacon, 1)}\">''')"
    nb = solved(root, {"sigmoid_solution": [(None, raises)]})
    notes = new_markdown_cell("\n\n".join([
        "## My notes on the sigmoid", "The sigmoid is $\\sigma(z) = \\frac{1}{1+e^{-z}}$.",
        f'<img src=x onerror="{script(beacon, 2)}">',
        f"<script>{script(beacon, 3)}</script>",
        f'<svg onload="{script(beacon, 4)}"></svg>',
        f"[a link](javascript:{script(beacon, 5)})",
        f'<a href="javascript:{script(beacon, 6)}">another</a>',
        f'<details open ontoggle="{script(beacon, 7)}"><summary>more</summary></details>',
        f'<iframe srcdoc="<script>parent.{script(beacon, 8)}</script>"></iframe>']))
    raw = new_raw_cell(f"<script>{script(beacon, 9)}</script>", metadata={"raw_mimetype": "text/html"})
    outputs = new_code_cell("1", outputs=[
        new_output("display_data", data={"text/html": f'<img src=x onerror="{script(beacon, 10)}">',
                                         "application/javascript": script(beacon, 11),
                                         "image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" '
                                                          f'onload="{script(beacon, 12)}"/>'})])
    nb.cells[1:1] = [notes, raw, outputs]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Iterator[tuple[Path, Beacon]]:
    beacon = Beacon()
    root = make_course(tmp_path_factory.mktemp("formgrader") / "course")
    submit(root, "intruder", hostile(root, beacon))
    submit(root, "carol", read(MISTAKE))  # dw m times too large: a long message, "did you forget the 1/m?"
    assert autograde(root).returncode == 0
    try:
        yield root, beacon
    finally:
        beacon.stop()


def submission_id(root: Path, student: str = "intruder") -> str:
    with Course.at(root).open_gradebook() as gb:
        return str(gb.find_submission_notebook(NOTEBOOK.removesuffix(".ipynb"), ASSIGNMENT, student).id)


def open_submission(root: Path, tmp_path: Path) -> str:
    """The DOM of the formgrader's view of the submission, after its scripts ran."""
    server = JupyterServer(root)
    try:
        page = server.authenticated(f"/formgrader/submissions/{submission_id(root)}/")
        return chromium(page, tmp_path, "--window-size=1200,3000", loopback=True)
    finally:
        server.stop()


ERRORS = "[...document.querySelectorAll('.output_error pre')].map(p => [p.scrollWidth, p.clientWidth, p.innerText])"
POINTS = ("[...document.querySelectorAll('table.catkit-scores tr')].slice(1).map(tr => [...tr.cells]"
          ".map(td => td.innerText.trim()))")


def look_at(root: Path, student: str, tmp_path: Path) -> dict:
    """What the formgrader's page of ``student`` shows in a 1200-pixel-wide window: each error
    output (its scroll width, its width, its text), the rows of the points per function, where
    the table's links lead; screenshots of the table and of the first error in ``tmp_path``."""
    server = JupyterServer(root)
    try:
        with Browser(tmp_path / "chromium", width=1200, height=1000, loopback=True) as browser:
            browser.open(server.authenticated(f"/formgrader/submissions/{submission_id(root, student)}/"))
            seen = {"errors": browser.evaluate(ERRORS), "points": browser.evaluate(POINTS),
                    "table_top": browser.evaluate("document.querySelector('table.catkit-scores') ? document"
                                                  ".querySelector('table.catkit-scores').getBoundingClientRect()"
                                                  ".top : null"),
                    "targets": browser.evaluate("[...document.querySelectorAll('table.catkit-scores a')].map(a => "
                                                "[a.getAttribute('href'), !!document.getElementById("
                                                "a.getAttribute('href').slice(1))])")}
            if seen["table_top"] is not None:
                browser.screenshot(tmp_path / "points.png", selector="table.catkit-scores")
            browser.screenshot(tmp_path / "error.png", selector=".output_error")
            return seen
    finally:
        server.stop()


def test_no_student_script_runs_in_the_formgrader(graded, tmp_path):
    root, beacon = graded
    beacon.hits.clear()
    dom = open_submission(root, tmp_path)
    assert beacon.hits == [], f"the submission's scripts called out: {beacon.hits}"
    assert "pwned-" not in dom.replace("'pw'+'ned-", ""), "a script from the submission ran"
    assert "<title>pwned" not in dom
    # The student's work and the points are still there.
    assert "My notes on the sigmoid" in dom and "\\frac{1}{1+e^{-z}}" in dom
    # The student's cells (the notes, the raw cell) framed and labelled; the instructor's as written.
    assert dom.count('class="catkit-student-label"') == 2
    assert "<h2 id=\"How-your-work-is-graded\">" in dom
    assert "ValueError: &lt;img src=x onerror=" in dom  # the error message, as text
    for function in FUNCTIONS:
        assert f'id="{function}_hidden_tests"' in dom, function  # each graded cell's score box


def test_the_check_fails_without_the_protection(graded, tmp_path):
    """Same submission, same formgrader, the kit's formgrader settings taken out: the scripts run."""
    root, beacon = graded
    bare = tmp_path / "bare"
    shutil.copytree(root, bare, symlinks=True)
    with open(bare / "nbgrader_config.py", "a") as config:
        config.write(UNPROTECTED)
    beacon.hits.clear()
    open_submission(bare, tmp_path)
    # The markdown's <img onerror>, <svg onload> and <details ontoggle> (a <script> put in by innerHTML never runs).
    assert {"/hit-2", "/hit-4", "/hit-7"} <= set(beacon.hits), beacon.hits


def test_the_formgrader_shows_points_per_function_and_wraps_long_errors(graded, tmp_path):
    root, _ = graded
    seen = look_at(root, "carol", tmp_path)  # to look at: points.png, error.png
    hints = [text for _, _, text in seen["errors"] if "did you forget the 1/m?" in text]
    assert len(hints) == 2, seen["errors"]  # the visible checks' message and the hidden tests'
    for scroll_width, width, text in seen["errors"]:
        assert scroll_width <= width, f"runs off its box ({scroll_width} > {width} px): {text[-200:]}"
    rows = {row[0]: row for row in seen["points"]}
    assert list(rows) == list(FUNCTIONS)
    assert rows["propagate"][1:3] == ["0 / 5", "visible checks 0 / 1\nhidden tests 0 / 4"], rows["propagate"]
    assert "did you forget the 1/m?" in rows["propagate"][3]
    assert rows["sigmoid"][1] == "3 / 3" and rows["sigmoid"][3] == "nothing"
    assert 0 < seen["table_top"] < 1000  # at the top of the page: seen without scrolling
    # each test cell's points link to its score box (nbgrader names it by the cell's grade id)
    assert len(seen["targets"]) == 2 * len(FUNCTIONS) and all(found for _, found in seen["targets"]), seen["targets"]
    assert ["#propagate_checks", True] in seen["targets"]


def test_without_the_kit_view_long_errors_run_off_and_no_points_show(graded, tmp_path):
    """The check above can fail: the same page without the kit's formgrader view."""
    root, _ = graded
    bare = tmp_path / "bare"
    shutil.copytree(root, bare, symlinks=True)
    with open(bare / "nbgrader_config.py", "a") as config:
        config.write(WITHOUT_THE_VIEW)
    seen = look_at(bare, "carol", tmp_path)
    assert any(scroll_width > width for scroll_width, width, _ in seen["errors"]), seen["errors"]
    assert seen["points"] == [] and seen["table_top"] is None
