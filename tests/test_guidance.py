"""The guidance students get: hints in the stubs, and checks that recognise typical mistakes.

Fast, in process, no nbgrader: the source notebook's check cells (which call the checks of the
assignment's public_tests.py) run in a namespace holding the six functions, as in a student's
notebook (a mistaken function among correct ones, or a mistaken function called by a correct one),
and the hidden tests run the same way with ``GRADING_SEED``
set, as the grader runs them (where the function under test is the only one that is not the
reference). ``tests/test_grading.py`` grades every mistake for real.
"""

import re

import pytest

from catkit.grading.harness import cell_builtins
from catkit.grading.layout import grade_id
from catkit.submissions import answers
from conftest import ASSIGNMENT, FUNCTIONS, LOGISTIC, MISTAKES, NOTEBOOK, PREAMBLE, REPO, SOURCE_NB, read

RELEASE_NB = REPO / "release" / ASSIGNMENT / NOTEBOOK
SEEDS = (1, 2, 3, 20240917, 987654321)

# mistake -> text its function's visible checks and hidden tests say about it
RECOGNISED = {
    "sigmoid-sign-error": "the sign of the exponent is flipped",
    "sigmoid-parentheses": "put the whole denominator 1 + e^(-z) in parentheses",
    "initialize-int-b": "b is the int 0: write the float 0.0",
    "initialize-flat-w": "w is a flat array of shape (dim,)",
    "initialize-transposed-w": "w is a row of shape (1, dim)",
    "initialize-array-b": "b is a numpy array",
    "propagate-no-1-over-m": "dw is exactly m times too large",
    "propagate-cost-sign": "cost has the wrong sign",
    "propagate-dw-transposed": "dw has the shape of w.T",
    "propagate-db-array": "db must be a scalar, got an array of shape (1, 1)",
    "optimize-mutates-w": "'w -= ...' changes the caller's array in place",
    "optimize-ignores-rate": "those of learning_rate=0.009, the default",
    "optimize-cost-every-iteration": "one per iteration",
    "predict-threshold-zero": "Every prediction is 1.",
    "predict-flat": "They have the shape (m,)",
    "predict-probabilities": "They are probabilities, not 0. or 1.",
    "model-ignores-iterations": "as many as 2000 iterations, model's default, give",
    "model-ignores-rate": "learning_rate=0.009, optimize's default",
    "model-test-on-train": "It has the shape of the training set's predictions",
}
# Recognised by the visible checks only: the grader reports the error itself, with the line.
RECOGNISED_VISIBLE_ONLY = {"sigmoid-math-exp": "math.exp takes a single number"}

# (function whose checks run, mistake in a function it calls, what its checks say)
DIAGNOSED = [
    ("propagate", "sigmoid-sign-error", "propagate calls your sigmoid, whose checks fail: fix sigmoid first"),
    ("optimize", "propagate-no-1-over-m", "optimize calls your propagate, whose checks fail: fix propagate first"),
    ("optimize", "sigmoid-parentheses", "optimize calls propagate, which calls your sigmoid, whose checks fail: "
                                        "fix sigmoid first"),
    ("predict", "sigmoid-sign-error", "predict calls your sigmoid, whose checks fail: fix sigmoid first"),
    ("model", "initialize-flat-w", "model calls your initialize_with_zeros, whose checks fail"),
    ("model", "propagate-cost-sign", "model calls optimize, which calls your propagate, whose checks fail"),
    ("model", "optimize-ignores-rate", "model calls your optimize, whose checks fail: fix optimize first"),
    ("model", "predict-threshold-zero", "model calls your predict, whose checks fail: fix predict first"),
    ("model", "sigmoid-sign-error", "model calls optimize and predict, which call your sigmoid"),
]


def _cells(nb):
    return {grade_id(cell): cell.source for cell in nb.cells if grade_id(cell)}


SOURCE_CELLS = _cells(read(SOURCE_NB))
ANSWERS = answers(read(SOURCE_NB))


def _namespace(edits=None, stubs=()):
    """The six functions defined in one namespace, as in a student's notebook: the reference
    answers, with ``edits`` (grade_id -> [(old, new)]) applied and ``stubs`` left unanswered."""
    namespace = {"__name__": "__student__"}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    for function in FUNCTIONS:
        cell_id = f"{function}_solution"
        source = ANSWERS[cell_id]
        for old, new in (edits or {}).get(cell_id, []):
            assert old in source, (cell_id, old)
            source = source.replace(old, new)
        if function in stubs:
            source = f"def {function}(*args, **kwargs):\n    raise NotImplementedError()\n"
        exec(compile(source, cell_id, "exec"), namespace)
    return namespace


def _failure(cell_id, namespace, seed=None):
    """The message of the error a test cell raises in ``namespace`` (None if it passes); the cell
    imports the assignment's public_tests.py, as in a notebook (and as graded: the instructor's copy)."""
    scope = {**namespace, "__builtins__": cell_builtins(LOGISTIC.layout.modules)}
    if seed is not None:
        scope["GRADING_SEED"] = seed
    try:
        exec(compile(SOURCE_CELLS[cell_id], cell_id, "exec"), scope)
    except Exception as error:  # noqa: BLE001 - the message is what is checked
        return f"{type(error).__name__}: {error}"
    return None


def _mistaken(mistake):
    return _namespace(MISTAKES[mistake][1])


def test_every_recognised_mistake_is_a_known_mistake_and_every_function_has_two():
    assert set(RECOGNISED) | set(RECOGNISED_VISIBLE_ONLY) <= set(MISTAKES)
    for function in FUNCTIONS:
        assert sum(MISTAKES[name][0] == function for name in RECOGNISED) >= 2, function


@pytest.mark.parametrize("mistake", sorted({**RECOGNISED, **RECOGNISED_VISIBLE_ONLY}))
def test_visible_checks_recognise_the_mistake(mistake, capsys):
    function = MISTAKES[mistake][0]
    hint = {**RECOGNISED, **RECOGNISED_VISIBLE_ONLY}[mistake]
    message = _failure(f"{function}_checks", _mistaken(mistake))
    assert message is not None, f"the visible checks of {function} pass with {mistake}"
    assert message.startswith("AssertionError: ") and hint in message, message
    assert "whose checks fail" not in message, message  # its callees are right: no diagnosis


@pytest.mark.parametrize("mistake", sorted(RECOGNISED))
def test_hidden_tests_recognise_the_mistake_whatever_the_seed(mistake, capsys):
    function = MISTAKES[mistake][0]
    for seed in SEEDS:
        message = _failure(f"{function}_hidden_tests", _mistaken(mistake), seed)
        assert message is not None, f"the hidden tests of {function} pass with {mistake} (seed {seed})"
        assert message.startswith("AssertionError: ") and RECOGNISED[mistake] in message, (seed, message)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a broken sigmoid makes propagate take log(negative)
@pytest.mark.parametrize("function, mistake, diagnosis", DIAGNOSED)
def test_visible_checks_blame_the_called_function_that_fails_its_own_checks(function, mistake, diagnosis, capsys):
    assert MISTAKES[mistake][0] != function
    message = _failure(f"{function}_checks", _mistaken(mistake))
    assert message is not None and message.startswith("AssertionError: ") and diagnosis in message, message


@pytest.mark.parametrize("function, callee", [("propagate", "sigmoid"), ("optimize", "propagate"),
                                              ("predict", "sigmoid"), ("model", "optimize"),
                                              ("model", "initialize_with_zeros")])
def test_visible_checks_blame_a_called_function_left_unanswered(function, callee, capsys):
    message = _failure(f"{function}_checks", _namespace(stubs=(callee,)))
    assert message is not None and f"your {callee}, whose checks fail: fix {callee} first" in message, message
    assert "NotImplementedError" in message


def test_checks_pass_and_blame_nobody_with_the_reference(capsys):
    """When graded, the functions a function calls are the reference ones: the diagnosis costs nothing."""
    namespace = _namespace()
    for function in FUNCTIONS:
        assert _failure(f"{function}_checks", namespace) is None
        for seed in SEEDS[:2]:
            assert _failure(f"{function}_hidden_tests", namespace, seed) is None


def _numbers(text):
    return set(re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\w)", text))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_hidden_test_messages_quote_no_hidden_value(function, capsys):
    """Every number in a hidden test's message (for every mistake of that function, several seeds)
    is a constant written in the test cell, or a dimension inside a shape: never a random input,
    expected value or result."""
    cell_id = f"{function}_hidden_tests"
    constants = _numbers(SOURCE_CELLS[cell_id])
    messages = set()
    for mistake, (broken, *_) in MISTAKES.items():
        if broken != function:
            continue
        for seed in SEEDS:
            message = _failure(cell_id, _mistaken(mistake), seed)
            if message and message.startswith("AssertionError: "):
                messages.add(message)
    assert len(messages) >= 2
    for message in messages:
        without_shapes = re.sub(r"\(\d+(?:, \d+)*,?\)", "(shape)", message)
        quoted = _numbers(without_shapes) - constants
        assert quoted == set(), f"{message!r} quotes {quoted}"


# --- hints in the stubs students get ---------------------------------------------------------------

HINTED_CELLS = [f"{function}_solution" for function in FUNCTIONS] + ["exercise1_solution", "exercise2_solution"]


def _solution_lines():
    lines = set()
    for source in ANSWERS.values():
        lines |= {line.strip() for line in source.split("\n")
                  if len(line.strip()) > 8 and not line.strip().startswith("#")}
    return lines


@pytest.mark.parametrize("cell_id", HINTED_CELLS)
def test_every_stub_has_a_line_count_hint_and_a_skeleton_without_the_solution(cell_id):
    stub = _cells(read(RELEASE_NB))[cell_id]
    assert "# YOUR CODE HERE" in stub and "raise NotImplementedError()" in stub
    comments = [line.strip() for line in stub[:stub.index("# YOUR CODE HERE")].split("\n")
                if line.strip().startswith("#")]
    assert any(re.search(r"\(≈ \d+ lines? of code", line) for line in comments), comments
    skeleton = [line for line in comments if re.match(r"#\s+[\w, ]+ = \.\.\.", line)]
    assert skeleton, f"{cell_id}: no skeleton line like '# w = ...' before the stub"
    uncommented = {line.lstrip("#").strip() for line in comments}
    assert uncommented & _solution_lines() == set(), f"{cell_id}: a hint is a solution line"


def test_the_architecture_diagram_is_in_section_3_and_in_the_release():
    cells = {cell.get("id"): cell.source for cell in read(RELEASE_NB).cells}
    assert "](images/logistic_regression.png)" in cells["architecture"]
    png = REPO / "release" / ASSIGNMENT / "images" / "logistic_regression.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.read_bytes() == (SOURCE_NB.parent / "images" / "logistic_regression.png").read_bytes()
