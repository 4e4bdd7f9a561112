"""What the engine reads from an instructor notebook (catkit/grading/layout.py), and how a notebook
that breaks a convention is reported: per-assignment limits, the graded-imports cell."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from catkit.course import Course
from catkit.errors import LayoutError
from catkit.grading.job import Settings
from catkit.grading.layout import layout_of
from catkit.grading.limits import Limits
from conftest import ASSIGNMENT, NOTEBOOK, autograde, make_course, nbgrader, solved, submit


def _answer(function, body="    return x\n"):
    cell = new_code_cell(f"def {function}(x):\n{body}")
    cell.metadata["nbgrader"] = {"grade_id": f"{function}_solution", "solution": True, "grade": False}
    return cell


def _imports(source):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["graded-imports"]
    return cell


def test_functions_in_notebook_order_imports_and_the_longest_prefix():
    not_a_function = new_code_cell("m_train = 3")
    not_a_function.metadata["nbgrader"] = {"grade_id": "exercise1_solution", "solution": True, "grade": False}
    nb = new_notebook(cells=[_imports("import math\nimport numpy as np  # arrays"), not_a_function,
                             _answer("f"), _answer("f_prime"), _answer("g")])
    layout = layout_of(nb)
    assert layout.functions == ("f", "f_prime", "g")
    assert layout.preamble == "import math\nimport numpy as np\n"
    assert layout.imported_names == ["math", "np"]
    assert layout.function_of("f_prime_checks") == "f_prime" and layout.function_of("f_checks") == "f"
    assert layout.function_of("exercise1_checks") is None
    assert layout.relies_on("g") == ("f", "f_prime") and layout.relies_on("f") == ()


def test_the_imports_cell_may_hold_only_imports():
    nb = new_notebook(cells=[_imports("import numpy as np\nnp.seterr(all='ignore')"), _answer("f")])
    with pytest.raises(LayoutError, match="may hold only import statements; line 2 is not one: \"np.seterr"):
        layout_of(nb, "course.ipynb")


def test_limits_from_the_notebook_metadata_replace_the_course_settings():
    nb = new_notebook(cells=[_answer("f")], metadata={"catkit": {"limits": {"timeout": 2, "memory_limit_mb": 512}}})
    layout = layout_of(nb)
    assert layout.limits == (("memory_limit_mb", 512), ("timeout", 2.0))
    settings = Settings().with_limits(layout.limits)
    assert settings.limits.timeout == 2.0 and settings.limits.memory_limit_mb == 512
    assert settings.limits.submission_budget == Limits().submission_budget
    assert settings.limits.max_processes == Limits().max_processes
    nb.metadata["catkit"]["limits"]["wall_clock"] = 3
    with pytest.raises(LayoutError, match=r"unknown limit\(s\) \['wall_clock'\]"):
        layout_of(nb)


def _edit_source(root, edit):
    path = root / "source" / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    nbformat.write(nb, path)


@pytest.mark.slow
def test_an_assignment_limit_applies_when_nbgrader_grades(tmp_path):
    """A notebook that sets its own timeout: a slow function is stopped at that timeout, not the course's."""
    root = make_course(tmp_path)
    _edit_source(root, lambda nb: nb.metadata.update({"catkit": {"limits": {"timeout": 1.5}}}))
    slow = solved(root, {"sigmoid_solution": [("    s = 1 / (1 + np.exp(-z))",
                                               "    import time\n    time.sleep(5)\n    s = 1 / (1 + np.exp(-z))")]})
    submit(root, "slow", slow)
    nbgrader(root, "autograde", ASSIGNMENT)
    graded = nbformat.read(root / "autograded" / "slow" / ASSIGNMENT / NOTEBOOK, as_version=4)
    checks = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid_checks"][0]
    assert "did not finish within 1.5 s" in " ".join(o.get("evalue", "") for o in checks.outputs)


@pytest.mark.slow
def test_a_notebook_that_breaks_a_convention_leaves_submissions_not_graded_with_the_reason(tmp_path):
    root = make_course(tmp_path)
    _edit_source(root, lambda nb: nb.cells.insert(0, _imports("import numpy as np\nprint('hello')")))
    submit(root, "student", solved(root))
    run = autograde(root)
    assert run.returncode != 0
    reason = Course.at(root).recorded_failure(ASSIGNMENT, "student")
    assert "tagged 'graded-imports' may hold only import statements" in reason and "print('hello')" in reason
