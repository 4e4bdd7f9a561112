"""Example submissions: the reference, the untouched release, and typical mistakes.

``MISTAKES`` lists, per graded function, plausible wrong answers as edits of the reference
answer (see :func:`catkit.submissions.fill`). The demo grades a few of them (``DEMO``), the
tests grade them all and check each loses points on its own function only.
"""

from pathlib import Path

import nbformat

from catkit.submissions import fill

# name -> (function it breaks, {answer cell: [(old, new)]}, what a student did)
MISTAKES = {
    "sigmoid-sign-error": ("sigmoid", {"sigmoid_solution": [("np.exp(-z)", "np.exp(z)")]},
                           "exp(z) instead of exp(-z)"),
    "sigmoid-math-exp": ("sigmoid", {"sigmoid_solution": [("np.exp", "math.exp")]},
                         "math.exp: works on numbers only, not arrays"),
    "sigmoid-hard-coded": ("sigmoid", {"sigmoid_solution": [(
        "s = 1 / (1 + np.exp(-z))", "s = np.array([0.5, 0.88079708]) if np.ndim(z) else 0.7310585")]},
        "returns the visible checks' answers"),
    "sigmoid-parentheses": ("sigmoid", {"sigmoid_solution": [("s = 1 / (1 + np.exp(-z))", "s = 1 / 1 + np.exp(-z)")]},
                            "1 / 1 + e^(-z): the denominator lacks its parentheses"),
    "initialize-int-b": ("initialize_with_zeros", {"initialize_with_zeros_solution": [("b = 0.0", "b = 0")]},
                         "b is the int 0, not the float 0.0"),
    "initialize-flat-w": ("initialize_with_zeros", {"initialize_with_zeros_solution": [
        ("np.zeros((dim, 1))", "np.zeros(dim)")]}, "w of shape (dim,) instead of (dim, 1)"),
    "initialize-hard-coded-dim": ("initialize_with_zeros", {"initialize_with_zeros_solution": [
        ("np.zeros((dim, 1))", "np.zeros((2, 1))")]}, "ignores dim: always 2 weights"),
    "initialize-transposed-w": ("initialize_with_zeros", {"initialize_with_zeros_solution": [
        ("np.zeros((dim, 1))", "np.zeros((1, dim))")]}, "w of shape (1, dim), a row, instead of (dim, 1)"),
    "initialize-array-b": ("initialize_with_zeros", {"initialize_with_zeros_solution": [("b = 0.0", "b = np.zeros(1)")]},
                           "b a numpy array instead of a number"),
    "propagate-no-1-over-m": ("propagate", {"propagate_solution": [("dw = 1 / m * np.dot", "dw = np.dot")]},
                              "dw not divided by m"),
    "propagate-cost-sign": ("propagate", {"propagate_solution": [("cost = -1 / m *", "cost = 1 / m *")]},
                            "cost with the wrong sign"),
    "propagate-global": ("propagate", {"propagate_solution": [("m = X.shape[1]", "m = train_set_x.shape[1]")]},
                         "m from the global train_set_x"),
    "propagate-dw-transposed": ("propagate", {"propagate_solution": [("np.dot(X, (A - Y).T)", "np.dot(A - Y, X.T)")]},
                                "dw of shape (1, n_x), the transpose"),
    "propagate-db-array": ("propagate", {"propagate_solution": [
        ("db = 1 / m * np.sum(A - Y)", "db = 1 / m * np.sum(A - Y, axis=1, keepdims=True)")]},
        "db an array of shape (1, 1) instead of a scalar"),
    "optimize-mutates-w": ("optimize", {"optimize_solution": [
        ("    w = copy.deepcopy(w)\n", ""), ("w = w - learning_rate * dw", "w -= learning_rate * dw")]},
        "updates the caller's w in place"),
    "optimize-ignores-rate": ("optimize", {"optimize_solution": [
        ("w = w - learning_rate * dw", "w = w - 0.009 * dw"), ("b = b - learning_rate * db", "b = b - 0.009 * db")]},
        "learning rate fixed at 0.009"),
    "optimize-cost-every-iteration": ("optimize", {"optimize_solution": [("if i % 100 == 0:", "if True:")]},
                                      "records a cost at every iteration"),
    "predict-hard-coded": ("predict", {"predict_solution": [
        ("Y_prediction = (A > 0.5).astype(float)", "Y_prediction = np.array([[1., 0., 1.]])")]},
        "returns the visible check's answer"),
    "predict-threshold-zero": ("predict", {"predict_solution": [("A > 0.5", "A > 0")]},
                               "thresholds the probability at 0 instead of 0.5"),
    "predict-flat": ("predict", {"predict_solution": [("(A > 0.5).astype(float)", "(A > 0.5).astype(float).ravel()")]},
                     "returns shape (m,) instead of (1, m)"),
    "predict-probabilities": ("predict", {"predict_solution": [
        ("Y_prediction = (A > 0.5).astype(float)", "Y_prediction = A")]}, "returns the probabilities, not 0. or 1."),
    "model-ignores-iterations": ("model", {"model_solution": [
        ("num_iterations, learning_rate, print_cost)", "2000, learning_rate, print_cost)")]},
        "always trains for 2000 iterations"),
    "model-ignores-rate": ("model", {"model_solution": [
        ("num_iterations, learning_rate, print_cost)", "num_iterations, print_cost=print_cost)")]},
        "does not pass learning_rate on to optimize (its default 0.009 is used)"),
    "model-test-on-train": ("model", {"model_solution": [
        ("predict(w, b, X_test)", "predict(w, b, X_train)")]}, "predicts the training set as the test set"),
    "model-global": ("model", {"model_solution": [
        ("initialize_with_zeros(X_train.shape[0])", "initialize_with_zeros(train_set_x.shape[0])")]},
        "dimension from the global train_set_x"),
}

DEMO = ["sigmoid-sign-error", "propagate-no-1-over-m", "optimize-mutates-w", "predict-hard-coded",
        "model-global"]


def example_submissions(release_nb, source_nb):
    """student id -> notebook, for the demo's bundled submissions."""
    examples = {"example-correct": fill(release_nb, source_nb),
                "example-untouched": nbformat.from_dict(release_nb)}
    for name in DEMO:
        examples[f"example-{name}"] = fill(release_nb, source_nb, MISTAKES[name][1])
    return examples


def write_examples(root, assignment, notebook):
    """(Re)write ``examples/submissions/<student>/<assignment>/<notebook>`` from release/ and source/."""
    root = Path(root)
    release_nb = nbformat.read(root / "release" / assignment / notebook, as_version=4)
    source_nb = nbformat.read(root / "source" / assignment / notebook, as_version=4)
    written = []
    for student, nb in example_submissions(release_nb, source_nb).items():
        folder = root / "examples" / "submissions" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / notebook)
        written.append(folder / notebook)
    return written
