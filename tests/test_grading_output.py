"""What grading prints, and the feedback page a student reads.

No false alarms: grading an untouched release and a correct notebook prints no warning about them.

Stock nbgrader warns "Attribute 'checksum' for cell <function>_hidden_tests has changed!" six
times for every submission (the gradebook keeps the hidden-test cells with their hidden region,
the release without it) and SQLAlchemy prints "SAWarning: Object of type <SubmittedAssignment> not
in session" for every new submission. One real ``nbgrader autograde`` of two submissions.

The feedback page of the untouched one, opened offline in headless Chromium: its header names
each function, its table has the kit's styles, an untouched function reads "not attempted", and the
maths is drawn (no MathJax, no raw LaTeX in the visible text).
"""

import re
from html.parser import HTMLParser

import pytest

from conftest import (
    ASSIGNMENT,
    FUNCTIONS,
    NOTEBOOK,
    gradebook_scores,
    make_course,
    nbgrader,
    release_nb,
    solved,
    submit,
)
from test_feedback_html import CHROMIUM, chromium

pytestmark = pytest.mark.slow  # one real nbgrader autograde for the module


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    submit(root, "untouched", release_nb(root))
    submit(root, "correct", solved(root))
    result = nbgrader(root, "autograde", ASSIGNMENT)
    return root, result.stdout + result.stderr


class VisibleText(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self, page):
        super().__init__()
        self.parts, self.hidden = [], 0
        self.feed(page)
        self.text = " ".join(self.parts)

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


@pytest.fixture(scope="module")
def feedback(graded, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("needs headless Chromium (`make browser`)")
    root, _ = graded
    result = nbgrader(root, "generate_feedback", ASSIGNMENT)
    assert "not recognized" not in result.stderr, result.stderr[-3000:]  # no warning at every feedback
    page = root / "feedback" / "untouched" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
    tmp = tmp_path_factory.mktemp("browser")
    screenshot = tmp / "feedback.png"  # to look at: named header lines, the table, drawn maths
    dom = chromium(page.as_uri(), tmp, "--window-size=1200,1400", f"--screenshot={screenshot}")
    return page.read_text(), dom, screenshot


def test_grading_prints_no_checksum_warning_and_no_sawarning(graded):
    _, output = graded
    assert "checksum" not in output, output[-3000:]
    assert "SAWarning" not in output and "not in session" not in output, output[-3000:]
    assert "has changed" not in output, output[-3000:]


def test_the_hidden_tests_are_still_restored_and_graded(graded):
    root, _ = graded
    scores = gradebook_scores(root)
    assert scores["correct"]["total"] == 20 and scores["untouched"]["total"] == 0
    autograded = (root / "autograded" / "correct" / ASSIGNMENT).glob("*.ipynb")
    text = "".join(path.read_text() for path in autograded)
    assert text.count("BEGIN HIDDEN TESTS") == 6  # the instructor's hidden tests ran on it


@pytest.mark.browser  # the feedback fixture opens the page in Chromium
def test_the_feedback_header_names_each_function_and_no_unnamed_test_cell(feedback):
    _, dom, _ = feedback
    toc = dom[dom.index('id="toc"'):dom.index("</ol>", dom.index('id="toc"'))]
    assert "Test cell" not in toc and ">Comment<" not in toc, toc
    for function, points in zip(FUNCTIONS, [3, 2, 5, 4, 3, 3], strict=True):
        assert f"<code>{function}</code>: 0 / {points}" in toc, toc


@pytest.mark.browser  # the feedback fixture opens the page in Chromium
def test_the_table_is_styled_and_an_untouched_function_reads_not_attempted(feedback):
    page, dom, screenshot = feedback
    assert '<table class="catkit-scores">' in dom and "table.catkit-scores th" in page
    assert re.search(r"padding: *6px 16px", page)
    table = dom[dom.index('<table class="catkit-scores">'):]
    table = table[:table.index("</table>")]
    assert table.count("not attempted") == len(FUNCTIONS), table
    assert "NotImplementedError:;" not in table
    assert screenshot.stat().st_size > 20_000


@pytest.mark.browser  # the feedback fixture opens the page in Chromium
def test_maths_is_drawn_in_the_page_with_nothing_loaded_from_the_network(feedback):
    page, dom, _ = feedback
    assert not re.search(r"<script[^>]*mathjax|MathJax\.Hub", page, re.I)  # no MathJax to load
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", page)
    text = VisibleText(dom).text
    assert dom.count('class="catkit-maths"') >= 50
    for latex in (r"\frac{\partial J}{\partial w}", r"\sigma(w^T X + b)", r"\hat{y}", "\\tag{", "$$"):
        assert latex not in text, latex
    assert not re.search(r"\$[^$\s][^$]{0,80}\$", text), re.search(r"\$[^$\s][^$]{0,80}\$", text).group(0)
