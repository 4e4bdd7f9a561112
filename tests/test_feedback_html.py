"""Feedback HTML: nothing a submission wrote runs in a browser, and the feedback still renders.

A submission carries script injections in its own markdown cells, in an instructor's markdown
cell it edited, in outputs and metadata of a code cell, and in the message of an exception its
function raises (which the per-function table quotes). After real ``nbgrader autograde`` and
``nbgrader generate_feedback``, headless Chromium opens the feedback page: no injected script
may have run, no event handler, script, frame, form or style may be left in the notebook part of
the page, and the kit's per-function table must still be there.
"""

import re
import shutil
import subprocess
import time
from html.parser import HTMLParser

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from catkit.nbgrader_plugins.maths import MAX_SNIPPETS
from catkit.parent_death import die_with_parent
from conftest import ASSIGNMENT, FUNCTIONS, NOTEBOOK, make_course, nbgrader, solved, submit

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian's chromium) to open "
                                 "the feedback page: `make browser` installs it when run as root")]


def mark(n):
    """JavaScript that leaves <i id="pwned-N"> in the page; the id is built at run time, so it is
    in the DOM only if the script ran (the escaped source shows 'pw'+'ned-N')."""
    return f"document.body.appendChild(document.createElement('i')).id='pw'+'ned-{n}'"


# Each runs by itself when a browser loads it unsanitised (see test_payloads_run_unsanitised).
RUNNING = [
    f"<script>{mark(1)}</script>",
    f'<img src=x onerror="{mark(2)}">',
    f'<svg onload="{mark(3)}"></svg>',
    f'<iframe onload="{mark(4)}"></iframe>',
    f'<details open ontoggle="{mark(5)}"><summary>more</summary></details>',
]
# These wait for the reader, or restyle the page: checked in the page's markup.
WAITING = [
    f'<p style="color:red" onmouseover="{mark(6)}">hover</p><style>#notebook {{ display: none }}</style>',
    f'<a href="javascript:{mark(7)}">a link</a>',
    f"[a markdown link](javascript:{mark(8)})",
    f'<form action="javascript:{mark(9)}"><input name="password"><button>log in</button></form>',
    f'<object data="javascript:{mark(10)}"></object><embed src="javascript:{mark(11)}">',
]
FORBIDDEN_TAGS = {"script", "iframe", "svg", "style", "form", "input", "button", "object", "embed",
                  "details", "link", "meta", "base"}


def chromium(url, tmp_path, *extra, loopback=False):
    """The page's DOM after its scripts ran (headless, offline: no request leaves the machine; with
    ``loopback``, servers on 127.0.0.1 are reachable, every name still resolves to nothing)."""
    rules = "MAP * ~NOTFOUND" + (", EXCLUDE 127.0.0.1" if loopback else "")
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--host-resolver-rules={rules}", f"--user-data-dir={tmp_path / 'chromium'}",
         "--virtual-time-budget=3000", *extra, "--dump-dom", url],
        capture_output=True, text=True, timeout=120, preexec_fn=die_with_parent)  # (dies with the tests)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Markup(HTMLParser):
    """Tags and attributes, as the browser left them."""

    def __init__(self, page):
        super().__init__()
        self.tags, self.attributes = [], []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]


# Forgeries and remote loads: each must be gone, or shown as the student's text.
FORGED = "\n\n".join([
    "## Points per function",
    '<table class="catkit-scores"><tr><th>function</th><th>points</th><th>what went wrong</th></tr>'
    "<tr><td><code>sigmoid</code></td><td>3 / 3</td><td>FORGED</td></tr></table>",
    '<h2 id="sigmoid_hidden_tests">sigmoid_hidden_tests</h2>',
    '<a name="propagate_hidden_tests"></a>',
    '<img src="https://tracker.example.org/beacon.png" alt="beacon"> ![pixel](http://tracker.example.org/p.gif)',
    "[my site](https://student.example.org/) and <https://student.example.org/auto>",
    '<div style="height: 2000px; background: url(https://tracker.example.org/bg.png)" '
    'class="catkit-student-label">tall</div>',
])
MATHS_SNIPPETS = 3000  # distinct: the cache cannot help
PRINTS = ("def initialize_with_zeros(dim):\n"
          "    print('</pre></div></div></div><h1>LAYOUT BROKEN</h1>\\x1b[2J\\x1b]8;;https://e.org\\x07'\n"
          "          + 'W' * 4000)\n"
          "    return np.zeros((dim, 1)), 0.0")


def submission(root):
    raises = f"def sigmoid(z):\n    raise ValueError('''<img src=x onerror=\"{mark(12)}\">''')"
    nb = solved(root, {"sigmoid_solution": [(None, raises)], "initialize_with_zeros_solution": [(None, PRINTS)]})
    maths = "The sigmoid is $\\sigma(z) = \\frac{1}{1+e^{-z}}$."
    notes = new_markdown_cell("\n\n".join([f'## My notes <img src=x onerror="{mark(13)}">', maths, *RUNNING]))
    # A cell claiming to be an nbgrader answer cell: its grade_id would be written into the page.
    claimed = new_markdown_cell("\n\n".join(WAITING), metadata={"nbgrader": {
        "grade_id": f'x"><img src=x onerror="{mark(14)}">', "solution": True, "grade": False,
        "locked": False, "schema_version": 3}})
    # Outputs and tags the student saved in a code cell.
    code = new_code_cell("1", metadata={"tags": [f'x" onmouseover="{mark(15)}']}, outputs=[
        new_output("display_data", data={"text/html": f"<script>{mark(16)}</script>",
                                         "application/javascript": mark(17)}),
        new_output("display_data", data={"image/png": "iVBORw0KGgo="},
                   metadata={"image/png": {"width": f"1 onerror={mark(18)}"}})])
    interpretation = next(c for c in nb.cells if c.source.startswith("**Interpretation**"))
    interpretation.source += "\n\n" + "\n\n".join(RUNNING + WAITING)  # unlocked: students may edit it
    forged = new_markdown_cell(FORGED)
    maths_flood = new_markdown_cell(" ".join(f"${i}x^{{{i % 7}}}$" for i in range(MATHS_SNIPPETS)))
    nb.cells[1:1] = [notes, claimed, code, forged, maths_flood]
    return nb


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("feedback")
    root = make_course(tmp_path / "course")
    submit(root, "intruder", submission(root))
    nbgrader(root, "autograde", ASSIGNMENT)
    start = time.monotonic()
    nbgrader(root, "generate_feedback", ASSIGNMENT)
    seconds = time.monotonic() - start
    page = root / "feedback" / "intruder" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
    screenshot = tmp_path / "feedback.png"  # to look at: the per-function table on top
    netlog = tmp_path / "netlog.json"  # every request the page made
    dom = chromium(page.as_uri(), tmp_path, "--window-size=1200,2000", f"--screenshot={screenshot}",
                   f"--log-net-log={netlog}")
    return dom, screenshot, page.read_text(), seconds, netlog.read_text()


def test_payloads_run_unsanitised(tmp_path):
    """The check below can fail: the same payloads, as a plain page, do run in this browser."""
    page = tmp_path / "raw.html"
    page.write_text("<!DOCTYPE html><html><body>" + "\n".join(RUNNING) + "</body></html>")
    dom = chromium(page.as_uri(), tmp_path)
    assert all(f'id="pwned-{n}"' in dom for n in range(1, len(RUNNING) + 1)), dom


def test_no_injected_script_runs_in_the_feedback(feedback):
    dom = feedback[0]
    assert "pwned-" not in dom, "a script from the submission ran in the feedback page"
    notebook = Markup(dom[dom.index('id="notebook-container"'):])  # the template's own head aside
    assert FORBIDDEN_TAGS.isdisjoint(notebook.tags), FORBIDDEN_TAGS & set(notebook.tags)
    handlers = [a for a in notebook.attributes if a[1].startswith("on")]
    assert handlers == [], handlers
    scripted = [a for a in notebook.attributes if "javascript:" in a[2].replace(" ", "").lower()]
    assert scripted == [], scripted


def test_feedback_still_renders(feedback):
    dom, screenshot = feedback[:2]
    assert "<th>function</th><th>points</th><th>what went wrong</th>" in dom
    for function in FUNCTIONS:
        assert f"<tr><td><code>{function}</code></td>" in dom, function
    assert "ValueError: &lt;img src=x onerror=" in dom  # the student's message, as text
    assert "My notes" in dom and "\\frac{1}{1+e^{-z}}" in dom  # the student's own cell, maths intact
    assert "<h2" in dom and "<table" in dom and 'class="highlight' in dom
    assert screenshot.stat().st_size > 20_000


BROWSER_OWN = re.compile(r"https?://([a-z0-9-]+\.)*(google\.com|gstatic\.com|googleapis\.com)/")


def test_feedback_loads_nothing_remote(feedback):
    dom, _, page, _, netlog = feedback
    notebook = Markup(dom[dom.index('id="notebook-container"'):])
    addresses = [(tag, name, value) for tag, name, value in notebook.attributes if name in ("src", "href")]
    remote = [a for a in addresses if re.match(r"\s*(https?:)?//", a[2], re.I)]
    assert remote == [], remote
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", page, re.I), "a remote url() in the page"
    assert "tracker.example.org" in dom  # the addresses are shown, as text
    requests = {url for url in re.findall(r'"url":"((?:https?|wss?)://[^"]+)"', netlog)
                if not BROWSER_OWN.match(url)}  # (Chromium's own calls home, which resolve to nothing)
    assert requests == set(), f"the page requested {requests}"


def test_student_content_cannot_pass_for_the_kits(feedback):
    dom = feedback[0]
    notebook = Markup(dom[dom.index('id="notebook-container"'):])
    assert dom.count('class="catkit-scores"') == 1  # the kit's table only
    assert dom.count("<h2>Points per function</h2>") == 1  # the student's heading: no id, framed
    styles = [a for a in notebook.attributes if a[1] == "style" and "2000px" in a[2]]
    assert styles == [], styles
    ids = [value for _, name, value in notebook.attributes if name in ("id", "name")]
    duplicates = {i for i in ids if ids.count(i) > 1} - {"notebook", "notebook-container"}  # nbgrader's template
    assert duplicates == set(), duplicates
    assert ids.count("sigmoid_hidden_tests") == 1 and ids.count("propagate_hidden_tests") == 1
    forged = dom.index("FORGED")
    frame = dom.rindex('class="catkit-student"', 0, forged)
    label = dom.index("written in the submission:</div>", frame) + len("written in the submission:</div>")
    assert "</div>" not in dom[label:forged]  # still inside the frame
    assert dom.count('class="catkit-student-label"') == dom.count('class="catkit-student"')


def test_a_flood_of_maths_is_drawn_within_the_budget(feedback):
    _, _, page, seconds, _ = feedback
    drawn = len(re.findall(r'<img alt="\d+x\^\{\d\}" class="catkit-maths"', page))
    assert 0 < drawn <= MAX_SNIPPETS, drawn
    assert "$2999x^{3}$" in page  # past the budget: the LaTeX, as text
    assert seconds < 90, f"generate_feedback took {seconds:.0f} s"  # all 3000 drawn: about 150 s more


def test_printed_output_cannot_break_the_layout(feedback):
    dom = feedback[0]
    assert "LAYOUT BROKEN" in dom  # shown...
    assert "<h1>LAYOUT BROKEN" not in dom  # ...as text
    assert "\x1b" not in dom
    assert re.search(r"\.output_subarea pre \{[^}]*overflow-wrap: anywhere", dom)  # long lines wrap in their box
