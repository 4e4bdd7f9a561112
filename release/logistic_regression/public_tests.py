"""The visible checks of this assignment: each check cell of the notebook runs one of them.

    from public_tests import propagate_test
    propagate_test(propagate, sigmoid)

calls your ``propagate`` on the published values of the original exercise, prints what it
returned, and raises an error that says what is wrong, with a hint when the mistake is a common
one. The other functions it is given are the ones it calls: when one of those fails its own
checks, the error says so (fix that one first).

When your notebook is graded, the check cells run with the instructor's copy of this file,
whatever this copy holds: changing it changes nothing but what you see here.

The numbers are compared within float32 precision where a check says so (see the notebook's
"How your work is graded").
"""

from __future__ import annotations

import ast
import os
import re
import traceback

import numpy as np

# --- numpy's shape errors, explained ---------------------------------------------------------------
# (the same code as the grader's, catkit/grading/hints.py, so that your checks and your grade say the
# same thing)

_SHAPE = r"\(([0-9, ]*)\)"
_DOT = re.compile(rf"shapes {_SHAPE} and {_SHAPE} not aligned")
_BROADCAST = re.compile(rf"operands could not be broadcast together with shapes {_SHAPE} {_SHAPE}\s*$")
_MATMUL = re.compile(r"matmul: Input operand 1 has a mismatch in its core dimension 0\b.*"
                     r"\(size (\d+) is different from (\d+)\)")
_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
               ast.Pow: "**"}


def _shape(text):
    """'3,1' -> (3, 1)"""
    return tuple(int(size) for size in text.replace(" ", "").split(",") if size)


def _operations(line):
    """[(kind, operands' source, how to write it with operands a and b)] on one line of code, where
    kind is 'dot', 'matmul' or 'arithmetic' and the last item formats as e.g. 'np.dot({a}, {b})'."""
    try:
        tree = ast.parse((line or "").strip())
    except SyntaxError:
        return []
    text = (line or "").strip()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords \
                and not any(isinstance(arg, ast.Starred) for arg in node.args):
            attr, owner = node.func.attr, node.func.value
            module = isinstance(owner, ast.Name) and owner.id in ("np", "numpy")
            name = ast.get_source_segment(text, owner) if module else None
            if attr in ("dot", "matmul") and module and len(node.args) == 2:
                found.append(("dot" if attr == "dot" else "matmul", node.args, f"{name}.{attr}({{a}}, {{b}})"))
            elif attr == "dot" and not module and len(node.args) == 1:
                found.append(("dot", [owner, node.args[0]], "{a}.dot({b})"))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(("matmul", [node.left, node.right], "{a} @ {b}"))
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            found.append(("arithmetic", [node.left, node.right], f"{{a}} {_ARITHMETIC[type(node.op)]} {{b}}"))
    return [(kind, [ast.get_source_segment(text, operand) or ast.unparse(operand) for operand in operands], form)
            for kind, operands, form in found]


def _transposed(operand):
    """The source of ``operand`` transposed: w -> w.T, A - Y -> (A - Y).T, X.T -> X"""
    if operand.endswith(".T"):
        return operand[:-2]
    simple = re.fullmatch(r"[\w.]+(\[[^\[\]]*\])?(\([^()]*\))?", operand)
    return f"{operand}.T" if simple else f"({operand}).T"


def _fits(a, b):
    """Whether np.dot accepts operands of shapes a and b."""
    return bool(a) and bool(b) and a[-1] == (b[0] if len(b) == 1 else b[-2])


def _dot_hint(function, a, b, named):
    """The hint for np.dot(a, b) with shapes a and b, ``named`` (operands' source, form) or None."""
    if named:
        (left, right), form = named
        head = f"{form.format(a=left, b=right)} fails for {left} of shape {a} and {right} of shape {b}"
    else:
        left, right, form = "the first factor", "the second factor", None
        head = f"np.dot fails for arrays of shapes {a} and {b}"
    for transposed, (x, y) in ((left, (a[::-1], b)), (right, (a, b[::-1]))):
        if len(x if transposed == left else y) == 2 and _fits(x, y):
            shape = x if transposed == left else y
            if form:
                fixed = form.format(a=_transposed(left) if transposed == left else left,
                                    b=_transposed(right) if transposed == right else right)
                return f"{head}: {_transposed(transposed)} has the shape {shape} that np.dot needs: use {fixed}"
            return f"{head}: {transposed}, transposed, has the shape {shape} that np.dot needs"
    rows = b[0] if len(b) == 1 else b[-2]
    flat = " (a flat array of shape (n,) has no transpose: reshape it to a column (n, 1))" \
        if 1 in (len(a), len(b)) else ""
    return f"{head}: np.dot needs as many columns in {left} as rows in {right}, here {a[-1]} and {rows}{flat}"


def _broadcast_hint(a, b, named):
    if named:
        (left, right), form = named
        head = (f"{form.format(a=left, b=right)} fails: {left} of shape {a} and {right} of shape {b} "
                "do not broadcast together")
    else:
        left, right = "one array", "the other"
        head = f"arrays of shapes {a} and {b} do not broadcast together"
    if len(a) == len(b) == 2 and a == b[::-1]:
        if named:
            return f"{head}: {_transposed(right)} has the shape {a} of {left}: transpose one of them"
        return f"{head}: each is the other transposed (a row and a column?): transpose one of them"
    if 1 in (len(a), len(b)) and len(a) != len(b):
        flat, other = (a, b) if len(a) == 1 else (b, a)
        return (f"{head}: numpy lines up the flat array of shape {flat} with the last dimension of the other "
                f"({other[-1]}), not with its rows: is one of them not the array you meant?")
    return head


def shape_hint(function: str | None, message: str, line: str | None) -> str | None:
    """A sentence explaining numpy's shape error ``message``, raised by ``function`` (its name, or
    None) on the line of code ``line`` (its text, or None), or None if ``message`` is not one."""
    message = str(message).strip()
    prefix = f"{function}: " if function else ""
    operations = _operations(line)

    def only(kind):
        """(operands, form) of the one operation of that kind on the line, else None"""
        matches = [(operands, form) for found, operands, form in operations if found == kind]
        return matches[0] if len(matches) == 1 else None

    dot = _DOT.match(message)
    if dot:
        a, b = _shape(dot.group(1)), _shape(dot.group(2))
        if a and b:
            return prefix + _dot_hint(function, a, b, only("dot"))
    matmul = _MATMUL.match(message)
    if matmul:
        rows, columns = matmul.group(1), matmul.group(2)
        named = only("matmul")
        left, right = named[0] if named else ("the first factor", "the second factor")
        what = named[1].format(a=left, b=right) if named else "a matrix product (@, np.matmul)"
        return (f"{prefix}{what} fails: it needs as many columns in {left} as rows in {right}, here {columns} "
                f"and {rows}: transpose the one that is the wrong way round")
    broadcast = _BROADCAST.match(message)
    if broadcast:
        a, b = _shape(broadcast.group(1)), _shape(broadcast.group(2))
        return prefix + _broadcast_hint(a, b, only("arithmetic"))
    return None


def _own_line(error, function):
    """(whether ``error`` was raised by ``function``'s own code, rather than by a function it called;
    the line that raised it, '' if unknown): the innermost frame outside numpy decides."""
    numpy_folder = os.path.dirname(np.__file__) + os.sep
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)[1:]
              if not frame.filename.startswith(numpy_folder)]
    code = getattr(function, "__code__", None)
    own = bool(frames) and code is not None and frames[-1].filename == code.co_filename
    return own, (frames[-1].line or "") if own else ""


def explaining_shape_errors(function):
    """``function``, whose numpy shape errors (in its own code) say what went wrong and what to transpose,
    as they do when the notebook is graded."""
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError as error:
            own, line = _own_line(error, function)
            hint = shape_hint(getattr(function, "__name__", None), str(error), line) if own else None
            if hint is None:
                raise
            raise ValueError(hint) from error  # (numpy's own words show above it)
    call.__name__ = getattr(function, "__name__", "function")
    return call


# --- helpers --------------------------------------------------------------------------------------


def first_failing(checks):
    """The first of the functions this one calls that fails a quick check of its own, else None
    (``checks``: name -> check, None for a function not given)."""
    for name, check in checks.items():
        if check is None:
            continue
        try:
            passed = bool(check())
        except Exception:  # noqa: BLE001 - any error means the check fails
            passed = False
        if not passed:
            return name
    return None


def sigmoid_ok(sigmoid):
    return None if sigmoid is None else lambda: np.allclose(sigmoid(np.array([0, 2])), [0.5, 0.88079708])


def initialize_ok(initialize_with_zeros):
    def check():
        w, b = initialize_with_zeros(2)
        return np.shape(w) == (2, 1) and not np.any(w) and type(b) is float and b == 0.0
    return None if initialize_with_zeros is None else check


def propagate_ok(propagate):
    def check():
        grads, cost = propagate(np.array([[1.], [2.], [-1]]), 2.5,
                                np.array([[1., 2., -1., 0], [3., 4., -3.2, 1], [3., 4., -3.2, -3.5]]),
                                np.array([[1, 1, 0, 0]]))
        return (np.allclose(grads["dw"], [[-0.03909333], [0.12501464], [-0.99960809]])
                and np.isclose(grads["db"], 0.288106326429569) and np.isclose(cost, 2.0424567983978403))
    return None if propagate is None else check


def optimize_ok(optimize):
    def check():
        w = np.array([[1.], [2.]])
        params, grads, costs = optimize(w, 2., np.array([[1., 2., -1.], [3., 4., -3.2]]), np.array([[1, 0, 1]]),
                                        num_iterations=101, learning_rate=0.1)
        return (np.allclose(np.array(costs, dtype=float), [5.80154532, 0.31057104])
                and np.allclose(params["w"], [[-0.70916784], [-0.42390859]]) and np.array_equal(w, [[1.], [2.]]))
    return None if optimize is None else check


def predict_ok(predict):
    def check():
        Y_prediction = predict(np.array([[0.3], [0.5], [-0.2]]), -0.33333,
                               np.array([[1., -0.3, 1.5], [2, 0, 1], [0, -1.5, 2]]))
        return np.shape(Y_prediction) == (1, 3) and np.array_equal(Y_prediction, [[1., 0., 1.]])
    return None if predict is None else check


# --- sigmoid --------------------------------------------------------------------------------------


def sigmoid_hint(z, s):
    """What a wrong result s of sigmoid at z looks like, as a hint ('' if it looks like nothing known)."""
    z = np.asarray(z, dtype=float)
    if np.shape(s) == z.shape and np.allclose(s, 1 / (1 + np.exp(z))):
        return " It is 1 - sigmoid(z): the sign of the exponent is flipped (e^(-z), not e^z)."
    if np.shape(s) == z.shape and np.allclose(s, 1 + np.exp(-z)):
        return " It is 1 + e^(-z), above 1: put the whole denominator 1 + e^(-z) in parentheses."
    return ""


def sigmoid_test(sigmoid):
    sigmoid = explaining_shape_errors(sigmoid)
    try:
        s = sigmoid(np.array([0, 2]))
    except TypeError as error:
        raise AssertionError(f"sigmoid(np.array([0, 2])) raised TypeError ({error}): math.exp takes a single number; "
                             "np.exp works on whole arrays") from None
    print("sigmoid([0, 2]) = " + str(s))
    assert isinstance(s, np.ndarray), "sigmoid(np.array([0, 2])) must return a numpy array, got " + type(s).__name__
    assert s.shape == (2,), f"Wrong shape for sigmoid(np.array([0, 2])): {s.shape} != (2,)"
    assert np.allclose(s, [0.5, 0.88079708]), \
        f"sigmoid(np.array([0, 2])) is wrong: expected about [0.5, 0.88079708], got {s}." + sigmoid_hint([0, 2], s)

    s = sigmoid(1)
    print("sigmoid(1) = " + str(s))
    assert np.ndim(s) == 0, f"sigmoid(1) must be a scalar, got an array of shape {np.shape(s)}"
    assert np.isclose(s, 0.7310585), f"sigmoid(1) is wrong: expected about 0.7310585, got {s}." + sigmoid_hint(1, s)

    s = sigmoid(np.array([[-1., 0., 1.], [-3., 3., 10.]]))
    assert np.shape(s) == (2, 3), f"Wrong shape for sigmoid of a (2, 3) array: {np.shape(s)} != (2, 3)"
    assert np.allclose(s[0], [0.26894142, 0.5, 0.73105858]), \
        f"sigmoid([-1., 0., 1.]) is wrong: expected about [0.26894142, 0.5, 0.73105858], got {s[0]}." \
        + sigmoid_hint([-1., 0., 1.], s[0])
    print("All visible sigmoid checks passed.")


# --- initialize_with_zeros ------------------------------------------------------------------------


def initialize_hint(w, b, dim):
    """What a wrong (w, b) = initialize_with_zeros(dim) looks like, as a hint ('' if nothing known)."""
    if isinstance(w, np.ndarray) and w.shape == (dim,):
        return " w is a flat array of shape (dim,): give np.zeros the shape (dim, 1), as one tuple."
    if isinstance(w, np.ndarray) and w.shape == (1, dim):
        return " w is a row of shape (1, dim): it must be a column, (dim, 1)."
    if type(b) is int:
        return " b is the int 0: write the float 0.0."
    if isinstance(b, np.ndarray):
        return " b is a numpy array: it must be a single number, the Python float 0.0."
    if isinstance(b, np.generic):
        return " b is a numpy number: it must be the Python float 0.0."
    return ""


def initialize_with_zeros_test(initialize_with_zeros):
    initialize_with_zeros = explaining_shape_errors(initialize_with_zeros)
    w, b = initialize_with_zeros(2)
    print("w = " + str(w))
    print("b = " + str(b))
    assert isinstance(w, np.ndarray), "w must be a numpy array, got " + type(w).__name__
    assert w.shape == (2, 1), f"Wrong shape for w: {w.shape} != (2, 1)." + initialize_hint(w, b, 2)
    assert w.dtype == np.float64, f"w must hold floats (float64), got {w.dtype}"
    assert np.all(w == 0), f"w must be all zeros, got {w.tolist()}"
    assert type(b) is float, \
        f"b must be a Python float, got {type(b).__module__}.{type(b).__name__}." + initialize_hint(w, b, 2)
    assert b == 0.0, f"b must be 0.0, got {b}"
    print("All visible initialize_with_zeros checks passed.")


# --- propagate ------------------------------------------------------------------------------------


def propagate_hint(name, value, expected, m):
    """What a wrong dw, db or cost looks like, as a hint ('' if nothing known)."""
    if m > 1 and np.allclose(value, m * np.asarray(expected)):
        return f" {name} is exactly m times too large (m = {m} here): did you forget the 1/m?"
    if m > 1 and np.allclose(value, np.asarray(expected) / m):
        return f" {name} is exactly m times too small (m = {m} here): divide by m only once."
    if np.allclose(value, -np.asarray(expected)):
        return f" {name} has the wrong sign." + (" The cost is minus the mean log-likelihood: a positive number."
                                                 if name == "cost" else "")
    return ""


def propagate_test(propagate, sigmoid=None):
    """The visible checks of propagate; ``sigmoid``, which it calls, is checked first."""
    broken = first_failing({"sigmoid": sigmoid_ok(sigmoid)})
    propagate = explaining_shape_errors(propagate)
    try:
        w = np.array([[1.], [2.], [-1]])
        b = 2.5
        X = np.array([[1., 2., -1., 0], [3., 4., -3.2, 1], [3., 4., -3.2, -3.5]])
        Y = np.array([[1, 1, 0, 0]])
        grads, cost = propagate(w, b, X, Y)
        print("dw = " + str(grads["dw"]))
        print("db = " + str(grads["db"]))
        print("cost = " + str(cost))

        expected_dw = [[-0.03909333], [0.12501464], [-0.99960809]]
        assert isinstance(grads, dict) and "dw" in grads and "db" in grads, \
            "grads must be a dict with keys 'dw' and 'db'"
        dw, db = grads["dw"], grads["db"]
        assert np.shape(dw) != (1, 3), \
            "Wrong shape for dw: (1, 3) != (3, 1). dw has the shape of w.T: it must have the shape of w, (n_x, 1); " \
            "check which factor of your product is transposed"
        assert np.shape(dw) == w.shape, f"Wrong shape for dw: {np.shape(dw)} != {w.shape}"
        assert np.ndim(db) == 0, \
            f"db must be a scalar, got an array of shape {np.shape(db)}: sum over all entries (np.sum without axis)"
        assert np.ndim(cost) == 0, f"cost must be a scalar, got an array of shape {np.shape(cost)}"
        assert np.allclose(dw, expected_dw), \
            f"Wrong values for dw: expected about {expected_dw}, got {np.asarray(dw).tolist()}." \
            + propagate_hint("dw", dw, expected_dw, 4)
        assert np.isclose(db, 0.288106326429569), \
            f"Wrong value for db: expected about 0.288106326429569, got {db}." \
            + propagate_hint("db", db, 0.288106326429569, 4)
        assert np.isclose(cost, 2.0424567983978403), \
            f"Wrong value for cost: expected about 2.0424567983978403, got {cost}." \
            + propagate_hint("cost", cost, 2.0424567983978403, 4)
    except Exception as error:
        if broken:
            raise AssertionError(f"propagate calls your {broken}, whose checks fail: fix {broken} first, then run "
                                 f"this cell again ({type(error).__name__}: {error})") from None
        raise
    print("All visible propagate checks passed.")


# --- optimize -------------------------------------------------------------------------------------


def optimize_test(optimize, sigmoid=None, propagate=None):
    """The visible checks of optimize; ``propagate`` and ``sigmoid``, which it calls, are checked first."""
    broken = first_failing({"sigmoid": sigmoid_ok(sigmoid), "propagate": propagate_ok(propagate)})
    path = {"sigmoid": "optimize calls propagate, which calls your sigmoid",
            "propagate": "optimize calls your propagate"}
    optimize = explaining_shape_errors(optimize)
    try:
        w = np.array([[1.], [2.]])
        b = 2.
        X = np.array([[1., 2., -1.], [3., 4., -3.2]])
        Y = np.array([[1, 0, 1]])
        w_before = w.copy()
        params, grads, costs = optimize(w, b, X, Y, num_iterations=101, learning_rate=0.1, print_cost=False)
        print("w = " + str(params["w"]))
        print("b = " + str(params["b"]))
        print("dw = " + str(grads["dw"]))
        print("db = " + str(grads["db"]))
        print("Costs = " + str(np.array(costs, dtype=float)))

        assert np.array_equal(w, w_before), \
            "optimize must not modify the w it is given: 'w -= ...' changes the caller's array in place; start from " \
            "copy.deepcopy(w) and write w = w - ... (a new array)"
        assert isinstance(params, dict) and "w" in params and "b" in params, \
            "params must be a dict with keys 'w' and 'b'"
        assert isinstance(grads, dict) and "dw" in grads and "db" in grads, \
            "grads must be a dict with keys 'dw' and 'db'"
        assert isinstance(costs, list), "costs must be a list, got " + type(costs).__name__
        assert len(costs) != 101, \
            "costs must hold the costs at iterations 0 and 100: expected 2 values, got 101, one per iteration: " \
            "append the cost only when i % 100 == 0"
        assert len(costs) == 2, \
            f"costs must hold the costs at iterations 0 and 100: expected 2 values, got {len(costs)}"
        # The results of learning_rate=0.009, optimize's default, instead of the 0.1 given:
        assert not np.allclose(np.array(costs, dtype=float), [5.80154532, 1.05593344]), \
            "Wrong values for costs: they are those of learning_rate=0.009, the default, not of the 0.1 given: " \
            "use the learning_rate argument in the update"
        # (costs within 1e-3: computed in float32, log(1 - a) for a close to 1 is that far from float64's)
        assert np.allclose(np.array(costs, dtype=float), [5.80154532, 0.31057104], rtol=1e-3), \
            "Wrong values for costs: expected about [5.80154532, 0.31057104], " \
            f"got {np.array(costs, dtype=float).tolist()}"
        assert np.shape(params["w"]) == (2, 1), f"Wrong shape for w: {np.shape(params['w'])} != (2, 1)"
        assert np.allclose(params["w"], [[-0.70916784], [-0.42390859]]), \
            f"Wrong values for w: expected about [[-0.70916784], [-0.42390859]], got {np.asarray(params['w']).tolist()}"
        assert np.isclose(params["b"], 2.26891346), f"Wrong value for b: expected about 2.26891346, got {params['b']}"
        assert np.allclose(grads["dw"], [[0.06188603], [-0.01407361]]), \
            f"Wrong values for dw: expected about [[0.06188603], [-0.01407361]], got {np.asarray(grads['dw']).tolist()}"
        assert np.isclose(grads["db"], -0.04709353), \
            f"Wrong value for db: expected about -0.04709353, got {grads['db']}"
    except Exception as error:
        if broken:
            raise AssertionError(f"{path[broken]}, whose checks fail: fix {broken} first, then run this cell again "
                                 f"({type(error).__name__}: {error})") from None
        raise
    print("All visible optimize checks passed.")


# --- predict --------------------------------------------------------------------------------------


def predict_hint(Y_prediction, expected):
    """What wrong predictions look like, as a hint ('' if nothing known)."""
    Y_prediction, expected = np.asarray(Y_prediction), np.asarray(expected)
    if Y_prediction.shape == (expected.size,):
        return " They have the shape (m,): keep the shape (1, m) of A (no ravel, flatten or squeeze)."
    if Y_prediction.dtype == bool:
        return " They are booleans: turn them into the floats 0. and 1."
    if Y_prediction.shape == expected.shape and np.all((Y_prediction >= 0) & (Y_prediction <= 1)) \
            and not np.all(np.isin(Y_prediction, [0, 1])):
        return " They are probabilities, not 0. or 1.: turn each probability into 1. above 0.5 and 0. otherwise."
    if Y_prediction.shape == expected.shape and np.all(Y_prediction == 1) and not np.all(expected == 1):
        return (" Every prediction is 1.: a probability from sigmoid is always above 0, so compare it with 0.5"
                " (not with 0).")
    return ""


def predict_test(predict, sigmoid=None):
    """The visible checks of predict; ``sigmoid``, which it calls, is checked first."""
    broken = first_failing({"sigmoid": sigmoid_ok(sigmoid)})
    predict = explaining_shape_errors(predict)
    try:
        w = np.array([[0.3], [0.5], [-0.2]])
        b = -0.33333
        X = np.array([[1., -0.3, 1.5], [2, 0, 1], [0, -1.5, 2]])
        Y_prediction = predict(w, b, X)
        print("predictions = " + str(Y_prediction))

        assert isinstance(Y_prediction, np.ndarray), \
            "predict must return a numpy array, got " + type(Y_prediction).__name__
        assert Y_prediction.shape == (1, 3), \
            f"Wrong shape for the predictions: {Y_prediction.shape} != (1, 3)." \
            + predict_hint(Y_prediction, [[1., 0., 1.]])
        assert np.issubdtype(Y_prediction.dtype, np.floating), \
            f"The predictions must be floats (0. or 1.), got dtype {Y_prediction.dtype}." \
            + predict_hint(Y_prediction, [[1., 0., 1.]])
        assert np.array_equal(Y_prediction, [[1., 0., 1.]]), \
            f"Wrong predictions: expected [[1., 0., 1.]], got {Y_prediction.tolist()}." \
            + predict_hint(Y_prediction, [[1., 0., 1.]])
    except Exception as error:
        if broken:
            raise AssertionError(f"predict calls your sigmoid, whose checks fail: fix sigmoid first, then run this "
                                 f"cell again ({type(error).__name__}: {error})") from None
        raise
    print("All visible predict checks passed.")


# --- model ----------------------------------------------------------------------------------------


def model_test(model, initialize_with_zeros=None, sigmoid=None, propagate=None, optimize=None, predict=None):
    """The visible checks of model; the functions it calls (initialize_with_zeros, optimize, which
    calls propagate, which calls sigmoid, and predict) are checked first."""
    broken = first_failing({"initialize_with_zeros": initialize_ok(initialize_with_zeros),
                            "sigmoid": sigmoid_ok(sigmoid), "propagate": propagate_ok(propagate),
                            "optimize": optimize_ok(optimize), "predict": predict_ok(predict)})
    path = {"initialize_with_zeros": "model calls your initialize_with_zeros",
            "sigmoid": "model calls optimize and predict, which call your sigmoid",
            "propagate": "model calls optimize, which calls your propagate",
            "optimize": "model calls your optimize", "predict": "model calls your predict"}
    model = explaining_shape_errors(model)
    try:
        np.random.seed(0)
        X = np.random.randn(4, 7)
        Y = np.array([[1, 0, 0, 1, 0, 0, 1]])
        x_test = np.random.randn(4, 3)
        y_test = np.array([[0, 1, 0]])
        d = model(X, Y, x_test, y_test, num_iterations=50, learning_rate=0.01)

        keys = ["costs", "Y_prediction_test", "Y_prediction_train", "w", "b", "learning_rate", "num_iterations"]
        assert isinstance(d, dict), "model must return a dict, got " + type(d).__name__
        assert set(d) == set(keys), f"Wrong keys: expected {sorted(keys)}, got {sorted(d)}"
        print("costs = " + str(np.array(d["costs"], dtype=float)))
        print("w = " + str(d["w"]))
        print("b = " + str(d["b"]))
        print("Y_prediction_test = " + str(d["Y_prediction_test"]))
        print("Y_prediction_train = " + str(d["Y_prediction_train"]))
        assert len(d["costs"]) == 1, \
            f"costs must hold 1 value for 50 iterations, got {len(d['costs'])}" \
            + (" (as many as 2000 iterations, model's default, give)" if len(d["costs"]) == 20 else "") \
            + ": pass num_iterations on to optimize"
        assert np.allclose(np.array(d["costs"], dtype=float), [0.69314718]), \
            f"Wrong values for costs: expected about [0.69314718], got {np.array(d['costs'], dtype=float).tolist()}"
        assert np.shape(d["w"]) == (4, 1), f"Wrong shape for w: {np.shape(d['w'])} != (4, 1)"
        # The weights learned with learning_rate=0.009, optimize's default, instead of the 0.01 given:
        assert not np.allclose(d["w"], [[0.07851947], [-0.07440894], [-0.10708734], [0.11704787]]), \
            "Wrong values for w: they are those of learning_rate=0.009, optimize's default, not of the 0.01 given: " \
            "pass learning_rate on to optimize"
        assert np.allclose(d["w"], [[0.08639757], [-0.08231268], [-0.11798927], [0.12866053]]), \
            "Wrong values for w: expected about [[0.08639757], [-0.08231268], [-0.11798927], [0.12866053]], " \
            f"got {np.asarray(d['w']).tolist()}"
        assert np.isclose(d["b"], -0.03983236094816321), \
            f"Wrong value for b: expected about -0.03983236094816321, got {d['b']}"
        assert np.shape(d["Y_prediction_test"]) != (1, 7), \
            "Wrong shape for Y_prediction_test: (1, 7) != (1, 3). It has the shape of the training set's " \
            "predictions: predict the test set, X_test"
        assert np.shape(d["Y_prediction_test"]) == (1, 3), \
            f"Wrong shape for Y_prediction_test: {np.shape(d['Y_prediction_test'])} != (1, 3)"
        assert np.array_equal(d["Y_prediction_test"], [[1, 1, 0]]), \
            f"Wrong Y_prediction_test: expected [[1., 1., 0.]], got {np.asarray(d['Y_prediction_test']).tolist()}"
        assert np.shape(d["Y_prediction_train"]) == (1, 7), \
            f"Wrong shape for Y_prediction_train: {np.shape(d['Y_prediction_train'])} != (1, 7)"
        assert np.array_equal(d["Y_prediction_train"], [[1, 1, 0, 1, 0, 0, 1]]), \
            "Wrong Y_prediction_train: expected [[1., 1., 0., 1., 0., 0., 1.]], " \
            f"got {np.asarray(d['Y_prediction_train']).tolist()}"
        assert d["learning_rate"] == 0.01, \
            f"d['learning_rate'] must be the learning rate given, 0.01, got {d['learning_rate']}"
        assert d["num_iterations"] == 50, \
            f"d['num_iterations'] must be the number of iterations given, 50, got {d['num_iterations']}"
    except Exception as error:
        if broken:
            raise AssertionError(f"{path[broken]}, whose checks fail: fix {broken} first, then run this cell again "
                                 f"({type(error).__name__}: {error})") from None
        raise
    print("All visible model checks passed.")
