"""catkit installed from a wheel (pip install ., not -e): it finds everything about the exercise through the course.

The wheel is built from a copy of the repository's files (nothing is written into the repository) and
installed without its dependencies into a fresh virtual environment; the dependencies come from this
environment's site-packages through a .pth file holding its path. A plain path line in a .pth file adds
the folder to sys.path without processing the .pth files in it, so the repository's editable install of
catkit stays inactive there: the installed wheel is what runs.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BUILD_LEFTOVERS = ("build", "dist", "src/*.egg-info")  # what setuptools would leave in the tree it builds


def _run(command, **options):
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, **options)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _leftovers():
    return {path for pattern in BUILD_LEFTOVERS for path in REPO.glob(pattern)}


def _copy_of_the_repository(dest):
    """The repository's files as they are now (tracked, and new ones not ignored), without .git and .venv."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO).stdout
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():  # a tracked file deleted in the work tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The bin folder of a fresh virtual environment holding catkit installed from a wheel of the repository."""
    tmp = tmp_path_factory.mktemp("wheel")
    before = _leftovers()
    source = _copy_of_the_repository(tmp / "source")
    # Build isolation: pip installs the declared build requirements (setuptools>=77) in a throwaway environment.
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"), str(source)])
    assert _leftovers() <= before, "building the wheel wrote into the repository"
    (wheel,) = (tmp / "dist").glob("catkit-*.whl")

    env = tmp / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env)])
    python = env / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)])
    site_packages = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])  # this environment's
    (site_packages / "catkit_test_dependencies.pth").write_text("".join(f"{path}\n" for path in ours))

    where = _run([python, "-c", "import catkit, catkit.datasets.commands, h5py; print(catkit.__file__)"],
                 cwd=tmp).stdout.strip()
    assert Path(where).is_relative_to(env), f"catkit was imported from {where}, not from the wheel in {env}"
    return env / "bin"


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """An empty folder, and a course root: the assignments' source folders and the nbgrader configuration."""
    tmp = tmp_path_factory.mktemp("places")
    (tmp / "empty").mkdir()
    shutil.copytree(REPO / "source", tmp / "course" / "source")
    shutil.copy(REPO / "nbgrader_config.py", tmp / "course")
    return {"empty": tmp / "empty", "course": tmp / "course"}


def catkit(installed, *args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("CATVNONCAT_DATA", "PYTHONPATH")}
    env["PATH"] = str(installed) + os.pathsep + env.get("PATH", "")
    return subprocess.run([str(installed / "catkit"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


BAD_INPUTS = {
    "report outside a course": ("empty", ["report", "nothing"], "is not a course root"),
    "data check outside a course": ("empty", ["data", "check"], "is not a course root"),
    "unknown assignment": ("course", ["grade", "no_such_assignment", "--submissions", "x"], "no_such_assignment"),
    "missing data folder": ("course", ["data", "check", "missing_dir"], "missing_dir"),
}


@pytest.mark.parametrize("place, args, phrase", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_one_clear_line(installed, places, place, args, phrase):
    result = catkit(installed, *args, cwd=places[place])
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("catkit: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert phrase in result.stderr, result.stderr


def test_data_check_finds_the_loader_and_the_data_through_the_course(installed, places):
    result = catkit(installed, "data", "check", cwd=places["course"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Data set OK (source/logistic_regression/data): 209 training pictures"), result
