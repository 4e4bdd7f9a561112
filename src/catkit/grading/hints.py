"""Messages for students: numpy's shape errors explained, long messages shortened without losing the hint.

:func:`shape_hint` turns numpy's terse ``ValueError`` for arrays of shapes that do not fit
("shapes (3,1) and (3,4) not aligned: ...", "operands could not be broadcast together with shapes
...", a ``matmul`` core-dimension mismatch) into a sentence that names the operation on the
student's line, the operands' shapes and what to transpose::

    f: np.dot(w, X) fails for w of shape (3, 1) and X of shape (3, 4): w.T has the shape (1, 3) that
    np.dot needs: use np.dot(w.T, X)

It reads only the error message and the text of the line that raised it, so it works the same in
the grader (on the error a sandboxed function reported, :mod:`catkit.grading.harness`) and in a
student's kernel. An assignment's released ``public_tests.py`` carries a verbatim copy of
``shape_hint`` and its helpers (the students' side has no catkit); ``tests/test_public_tests.py``
checks that the copies are the same code.

:func:`shorten` fits a message into a summary (the feedback's "what went wrong" column): the
diagnosis comes first and the hint last in the kit's messages, so it shortens the values between
them (numbers to four significant digits, then lists of values to ``[…]``) and, only if that is not
enough, the middle of the text; the end, where the hint is, stays.
"""

from __future__ import annotations

import ast
import re

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


# ------------------------------------------------------------------------------------------------
# Shortening a message for a summary


_LONG_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d{5,}(?:e[-+]?\d+)?(?![\w.])")
ELLIPSIS = "…"


def _value_lists(text):
    """(start, end) of each outermost [...] in ``text``."""
    spans, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "[":
            if depth == 0:
                start = index
            depth += 1
        elif char == "]" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, index + 1))
    return spans


def _last_sentence(text):
    """Where the last sentence of ``text`` begins (0 if it is one sentence)."""
    ends = [match.end() for match in re.finditer(r"[.?!]\s+(?=\S)", text[:-1])]
    return ends[-1] if ends else 0


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters: first its long numbers rounded to four
    significant digits, then its lists of values replaced by ``[…]`` (the longest first), then, if
    still too long, the middle cut out, never the beginning (the diagnosis) or the last sentence
    (the hint)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    text = _LONG_NUMBER.sub(lambda match: f"{float(match.group()):.4g}", text)
    while len(text) > limit:
        spans = [(start, end) for start, end in _value_lists(text) if end - start > 3]
        if not spans:
            break
        start, end = max(spans, key=lambda span: span[1] - span[0])
        text = text[:start] + f"[{ELLIPSIS}]" + text[end:]
    if len(text) <= limit:
        return text
    tail = text[_last_sentence(text):]
    room = limit - len(tail) - 3
    if room < limit // 4:  # a last sentence that long loses its beginning, never its end
        room = limit // 4
        tail = tail[-(limit - room - 3):]
        tail = tail[tail.find(" ") + 1:] if " " in tail[:20] else tail
    head = text[:room]
    if text[room:room + 1] not in ("", " ", ",", ";", ":", ")") and " " in head[room // 2:]:  # (no word cut)
        head = head[:head.rfind(" ")]
    return f"{head.rstrip(' ,;:')} {ELLIPSIS} {tail}"
