"""Where things live in the course notebook: graded functions, their cells and test cells."""

import ast

FUNCTIONS = ("sigmoid", "initialize_with_zeros", "propagate", "optimize", "predict", "model")

# What every function's cell may rely on, inside the sandbox and in the reference namespace.
PREAMBLE = "import copy\nimport math\nimport numpy as np\n"

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"


def relies_on(function):
    """The graded functions ``function`` may call: those the notebook defines before it. Their
    reference versions stand in for the student's while ``function`` is graded (no cascades),
    and no later one is offered (it could compute ``function`` itself, e.g. ``propagate`` from
    ``optimize``)."""
    return FUNCTIONS[:FUNCTIONS.index(function)]


def function_of(grade_id):
    """The graded function a test cell scores, from its grade_id prefix (None if no match)."""
    matches = [name for name in FUNCTIONS if grade_id.startswith(name)]
    return max(matches, key=len) if matches else None


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_cell_id(function):
    return f"{function}_solution"


def _defines(source, function):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.FunctionDef) and node.name == function for node in tree.body)


def function_source(nb, function):
    """Source of the cell that defines ``function``: its solution cell, or else the last code
    cell with a top-level ``def function`` (a student may have broken the cell's metadata)."""
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code_cells:
        if grade_id(cell) == solution_cell_id(function):
            return cell.source
    defining = [cell.source for cell in code_cells if _defines(cell.source, function)]
    return defining[-1] if defining else None


def is_hidden(source):
    return BEGIN_HIDDEN in source
