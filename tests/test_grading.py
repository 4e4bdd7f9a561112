"""Grading end to end, with real `nbgrader autograde` on a temporary copy of the course.

One session-wide run grades every submission below at once: the reference, the untouched
release, each typical mistake, each attack on the grader and a bystander; the tests then read
the gradebook, the autograded notebooks, the feedback and the export.
"""

import csv
import hashlib
import html
import re
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from catkit.grading.isolation import launch
from catkit.grading.layout import grade_id
from catkit.nbgrader_plugins.export import PEOPLE, assignment_file
from conftest import (
    ASSIGNMENT,
    FUNCTIONS,
    MISTAKES,
    NOTEBOOK,
    SOURCE_NB,
    gradebook_scores,
    make_course,
    maxima,
    nbgrader,
    needs_manual_grading,
    read,
    release_nb,
    solved,
    submit,
)
from redteam import ATTACKS, attack_edits

# Mistakes whose feedback the tests below read.
FEEDBACK_EXAMPLES = ("sigmoid-sign-error", "propagate-global", "optimize-mutates-w", "model-global")
MARKER = f"catkit-redteam-{secrets.token_hex(6)}"
pytestmark = pytest.mark.slow  # one session fixture grades the whole attacked class

ATTACKED = {student: losers for student, _, losers in ATTACKS}


def _tampered(nb, wrong):
    """A submission that deletes, renames, rewrites and re-flags the instructor's test cells."""
    cells = []
    for cell in nb.cells:
        cell_id = grade_id(cell)
        if cell_id in ("sigmoid_checks", "predict_checks") or (wrong and cell_id == "predict_solution"):
            continue  # deleted
        meta = cell.metadata.get("nbgrader", {})
        if cell_id == "predict_hidden_tests":
            meta["grade_id"] = "predict_hidden_tests_renamed"
        elif cell_id == "model_hidden_tests":
            meta["solution"] = True  # would send the cell to manual grading
        elif cell_id == "propagate_checks":
            meta["points"] = 100
        elif cell_id == "optimize_checks":
            cell.source = "pass"
        elif cell_id == "initialize_with_zeros_hidden_tests":
            del cell.metadata["nbgrader"]
            cell.source = "print('passed')"
        cells.append(cell)
    nb.cells = cells
    return nb


def _tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def _lingering():
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if MARKER.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            pass
    return found


@dataclass
class Graded:
    root: Path
    scores: dict
    maxima: dict
    before: dict
    after: dict
    connections: list
    lingering: list


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"), "\nc.IsolatedExecute.timeout = 8\n")
    listener = socket.create_server(("127.0.0.1", 0))
    connections = []
    threading.Thread(target=lambda: connections.append(listener.accept()), daemon=True).start()
    port = listener.getsockname()[1]

    submit(root, "bystander", solved(root))
    nbgrader(root, "autograde", ASSIGNMENT, "--student", "bystander")
    watched = {"bystander submitted": root / "submitted" / "bystander", "source": root / "source",
               "bystander autograded": root / "autograded" / "bystander", "release": root / "release"}
    before = {name: _tree_digest(path) for name, path in watched.items()}
    before["bystander scores"] = gradebook_scores(root)["bystander"]

    for name in FEEDBACK_EXAMPLES:  # every mistake is graded in test_assignments.py
        submit(root, name, solved(root, MISTAKES[name].edits))
    for student, edits, _ in ATTACKS:
        submit(root, student, solved(root, attack_edits(edits, root, port, MARKER)))
    links = root / "submitted" / "rt-symlinks" / ASSIGNMENT
    (links / "gradebook.lnk").symlink_to(root / "gradebook.db")
    (links / "source.lnk").symlink_to(root / "source" / ASSIGNMENT / NOTEBOOK)
    submit(root, "tamper-correct", _tampered(solved(root), wrong=False))
    submit(root, "tamper-wrong", _tampered(release_nb(root), wrong=True))

    nbgrader(root, "autograde", ASSIGNMENT)
    lingering = _lingering()
    after = {name: _tree_digest(path) for name, path in watched.items()}
    nbgrader(root, "generate_feedback", ASSIGNMENT)
    nbgrader(root, "export", "--to", str(root / "grades.csv"))
    scores = gradebook_scores(root)
    after["bystander scores"] = scores["bystander"]
    listener.close()
    return Graded(root, scores, maxima(root), before, after, connections, lingering)


def _autograded(graded, student):
    return read(graded.root / "autograded" / student / ASSIGNMENT / NOTEBOOK)


@pytest.mark.parametrize("student", sorted(ATTACKED))
def test_attacks_earn_nothing_they_did_not_implement(graded, student):
    scores = graded.scores[student]
    for function in FUNCTIONS:
        expected = 0 if function in ATTACKED[student] else graded.maxima[function]
        assert scores[function] == expected, f"{student}: {function} scored {scores[function]}"
    assert needs_manual_grading(graded.root, student) == []


def test_faults_are_reported_in_the_feedback_notebook(graded):
    def errors(student):
        return " ".join(o.evalue for c in _autograded(graded, student).cells
                        for o in c.get("outputs", []) if o.output_type == "error")
    assert "did not finish within 8 s" in errors("rt-endless-loop")
    assert "exited with status 0" in errors("rt-exit")
    assert "killed by SIGSEGV (crashed)" in errors("rt-segfault")
    assert "MemoryError" in " ".join(o.get("ename", "") for c in _autograded(graded, "rt-out-of-memory").cells
                                     for o in c.get("outputs", []))
    assert "train_set_x" in errors("propagate-global")


@pytest.mark.skipif(launch.bubblewrap() is None, reason="the sandbox needs bubblewrap and root")
def test_sandbox_blocks_reading_network_and_damage(graded):
    assert graded.connections == [], "student code reached a server on the grader's machine"
    assert graded.before == graded.after, "the bystander's work, the gradebook or source/ changed"
    assert graded.scores["bystander"]["total"] == 20
    assert (graded.root / "gradebook.db").stat().st_size > 10_000
    assert not Path(f"/tmp/{MARKER}-escaped").exists()
    assert graded.lingering == [], f"processes left behind: {graded.lingering}"
    copies = graded.root / "autograded" / "rt-symlinks" / ASSIGNMENT
    assert (copies / NOTEBOOK).exists()
    assert not (copies / "gradebook.lnk").exists() and not (copies / "source.lnk").exists()


LEAK_HUNTER = "rt-leak-reference"
HUNTED_CELLS = ("sigmoid", "propagate", "optimize", "model")


def _solution_only_text(own_code):
    """Text that only the instructor's solution holds, never a correct submission's own cells: the
    markers (a filled-in cell holds the solution's lines and docstrings without them, so any text
    around a marker holds the marker too), and any line of a solution region (stripped, longer
    than 12 characters) that ``own_code`` lacks."""
    markers = ("### BEGIN SOLUTION", "### END SOLUTION")
    needles = set(markers)
    for path in sorted(SOURCE_NB.parent.glob("*.ipynb")):
        for cell in read(path).cells:
            inside = False
            for line in cell.source.split("\n"):
                stripped = line.strip()
                if stripped in markers:
                    inside = stripped == markers[0]
                elif inside and len(stripped) > 12 and stripped not in own_code:
                    needles.add(stripped)
    return needles


def test_rt_leak_reference_finds_no_reference_solution_and_keeps_full_marks(graded):
    """rt-leak-reference's cells, when defined, search their stack, every object, the code of the
    functions they rely on and their process's whole memory for the reference solution, and print
    what they find (and raise with it): nothing of the solution reaches its notebook or feedback,
    and its correct answers keep full marks."""
    submitted = read(graded.root / "submitted" / LEAK_HUNTER / ASSIGNMENT / NOTEBOOK)
    needles = _solution_only_text("\n".join(c.source for c in submitted.cells if c.cell_type == "code"))
    outputs = "\n".join(
        "\n".join([o.get("text", ""), o.get("ename", ""), o.get("evalue", ""), *o.get("traceback", []),
                   *[str(value) for value in o.get("data", {}).values()]])
        for c in _autograded(graded, LEAK_HUNTER).cells for o in c.get("outputs", []))
    page = graded.root / "feedback" / LEAK_HUNTER / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
    feedback = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    for function in HUNTED_CELLS:  # the hunt ran, and what it prints reaches both
        assert f"leak hunt in the {function} cell" in outputs, f"no report of the hunt in the {function} cell"
        assert f"leak hunt in the {function} cell" in feedback, f"the {function} cell's hunt is not in the feedback"
    leaked = sorted(needle for needle in needles if needle in outputs or needle in feedback)
    found = [line for line in outputs.splitlines() if line.startswith("leak hunt") and "found nothing" not in line]
    assert leaked == [] and found == [], f"reference solution text reached {LEAK_HUNTER}: {leaked}; {found}"
    assert graded.scores[LEAK_HUNTER]["total"] == 20


def test_tampered_test_cells_are_graded_with_the_instructors_version(graded):
    assert graded.scores["tamper-correct"]["total"] == 20
    assert graded.scores["tamper-wrong"]["total"] == 0
    for student in ("tamper-correct", "tamper-wrong"):
        assert needs_manual_grading(graded.root, student) == []
        ids = [grade_id(c) for c in _autograded(graded, student).cells]
        for function in FUNCTIONS:
            assert ids.count(f"{function}_checks") == 1 and ids.count(f"{function}_hidden_tests") == 1


def _hidden_lines():
    """Lines of the hidden tests that appear nowhere else (solutions and visible checks, in the
    notebook and in the released public_tests.py, legitimately share a few, like a loop header)."""
    hidden, elsewhere = [], [line.strip() for line in (SOURCE_NB.parent / "public_tests.py").read_text().split("\n")]
    for cell in read(SOURCE_NB).cells:
        inside = False
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            else:
                (hidden if inside else elsewhere).append(line.strip())
    return [line for line in hidden if len(line) > 12 and line not in elsewhere]


def test_feedback_shows_points_and_reveals_no_hidden_test(graded):
    hidden = _hidden_lines()
    assert len(hidden) > 30
    pages = sorted((graded.root / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert len(pages) == len(graded.scores)
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        leaked = [line for line in hidden if line in text]
        assert leaked == [], f"{page}: hidden test lines in the feedback: {leaked[:3]}"
    page = graded.root / "feedback" / "sigmoid-sign-error" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text()))
    assert "Score: 17.0 / 20.0" in text
    summary = text[text.index("Points per function"):text.index("Logistic Regression with a Neural Network")]
    assert re.search(r"sigmoid\s+0 / 3\s+AssertionError: ", summary), summary
    assert re.search(r"propagate\s+5 / 5\s+nothing", summary), summary


def test_export_has_one_column_per_function_and_the_gradebook_points(graded):
    with open(assignment_file(graded.root / "grades.csv", ASSIGNMENT), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [*PEOPLE, *FUNCTIONS, "total", "status"]
    assert {row["student_id"] for row in rows} == set(graded.scores)
    for row in rows:
        assert row["status"] == "graded", row  # every submission here can be graded, attacks included
        for column in (*FUNCTIONS, "total"):
            assert float(row[column]) == graded.scores[row["student_id"]][column]


def test_visible_failures_quote_the_check_and_hidden_failures_only_their_message(graded):
    cells = {grade_id(c): c for c in _autograded(graded, "optimize-mutates-w").cells}
    visible = [o for o in cells["optimize_checks"].outputs if o.output_type == "error"][0]
    assert visible.traceback[0].startswith("line ") and "assert" in visible.traceback[0]
    hidden = cells["optimize_hidden_tests"].outputs
    assert [o.output_type for o in hidden] == ["error"]
    assert hidden[0].traceback == [f"AssertionError: {hidden[0].evalue}"]
    global_use = [o for o in cells_of(graded, "model-global", "model_checks") if o.output_type == "error"][0]
    assert "may use only its arguments" in "\n".join(global_use.traceback)


def cells_of(graded, student, cell_id):
    return {grade_id(c): c for c in _autograded(graded, student).cells}[cell_id].outputs
