"""The visible checks of this assignment: each check cell of the notebook runs one of them.

    from public_tests import softmax_test
    softmax_test(softmax)

calls your ``softmax`` on a few fixed values, prints what it returned, and raises an error that
says what is wrong, with a hint when the mistake is a common one. A function that calls another
one you wrote (``sigmoid_derivative`` calls ``sigmoid``) is given it too: when that one fails its
own checks, the error says so (fix it first).

When your notebook is graded, the check cells run with the instructor's copy of this file,
whatever this copy holds: changing it changes nothing but what you see here.
"""

from __future__ import annotations

import ast
import math
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


# --- basic_sigmoid --------------------------------------------------------------------------------


def basic_sigmoid_hint(x, s):
    """What a wrong result s = basic_sigmoid(x) looks like, as a hint ('' if nothing known)."""
    if isinstance(s, (np.ndarray, np.generic)):
        return (" It is a numpy value: this exercise is about the math module, use math.exp"
                " (np.exp comes in the next exercise).")
    if type(s) not in (int, float):
        return ""
    if math.isclose(s, 1 / (1 + math.exp(x))):
        return " It is 1 - sigmoid(x): the sign of the exponent is flipped (e^(-x), not e^x)."
    if math.isclose(s, 1 + math.exp(-x)):
        return " It is 1 + e^(-x), above 1: put the whole denominator 1 + e^(-x) in parentheses."
    return ""


def basic_sigmoid_test(basic_sigmoid):
    for x, expected in [(0, 0.5), (2, 0.8807970779778823), (-1.5, 0.18242552380635635)]:
        s = basic_sigmoid(x)
        print(f"basic_sigmoid({x}) = {s!r}")
        assert type(s) is float, \
            f"basic_sigmoid({x}) must return a Python float, got {type(s).__module__}.{type(s).__name__}." \
            + basic_sigmoid_hint(x, s)
        assert math.isclose(s, expected, rel_tol=1e-9), \
            f"basic_sigmoid({x}) is wrong: expected about {expected}, got {s}." + basic_sigmoid_hint(x, s)
    print("All visible basic_sigmoid checks passed.")


# --- sigmoid --------------------------------------------------------------------------------------


def sigmoid_hint(x, s):
    """What a wrong result s of sigmoid at x looks like, as a hint ('' if nothing known)."""
    x = np.asarray(x, dtype=float)
    if np.shape(s) == x.shape and np.allclose(s, 1 / (1 + np.exp(x))):
        return " It is 1 - sigmoid(x): the sign of the exponent is flipped (e^(-x), not e^x)."
    if np.shape(s) == x.shape and np.allclose(s, 1 + np.exp(-x)):
        return " It is 1 + e^(-x), above 1: put the whole denominator 1 + e^(-x) in parentheses."
    return ""


def sigmoid_test(sigmoid):
    sigmoid = explaining_shape_errors(sigmoid)
    try:
        s = sigmoid(np.array([-1., 0., 3.]))
    except Exception as error:
        if "TypeError" not in f"{type(error).__name__}: {error}":
            raise
        reason = str(error).removeprefix("TypeError: ")
        raise AssertionError(f"sigmoid(np.array([-1., 0., 3.])) raised TypeError ({reason}): math.exp, and "
                             "basic_sigmoid which uses it, take a single number; np.exp works on whole "
                             "arrays") from None
    print("sigmoid(np.array([-1., 0., 3.])) = " + str(s))
    assert isinstance(s, np.ndarray), \
        "sigmoid(np.array([-1., 0., 3.])) must return a numpy array, got " + type(s).__name__
    assert s.shape == (3,), f"Wrong shape for sigmoid(np.array([-1., 0., 3.])): {s.shape} != (3,)"
    assert np.allclose(s, [0.26894142, 0.5, 0.95257413]), \
        f"sigmoid(np.array([-1., 0., 3.])) is wrong: expected about [0.26894142, 0.5, 0.95257413], got {s}." \
        + sigmoid_hint([-1., 0., 3.], s)

    s = sigmoid(2)
    print("sigmoid(2) = " + str(s))
    assert np.ndim(s) == 0, f"sigmoid(2) must be a single number, got an array of shape {np.shape(s)}"
    assert np.isclose(s, 0.88079708), f"sigmoid(2) is wrong: expected about 0.88079708, got {s}." + sigmoid_hint(2, s)

    s = sigmoid(np.array([[0.5, -1.], [2., 4.]]))
    assert np.shape(s) == (2, 2), f"Wrong shape for the sigmoid of a (2, 2) array: {np.shape(s)} != (2, 2)"
    assert np.allclose(s, [[0.62245933, 0.26894142], [0.88079708, 0.98201379]]), \
        f"sigmoid(np.array([[0.5, -1.], [2., 4.]])) is wrong: expected about [[0.62245933, 0.26894142], " \
        f"[0.88079708, 0.98201379]], got {np.asarray(s).tolist()}." + sigmoid_hint([[0.5, -1.], [2., 4.]], s)
    print("All visible sigmoid checks passed.")


# --- sigmoid_derivative ---------------------------------------------------------------------------


def sigmoid_derivative_hint(x, ds):
    """What a wrong result ds of sigmoid_derivative at x looks like, as a hint ('' if nothing known)."""
    x = np.asarray(x, dtype=float)
    if np.shape(ds) != x.shape:
        return ""
    if np.allclose(ds, x * (1 - x)):
        return " It is x * (1 - x): first compute s = sigmoid(x), then s * (1 - s)."
    if np.allclose(ds, 0):
        return " It is 0 everywhere: s * 1 - s is s - s; put 1 - s in parentheses."
    return ""


def sigmoid_derivative_test(sigmoid_derivative, sigmoid=None):
    """The visible checks of sigmoid_derivative; ``sigmoid``, which it calls, is checked first."""
    broken = None
    if sigmoid is not None:
        try:
            broken = None if np.allclose(sigmoid(np.array([-1., 0., 3.])), [0.26894142, 0.5, 0.95257413]) \
                else "sigmoid"
        except Exception:  # noqa: BLE001 - any error means the check fails
            broken = "sigmoid"
    sigmoid_derivative = explaining_shape_errors(sigmoid_derivative)
    try:
        x = np.array([-1., 0., 3.])
        try:
            ds = sigmoid_derivative(x)
        except Exception as error:
            if "TypeError" not in f"{type(error).__name__}: {error}":
                raise
            reason = str(error).removeprefix("TypeError: ")
            raise AssertionError(f"sigmoid_derivative(np.array([-1., 0., 3.])) raised TypeError ({reason}): call "
                                 "sigmoid, which takes whole arrays (math.exp and basic_sigmoid take a single "
                                 "number)") from None
        print("sigmoid_derivative(np.array([-1., 0., 3.])) = " + str(ds))
        assert isinstance(ds, np.ndarray), \
            "sigmoid_derivative(np.array([-1., 0., 3.])) must return a numpy array, got " + type(ds).__name__
        assert ds.shape == (3,), f"Wrong shape for sigmoid_derivative(np.array([-1., 0., 3.])): {ds.shape} != (3,)"
        assert np.allclose(ds, [0.19661193, 0.25, 0.04517666]), \
            f"sigmoid_derivative(np.array([-1., 0., 3.])) is wrong: expected about [0.19661193, 0.25, 0.04517666], " \
            f"got {ds}." + sigmoid_derivative_hint(x, ds)
        assert np.array_equal(x, [-1., 0., 3.]), "sigmoid_derivative must not modify its argument"

        ds = sigmoid_derivative(2)
        print("sigmoid_derivative(2) = " + str(ds))
        assert np.ndim(ds) == 0, f"sigmoid_derivative(2) must be a single number, got an array of shape {np.shape(ds)}"
        assert np.isclose(ds, 0.10499359), \
            f"sigmoid_derivative(2) is wrong: expected about 0.10499359, got {ds}." + sigmoid_derivative_hint(2, ds)
    except Exception as error:
        if broken:
            raise AssertionError(f"sigmoid_derivative calls your sigmoid, whose checks fail: fix sigmoid first, then "
                                 f"run this cell again ({type(error).__name__}: {error})") from None
        raise
    print("All visible sigmoid_derivative checks passed.")


# --- image2vector ---------------------------------------------------------------------------------


def image2vector_hint(image, v):
    """What a wrong result v = image2vector(image) looks like, as a hint ('' if nothing known)."""
    if not isinstance(v, np.ndarray):
        return ""
    if v.shape == (image.size,):
        return " It is a flat array of shape (n,): reshape to a column, (length * height * depth, 1)."
    if v.shape == (1, image.size):
        return " It is a row of shape (1, n): the result must be a column, (length * height * depth, 1)."
    if v.shape == (image.size, 1) and np.array_equal(np.sort(v, axis=None), np.sort(image, axis=None)):
        return (" The entries are all there, in another order: reshape image as it is (no .T, no transpose,"
                " no change of the order of the dimensions), so that the last index changes fastest.")
    return ""


def image2vector_test(image2vector):
    image2vector = explaining_shape_errors(image2vector)
    image = np.arange(18).reshape(3, 3, 2) / 20   # a small "picture": 3 x 3 pixels, 2 channels
    image_before = image.copy()
    v = image2vector(image)
    print("image2vector(image) = " + str(np.asarray(v).tolist()))
    expected = [[0.0], [0.05], [0.1], [0.15], [0.2], [0.25], [0.3], [0.35], [0.4], [0.45], [0.5], [0.55], [0.6],
                [0.65], [0.7], [0.75], [0.8], [0.85]]
    assert isinstance(v, np.ndarray), "image2vector must return a numpy array, got " + type(v).__name__
    assert v.shape == (18, 1), f"Wrong shape for image2vector of a (3, 3, 2) image: {v.shape} != (18, 1)." \
        + image2vector_hint(image, v)
    if not np.allclose(v, expected):
        i = int(np.flatnonzero(~np.isclose(v[:, 0], np.ravel(expected)))[0])   # the first wrong entry
        where = ", ".join(str(int(k)) for k in np.unravel_index(i, image.shape))
        raise AssertionError(f"image2vector(image) is wrong: entry {i} of the column must be image[{where}] = "
                             f"{expected[i][0]}, got {v[i, 0]}." + image2vector_hint(image, v))
    assert np.array_equal(image, image_before), "image2vector must not modify its argument"
    print("All visible image2vector checks passed.")


# --- normalize_rows -------------------------------------------------------------------------------


def normalize_rows_hint(x, result):
    """What a wrong result of normalize_rows(x) looks like, as a hint ('' if nothing known)."""
    x, result = np.asarray(x, dtype=float), np.asarray(result)
    if result.shape != x.shape:
        return ""
    close = dict(rtol=1e-5, atol=1e-6)
    norms = np.sqrt(np.sum(x ** 2, axis=1, keepdims=True))
    if np.allclose(result, x / np.sqrt(np.sum(x ** 2, axis=0, keepdims=True)), **close):
        return " Each column has length 1, not each row: take the norms along axis=1, across each row."
    if x.shape[0] == x.shape[1] and np.allclose(result, x / norms.T, **close):
        return (" Each column j is divided by the norm of row j: without keepdims=True the norms form a flat array,"
                " which broadcasting spreads along the rows; keep them as a column of shape (m, 1).")
    if np.allclose(result, x / norms ** 2, **close):
        return (" Each row is divided by its squared length: the norm is the square root of the sum of the squares"
                " (np.linalg.norm computes it).")
    return ""


def normalize_rows_test(normalize_rows):
    # (no explaining_shape_errors: the broadcasting error this exercise is about has its own hint here)
    x = np.array([[1., -2., 2.], [2., 6., -3.]])
    try:
        x_normalized = normalize_rows(x)
    except Exception as error:
        if "could not be broadcast" not in str(error):
            raise
        raise AssertionError(f"normalize_rows failed: {str(error).strip()}. The norms must form a column of shape "
                             "(2, 1), not a flat array of shape (2,): use keepdims=True") from None
    print("normalize_rows(x) = " + str(x_normalized))
    expected = [[1 / 3, -2 / 3, 2 / 3], [2 / 7, 6 / 7, -3 / 7]]
    assert np.array_equal(x, [[1., -2., 2.], [2., 6., -3.]]), \
        "normalize_rows must not modify its argument: 'x /= ...' changes the caller's array; write a new array, x / ..."
    assert isinstance(x_normalized, np.ndarray), \
        "normalize_rows must return a numpy array, got " + type(x_normalized).__name__
    assert x_normalized.shape == (2, 3), \
        f"Wrong shape for normalize_rows of a (2, 3) array: {x_normalized.shape} != (2, 3)"
    assert np.allclose(x_normalized, expected), \
        "normalize_rows(x) is wrong: expected about [[0.33333333, -0.66666667, 0.66666667], [0.28571429, " \
        f"0.85714286, -0.42857143]], got {np.round(x_normalized, 8).tolist()}." + normalize_rows_hint(x, x_normalized)
    print("All visible normalize_rows checks passed.")


# --- softmax --------------------------------------------------------------------------------------


def softmax_hint(x, s):
    """What a wrong result s = softmax(x) looks like, as a hint ('' if nothing known)."""
    x, s = np.asarray(x, dtype=float), np.asarray(s)
    if s.shape != x.shape:
        return ""
    close = dict(rtol=1e-5, atol=1e-6)
    e = np.exp(x - np.max(x))
    if x.shape[0] > 1 and np.allclose(s, e / np.sum(e), **close):
        return (" The whole array adds up to 1, not each row: x_exp is divided by the sum of all its entries;"
                " sum each row (axis=1), keeping a column (keepdims=True).")
    if x.shape[0] > 1 and np.allclose(s, e / np.sum(e, axis=0, keepdims=True), **close):
        return " Each column adds up to 1, not each row: sum along axis=1, across each row."
    if x.shape[0] == x.shape[1] and np.allclose(s, e / np.sum(e, axis=1), **close):
        return (" Each column j is divided by the sum of row j: without keepdims=True the sums form a flat array,"
                " which broadcasting spreads along the rows; keep them as a column of shape (m, 1).")
    return ""


def softmax_test(softmax):
    # (no explaining_shape_errors: the broadcasting error this exercise is about has its own hint here)
    x = np.array([[1., 2., 0.], [-1., 0., 3.]])
    try:
        s = softmax(x)
    except Exception as error:
        if "could not be broadcast" not in str(error):
            raise
        raise AssertionError(f"softmax failed: {str(error).strip()}. The sums of the rows must form a column of shape "
                             "(2, 1), not a flat array of shape (2,): use keepdims=True") from None
    print("softmax(x) = " + str(s))
    expected = [[0.24472847, 0.66524096, 0.09003057], [0.01714783, 0.04661262, 0.93623955]]
    assert np.array_equal(x, [[1., 2., 0.], [-1., 0., 3.]]), "softmax must not modify its argument"
    assert isinstance(s, np.ndarray), "softmax must return a numpy array, got " + type(s).__name__
    assert s.shape == (2, 3), f"Wrong shape for softmax of a (2, 3) array: {s.shape} != (2, 3)"
    assert np.allclose(s, expected), \
        f"softmax(x) is wrong: expected about {expected}, got {np.round(s, 8).tolist()}." + softmax_hint(x, s)
    print("All visible softmax checks passed.")


# --- L1 and L2 ------------------------------------------------------------------------------------


def L1_hint(yhat, y, loss):
    """What a wrong loss = L1(yhat, y) looks like, as a hint ('' if nothing known)."""
    if np.ndim(loss) != 0:
        return ""
    m, expected, close = len(y), np.sum(np.abs(y - yhat)), dict(rtol=1e-5, atol=1e-6)
    if np.isclose(abs(loss), abs(np.sum(y - yhat)), **close) and not np.isclose(loss, expected, **close):
        return (" It is the sum of the differences, without their absolute values: positive and negative"
                " differences cancel out; take np.abs of each one first.")
    if m > 1 and np.isclose(loss, expected / m, **close):
        return " It is m times too small: the L1 loss is the sum, not the mean."
    return ""


def L1_test(L1):
    L1 = explaining_shape_errors(L1)
    yhat = np.array([0.8, 0.3, 0.6, 0.1, 0.95])
    y = np.array([1, 0, 1, 0, 1])
    loss = L1(yhat, y)
    print("L1 = " + str(loss))
    assert np.array_equal(yhat, [0.8, 0.3, 0.6, 0.1, 0.95]) and np.array_equal(y, [1, 0, 1, 0, 1]), \
        "L1 must not modify its arguments"
    assert np.ndim(loss) == 0, f"L1 must return a single number, got an array of shape {np.shape(loss)}: add up the " \
        "absolute differences with np.sum"
    assert np.isclose(loss, 1.05), f"L1 is wrong: expected about 1.05, got {loss}." + L1_hint(yhat, y, loss)
    print("All visible L1 checks passed.")


def L2_hint(yhat, y, loss):
    """What a wrong loss = L2(yhat, y) looks like, as a hint ('' if nothing known)."""
    if np.ndim(loss) != 0:
        return ""
    m, expected, close = len(y), np.sum((y - yhat) ** 2), dict(rtol=1e-5, atol=1e-6)
    if np.isclose(loss, np.sqrt(expected), **close) and not np.isclose(loss, expected, **close):
        return (" It is the square root of the L2 loss (the length of y - yhat): the loss is the sum of the"
                " squares itself, take no square root.")
    if m > 1 and np.isclose(loss, expected / m, **close):
        return " It is m times too small: the L2 loss is the sum of the squares, not their mean."
    if np.isclose(loss, np.sum(np.abs(y - yhat)), **close):
        return " It is the L1 loss: square each difference (or dot the differences with themselves)."
    return ""


def L2_test(L2):
    L2 = explaining_shape_errors(L2)
    yhat = np.array([0.8, 0.3, 0.6, 0.1, 0.95])
    y = np.array([1, 0, 1, 0, 1])
    loss = L2(yhat, y)
    print("L2 = " + str(loss))
    assert np.array_equal(yhat, [0.8, 0.3, 0.6, 0.1, 0.95]) and np.array_equal(y, [1, 0, 1, 0, 1]), \
        "L2 must not modify its arguments"
    assert np.ndim(loss) == 0, f"L2 must return a single number, got an array of shape {np.shape(loss)}: add up the " \
        "squared differences (np.dot of the differences with themselves does it in one call)"
    assert np.isclose(loss, 0.3025), f"L2 is wrong: expected about 0.3025, got {loss}." + L2_hint(yhat, y, loss)
    print("All visible L2 checks passed.")
