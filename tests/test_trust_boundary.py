"""The trust boundary of the grading engine, checked statically (fast, no sandbox started).

Only catkit/grading/sandboxed runs inside a sandbox, next to student code, and it is the only kit
code mounted there: it must import nothing but the standard library, numpy and its own modules
(relatively, so that it works as ``sandboxed`` in the sandbox), and the bubblewrap command must
bind no other kit path. The six configurable limits are declared once, each with its help text.
"""

import ast
import dataclasses
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

import catkit
from catkit.grading import layout, limits
from catkit.grading.isolation import launch, users
from catkit.grading.job import Settings

KIT = Path(catkit.__file__).resolve().parent
SANDBOXED = KIT / "grading" / "sandboxed"
MODULES = sorted(SANDBOXED.glob("*.py"))


def _imports(path):
    """(line, imported module, relative level) of every import statement of the module at ``path``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", node.level


def test_the_sandboxed_package_has_the_modules_the_zygote_loads():
    assert {path.stem for path in MODULES} == {"__init__", "zygote", "student", "oracle", "wire"}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_sandboxed_code_imports_only_the_standard_library_numpy_and_itself_relatively(path):
    forbidden = [f"line {line}: {module}" for line, module, level in _imports(path)
                 if level == 0 and module.split(".")[0] not in {*sys.stdlib_module_names, "numpy"}]
    assert forbidden == [], f"{path.name} imports what the sandbox does not hold"


@pytest.mark.slow
def test_the_sandboxed_package_imports_alone_as_a_top_level_package(tmp_path):
    """A copy of the folder, alone on sys.path (as in the sandbox): every module imports, and no
    module of the kit is loaded (the editable install would otherwise let ``catkit`` slip in)."""
    shutil.copytree(SANDBOXED, tmp_path / "sandboxed")
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); "
             "import sandboxed.zygote, sandboxed.student, sandboxed.oracle, sandboxed.wire; "
             "print(sorted(name for name in sys.modules if name.split('.')[0] in ('catkit', 'sandboxed')))")
    result = subprocess.run([sys.executable, "-I", "-c", probe, str(tmp_path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['sandboxed',", "'sandboxed.oracle',", "'sandboxed.student',",
                                     "'sandboxed.wire',", "'sandboxed.zygote']"]


def _bubblewrap_command(monkeypatch):
    """The argv that starts a student sandbox with bubblewrap (computed; nothing is run)."""
    monkeypatch.setattr(launch, "bubblewrap", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr(launch.shutil, "which", lambda name: f"/usr/bin/{name}")
    return launch.command("bwrap", "student", 3, 4, uid=users.FIRST + 7)


def _binds(argv):
    """(option, source, target) of every bind of a bubblewrap argv, up to its ``--``."""
    argv = argv[:argv.index("--")]
    return [(argv[i], argv[i + 1], argv[i + 2]) for i, option in enumerate(argv)
            if option.startswith("--") and "bind" in option]


def test_the_sandbox_binds_no_kit_path_but_the_sandboxed_folder(monkeypatch):
    binds = _binds(_bubblewrap_command(monkeypatch))
    assert binds and {option for option, _, _ in binds} == {"--ro-bind"}, "a bind that is not read-only"
    kit = [(Path(source).resolve(), target) for _, source, target in binds
           if Path(source).resolve().is_relative_to(KIT) or KIT.is_relative_to(Path(source).resolve())]
    assert kit == [(SANDBOXED, f"{launch.MOUNT}/sandboxed")]


def test_the_zygote_is_started_from_the_sandboxed_package_alone(monkeypatch):
    argv = _bubblewrap_command(monkeypatch)
    assert argv[-8:] == [sys.executable, "-I", "-c", launch.ZYGOTE_ENTRY, launch.MOUNT, "student", "3", "isolated"]
    uid = users.FIRST + 7  # a user of the sandbox's own, user and group
    assert argv[argv.index("--") + 1:argv.index("--") + 6] == [
        "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs"]
    with pytest.raises(ValueError, match="a user of its own"):
        launch.command("bwrap", "student", 3, 4)
    assert "from sandboxed.zygote import main" in launch.ZYGOTE_ENTRY and "catkit" not in launch.ZYGOTE_ENTRY
    # Without bubblewrap, the same package, from the host's folder.
    assert launch.command("none", "student", 3)[4:] == [str(SANDBOXED.parent), "student", "3", "shared"]


def test_every_limit_is_documented_where_it_is_declared():
    for limit in dataclasses.fields(limits.Limits):
        assert isinstance(limit.metadata.get("help"), str) and limit.metadata["help"].strip(), limit.name
    assert limits.LIMIT_NAMES == ("timeout", "cell_time_limit", "submission_budget", "memory_limit_mb",
                                  "cpu_limit_seconds", "max_processes")
    assert limits.limit_types() == {"timeout": float, "cell_time_limit": float, "submission_budget": float,
                                    "memory_limit_mb": int, "cpu_limit_seconds": int, "max_processes": int}


def test_a_notebook_may_set_exactly_the_declared_limits():
    assert tuple(layout.LIMITS) == limits.LIMIT_NAMES
    every = {name: 7 for name in limits.LIMIT_NAMES}
    nb = new_notebook(cells=[new_code_cell("def f(x):\n    return x\n")], metadata={"catkit": {"limits": every}})
    read = layout.layout_of(nb).limits
    assert dict(read) == every and all(type(value) is limits.limit_types()[name] for name, value in read)
    settings = Settings().with_limits(read)
    assert all(getattr(settings.limits, name) == 7 for name in limits.LIMIT_NAMES)


def test_settings_are_hashable_and_picklable():
    settings = Settings(mode="none", cgroups=False).with_limits({"timeout": 2.0})
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert hash(settings) == hash(Settings("none", False).with_limits([("timeout", 2.0)]))
