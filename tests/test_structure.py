"""The kit's structure, checked: layers without an import circle, no private name used outside its module.

Fast: reads the source with ``ast``; nothing is imported or run.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "catkit"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name):
    """(imported kit module, names taken from it, at module level?) of one module, relative imports resolved."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    top_level = {id(node) for node in tree.body}
    guarded = set()
    for node in tree.body:  # `if TYPE_CHECKING:` imports are for annotations only
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded |= {id(child) for child in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, [], id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names = [alias.name for alias in node.names]
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
            found += [(module, [], id(node) in top_level) for module in submodules]
            found.append((base, [n for n in names if f"{base}.{n}" not in MODULES], id(node) in top_level))
    return [(module, names, top) for module, names, top in found if module.split(".")[0] == "catkit"]


def test_no_import_circle_between_the_kits_modules():
    graph = {name: {module for module, _, _ in _imports(name) if module in MODULES and module != name}
             for name in MODULES}
    for name in graph:  # drop package __init__ edges implied by submodule imports
        graph[name] = {module for module in graph[name] if not MODULES[module].name == "__init__.py"}
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for neighbour in sorted(graph[node]):
            if state.get(neighbour) == "open":
                cycles.append(path[path.index(neighbour):] + [neighbour])
            elif neighbour not in state:
                visit(neighbour, [*path, neighbour])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, f"import circles: {cycles}"


def test_no_private_name_is_used_outside_its_module():
    offenders = []
    for name in MODULES:
        for module, names, _ in _imports(name):
            offenders += [f"{name} imports {module}.{n}" for n in names if n.startswith("_") and n != "__version__"]
        tree = ast.parse(MODULES[name].read_text())
        aliases = set()  # local names bound to one of the kit's modules
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                aliases |= {alias.asname or alias.name for alias in node.names if alias.name.startswith("catkit")}
            elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("catkit")):
                aliases |= {alias.asname or alias.name for alias in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and node.value.id in aliases):
                offenders.append(f"{name} uses {node.value.id}.{node.attr}")
    assert not offenders, offenders


def test_the_layers_import_downwards_only():
    """The grading engine knows nothing of nbgrader's plugins, the course model or the command line;
    the course model knows nothing of the plugins nor of the workflow above it."""
    above = {
        "catkit.grading": ("catkit.course", "catkit.nbgrader_plugins", "catkit.workflow", "catkit.cluster",
                           "catkit.cli", "catkit.report", "catkit.nbgrader_commands", "catkit.scores",
                           "catkit.similarity"),
        "catkit.course": ("catkit.nbgrader_plugins", "catkit.workflow", "catkit.cluster", "catkit.cli",
                          "catkit.report", "catkit.nbgrader_commands", "catkit.similarity"),
        "catkit.nbgrader_plugins": ("catkit.workflow", "catkit.cluster", "catkit.cli", "catkit.report",
                                    "catkit.similarity"),
        "catkit.nbgrader_commands": ("catkit.workflow", "catkit.cluster", "catkit.cli", "catkit.report"),
        "catkit.cluster": ("catkit.workflow", "catkit.cli", "catkit.report"),
        "catkit.workflow": ("catkit.cluster", "catkit.cli", "catkit.report"),
    }
    wrong = []
    for name in MODULES:
        for layer, forbidden in above.items():
            if name == layer or name.startswith(layer + "."):
                wrong += [f"{name} imports {module}" for module, _, _ in _imports(name)
                          if any(module == f or module.startswith(f + ".") for f in forbidden)]
    assert not wrong, wrong
