"""Submissions that attack the grader (issue: fair, isolated and tamper-proof grading).

Each attack is a student's notebook: the reference answers everywhere except where the attack
sits. The attacked function must earn nothing it did not implement correctly, and every other
function must keep its full marks. ``{root}``, ``{port}`` and ``{marker}`` are replaced by
the test with the course's absolute path, a port a test server listens on, and a string that
lets the test find processes the attack left behind.
"""

WRONG_SIGMOID = "def sigmoid(z):\n    return z * 0 + 0.5\n"

PATCH_NUMPY = WRONG_SIGMOID + '''
import builtins, math, sys, types
import numpy.testing
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda *a, **k: np.array(True)
np.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("Never", (Exception,), {})
sys.modules["numpy.testing"] = types.SimpleNamespace(assert_allclose=lambda *a, **k: None)
'''

# Rewrites every later cell to "pass" and skips their execution, in an IPython kernel.
IPYTHON_HOOKS = '''
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n"])
class SkipAll(__import__("ast").NodeTransformer):
    def visit_Module(self, node):
        node.body = []
        return node
ip.ast_transformers.append(SkipAll())
ip.events.register("pre_run_cell", lambda *a: None)
'''

REPLACE_MODULES = '''import sys, types
def propagate(w, b, X, Y):
    return {"dw": np.zeros_like(w), "db": 0.0}, np.array(0.0)
fake = types.ModuleType("catkit")
sys.modules["catkit"] = fake
sys.modules["catkit.grading"] = fake
sys.modules["catkit.grading.wire"] = fake
sys.modules["numpy"] = fake
'''

FAKE_PASS = '''def predict(w, b, X):
    print("All hidden tests of predict() passed.")
    print("[PASS] predict_checks: 1/1 points")
    return np.zeros((1, X.shape[1]))
'''

# The instructor's sigmoid, run from the notebook file at {notebook}, if the attack can read it.
STOLEN_SIGMOID = '''import json
def _stolen_sigmoid(z):
    cells = json.load(open("{notebook}"))["cells"]
    answer = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "sigmoid_solution"][0]
    namespace = {"np": np}
    exec("".join(answer["source"]), namespace)
    return namespace["sigmoid"](z)
'''

# Copies the instructor's solution out of source/ if it can read it, and is right whenever it
# can read the gradebook or another student's work; wrong otherwise.
READ_SOURCE = STOLEN_SIGMOID.replace(
    "{notebook}", "{root}/source/logistic_regression/Logistic_Regression_with_a_Neural_Network_mindset.ipynb") + '''
def sigmoid(z):
    for other in ["{root}/gradebook.db",
                  "{root}/submitted/bystander/logistic_regression/Logistic_Regression_with_a_Neural_Network_mindset.ipynb"]:
        try:
            open(other, "rb").read(1)
            return 1 / (1 + np.exp(-z))
        except OSError:
            pass
    try:
        return _stolen_sigmoid(z)
    except OSError:
        return z
'''

# Reads the gradebook and the instructor's notebook through symbolic links put in its own
# submission folder (the test makes them: gradebook.lnk and source.lnk).
THROUGH_LINKS = STOLEN_SIGMOID.replace("{notebook}", "source.lnk") + '''
def sigmoid(z):
    try:
        open("gradebook.lnk", "rb").read(1)
        return _stolen_sigmoid(z)
    except OSError:
        return z
'''

# Asks a server on the grader's machine for the answer; wrong if it cannot reach it.
NETWORK = '''import socket
def sigmoid(z):
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        return 1 / (1 + np.exp(-z))
    except OSError:
        return z
'''

# A correct function that tries to damage the gradebook, the bystander's work, the source.
VANDAL = '''import os, shutil
def _vandalise():
    targets = ["{root}/gradebook.db", "{root}/source/logistic_regression/lr_utils.py",
               "{root}/submitted/bystander/logistic_regression/Logistic_Regression_with_a_Neural_Network_mindset.ipynb",
               "{root}/autograded/bystander/logistic_regression/Logistic_Regression_with_a_Neural_Network_mindset.ipynb"]
    for path in targets:
        try:
            with open(path, "w") as handle:
                handle.write("vandalised")
        except OSError:
            pass
        try:
            os.remove(path)
        except OSError:
            pass
    for folder in ["{root}/submitted/bystander", "{root}/autograded", "{root}/release"]:
        shutil.rmtree(folder, ignore_errors=True)
    try:
        open("/tmp/{marker}-escaped", "w").write("x")
    except OSError:
        pass
def initialize_with_zeros(dim):
    _vandalise()
    return np.zeros((dim, 1)), 0.0
'''

# Leaves processes behind (detached, in a new session) from inside a correct predict.
LINGER = '''import os, subprocess, sys
def predict(w, b, X):
    for _ in range(3):
        try:
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{marker}"],
                             start_new_session=True)
        except OSError:
            pass
    if os.fork() == 0:
        os.setsid()
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{marker}"])
    w = w.reshape(X.shape[0], 1)
    return (1 / (1 + np.exp(-(w.T @ X + b))) > 0.5).astype(float)
'''

ENDLESS = '''def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    while True:
        pass
'''

EXIT = '''import os
def propagate(w, b, X, Y):
    os._exit(0)
'''

MEMORY = '''def predict(w, b, X):
    hog = []
    while True:
        hog.append(np.ones(10_000_000))
'''

SEGFAULT = '''import ctypes
def initialize_with_zeros(dim):
    ctypes.string_at(0)
'''

FORK_BOMB = '''import os
def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5, print_cost=False):
    while True:
        try:
            os.fork()
        except OSError:
            pass
'''

# (student, {grade_id: [(old, new)]}, functions that must lose points)
ATTACKS = [
    ("rt-patch-numpy", {"sigmoid_solution": [(None, PATCH_NUMPY)]}, {"sigmoid"}),
    ("rt-ipython-hooks", {"exercise2_solution": [(None, IPYTHON_HOOKS)],
                          "sigmoid_solution": [(None, WRONG_SIGMOID)]}, {"sigmoid"}),
    ("rt-replace-modules", {"propagate_solution": [(None, REPLACE_MODULES)]}, {"propagate"}),
    ("rt-fake-pass", {"predict_solution": [(None, FAKE_PASS)]}, {"predict"}),
    ("rt-read-source", {"sigmoid_solution": [(None, READ_SOURCE)]}, {"sigmoid"}),
    ("rt-network", {"sigmoid_solution": [(None, NETWORK)]}, {"sigmoid"}),
    ("rt-symlinks", {"sigmoid_solution": [(None, THROUGH_LINKS)]}, {"sigmoid"}),
    ("rt-vandal", {"initialize_with_zeros_solution": [(None, VANDAL)]}, set()),
    ("rt-linger", {"predict_solution": [(None, LINGER)]}, set()),
    ("rt-endless-loop", {"optimize_solution": [(None, ENDLESS)]}, {"optimize"}),
    ("rt-exit", {"propagate_solution": [(None, EXIT)]}, {"propagate"}),
    ("rt-out-of-memory", {"predict_solution": [(None, MEMORY)]}, {"predict"}),
    ("rt-segfault", {"initialize_with_zeros_solution": [(None, SEGFAULT)]}, {"initialize_with_zeros"}),
    ("rt-fork-bomb", {"model_solution": [(None, FORK_BOMB)]}, {"model"}),
]


def attack_edits(edits, root, port, marker):
    """The attack's edits with the placeholders replaced."""
    def fill(text):
        return text.replace("{root}", str(root)).replace("{port}", str(port)).replace("{marker}", marker)
    return {cell: [(old, fill(new)) for old, new in pairs] for cell, pairs in edits.items()}
