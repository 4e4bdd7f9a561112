"""The engine's guarantees, for every assignment of the course (each read from its own notebook).

Per assignment, one real ``nbgrader autograde`` grades a class: the reference, the untouched
release, each typical mistake of ``examples/mistakes/<assignment>.toml`` and attacks that fit any
assignment (tests/redteam.py: GENERIC_ATTACKS). The exercise-specific attacks and feedback checks
are in test_grading.py.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from catkit.grading import reference
from catkit.grading.harness import cell_builtins
from catkit.grading.layout import grade_id
from catkit.nbgrader_plugins.export import PEOPLE, assignment_file
from conftest import (
    ASSIGNMENTS,
    REPO,
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
from redteam import generic_attacks

each_assignment = pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=str)


@dataclass
class GradedClass:
    assignment: object
    root: Path
    scores: dict
    maxima: dict
    attacks: list


def _grade_class(assignment, root):
    submit(root, "reference", solved(root, assignment=assignment), assignment)
    submit(root, "untouched", release_nb(root, assignment), assignment)
    for name, mistake in assignment.mistakes.items():
        submit(root, name, solved(root, mistake.edits, assignment=assignment), assignment)
    attacks = generic_attacks(assignment.functions, root / "source" / assignment.name / assignment.notebook)
    for student, edits, _ in attacks:
        submit(root, student, solved(root, edits, assignment=assignment), assignment)
    nbgrader(root, "autograde", assignment.name)
    nbgrader(root, "export", "--to", str(root / "grades.csv"))
    return GradedClass(assignment, root, gradebook_scores(root, assignment), maxima(root, assignment), attacks)


@pytest.fixture(scope="session")
def class_of(tmp_path_factory):
    """``class_of(assignment)``: the class of that assignment, graded once in the session."""
    graded = {}

    def get(assignment):
        if assignment.name not in graded:
            root = make_course(tmp_path_factory.mktemp(assignment.name), "\nc.IsolatedExecute.timeout = 8\n",
                               assignment)
            graded[assignment.name] = _grade_class(assignment, root)
        return graded[assignment.name]
    return get


MISTAKES = [(assignment, name) for assignment in ASSIGNMENTS for name in assignment.mistakes]
ATTACKS = [(assignment, student, function) for assignment in ASSIGNMENTS
           for student, _, function in generic_attacks(assignment.functions, "")]


@each_assignment
def test_notebook_follows_the_engine_conventions(assignment):
    """Every graded function has visible checks and hidden tests worth points; imports are declared."""
    cells = {grade_id(c): c for c in read(assignment.source_nb).cells if grade_id(c)}
    assert assignment.layout.preamble.strip(), "no cell tagged graded-imports"
    for function in assignment.functions:
        checks, hidden = cells[f"{function}_checks"], cells[f"{function}_hidden_tests"]
        assert checks.metadata.nbgrader["points"] >= 1 and not assignment.layout.is_hidden(checks.source)
        assert hidden.metadata.nbgrader["points"] >= 1 and assignment.layout.is_hidden(hidden.source)
        assert "GRADING_SEED" in hidden.source, f"{function}'s hidden tests must draw fresh inputs"
        assert sum(m.function == function for m in assignment.mistakes.values()) >= 2, \
            f"name at least two typical mistakes in {function} (examples/mistakes/{assignment}.toml)"


@each_assignment
def test_reference_passes_every_visible_check_in_process(assignment):
    layout, sources = reference.from_notebook(assignment.source_nb)
    functions = reference.functions(sources, layout.preamble)
    checks = {grade_id(c): c.source for c in read(assignment.source_nb).cells
              if (grade_id(c) or "").endswith("_checks")}
    assert sorted(checks) == sorted(f"{f}_checks" for f in layout.functions)
    for cell_id, source in checks.items():
        namespace = {"np": np, "__builtins__": cell_builtins(layout.modules)}  # (public_tests, the instructor's)
        exec(compile(layout.preamble, "<preamble>", "exec"), namespace)
        exec(compile(source, cell_id, "exec"), {**namespace, **functions})


def _autograded(graded_class, student):
    a = graded_class.assignment
    return read(graded_class.root / "autograded" / student / a.name / a.notebook)


@pytest.mark.slow
@each_assignment
def test_reference_gets_full_marks_on_every_function(class_of, assignment):
    graded_class = class_of(assignment)
    points = {}
    for cell in read(graded_class.assignment.source_nb).cells:
        meta = cell.metadata.get("nbgrader", {})
        function = graded_class.assignment.layout.function_of(meta.get("grade_id"))
        if meta.get("grade") and function:
            points[function] = points.get(function, 0) + meta["points"]
    assert graded_class.maxima == points and list(points) == list(graded_class.assignment.functions)
    scores = graded_class.scores["reference"]
    assert {f: scores[f] for f in graded_class.assignment.functions} == graded_class.maxima
    for cell in _autograded(graded_class, "reference").cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.output_type == "error" or o.get("name") == "stderr"], cell.outputs


@pytest.mark.slow
@each_assignment
def test_untouched_release_gets_zero_everywhere_without_failing(class_of, assignment):
    graded_class = class_of(assignment)
    functions = graded_class.assignment.functions
    assert graded_class.scores["untouched"] == {**dict.fromkeys(functions, 0.0), "total": 0.0}
    assert needs_manual_grading(graded_class.root, "untouched", graded_class.assignment) == []
    verdicts = [o for c in _autograded(graded_class, "untouched").cells for o in c.get("outputs", [])
                if o.output_type == "error"]
    assert len(verdicts) == 2 * len(functions) and all(o.ename == "NotImplementedError" for o in verdicts)


@pytest.mark.slow
@pytest.mark.parametrize("assignment, mistake", MISTAKES, ids=str)
def test_each_mistake_loses_points_on_its_function_alone(class_of, assignment, mistake):
    graded_class = class_of(assignment)
    function, _, what, _ = graded_class.assignment.mistakes[mistake]
    scores, top = graded_class.scores[mistake], graded_class.maxima
    assert scores[function] < top[function], f"{mistake} ({what}) kept all points of {function}"
    others = {f: scores[f] for f in graded_class.assignment.functions if f != function}
    assert others == {f: top[f] for f in others}, f"{mistake} ({what}) cost points elsewhere"
    errors = [o.ename for c in _autograded(graded_class, mistake).cells for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert not {"SyntaxError", "IndentationError"} & set(errors), f"{mistake} does not compile"


@pytest.mark.slow
@pytest.mark.parametrize("assignment, student, function", ATTACKS, ids=str)
def test_attacks_earn_nothing_they_did_not_implement(class_of, assignment, student, function):
    graded_class = class_of(assignment)
    scores = graded_class.scores[student]
    for other in graded_class.assignment.functions:
        expected = 0 if other == function else graded_class.maxima[other]
        assert scores[other] == expected, f"{student}: {other} scored {scores[other]}"
    assert needs_manual_grading(graded_class.root, student, graded_class.assignment) == []


@pytest.mark.slow
@each_assignment
def test_export_has_a_file_per_assignment_with_a_column_per_function(class_of, assignment):
    graded_class = class_of(assignment)
    a = graded_class.assignment
    with open(assignment_file(graded_class.root / "grades.csv", a.name), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [*PEOPLE, *a.functions, "total", "status"]
    assert {row["student_id"] for row in rows} == set(graded_class.scores)
    for row in rows:
        assert row["status"] == "graded", row
        for column in (*a.functions, "total"):
            assert float(row[column]) == graded_class.scores[row["student_id"]][column]
    with open(graded_class.root / "grades.csv", newline="") as handle:
        summary = {row["student_id"]: row for row in csv.DictReader(handle)}
    full_marks = f"{sum(graded_class.maxima.values()):g}"
    assert summary["reference"]["total"] == summary["reference"]["max_score"] == full_marks
    assert {row["assignment"] for row in summary.values()} == {a.name}


def test_the_engine_names_no_function_of_any_assignment():
    """Everything about an assignment comes from its notebook: the engine's code names none of its
    functions (not even in a comment), so a new assignment needs no change to it."""
    import re
    kit = REPO / "src" / "catkit"
    engine = sorted((kit / "grading").rglob("*.py")) + sorted((kit / "nbgrader_plugins").rglob("*.py")) + \
        [kit / "course.py", kit / "scores.py", kit / "workflow.py", kit / "report.py"]
    names = {function for assignment in ASSIGNMENTS for function in assignment.functions}
    found = [f"{path.relative_to(kit)}: {name}" for path in engine for name in sorted(names)
             if re.search(rf"(?<![.\w]){re.escape(name)}\b", path.read_text())]  # (not logging.propagate)
    assert len(engine) > 15 and found == []
