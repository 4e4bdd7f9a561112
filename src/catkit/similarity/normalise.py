"""An answer's code as the comparison sees it: statements of normalised tokens, the template removed.

Each statement of an answer cell becomes one :class:`Unit`: the tokens of the statement with

- its layout, parentheses, comments and quoting gone (the statement is parsed, then written back
  by :func:`ast.unparse`), docstrings dropped;
- every name the cell binds (parameters, assigned variables, loop targets, imports with ``as``)
  written ``V``: renaming an identifier changes nothing; names the cell only reads (``np``,
  ``range``, the graded functions it calls) and attributes (``.shape``, ``np.einsum``) are kept,
  since they are the answer's choices;
- every string literal, f-string, ``"..." % x`` and ``"...".format(x)`` written ``S``: a reworded
  message changes nothing;
- every number written as a float (``1`` and ``1.0`` are one token).

A compound statement (``for``, ``while``, ``if``, ``with``, ``def``, ``try``) gives one unit for its
header and one per statement of its body: units are compared as a set, so statements moved where
they are independent still match, and a line added (dead code) only adds units.

The released stub is removed: a unit of the answer equal to a unit of the stub cell (the
``def`` line, the lines around ``# YOUR CODE HERE``) is template, never evidence. Code that does
not parse is read line by line with the same rules, approximately.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import keyword
import re
from collections import Counter
from dataclasses import dataclass

BOUND = "V"    # a name the answer binds
STRING = "S"   # any string the answer writes
KEPT_GLOBALS = frozenset({"np", "numpy", "math", "copy"})  # module aliases kept when code does not parse
_BUILTINS = frozenset(dir(builtins))
_TOKEN = re.compile(r"\d+\.?\d*(?:[eE][-+]?\d+)?j?|\.\d+(?:[eE][-+]?\d+)?|\w+|\*\*=?|//=?|->|:=|[<>=!]=|<<|>>|\S")
_STRING_LITERAL = re.compile(r"""[rRbBuUfF]{0,2}("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


@dataclass(frozen=True)
class Unit:
    """One statement (or a compound statement's header) of an answer, normalised."""

    tokens: tuple[str, ...]
    first: int  # its first and last line in the cell's source (1-based)
    last: int

    @property
    def key(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True)
class Answer:
    """One student's answer for one function: the cell's source and its units left after the stub."""

    source: str
    units: tuple[Unit, ...]
    template_lines: frozenset[int]  # lines of units that are the released stub's
    parsed: bool = True             # False: the code does not parse, read line by line

    @property
    def empty(self) -> bool:
        """Nothing left once the stub is removed: an untouched (or emptied) function."""
        return not self.units


class _Abstract(ast.NodeTransformer):
    """Names the cell binds become ``V``, strings ``S``, numbers floats."""

    def __init__(self, bound: set[str]):
        self.bound = bound

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(BOUND if node.id in self.bound else node.id, node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.copy_location(ast.arg(BOUND, None), node)

    def visit_alias(self, node: ast.alias) -> ast.AST:
        return ast.alias(node.name, BOUND if node.asname else None)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, (str, bytes)):
            return ast.copy_location(ast.Name(STRING, ast.Load()), node)
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return ast.copy_location(ast.Constant(float(node.value)), node)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return ast.copy_location(ast.Name(STRING, ast.Load()), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            return ast.copy_location(ast.Name(STRING, ast.Load()), node)  # "..." % (i, cost)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        function = node.func
        if (isinstance(function, ast.Attribute) and function.attr == "format"
                and isinstance(function.value, ast.Constant) and isinstance(function.value.value, str)):
            return ast.copy_location(ast.Name(STRING, ast.Load()), node)  # "...".format(i)
        return self.generic_visit(node)


def _name_sets(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(the names ``tree`` binds, every name it holds), in one walk."""
    bound: set[str] = set()
    every: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            every.add(node.id)
            if not isinstance(node.ctx, ast.Load):
                bound.add(node.id)
            continue
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias) and node.asname:
            bound.add(node.asname)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Constant):
            continue
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, ast.AST))
    return bound, every | bound


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text))


def _header(node: ast.stmt) -> str:
    """The text of a compound statement's header: the statement written with an empty body."""
    shell = copy.copy(node)
    for field in _BODIES:
        if hasattr(shell, field):
            setattr(shell, field, [])
    shell.body = [ast.Pass()]  # type: ignore[attr-defined]
    lines = ast.unparse(shell).splitlines()
    return " ".join(line.strip() for line in lines[:-1])


def _walk(statements: list[ast.stmt], found: list[Unit]) -> None:
    for node in statements:
        if _is_docstring(node):
            continue
        children = [child for field in _BODIES for child in getattr(node, field, None) or []]
        if not children:
            found.append(Unit(_tokens(ast.unparse(node)), node.lineno, node.end_lineno or node.lineno))
            continue
        body = getattr(node, "body", None) or children
        first_body = min((child.lineno for child in body if hasattr(child, "lineno")), default=node.lineno + 1)
        found.append(Unit(_tokens(_header(node)), node.lineno, max(node.lineno, first_body - 1)))
        for child in children:
            if isinstance(child, ast.ExceptHandler):
                header = ("except" + (f" {ast.unparse(child.type)}" if child.type else "")
                          + (f" as {BOUND}" if child.name else ""))
                found.append(Unit(_tokens(header + ":"), child.lineno, child.lineno))
                _walk(child.body, found)
            elif isinstance(child, ast.match_case):
                found.append(Unit(_tokens(f"case {ast.unparse(child.pattern)}:"), child.pattern.lineno,
                                  child.pattern.lineno))
                _walk(child.body, found)
            else:
                _walk([child], found)


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):  # (ValueError: a null byte)
        return None


def _parsed_units(tree: ast.Module, bound: set[str]) -> list[Unit]:
    found: list[Unit] = []
    _walk(_Abstract(bound).visit(tree).body, found)
    return found


def _line_units(source: str) -> list[Unit]:
    """Code that does not parse: one unit per line, comments and strings out, names abstracted
    unless they look global (a builtin, a module, an attribute, a called function)."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        text = _STRING_LITERAL.sub(f" {STRING} ", line).split("#", 1)[0].strip()
        if not text or text == STRING:  # (a docstring's line, roughly)
            continue
        raw = _tokens(text)
        tokens = []
        for i, token in enumerate(raw):
            after = raw[i + 1] if i + 1 < len(raw) else ""
            before = raw[i - 1] if i else ""
            if not re.fullmatch(r"[A-Za-z_]\w*", token) or token == STRING:
                tokens.append(str(float(token)) if re.fullmatch(r"\d+\.?\d*(?:[eE][-+]?\d+)?", token) else token)
            elif (keyword.iskeyword(token) or token in _BUILTINS or token in KEPT_GLOBALS or before == "."
                  or (after == "(" and before == "def")):
                tokens.append(token)
            else:
                tokens.append(BOUND)
        found.append(Unit(tuple(tokens), number, number))
    return found


def units(source: str) -> tuple[list[Unit], bool]:
    """The normalised units of a cell's source, and whether it parsed."""
    tree = _parse(source)
    return (_parsed_units(tree, _name_sets(tree)[0]), True) if tree is not None else (_line_units(source), False)


@functools.lru_cache(maxsize=256)
def _stub_names(stub: str) -> frozenset[str]:
    tree = _parse(stub)
    return frozenset() if tree is None else frozenset(_name_sets(tree)[1])


@functools.lru_cache(maxsize=1024)
def _template(stub: str, abstract: frozenset[str] | None) -> tuple[str, ...]:
    """The keys of the stub's units, ``abstract`` the names written V (None: read line by line)."""
    tree = _parse(stub) if abstract is not None else None
    if tree is None:
        return tuple(unit.key for unit in _line_units(stub))
    return tuple(unit.key for unit in _parsed_units(tree, set(abstract or ())))


def answer(source: str, stub: str = "") -> Answer:
    """An answer cell's units without the stub's: each unit equal to one of the stub cell's is
    template (once per occurrence in the stub). In the stub, every name is abstracted but those the
    answer reads without binding (``np``, ``propagate``): its ``return s`` and ``{"dw": dw}`` return
    what the answer binds, whatever the answer calls it."""
    tree = _parse(source)
    if tree is None:
        found, parsed, template = _line_units(source), False, _template(stub, None)
    else:
        bound, every = _name_sets(tree)
        found, parsed = _parsed_units(tree, bound), True
        template = _template(stub, frozenset(_stub_names(stub) - (every - bound)))
    left = Counter(template)
    kept: list[Unit] = []
    template_lines: set[int] = set()
    for unit in found:
        if left[unit.key] > 0:
            left[unit.key] -= 1
            template_lines.update(range(unit.first, unit.last + 1))
        else:
            kept.append(unit)
    return Answer(source, tuple(kept), frozenset(template_lines), parsed)
