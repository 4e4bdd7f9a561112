"""Benchmark: how fast ``catkit similarity`` compares a class, for 100 and 1,000 generated students.

Not a test: it measures and prints a table (the README quotes it). Works in memory, on plain data
(:func:`catkit.similarity.compare`): no nbgrader, no notebook files. Each student's answers to the
six functions of logistic_regression are generated from the instructor's reference answers:

- most students (60 %) write the common answer (the reference, their own names and comments);
- the others pick, per function, one of several genuinely different ways (their own names too);
- most add a line or two of their own (a check, a constant), as students do;
- every 50th student copies the one before, disguised (names, comments, a dead line).

Each row times normalisation and comparison of the whole class (every function), with the number
of candidate pairs scored in full and the pairs flagged at the default threshold.

    python benchmarks/similarity_time.py [--students 100 1000] [--repeat 3]
"""

import argparse
import random
import re
import statistics
import time
from pathlib import Path

import nbformat

from catkit.course import Course
from catkit.grading.layout import function_source
from catkit.similarity import DEFAULT_THRESHOLD, compare

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "logistic_regression"

# Per function, (old, new) replacements of the reference's solution lines: ways of writing it.
WAYS = {
    "sigmoid": [[("s = 1 / (1 + np.exp(-z))", "s = np.exp(z) / (1 + np.exp(z))")],
                [("s = 1 / (1 + np.exp(-z))", "s = 0.5 * (1 + np.tanh(z / 2))")],
                [("s = 1 / (1 + np.exp(-z))", "e = np.exp(-z)\n    s = 1 / (e + 1)")]],
    "initialize_with_zeros": [[("w = np.zeros((dim, 1))", "w = np.zeros(shape=(dim, 1), dtype=float)")],
                              [("w = np.zeros((dim, 1))", "w = np.zeros(dim).reshape(dim, 1)"),
                               ("b = 0.0", "b = float(0)")]],
    "propagate": [[("cost = -1 / m * np.sum(", "cost = -np.mean("),
                   ("db = 1 / m * np.sum(A - Y)", "db = np.mean(A - Y)")],
                  [("np.dot(w.T, X)", "np.einsum('ij,ik->jk', w, X)"),
                   ("dw = 1 / m * np.dot(X, (A - Y).T)", "dw = np.einsum('ik,jk->ij', X, A - Y) / m")],
                  [("A = sigmoid(np.dot(w.T, X) + b)", "A = sigmoid(w.T @ X + b)\n    dz = A - Y"),
                   ("dw = 1 / m * np.dot(X, (A - Y).T)", "dw = X @ dz.T / m"),
                   ("db = 1 / m * np.sum(A - Y)", "db = dz.sum() / m")]],
    "optimize": [[("for i in range(num_iterations):", "i = 0\n    while i < num_iterations:"),
                  ("                print(\"Cost after iteration %i: %f\" % (i, cost))",
                   "                print(\"Cost after iteration %i: %f\" % (i, cost))\n        i += 1")],
                 [("dw = grads[\"dw\"]\n        db = grads[\"db\"]", "dw, db = grads[\"dw\"], grads[\"db\"]"),
                  ("w = w - learning_rate * dw\n        b = b - learning_rate * db",
                   "w, b = w - learning_rate * dw, b - learning_rate * db")]],
    "predict": [[("Y_prediction = (A > 0.5).astype(float)", "Y_prediction = np.where(A > 0.5, 1.0, 0.0)")],
                [("A = sigmoid(np.dot(w.T, X) + b)", "A = sigmoid(w.T @ X + b)"),
                 ("Y_prediction = (A > 0.5).astype(float)", "Y_prediction = np.round(A).astype(float)")]],
    "model": [[("w, b = initialize_with_zeros(X_train.shape[0])", "w, b = initialize_with_zeros(len(X_train))"),
               ("w = params[\"w\"]\n    b = params[\"b\"]", "w, b = params[\"w\"], params[\"b\"]")]],
}
RENAMES = {"A": "act", "cost": "J", "m": "n", "s": "out", "i": "step", "w": "weights", "dw": "grad_w"}


def _apply(source, edits):
    for old, new in edits:
        source = source.replace(old, new)
    return source


def _own_names(source, rng):
    """The student's own names and comments: a few locals renamed, comments rewritten."""
    for old, new in RENAMES.items():
        if rng.random() < 0.3:
            source = re.sub(rf"(?<![.\w\"']){re.escape(old)}\b(?![\"'])", f"{new}_{rng.randrange(9)}", source)
    return re.sub(r"# .*", lambda _: f"# note {rng.randrange(1000)}", source)


TOUCHES = ["tol = 1e-{r}", "limit = {r} * 0.001", "assert {r} > 0", "checks = [{r}, {r2}]", "scale = {r} / {r2}"]


def _touched(source, rng):
    """One or two lines of the student's own at the start of the answer (a check, a constant)."""
    lines = source.split("\n")
    at = next((n + 1 for n, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION"), None)
    if at is None or rng.random() < 0.3:
        return source
    indent = " " * (len(lines[at]) - len(lines[at].lstrip()))
    for _ in range(rng.choice((1, 2))):
        lines.insert(at, indent + rng.choice(TOUCHES).format(r=rng.randrange(1, 500), r2=rng.randrange(1, 500)))
    return "\n".join(lines)


def _disguised(source, rng):
    source = _own_names(source, rng)
    lines = source.split("\n")
    solution = [n for n, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION"]
    if solution:
        at = solution[0] + 1
        indent = len(lines[at]) - len(lines[at].lstrip())
        lines.insert(at, " " * indent + f"unused_{rng.randrange(99)} = {rng.randrange(9)}")
    return "\n".join(lines)


def make_class(students, seed=0):
    """({student: {function: source}}, stubs): answers generated from the reference answers."""
    rng = random.Random(seed)
    course = Course.at(REPO)
    notebook = course.notebooks(ASSIGNMENT)[0]
    reference = course.reference_answers(ASSIGNMENT, notebook.stem)
    release = nbformat.read(course.release_dir(ASSIGNMENT) / notebook.name, as_version=4)
    stubs = {function: function_source(release, function) or "" for function in reference}
    answers: dict[str, dict[str, str | None]] = {}
    for n in range(students):
        student = f"s{n:04d}"
        if n % 50 == 49:  # copies the previous student, disguised
            answers[student] = {f: _disguised(source or "", rng) for f, source in answers[f"s{n - 1:04d}"].items()}
            continue
        given: dict[str, str | None] = {}
        for function, source in reference.items():
            if rng.random() < 0.6:
                given[function] = _own_names(_touched(source, rng), rng)
            else:
                given[function] = _own_names(_touched(_apply(source, rng.choice(WAYS[function])), rng), rng)
        answers[student] = given
    return answers, stubs


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--students", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'students':>8} {'functions':>9} {'candidate pairs':>15} {'flagged pairs':>13} {'seconds':>8}"
          f"   (threshold {DEFAULT_THRESHOLD}; median of {args.repeat})")
    for students in args.students:
        answers, stubs = make_class(students)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = compare(answers, stubs, functions=list(stubs), assignment=ASSIGNMENT)
            times.append(time.perf_counter() - start)
        candidates = sum(found.candidates for found in result.functions)
        flagged = sum(len(found.pairs) for found in result.functions)
        seconds = statistics.median(times)
        print(f"{students:>8} {len(result.functions):>9} {candidates:>15} {flagged:>13} {seconds:>8.2f}")


if __name__ == "__main__":
    main()
