"""Similar answers, per function (``catkit similarity``): copies found through disguises, independent
work, the template and common answers never flagged, and a page that shows students' code escaped.

The fast tests work on plain data ({student: {function: source}}): the reference answers of the
course's notebooks, disguised by a copier (identifiers renamed, independent statements swapped,
comments, docstrings and blank lines changed, a dead line added, a print reworded), in a class of
students who wrote the same functions their own way. The slow ones run the whole command in a copy
of the course, and open the page in headless Chromium, offline.
"""

import csv
import re

import nbformat
import pytest

from catkit.course import Course
from catkit.errors import CatkitError
from catkit.grading.layout import function_source
from catkit.similarity import DEFAULT_THRESHOLD, compare, report_section, write
from catkit.similarity.command import add_parser, run
from catkit.similarity.compare import COMMON_MASS, candidate_weight, weight
from catkit.similarity.normalise import answer
from catkit.similarity.page import render
from conftest import ASSIGNMENT, COURSE, LOGISTIC, NOTEBOOK, make_course, solved, submit
from test_feedback_html import Markup

BASICS = "python_basics_numpy"


def reference(assignment, function):
    notebook = COURSE.notebooks(assignment)[0]
    return COURSE.reference_answers(assignment, notebook.stem)[function]


def stub(assignment, function):
    notebook = COURSE.notebooks(assignment)[0]
    return function_source(nbformat.read(COURSE.release_dir(assignment) / notebook.name, as_version=4), function)


def solution(source, body):
    """``source`` (an instructor's answer cell) with its solution region replaced by ``body``."""
    head, rest = source.split("### BEGIN SOLUTION\n")
    return head + "### BEGIN SOLUTION\n" + body + "    ### END SOLUTION" + rest.split("### END SOLUTION", 1)[1]


# --- the disguises a copier uses ------------------------------------------------------------------

def renamed(source, names):
    for old, new in names.items():
        source = re.sub(rf"(?<![.\w]){re.escape(old)}\b", new, source)
    return source


def swapped(source, first, second):
    """Two independent statements (whole lines, given by their stripped text) in the other order."""
    lines = source.split("\n")
    i = next(n for n, line in enumerate(lines) if line.strip() == first)
    j = next(n for n, line in enumerate(lines) if line.strip() == second)
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def recommented(source):
    """Comments and blank lines gone, others added, the docstring rewritten."""
    lines = []
    for line in source.split("\n"):
        code = line.split("#", 1)[0].rstrip() if "#" in line and '"' not in line.split("#", 1)[0] else line
        if code.strip():
            lines.append(code)
            if code.strip().endswith(":") is False and len(lines) % 3 == 0:
                lines += ["", f"{' ' * (len(code) - len(code.lstrip()))}# my own working, step {len(lines)}"]
    source = "\n".join(lines)
    return re.sub(r'("""|\'\'\')(.*?)\1', '"""My docstring, in my own words."""', source, count=1, flags=re.S)


def with_dead_line(source, after, line):
    lines = source.split("\n")
    i = next(n for n, text in enumerate(lines) if text.strip() == after)
    lines.insert(i + 1, " " * (len(lines[i]) - len(lines[i].lstrip())) + line)
    return "\n".join(lines)


def reworded(source):
    return source.replace('"Cost after iteration %i: %f" % (i, cost)', 'f"iteration {i}, the cost is {cost}"')


# Per function: the copier's renames, two independent statements to swap, where to add a dead line.
DISGUISES = {
    (ASSIGNMENT, "propagate"): ({"A": "activation", "cost": "J", "m": "n_examples", "dw": "grad_w"},
                                ("dw = 1 / m * np.dot(X, (A - Y).T)", "db = 1 / m * np.sum(A - Y)"),
                                "m = X.shape[1]", "scale = 1"),
    (ASSIGNMENT, "optimize"): ({"i": "step", "grads": "g", "cost": "c", "costs": "history"},
                               ('dw = grads["dw"]', 'db = grads["db"]'),
                               "grads, cost = propagate(w, b, X, Y)", "n_features = X.shape[0]"),
    (ASSIGNMENT, "model"): ({"params": "learned", "costs": "curve", "Y_prediction_test": "test_pred"},
                            ("Y_prediction_test = predict(w, b, X_test)",
                             "Y_prediction_train = predict(w, b, X_train)"),
                            'b = params["b"]', "n_train = X_train.shape[1]"),
    (BASICS, "softmax"): ({"x_exp": "e", "x_sum": "total", "s": "result"},
                          ("x_exp = np.exp(x)", "x_exp = np.exp(x)"),  # (nothing independent to swap)
                          "x_exp = np.exp(x)", "rows = x.shape[0]"),
    (BASICS, "normalize_rows"): ({"x_norm": "lengths", "x_normalized": "unit_rows"},
                                 ("x_norm = np.linalg.norm(x, axis=1, keepdims=True)",) * 2,
                                 "x_norm = np.linalg.norm(x, axis=1, keepdims=True)", "checked = True"),
}

# Students who wrote the function their own way: different choices for most of its parts.
OWN_WAYS = {
    (ASSIGNMENT, "propagate"): [
        """    m = X.shape[1]
    A = sigmoid(w.T @ X + b)
    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dz = A - Y
    dw = X @ dz.T / m
    db = np.mean(dz)
""", """    m = Y.shape[1]
    Z = np.einsum('ij,ik->jk', w, X) + b
    A = 1 / (1 + np.exp(-Z))
    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    dw = np.einsum('ik,jk->ij', X, A - Y) / m
    db = np.sum(A - Y) / m
""", """    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    losses = Y * np.log(A) + (1 - Y) * np.log(1 - A)
    cost = -np.sum(losses) / m
    error = A - Y
    dw = np.dot(X, error.T) / m
    db = np.sum(error) / m
""", """    m = X.shape[1]
    A = sigmoid(np.matmul(w.T, X) + b)
    cost = -(np.dot(Y, np.log(A).T) + np.dot(1 - Y, np.log(1 - A).T)) / m
    dw = np.matmul(X, (A - Y).T) / m
    db = (A - Y).sum() / m
"""],
    (ASSIGNMENT, "optimize"): [
        """    i = 0
    while i < num_iterations:
        grads, cost = propagate(w, b, X, Y)
        dw, db = grads["dw"], grads["db"]
        w, b = w - learning_rate * dw, b - learning_rate * db
        if not i % 100:
            costs += [cost]
            if print_cost:
                print(f"Cost after iteration {i}: {cost:f}")
        i += 1
""", """    for it in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        dw = grads.get("dw")
        db = grads.get("db")
        w = np.subtract(w, np.multiply(learning_rate, dw))
        b = b - db * learning_rate
        record = it % 100 == 0
        if record:
            costs.append(float(cost))
        if record and print_cost:
            print("Cost after iteration %i: %f" % (it, cost))
""", """    it = 0
    for it in range(0, num_iterations, 1):
        found = propagate(w=w, b=b, X=X, Y=Y)
        grads, cost = found[0], found[1]
        (dw, db) = (grads["dw"], grads["db"])
        w = w + (-learning_rate) * dw
        b = b + (-learning_rate) * db
        if it in range(0, num_iterations, 100):
            costs.insert(len(costs), cost)
        if print_cost and it in range(0, num_iterations, 100):
            print("Cost after iteration {}: {:f}".format(it, cost))
"""],
    (ASSIGNMENT, "model"): [
        """    n_x = X_train.shape[0]
    w, b = initialize_with_zeros(n_x)
    found = optimize(w, b, X_train, Y_train, num_iterations=num_iterations, learning_rate=learning_rate,
                     print_cost=print_cost)
    params, grads, costs = found
    w, b = params["w"], params["b"]
    Y_prediction_train, Y_prediction_test = predict(w, b, X_train), predict(w, b, X_test)
""", """    zeros = initialize_with_zeros(len(X_train))
    params, grads, costs = optimize(*zeros, X_train, Y_train, num_iterations, learning_rate, print_cost)
    w = params.get("w")
    b = params.get("b")
    Y_prediction_test, Y_prediction_train = (predict(w, b, X) for X in (X_test, X_train))
"""],
    (BASICS, "softmax"): [
        "    s = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)\n",
        "    t = np.exp(x)\n    s = t / np.einsum('ij->i', t)[:, np.newaxis]\n",
        "    e = np.exp(x)\n    s = e / e.sum(axis=1).reshape(-1, 1)\n",
        "    s = np.exp(x) / np.sum(np.exp(x), axis=1)[:, None]\n",
    ],
    (BASICS, "normalize_rows"): [
        "    x_normalized = x / np.sqrt(np.sum(x ** 2, axis=1, keepdims=True))\n",
        "    norms = np.sqrt((x * x).sum(axis=1)).reshape(-1, 1)\n    x_normalized = x / norms\n",
        "    x_normalized = np.divide(x, np.linalg.norm(x, ord=2, axis=1)[:, np.newaxis])\n",
        "    x_normalized = x / np.sqrt(np.einsum('ij,ij->i', x, x))[:, None]\n",
    ],
}


def disguised(key, *, rename=True, swap=True, comments=True, dead=True, reword=True):
    assignment, function = key
    names, (first, second), after, line = DISGUISES[key]
    source = reference(assignment, function)
    if swap:
        source = swapped(source, first, second)
    if dead:
        source = with_dead_line(source, after, line)
    if comments:
        source = recommented(source)
    if reword:
        source = reworded(source)
    if rename:
        source = renamed(source, names)
    return source


def a_class(key, copy):
    """alice wrote the reference answer, bob copied it (``copy``), the others their own way."""
    assignment, function = key
    original = reference(assignment, function)
    given = {"alice": original, "bob": copy}
    given.update({f"own{n}": solution(original, body) for n, body in enumerate(OWN_WAYS[key])})
    return {student: {function: source} for student, source in given.items()}


def flagged(result):
    return {(pair.function, pair.student_a, pair.student_b): pair.similarity
            for found in result.functions for pair in found.pairs}


def scores(key, answers):
    """Every pair's similarity, however low (threshold near 0)."""
    assignment, function = key
    return flagged(compare(answers, {function: stub(assignment, function)}, threshold=0.001))


DISGUISE_KINDS = ["rename", "swap", "comments", "dead", "reword"]


@pytest.mark.parametrize("key", list(DISGUISES), ids=lambda key: key[1])
@pytest.mark.parametrize("kind", [*DISGUISE_KINDS, "all"])
def test_a_disguised_copy_is_found_and_no_one_else(key, kind):
    options = {name: kind in (name, "all") for name in DISGUISE_KINDS}
    copy = disguised(key, **options)
    assignment, function = key
    result = compare(a_class(key, copy), {function: stub(assignment, function)})
    found = flagged(result)
    assert list(found) == [(function, "alice", "bob")], (found, scores(key, a_class(key, copy)))
    assert found[function, "alice", "bob"] >= 0.6  # (0.63 for optimize, a generic answer in a class of 5)


@pytest.mark.parametrize("key", list(OWN_WAYS), ids=lambda key: key[1])
def test_independent_answers_stay_well_below_the_threshold(key):
    found = scores(key, a_class(key, disguised(key)))
    own = {pair: score for pair, score in found.items() if pair[1:] != ("alice", "bob")}
    assert all(score < DEFAULT_THRESHOLD * 0.7 for score in own.values()), own


def test_two_ways_sharing_a_line_are_not_flagged():
    """np.mean vs np.sum(...) / m, vectorised vs einsum, a while loop vs for: one line in common."""
    key = (ASSIGNMENT, "propagate")
    original = reference(*key)
    shared = "    dz = A - Y\n"
    mean = solution(original, "    m = X.shape[1]\n    A = sigmoid(np.dot(w.T, X) + b)\n" + shared +
                    "    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))\n"
                    "    dw = np.dot(X, dz.T) / m\n    db = np.mean(dz)\n")
    einsum = solution(original, "    m = Y.shape[-1]\n    A = 1 / (1 + np.exp(-(np.einsum('ij,ik->jk', w, X) + b)))\n"
                      + shared +
                      "    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m\n"
                      "    dw = np.einsum('ik,jk->ij', X, dz) / m\n    db = np.sum(dz) / m\n")
    found = scores(key, {"ann": {"propagate": mean}, "ben": {"propagate": einsum}})
    assert found.get(("propagate", "ann", "ben"), 0) < 0.35, found
    loops = ["    i = 0\n    while i < num_iterations:\n", "    for i in range(num_iterations):\n"]
    body = ("        grads, cost = propagate(w, b, X, Y)\n        dw = grads['dw']\n        db = grads['db']\n"
            "        w = w - learning_rate * dw\n        b = b - learning_rate * db\n")
    optimize = reference(ASSIGNMENT, "optimize")
    loop_while = solution(optimize, loops[0] + body + "        if i % 100 == 0:\n            costs.append(cost)\n"
                          "        i += 1\n")
    loop_for = solution(optimize, loops[1] + "        grads, cost = propagate(w, b, X, Y)\n"
                        "        dw, db = grads.values()\n"
                        "        w, b = w - dw * learning_rate, b - db * learning_rate\n"
                        "        if not i % 100:\n            costs += [cost]\n")
    found = scores((ASSIGNMENT, "optimize"), {"ann": {"optimize": loop_while}, "ben": {"optimize": loop_for}})
    assert found.get(("optimize", "ann", "ben"), 0) < 0.35, found


@pytest.mark.parametrize("assignment", [ASSIGNMENT, BASICS])
def test_the_template_and_untouched_functions_are_skipped(assignment):
    functions = COURSE.layout(assignment).functions
    stubs = {function: stub(assignment, function) for function in functions}
    answers = {f"s{n}": dict(stubs) for n in range(4)}  # a class that touched nothing
    answers["s0"][functions[0]] = None  # (and one without that answer cell)
    result = compare(answers, stubs, functions=functions)
    assert flagged(result) == {}
    for found in result.functions:
        assert found.answers == {} and found.candidates == 0
        assert set(found.skipped) == set(answers)
    assert result.functions[0].skipped["s0"] == "no answer cell for this function"
    assert result.functions[1].skipped["s0"].startswith("untouched")
    for function in functions:
        assert answer(stubs[function], stubs[function]).empty, function


def test_template_code_is_never_evidence():
    """Two students who both kept the stub's lines and wrote their own answers differ; the stub's
    lines (the def line, docstring, ``w = copy.deepcopy(w)``, the dictionaries after the answer) are not
    counted at all."""
    key = (ASSIGNMENT, "optimize")
    optimize = reference(*key)
    first, second = (solution(optimize, body) for body in OWN_WAYS[key][:2])
    units = answer(first, stub(*key)).units
    assert all("deepcopy" not in unit.key and "def" not in unit.tokens for unit in units)
    assert not any(unit.first <= 20 for unit in units)  # (the def line and docstring)
    found = scores(key, {"ann": {"optimize": first}, "ben": {"optimize": second}})
    assert found.get(("optimize", "ann", "ben"), 0) < 0.35


@pytest.mark.parametrize("size", [5, 10, 30, 200])
def test_a_common_answer_flags_no_one(size):
    """80 % of the class writes the canonical sigmoid (and the same propagate); the others their own."""
    functions = ("sigmoid", "propagate")
    canonical = {function: reference(ASSIGNMENT, function) for function in functions}
    sigmoid = canonical["sigmoid"]
    others = ["    s = 1.0 / (1.0 + np.exp(-1.0 * z))\n", "    s = np.exp(z) / (1 + np.exp(z))\n",
              "    s = 0.5 * (1 + np.tanh(z / 2))\n", "    e = np.exp(-z)\n    s = 1 / (e + 1)\n"]
    answers = {}
    for n in range(size):
        if n < size * 0.8:
            answers[f"s{n:03d}"] = {function: disguised((ASSIGNMENT, function), dead=False, swap=False)
                                    if n % 2 and function == "propagate" else canonical[function]
                                    for function in functions}
        else:
            answers[f"s{n:03d}"] = {"sigmoid": solution(sigmoid, others[n % len(others)]),
                                    "propagate": solution(canonical["propagate"], OWN_WAYS[ASSIGNMENT, "propagate"][
                                        n % 4])}
    stubs = {function: stub(ASSIGNMENT, function) for function in functions}
    canonical_students = {f"s{n:03d}" for n in range(size) if n < size * 0.8}
    found = flagged(compare(answers, stubs))
    assert not [pair for pair in found if canonical_students & set(pair[1:])], found
    if size <= 10:  # (larger classes have two students who wrote the same uncommon way: rightly flagged)
        assert found == {}


def test_weights_and_candidates():
    assert weight(2, 1000) == weight(2, 2) == 1.0
    assert weight(8, 10) == 0.0 and weight(150, 1000) == 0.0  # over half the class, or 10 students / 5 %
    assert 0 < weight(4, 30) < weight(3, 30) < 1
    # A pair whose shared fingerprints all weigh less than the candidate weight is below the threshold.
    w = candidate_weight(DEFAULT_THRESHOLD)
    assert abs(w / (COMMON_MASS + (1 - COMMON_MASS) * w) - DEFAULT_THRESHOLD) < 1e-9


def test_similarity_is_symmetric():
    key = (ASSIGNMENT, "propagate")
    answers = a_class(key, disguised(key))
    reverse = {f"z{n}-{student}": given for n, (student, given) in enumerate(reversed(answers.items()))}
    forward = scores(key, answers)
    backward = {(function, a.split("-", 1)[1], b.split("-", 1)[1]): score
                for (function, a, b), score in scores(key, reverse).items()}
    assert {(f, *sorted((a, b))): s for (f, a, b), s in backward.items()} == pytest.approx(forward)


def test_code_that_does_not_parse_is_still_compared():
    key = (ASSIGNMENT, "propagate")
    broken = reference(*key).replace("db = 1 / m * np.sum(A - Y)", "db = 1 / m * np.sum(A - Y")
    copy = renamed(broken, {"A": "act"}).replace("# forward", "# the forward pass")
    found = flagged(compare(a_class(key, copy) | {"alice": {"propagate": broken}}, {"propagate": stub(*key)}))
    assert list(found) == [("propagate", "alice", "bob")]


def test_the_threshold_is_checked():
    with pytest.raises(CatkitError, match="between 0 and 1"):
        compare({}, threshold=1.5)
    with pytest.raises(CatkitError, match="between 0 and 1"):
        compare({}, threshold=0)


PAYLOAD_ID = "<script>alert(1)</script>"
PAYLOAD_CODE = '<img src=x onerror="alert(2)">'


def test_the_page_escapes_students_ids_and_code():
    key = (ASSIGNMENT, "propagate")
    copy = disguised(key).replace("scale = 1", f"scale = '{PAYLOAD_CODE}'  # </pre>{PAYLOAD_ID}")
    answers = a_class(key, copy)
    answers[PAYLOAD_ID] = answers.pop("alice")
    result = compare(answers, {"propagate": stub(*key)}, assignment="<b>lr</b>")
    assert len(flagged(result)) == 1
    page = render(result)
    assert "<script" not in page and "<img" not in page and "<b>lr" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=" in page
    markup = Markup(page)
    assert "script" not in markup.tags and "img" not in markup.tags
    assert [a for a in markup.attributes if a[1].startswith("on")] == []
    assert {value for tag, name, value in markup.attributes if name == "id"} >= {"function-propagate-" + page.split(
        'id="function-propagate-')[1].split('"')[0]}
    assert all(re.fullmatch(r"[\w-]+", value) for tag, name, value in markup.attributes if name in ("id", "href")
               and not value.startswith("#")) and all(re.fullmatch(r"#[\w-]+", value) for tag, name, value
                                                      in markup.attributes if name == "href")
    assert page.count('<mark class="match line">') >= 6  # the matching lines, on both sides


def test_the_command_line_parser():
    import argparse
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["similarity", "lr", "--threshold", "0.7"])
    assert (args.command, args.assignment, args.threshold) == ("similarity", "lr", 0.7)
    assert parser.parse_args(["similarity", "lr"]).threshold == DEFAULT_THRESHOLD
    with pytest.raises(CatkitError, match="between 0 and 1"):
        run(COURSE, argparse.Namespace(assignment=ASSIGNMENT, threshold=1.0))
    with pytest.raises(CatkitError, match="unknown assignment 'nope'"):
        run(COURSE, argparse.Namespace(assignment="nope", threshold=0.5))


def test_the_class_report_section_says_how_to_make_the_report(tmp_path):
    class Root:  # (the section only needs the course root)
        root = tmp_path
    section = report_section(Root(), "<x>")  # type: ignore[arg-type]
    assert "catkit similarity &lt;x&gt;" in section and "<a " not in section
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "<x>_similarity.html").write_text("page")
    section = report_section(Root(), "<x>")  # type: ignore[arg-type]
    assert 'href="%3Cx%3E_similarity.html"' in section and "&lt;x&gt;_similarity.html</a>" in section


# --- the whole command, in a copy of the course ---------------------------------------------------

def _edits(function, source):
    return {f"{function}_solution": [(None, source)]}


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("similarity")
    root = make_course(tmp / "course")
    key = (ASSIGNMENT, "propagate")
    own = OWN_WAYS[key]
    optimize = (ASSIGNMENT, "optimize")
    students = {
        "alice": {},  # the reference answers
        "bob": {**_edits("propagate", disguised(key)), **_edits("optimize", disguised(optimize))},
        "carol": {**_edits("propagate", solution(reference(*key), own[0])),
                  **_edits("optimize", solution(reference(*optimize), OWN_WAYS[optimize][0]))},
        "dave": {**_edits("propagate", solution(reference(*key), own[1])),
                 **_edits("optimize", solution(reference(*optimize), OWN_WAYS[optimize][1]))},
        "erin": {**_edits("propagate", solution(reference(*key), own[2])),
                 **_edits("optimize", solution(reference(*optimize), OWN_WAYS[optimize][2]))},
        "frank": _edits("propagate", solution(reference(*key), own[3])),
    }
    for student, edits in students.items():  # (frank left optimize untouched)
        submit(root, student, solved(root, edits, keep_stubs=["optimize_solution"] if student == "frank" else ()))
    submit(root, "gina", solved(root, keep_stubs=[f"{f}_solution" for f in LOGISTIC.functions]))  # untouched
    course = Course.at(root)
    broken = course.submitted_dir("hugo", ASSIGNMENT)
    broken.mkdir(parents=True)
    (broken / NOTEBOOK).write_text("{ not a notebook")
    course.submitted_dir("ivan", ASSIGNMENT).mkdir(parents=True)  # a folder without a notebook
    csv_path, page_path, result = write(course, ASSIGNMENT)
    return root, course, csv_path, page_path, result


@pytest.mark.slow
def test_the_command_writes_the_csv_and_the_page(class_run, capsys):
    root, course, csv_path, page_path, result = class_run
    assert csv_path == root / "exports" / f"similarity_{ASSIGNMENT}.csv"
    assert page_path == root / "reports" / f"{ASSIGNMENT}_similarity.html"
    with open(csv_path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["function", "student_a", "student_b", "similarity"]
    flagged_pairs = {(function, a, b) for function, a, b, _ in rows[1:]}
    assert flagged_pairs == {("propagate", "alice", "bob"), ("optimize", "alice", "bob")}, rows
    assert all(0.6 <= float(score) <= 1 for *_, score in rows[1:])
    assert result.unreadable.keys() == {"hugo"} and result.no_notebook == ["ivan"]
    by_function = {found.function: found for found in result.functions}
    assert by_function["propagate"].skipped["gina"].startswith("untouched")
    assert by_function["optimize"].skipped["frank"].startswith("untouched")
    assert by_function["propagate"].skipped["ivan"] == "no submitted notebook"
    assert "gina" not in by_function["propagate"].answers
    page = page_path.read_text()
    assert "1 unreadable notebook(s)" in page and "hugo" in page
    assert "<script" not in page and "<link" not in page and "url(" not in page and "@import" not in page
    run(course, type("Args", (), {"assignment": ASSIGNMENT, "threshold": 0.5})())
    out = capsys.readouterr().out
    assert str(csv_path) in out and str(page_path) in out and "propagate: 6 answers compared" in out
    section = report_section(course, ASSIGNMENT)
    assert f'href="{ASSIGNMENT}_similarity.html"' in section and "2 pair(s) of answers flagged" in section


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_renders_offline_with_highlights(class_run, tmp_path):
    from test_feedback_html import CHROMIUM, chromium
    if CHROMIUM is None:
        pytest.skip("needs headless Chromium to render the page")
    _, _, _, page_path, _ = class_run
    screenshot = tmp_path / "similarity.png"
    dom = chromium(page_path.as_uri(), tmp_path, "--window-size=1400,1800", f"--screenshot={screenshot}")
    assert "Similar answers" in dom and "propagate" in dom
    assert dom.count('<mark class="match line">') >= 12  # (propagate's and optimize's pairs, both sides)
    assert not re.search(r"(src|href)=[\"']?(?!data:|#)[a-z]+:", dom)
    assert screenshot.stat().st_size > 20_000
