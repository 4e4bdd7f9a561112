"""The instructor notebook, executed for real in a Jupyter kernel, and its reference functions."""

import re
from datetime import datetime

import nbclient
import numpy as np
import pytest

from catkit.grading import reference
from catkit.grading.harness import cell_builtins
from catkit.grading.layout import grade_id
from conftest import FUNCTIONS, NOTEBOOK, REAL_DATA, REPO, SOURCE_NB, read, requires_real_data

# Published by the original exercise, printed by the source notebook on the real data.
PUBLISHED_COSTS = [0.693147, 0.584508, 0.466949, 0.376007, 0.331463, 0.303273, 0.279880, 0.260042,
                   0.242941, 0.228004, 0.214820, 0.203078, 0.192544, 0.183033, 0.174399, 0.166521,
                   0.159305, 0.152667, 0.146542, 0.140872]


def execute(nb, folder, data_dir, monkeypatch):
    """Run a notebook top to bottom in a fresh kernel; return it (raises on the first error)."""
    if data_dir is None:
        monkeypatch.delenv("CATVNONCAT_DATA", raising=False)
    else:
        monkeypatch.setenv("CATVNONCAT_DATA", str(data_dir))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # steady timings on a loaded 2-core machine
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


def printed(nb):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream" and o.name == "stdout")


def stderr_of_graded_cells(nb):
    return [(grade_id(c), o.text) for c in nb.cells if c.cell_type == "code" and grade_id(c)
            for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]


def training_costs(text):
    found = re.findall(r"^Cost after iteration (\d+): ([0-9.]+)$", text, flags=re.M)
    return [int(i) for i, _ in found[:20]], [float(c) for _, c in found[:20]]


def _table(nb, cell_id):
    """The markdown table of a cell: header, then rows, as lists of stripped cells."""
    source = next(c.source for c in nb.cells if c.get("id") == cell_id)
    rows = [[x.strip() for x in line.strip().strip("|").split("|")] for line in source.splitlines()
            if line.startswith("|") and not set(line) <= set("|-: ")]
    return rows[0], rows[1:]


def _seconds(nb, cell_id):
    timing = next(c for c in nb.cells if c.get("id") == cell_id).metadata["execution"]
    start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                  for k in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def assert_texts_match_the_run(nb, data_set):
    """What the markdown states for ``data_set`` (a column or row of its tables) is what the run printed."""
    text = printed(nb)
    header, rows = _table(nb, "train-expected")
    column = header.index(data_set)
    for row in rows:  # "Cost after iteration 100: 0.584508", "test accuracy: 70.0 %"
        assert f"{row[0]}: {row[column]}" in text, f"the expected output states {row[0]}: {row[column]}"
    header, rows = _table(nb, "baseline-md")
    stated = dict(zip(header, next(row for row in rows if row[0] == data_set), strict=True))
    always_cat = float(re.search(r'always answering "cat": +([0-9.]+) %', text).group(1))
    model_test = float(re.search(r"test accuracy of the model: +([0-9.]+) %", text).group(1))
    model_train = float(re.search(r"^train accuracy: ([0-9.]+) %", text, flags=re.M).group(1))
    lead = re.search(r'always answering "cat": ([+-][0-9.]+) points, i.e. ([+-]\d+) of the (\d+) test pictures', text)
    assert stated['always "cat"'] == f"{always_cat:g} %"
    assert stated["our model, test set"] == f"{model_test:g} %"
    assert stated["our model, training set"] == f"{model_train:.2f} %"
    assert stated["the model's lead over always \"cat\""] == \
        f"{float(lead.group(1)):+g} points: {int(lead.group(2))} of the {lead.group(3)} test pictures"
    # The times measured for the two cells (3 x 1500 iterations against 2000), as the notebook states them:
    # "it took 6 to 19 s, against 3 to 8 s for the training cell above". This run's ratio agrees.
    stated = re.search(r"it took (\d+) to (\d+) s, against (\d+) to (\d+) s for the training\s+cell above",
                       next(c.source for c in nb.cells if c.get("id") == "learning-rate-md"))
    low, high, train_low, train_high = (int(x) for x in stated.groups())
    assert f"it took {train_low} to {train_high} s with numpy's linear algebra" in \
        " ".join(next(c.source for c in nb.cells if c.get("id") == "train-md").split())
    ratio = _seconds(nb, "learning-rates") / _seconds(nb, "train")  # 4500 iterations against 2000
    assert low / train_high < ratio < high / train_low, \
        f"the learning-rate cell took {ratio:.1f} times as long as the training cell"
    assert re.search(r"^The three trainings took [0-9.]+ s\.$", text, flags=re.M)


@pytest.mark.slow  # a Jupyter kernel
@requires_real_data
def test_source_notebook_prints_the_published_results_on_the_real_data(monkeypatch):
    nb = execute(read(SOURCE_NB), SOURCE_NB.parent, REAL_DATA, monkeypatch)
    text = printed(nb)
    iterations, costs = training_costs(text)
    assert iterations == list(range(0, 2000, 100))
    assert np.allclose(costs, PUBLISHED_COSTS, atol=1e-6, rtol=0), costs
    assert "train accuracy: 99.04306220095694 %" in text
    assert "test accuracy: 70.0 %" in text
    assert stderr_of_graded_cells(nb) == []
    assert_texts_match_the_run(nb, "course's data set")


@pytest.mark.slow  # a Jupyter kernel
def test_source_notebook_runs_on_the_bundled_default_data(monkeypatch):
    nb = execute(read(SOURCE_NB), SOURCE_NB.parent, None, monkeypatch)
    text = printed(nb)
    iterations, costs = training_costs(text)
    assert iterations == list(range(0, 2000, 100)) and costs[0] == 0.693147
    # The figures data/README.md and README.md state for the default data set.
    assert "train accuracy: 99.52153110047847 %" in text
    assert "test accuracy: 72.0 %" in text
    assert stderr_of_graded_cells(nb) == []
    assert_texts_match_the_run(nb, "bundled data set")


@pytest.mark.slow  # a Jupyter kernel
def test_release_runs_without_error_up_to_the_first_stub(monkeypatch):
    release = REPO / "release" / "logistic_regression"
    nb = read(release / NOTEBOOK)
    with pytest.raises(nbclient.exceptions.CellExecutionError) as failure:
        execute(nb, release, None, monkeypatch)
    assert "NotImplementedError" in str(failure.value)
    failed = [c for c in nb.cells if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.get("outputs", []))]
    assert [grade_id(c) for c in failed] == ["exercise1_solution"]
    before = nb.cells[:nb.cells.index(failed[0])]
    assert all(c.execution_count for c in before if c.cell_type == "code"), "a cell before the stub did not run"


def _reference():
    layout, sources = reference.from_notebook(SOURCE_NB)
    return reference.functions(sources, layout.preamble)


def test_reference_passes_every_visible_check_in_process():
    functions = _reference()
    modules = reference.from_notebook(SOURCE_NB)[0].modules
    checks = {grade_id(c): c.source for c in read(SOURCE_NB).cells if (grade_id(c) or "").endswith("_checks")}
    assert sorted(checks) == sorted(f"{f}_checks" for f in FUNCTIONS)
    for cell_id, source in checks.items():
        exec(compile(source, cell_id, "exec"), {"np": np, **functions, "__builtins__": cell_builtins(modules)})


def test_reference_reproduces_the_published_values_of_the_original_exercise():
    ref = _reference()
    assert np.allclose(ref["sigmoid"](np.array([0, 2])), [0.5, 0.88079708])
    assert np.isclose(ref["sigmoid"](1), 0.7310585)
    w, b = ref["initialize_with_zeros"](2)
    assert w.shape == (2, 1) and not w.any() and type(b) is float and b == 0.0
    X = np.array([[1., 2., -1., 0], [3., 4., -3.2, 1], [3., 4., -3.2, -3.5]])
    grads, cost = ref["propagate"](np.array([[1.], [2.], [-1]]), 2.5, X, np.array([[1, 1, 0, 0]]))
    assert np.allclose(grads["dw"], [[-0.03909333], [0.12501464], [-0.99960809]])
    assert np.isclose(grads["db"], 0.288106326429569) and np.isclose(cost, 2.0424567983978403)
    w = np.array([[1.], [2.]])
    params, grads, costs = ref["optimize"](w, 2., np.array([[1., 2., -1.], [3., 4., -3.2]]), np.array([[1, 0, 1]]),
                                           num_iterations=101, learning_rate=0.1)
    assert np.allclose(costs, [5.80154532, 0.31057104]) and np.array_equal(w, [[1.], [2.]])
    assert np.allclose(params["w"], [[-0.70916784], [-0.42390859]]) and np.isclose(params["b"], 2.26891346)
    assert np.allclose(grads["dw"], [[0.06188603], [-0.01407361]]) and np.isclose(grads["db"], -0.04709353)
    prediction = ref["predict"](np.array([[0.3], [0.5], [-0.2]]), -0.33333,
                                np.array([[1., -0.3, 1.5], [2, 0, 1], [0, -1.5, 2]]))
    assert np.array_equal(prediction, [[1., 0., 1.]])
    np.random.seed(0)
    X, Y = np.random.randn(4, 7), np.array([[1, 0, 0, 1, 0, 0, 1]])
    x_test, y_test = np.random.randn(4, 3), np.array([[0, 1, 0]])
    d = ref["model"](X, Y, x_test, y_test, num_iterations=50, learning_rate=0.01)
    assert np.allclose(d["costs"], [0.69314718])
    assert np.allclose(d["w"], [[0.08639757], [-0.08231268], [-0.11798927], [0.12866053]])
    assert np.isclose(d["b"], -0.03983236094816321)
    assert np.array_equal(d["Y_prediction_test"], [[1, 1, 0]])
    assert np.array_equal(d["Y_prediction_train"], [[1, 1, 0, 1, 0, 0, 1]])
