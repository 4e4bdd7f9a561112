"""The `catkit data` commands, run in a course root: clear errors with exit status 2, never a traceback."""

import functools
import shutil
from pathlib import Path

import pytest

from conftest import ASSIGNMENT, REPO, assert_clean_failure, catkit

pytestmark = pytest.mark.slow

clean_failure = functools.partial(assert_clean_failure, one_line=True)  # these errors are one line each
SHIPPED = "209 training pictures (72 cats), 50 test pictures (33 cats)"


def course_copy(root):
    """A course root: the assignments' source folders and the nbgrader configuration."""
    shutil.copytree(REPO / "source", root / "source")
    shutil.copy(REPO / "nbgrader_config.py", root)
    return root


def test_data_check_accepts_the_shipped_data(tmp_path):
    result = catkit("data", "check", "source/logistic_regression/data", cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert SHIPPED in result.stdout
    root = course_copy(tmp_path / "course")
    result = catkit("data", "check", cwd=root)  # no DIR, no CATVNONCAT_DATA: the course's bundled folder
    assert result.returncode == 0, result.stderr
    assert SHIPPED in result.stdout and str(Path("source") / ASSIGNMENT / "data") in result.stdout
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(REPO / "source" / ASSIGNMENT / "data", elsewhere)
    result = catkit("data", "check", cwd=root, env_data=elsewhere)  # the folder the notebook would load
    assert result.returncode == 0, result.stderr
    assert SHIPPED in result.stdout


def test_missing_data_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    clean_failure(catkit("data", "check", cwd=tmp_path / "empty"), "is not a course root", "nbgrader_config.py")
    clean_failure(catkit("demo", cwd=tmp_path / "empty"), "is not a course root")
    root = course_copy(tmp_path / "course")
    shutil.rmtree(root / "source" / ASSIGNMENT / "data")
    clean_failure(catkit("data", "check", cwd=root), "Cannot find the data set", "CATVNONCAT_DATA",
                         "catkit data synth")
    clean_failure(catkit("demo", cwd=root), "Cannot find the data set")
    clean_failure(catkit("data", "check", "missing_dir", cwd=root), "Cannot find the data set", "missing_dir")


def test_corrupt_h5_is_a_clear_error(tmp_path):
    root = course_copy(tmp_path / "course")
    data = root / "data"
    data.mkdir()
    shutil.copy(REPO / "source" / ASSIGNMENT / "data" / "test_catvnoncat.h5", data)
    (data / "train_catvnoncat.h5").write_bytes(b"\x89HDF\r\n not really" * 100)
    clean_failure(catkit("data", "check", "data", cwd=root), "train_catvnoncat.h5", "not a valid HDF5 file")


def test_from_photos_with_a_missing_folder_is_a_clear_error(tmp_path):
    root = course_copy(tmp_path / "course")
    result = catkit("data", "from-photos", "--cat", "nowhere", "--non-cat", "nowhere",
                    "--out", str(tmp_path / "out"), cwd=root)
    clean_failure(result, "nowhere", "does not exist")
    assert not (tmp_path / "out" / "train_catvnoncat.h5").exists()


def test_from_photos_builds_a_set_and_never_overwrites_one(tmp_path):
    import numpy as np
    from PIL import Image
    root = course_copy(tmp_path / "course")
    rng = np.random.default_rng(0)
    for kind in ("cats", "others"):
        (root / kind).mkdir()
        for i in range(4):
            pixels = rng.integers(0, 256, size=(40 + 10 * i, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / kind / f"{i}.png")
    args = ["data", "from-photos", "--cat", "cats", "--non-cat", "others", "--out", "built"]
    first = catkit(*args, cwd=root)
    assert first.returncode == 0, first.stderr
    assert catkit("data", "check", "built", cwd=root).returncode == 0
    before = (root / "built" / "train_catvnoncat.h5").read_bytes()
    clean_failure(catkit(*args, cwd=root), "--overwrite")
    assert (root / "built" / "train_catvnoncat.h5").read_bytes() == before
    # Without --out: the course's bundled data folder, which exists, so it is kept.
    bundled = root / "source" / ASSIGNMENT / "data" / "train_catvnoncat.h5"
    shipped = bundled.read_bytes()
    clean_failure(catkit(*args[:-2], cwd=root), "--overwrite", str(Path("source") / ASSIGNMENT / "data"))
    assert bundled.read_bytes() == shipped
    # An unreadable photo is named.
    (root / "cats" / "broken.jpg").write_bytes(b"not a jpeg")
    clean_failure(catkit(*args, "--overwrite", cwd=root), "broken.jpg")
    assert (root / "built" / "train_catvnoncat.h5").read_bytes() == before


def test_synth_rebuilds_the_bundled_set_of_the_course(tmp_path):
    root = course_copy(tmp_path / "course")
    bundled = root / "source" / ASSIGNMENT / "data"
    shutil.rmtree(bundled)
    result = catkit("data", "synth", cwd=root)
    assert result.returncode == 0, result.stderr
    for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"):
        assert (bundled / name).read_bytes() == (REPO / "source" / ASSIGNMENT / "data" / name).read_bytes()
    result = catkit("data", "synth", "--out", "other", "--seed", "1", cwd=root)
    assert result.returncode == 0, result.stderr
    assert (root / "other" / "train_catvnoncat.h5").is_file()
