"""The visible checks as a module released with the notebook (public_tests.py), and the hints of
shape errors.

- A check cell is a line or two (``propagate_test(propagate, sigmoid)``): the checks live in the
  assignment's ``public_tests.py``, released beside the notebook, which students' kernels import.
  While grading, a check cell imports the instructor's copy (carried in the job, read from
  ``source/``), never the one in the submission's folder: a student who edits it (every check
  replaced by ``pass``) gains nothing. Graded by a real ``nbgrader autograde``, where nbgrader is
  even told to leave the student's copy in ``autograded/`` (``Autograde.exclude_overwriting``).
- ``np.dot(w, X)`` in ``propagate`` is explained (the shapes, what to transpose) in the graded
  visible checks, the hidden tests, the feedback's summary; and in the student's own kernel, by the
  same code (``public_tests.py`` carries a verbatim copy of the grader's ``shape_hint``).
- The feedback's "what went wrong" is shortened without losing the diagnosis or the hint.
"""

import ast
import html
import re
import sys
import textwrap
import types

import nbformat
import pytest

from catkit.grading import hints
from catkit.grading.harness import cell_builtins
from catkit.submissions import answers
from conftest import (
    ASSIGNMENT,
    ASSIGNMENTS,
    LOGISTIC,
    MISTAKES,
    NOTEBOOK,
    REPO,
    SOURCE_NB,
    autograde,
    autograded_nb,
    gradebook_scores,
    graded_outputs,
    make_course,
    maxima,
    nbgrader,
    read,
    release_nb,
    solved,
    submit,
)

NOT_TRANSPOSED = {"propagate_solution": [("np.dot(w.T, X)", "np.dot(w, X)")]}
HINT = ("propagate: np.dot(w, X) fails for w of shape (3, 1) and X of shape (3, 4): w.T has the shape (1, 3) "
        "that np.dot needs: use np.dot(w.T, X)")
# The example: the hint came last and was cut off ("...[-3.9984...").
NO_1_OVER_M = ("AssertionError: Wrong values for dw: expected about [[-0.03909333], [0.12501464], [-0.99960809]], "
               "got [[-0.15637332], [0.50005856], [-3.99843236]]. dw is exactly m times too large (m = 4 here): "
               "did you forget the 1/m?")


def emptied(source):
    """A public_tests.py whose every check function (``*_test``) does nothing."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_test"):
            node.body = [ast.Pass()]
    return ast.unparse(tree) + "\n"


# --- fast: the module, the shape hints, the shortening ----------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=str)
def test_every_check_cell_is_a_line_or_two_calling_the_released_module(assignment):
    folder = assignment.source_nb.parent
    assert [name for name, _ in assignment.layout.modules] == ["public_tests"]
    assert dict(assignment.layout.modules)["public_tests"] == (folder / "public_tests.py").read_text()
    released = REPO / "release" / assignment.name / "public_tests.py"
    assert released.read_text() == (folder / "public_tests.py").read_text()
    for cell in read(assignment.source_nb).cells:
        cell_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell_id.endswith("_checks"):
            code = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")]
            function = cell_id.removesuffix("_checks")
            assert code[0] == f"from public_tests import {function}_test" and len(code) == 2, cell.source
            assert code[1].startswith(f"{function}_test({function}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=str)
def test_public_tests_carry_the_graders_shape_hint_verbatim(assignment):
    """Students' kernels explain shape errors with the grader's own code (they have no catkit)."""
    def definitions(source):
        found = {}
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = ast.dump(node)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                found[node.targets[0].id] = ast.dump(node)
        return found

    grader = definitions((REPO / "src" / "catkit" / "grading" / "hints.py").read_text())
    shared = ["_SHAPE", "_DOT", "_BROADCAST", "_MATMUL", "_ARITHMETIC", "_shape", "_operations", "_transposed",
              "_fits", "_dot_hint", "_broadcast_hint", "shape_hint"]
    copy = definitions((assignment.source_nb.parent / "public_tests.py").read_text())
    assert {name: copy.get(name) for name in shared} == {name: grader[name] for name in shared}


@pytest.mark.parametrize("line, shapes, expected", [
    ("A = sigmoid(np.dot(w, X) + b)", {"w": (3, 1), "X": (3, 4)}, HINT),
    ("A = sigmoid(w.dot(X) + b)", {"w": (3, 1), "X": (3, 4)},
     "propagate: w.dot(X) fails for w of shape (3, 1) and X of shape (3, 4): w.T has the shape (1, 3) that np.dot "
     "needs: use w.T.dot(X)"),
    ("dw = np.dot(X, A - Y) / m", {"X": (3, 4), "A": (1, 4), "Y": (1, 4)},
     "propagate: np.dot(X, A - Y) fails for X of shape (3, 4) and A - Y of shape (1, 4): (A - Y).T has the shape "
     "(4, 1) that np.dot needs: use np.dot(X, (A - Y).T)"),
    ("A = sigmoid(np.dot(w.T, X.T) + b)", {"w": (3, 1), "X": (3, 4)},
     "propagate: np.dot(w.T, X.T) fails for w.T of shape (1, 3) and X.T of shape (4, 3): X has the shape (3, 4) "
     "that np.dot needs: use np.dot(w.T, X)"),
    ("A = sigmoid(w @ X + b)", {"w": (3, 1), "X": (3, 4)},
     "propagate: w @ X fails: it needs as many columns in w as rows in X, here 1 and 3: transpose the one that is the "
     "wrong way round"),
    ("x = a + b", {"a": (2, 3), "b": (3, 2)},
     "propagate: a + b fails: a of shape (2, 3) and b of shape (3, 2) do not broadcast together: b.T has the shape "
     "(2, 3) of a: transpose one of them"),
    ("x = a / n", {"a": (2, 3), "n": (2,)},
     "propagate: a / n fails: a of shape (2, 3) and n of shape (2,) do not broadcast together: numpy lines up the "
     "flat array of shape (2,) with the last dimension of the other (3), not with its rows: is one of them not the "
     "array you meant?"),
    ("A = sigmoid(np.dot(w,", {"w": (3, 1), "X": (3, 4)},  # (the first line of a statement on several lines)
     "propagate: np.dot fails for arrays of shapes (3, 1) and (3, 4): the first factor, transposed, has the shape "
     "(1, 3) that np.dot needs"),
])
def test_numpys_shape_errors_are_explained(line, shapes, expected):
    import numpy as np
    scope = {"np": np, "sigmoid": lambda z: z, "b": 0.0, "m": 4}
    scope.update({name: np.zeros(shape) for name, shape in shapes.items()})
    code = "sigmoid(np.dot(w, X) + b)" if line.endswith(",") else line.split(" = ", 1)[1]
    with pytest.raises(ValueError) as raised:
        eval(code, scope)
    assert hints.shape_hint("propagate", str(raised.value), line) == expected
    assert hints.shape_hint("propagate", "math domain error", line) is None
    assert hints.shape_hint(None, str(raised.value), line) == expected.removeprefix("propagate: ")


def _notebook(**cells):
    """A kernel's namespace after running ``cells`` (name -> source), each under a file name of its own,
    its lines known to linecache, as ipykernel runs notebook cells."""
    import linecache

    import numpy as np
    namespace = {"np": np}
    for name, source in cells.items():
        filename = f"<cell {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_in_a_students_kernel_the_checks_give_the_graders_hint(capsys):
    """The released checks, run on the student's functions in their kernel, say what the grader says."""
    module = types.ModuleType("public_tests")
    exec(compile((SOURCE_NB.parent / "public_tests.py").read_text(), "public_tests.py", "exec"), module.__dict__)
    cells = answers(read(SOURCE_NB))
    nb = _notebook(sigmoid=cells["sigmoid_solution"],
                   propagate=cells["propagate_solution"].replace("np.dot(w.T, X)", "np.dot(w, X)"))
    with pytest.raises(ValueError) as raised:
        module.propagate_test(nb["propagate"], nb["sigmoid"])
    assert str(raised.value) == HINT
    assert "not aligned" in str(raised.value.__cause__)  # numpy's own words, shown above the hint
    # An error raised in a function it calls is that function's, not explained as this one's.
    nb = _notebook(sigmoid="def sigmoid(z):\n    return np.dot(z, np.zeros((5, 5)))\n",
                   propagate=cells["propagate_solution"])
    with pytest.raises(AssertionError, match=r"^propagate calls your sigmoid, whose checks fail: fix sigmoid first.*"
                                             r"\(ValueError: shapes \(1,4\) and \(5,5\) not aligned"):
        module.propagate_test(nb["propagate"], nb["sigmoid"])


def test_a_student_copy_on_the_path_or_in_sys_modules_is_never_what_a_cell_imports(tmp_path, monkeypatch):
    """The grader's import of an instructor module takes the job's source, whatever Python would find."""
    (tmp_path / "public_tests.py").write_text("def sigmoid_test(sigmoid):\n    print('passed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "public_tests", types.ModuleType("public_tests"))
    instructor = "GIVEN = 'by the instructor'\ndef sigmoid_test(sigmoid):\n    assert sigmoid(0) == 0.5, 'wrong'\n"
    for statement in ("from public_tests import sigmoid_test",
                      "import public_tests; sigmoid_test = public_tests.sigmoid_test"):
        namespace = {"__builtins__": cell_builtins((("public_tests", instructor),)), "sigmoid": lambda z: 0.0}
        with pytest.raises(AssertionError, match="wrong"):
            exec(f"{statement}\nsigmoid_test(sigmoid)\n", namespace)
    # A fresh module per cell: what one cell does to it never reaches the next.
    first = {"__builtins__": cell_builtins((("public_tests", instructor),))}
    exec("import public_tests\npublic_tests.GIVEN = 'changed by a cell'\n", first)
    second = {"__builtins__": cell_builtins((("public_tests", instructor),))}
    exec("import public_tests\nGIVEN = public_tests.GIVEN\n", second)
    assert second["GIVEN"] == "by the instructor"
    # Other imports are Python's own.
    exec("import json\nfrom os import path\n", second)
    assert second["json"].__name__ == "json"


def test_shortening_keeps_the_diagnosis_and_the_hint():
    for limit in (160, 120, 90):
        short = hints.shorten(NO_1_OVER_M, limit)
        assert len(short) <= limit and short.startswith("AssertionError: Wrong"), short
        assert short.endswith("did you forget the 1/m?"), short
    assert hints.shorten(NO_1_OVER_M, 180) == (  # values rounded, then lists of values left out
        "AssertionError: Wrong values for dw: expected about […], got [[-0.1564], [0.5001], [-3.998]]. dw is exactly "
        "m times too large (m = 4 here): did you forget the 1/m?")
    assert hints.shorten(NO_1_OVER_M, 160) == (
        "AssertionError: Wrong values for dw: expected about […], got […]. dw is exactly m times too large (m = 4 "
        "here): did you forget the 1/m?")
    diagnosed = ("AssertionError: propagate calls your sigmoid, whose checks fail: fix sigmoid first, then run this "
                 "cell again (AssertionError: sigmoid(np.array([0, 2])) is wrong: expected about [0.5, 0.88079708], "
                 "got [0.5 0.11920292]. It is 1 - sigmoid(z): the sign of the exponent is flipped (e^(-z), not e^z).)")
    short = hints.shorten(diagnosed, 160)
    assert short.startswith("AssertionError: propagate calls your sigmoid, whose checks fail: fix sigmoid ")
    assert short.endswith("the sign of the exponent is flipped (e^(-z), not e^z).)") and len(short) <= 160
    assert hints.shorten("short enough", 160) == "short enough"
    assert hints.shorten("  spread\n  over   lines ", 160) == "spread over lines"


# --- slow: graded for real ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    # nbgrader copies the instructor's files over the submission's in autograded/, unless told not to: told
    # here, so that the student's copy is there while grading, where a careless grader would import it.
    root = make_course(tmp_path_factory.mktemp("public_tests"),
                       f"\nc.Autograde.exclude_overwriting = {{'{ASSIGNMENT}': ['public_tests.py']}}\n")
    released = (root / "release" / ASSIGNMENT / "public_tests.py").read_text()
    submissions = {"not-transposed": (solved(root, NOT_TRANSPOSED), None),
                   "not-transposed-own-checks": (solved(root, NOT_TRANSPOSED), emptied(released)),
                   "untouched-own-checks": (release_nb(root), emptied(released)),
                   "no-1-over-m": (solved(root, MISTAKES["propagate-no-1-over-m"].edits), None)}
    for student, (nb, checks) in submissions.items():
        submit(root, student, nb)
        if checks is not None:
            (root / "submitted" / student / ASSIGNMENT / "public_tests.py").write_text(checks)
    assert autograde(root).returncode == 0
    nbgrader(root, "generate_feedback", ASSIGNMENT)
    return root, gradebook_scores(root), maxima(root)


def _summary(root, student):
    page = root / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text()))
    return " ".join(text[text.index("Points per function"):text.index("Logistic Regression with a Neural Network")]
                    .split())


@pytest.mark.slow
def test_a_students_edited_public_tests_changes_no_grade(graded):
    root, scores, top = graded
    edited = (root / "submitted" / "not-transposed-own-checks" / ASSIGNMENT / "public_tests.py").read_text()
    assert "pass" in edited and "assert" not in edited
    # The student's copy was beside the notebook while grading (nbgrader was told to keep it) ...
    assert (autograded_nb(root, "not-transposed-own-checks").parent / "public_tests.py").read_text() == edited
    # ... and changed nothing: propagate loses its points as without it, every other function keeps its own.
    assert scores["not-transposed-own-checks"] == scores["not-transposed"]
    assert scores["not-transposed"] == {**top, "propagate": 0.0, "total": sum(top.values()) - top["propagate"]}
    checks = [f"{function}_checks" for function in LOGISTIC.functions]
    outputs, plain = graded_outputs(root, "not-transposed-own-checks"), graded_outputs(root, "not-transposed")
    assert {cell: outputs[cell] for cell in checks} == {cell: plain[cell] for cell in checks}
    # The untouched release with every check emptied: still nothing anywhere.
    assert scores["untouched-own-checks"] == {**dict.fromkeys(LOGISTIC.functions, 0.0), "total": 0.0}


@pytest.mark.slow
def test_np_dot_w_x_is_explained_in_the_graded_checks_the_hidden_tests_and_the_feedback(graded):
    root, _, _ = graded
    outputs = graded_outputs(root, "not-transposed")
    visible = [o for o in outputs["propagate_checks"] if o["output_type"] == "error"]
    assert [(o["ename"], o["evalue"]) for o in visible] == [("ValueError", HINT)]
    assert "  in your propagate cell, line " in "\n".join(visible[0]["traceback"])
    assert "  numpy: shapes (3,1) and (3,4) not aligned: 1 (dim 1) != 3 (dim 0)" in visible[0]["traceback"]
    hidden = [o for o in outputs["propagate_hidden_tests"] if o["output_type"] == "error"]
    assert len(hidden) == 1 and hidden[0]["ename"] == "ValueError", hidden
    assert re.fullmatch(r"propagate: np\.dot\(w, X\) fails for w of shape \(\d+, 1\) and X of shape \(\d+, \d+\): "
                        r"w\.T has the shape \(1, \d+\) that np\.dot needs: use np\.dot\(w\.T, X\)",
                        hidden[0]["evalue"])
    assert f"propagate 0 / 5 ValueError: {HINT}" in _summary(root, "not-transposed")


@pytest.mark.slow
def test_the_feedback_summary_keeps_the_hint_of_a_long_message(graded):
    root, _, _ = graded
    summary = _summary(root, "no-1-over-m")
    row = summary[summary.index("propagate 0 / 5"):summary.index("optimize")]
    assert "Wrong values for dw" in row and "did you forget the 1/m?" in row, row


def test_the_checks_stay_readable_in_the_release_notebook():
    """Each released check cell is as short as the source's (nbgrader releases them as they are)."""
    for assignment in ASSIGNMENTS:
        nb = nbformat.read(REPO / "release" / assignment.name / assignment.notebook, as_version=4)
        cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_checks")]
        assert len(cells) == len(assignment.functions)
        assert all(len(textwrap.dedent(c.source).splitlines()) <= 5 for c in cells)
