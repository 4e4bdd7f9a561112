"""Correct answers computed in float32 earn full marks: results are compared within float32 precision.

Each graded function that takes or returns floating-point numbers is answered in float32: the
reference answer, called on its arguments converted to float32 (so every operation, and every
reference function it calls, works in float32). Graded by a real ``nbgrader autograde``, each such
submission earns the points of every function, visible checks and hidden tests alike. That the
typical mistakes still lose their points is checked for every assignment in tests/test_assignments.py.
"""

import pytest

from conftest import (
    ASSIGNMENTS,
    COURSE,
    autograde,
    gradebook_scores,
    graded_outputs,
    make_course,
    maxima,
    solved,
    submit,
)

pytestmark = pytest.mark.slow

# function -> its arguments (those converted to float32; keyword arguments pass through as given)
FLOAT_ARGUMENTS = {
    "logistic_regression": {"sigmoid": ("z",), "propagate": ("w", "b", "X", "Y"), "optimize": ("w", "b", "X", "Y"),
                            "predict": ("w", "b", "X"), "model": ("X_train", "Y_train", "X_test", "Y_test")},
    "python_basics_numpy": {"basic_sigmoid": ("x",), "sigmoid": ("x",), "sigmoid_derivative": ("x",),
                            "normalize_rows": ("x",), "softmax": ("x",), "L1": ("yhat", "y"), "L2": ("yhat", "y")},
}


def in_float32(function, arguments):
    """Lines that, appended to the reference answer, make ``function`` compute in float32."""
    converted = ", ".join(f"np.float32({name})" if name == "b" else f"np.asarray({name}, dtype=np.float32)"
                          for name in arguments)
    return (f"\n\n_in_float64 = {function}\n\n\ndef {function}({', '.join(arguments)}, **options):\n"
            f"    return _in_float64({converted}, **options)\n")


@pytest.fixture(scope="module", params=ASSIGNMENTS, ids=str)
def graded(request, tmp_path_factory):
    assignment = request.param
    root = make_course(tmp_path_factory.mktemp("precision") / "course", assignment=assignment)
    answers = COURSE.reference_answers(assignment.name, assignment.source_nb.stem)
    for function, arguments in FLOAT_ARGUMENTS[assignment.name].items():
        cell = f"{function}_solution"
        nb = solved(root, {cell: [(None, answers[function] + in_float32(function, arguments))]}, assignment=assignment)
        submit(root, f"float32-{function}", nb, assignment=assignment)
    assert autograde(root, assignment.name).returncode == 0
    return assignment, root


def test_every_float_function_of_the_assignment_is_answered_in_float32(graded):
    assignment, _ = graded
    assert set(FLOAT_ARGUMENTS[assignment.name]) <= set(assignment.functions)


def test_a_correct_float32_answer_earns_every_point(graded):
    assignment, root = graded
    top, scores = maxima(root, assignment), gradebook_scores(root, assignment)
    lost = {}
    for function in FLOAT_ARGUMENTS[assignment.name]:
        student = f"float32-{function}"
        if scores[student] != {**top, "total": sum(top.values())}:
            outputs = graded_outputs(root, student, assignment).values()
            lost[function] = [out.get("evalue") for cell in outputs for out in cell
                              if out.get("output_type") == "error"]
    assert lost == {}
