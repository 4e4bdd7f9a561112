"""The data layer: the students' loader lr_utils, the HDF5 writer, the synthetic default set, the photos builder."""

import argparse
import ast
import shutil
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from catkit.datasets import commands, h5io, photos, synthetic
from catkit.errors import CatkitError

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data"  # the course's real files, present beside the repository in CI
LR_UTILS_PATH = REPO / "source" / "logistic_regression" / "lr_utils.py"
lr_utils = h5io.load_lr_utils(LR_UTILS_PATH)  # the module object given to h5io and photos: one DatasetError class


def small_set(m_train=6, m_test=4, px=4):
    """A valid tiny data set as a dict of the five keys, in the files' layout (labels (m,))."""
    rng = np.random.default_rng(0)
    return {
        "train_set_x": rng.integers(0, 256, (m_train, px, px, 3), dtype=np.uint8),
        "train_set_y": np.arange(m_train, dtype=np.int64) % 2,
        "test_set_x": rng.integers(0, 256, (m_test, px, px, 3), dtype=np.uint8),
        "test_set_y": np.arange(m_test, dtype=np.int64) % 2,
        "list_classes": np.array([b"non-cat", b"cat"], dtype="S7"),
    }


def write_raw(directory, arrays):
    """Write `arrays` as the two course files with plain h5py (no checks), so that bad data can be written."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, kind in ((lr_utils.TRAIN_FILE, "train"), (lr_utils.TEST_FILE, "test")):
        with h5py.File(directory / name, "w") as h5:
            for key, array in arrays.items():
                if key.startswith(kind) or key == "list_classes":
                    h5[key] = array


def assert_loaded_equals(loaded, arrays):
    train_x, train_y, test_x, test_y, classes = loaded
    np.testing.assert_array_equal(train_x, arrays["train_set_x"])
    np.testing.assert_array_equal(train_y, arrays["train_set_y"].reshape(1, -1))
    np.testing.assert_array_equal(test_x, arrays["test_set_x"])
    np.testing.assert_array_equal(test_y, arrays["test_set_y"].reshape(1, -1))
    np.testing.assert_array_equal(classes, arrays["list_classes"])


# -- lr_utils: loading ------------------------------------------------------------------------------

def test_lr_utils_is_standalone():
    """nbgrader copies lr_utils.py next to the notebook, where catkit may not be installed."""
    tree = ast.parse(LR_UTILS_PATH.read_text())
    imported = {alias.name.split(".")[0]
                for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"numpy", "h5py", "os", "pathlib"}


def test_loads_shipped_default_set():
    train_x, train_y, test_x, test_y, classes = lr_utils.load_dataset(REPO / "source" / "logistic_regression" / "data")
    assert (train_x.shape, train_x.dtype) == ((209, 64, 64, 3), np.uint8)
    assert (test_x.shape, test_x.dtype) == ((50, 64, 64, 3), np.uint8)
    assert (train_y.shape, test_y.shape) == ((1, 209), (1, 50))
    assert train_y.dtype == test_y.dtype == np.int64
    assert (train_y.sum(), test_y.sum()) == (72, 33)
    assert set(np.unique(train_y)) == set(np.unique(test_y)) == {0, 1}
    assert classes.dtype == np.dtype("S7") and classes.tolist() == [b"non-cat", b"cat"]


def test_loads_single_data_h5(tmp_path):
    arrays = small_set()
    with h5py.File(tmp_path / "data.h5", "w") as h5:
        for key, array in arrays.items():
            h5[key] = array
    assert_loaded_equals(lr_utils.load_dataset(tmp_path), arrays)


def test_env_var_is_used_and_argument_beats_it(tmp_path, monkeypatch):
    arrays, other = small_set(), small_set(m_train=8)
    write_raw(tmp_path / "mine", arrays)
    write_raw(tmp_path / "other", other)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATVNONCAT_DATA", str(tmp_path / "mine"))
    assert_loaded_equals(lr_utils.load_dataset(), arrays)
    assert_loaded_equals(lr_utils.load_dataset(tmp_path / "other"), other)


def test_walks_up_to_the_first_data_folder_holding_the_files(tmp_path, monkeypatch):
    arrays = small_set()
    write_raw(tmp_path / "course" / "data", arrays)
    (tmp_path / "course" / "week1" / "data").mkdir(parents=True)  # a nearer data/ without the files is passed over
    nested = tmp_path / "course" / "week1" / "lab" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    monkeypatch.delenv("CATVNONCAT_DATA", raising=False)
    assert_loaded_equals(lr_utils.load_dataset(), arrays)


def test_missing_data_lists_every_directory_searched(tmp_path, monkeypatch):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "a" / "data").mkdir()
    with h5py.File(tmp_path / "a" / "data" / lr_utils.TRAIN_FILE, "w"):
        pass
    monkeypatch.chdir(nested)
    monkeypatch.delenv("CATVNONCAT_DATA", raising=False)
    with pytest.raises(lr_utils.DatasetError) as err:
        lr_utils.load_dataset()
    message = str(err.value)
    for directory in (nested / "data", tmp_path / "a" / "data", tmp_path / "data"):
        assert str(directory.resolve()) in message
    assert "holds only train_catvnoncat.h5" in message and "CATVNONCAT_DATA" in message


def test_env_var_pointing_to_a_missing_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CATVNONCAT_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(lr_utils.DatasetError, match="CATVNONCAT_DATA") as err:
        lr_utils.load_dataset()
    assert f"{tmp_path / 'nowhere'} (no such directory)" in str(err.value)


def test_corrupt_file_is_named(tmp_path):
    write_raw(tmp_path, small_set())
    (tmp_path / lr_utils.TEST_FILE).write_bytes(np.random.default_rng(1).bytes(2048))
    with pytest.raises(lr_utils.DatasetError, match="not a valid HDF5 file") as err:
        lr_utils.load_dataset(tmp_path)
    assert str(tmp_path / lr_utils.TEST_FILE) in str(err.value)


def test_missing_key_names_the_file_and_the_keys_present(tmp_path):
    arrays = small_set()
    del arrays["train_set_y"]
    write_raw(tmp_path, arrays)
    with pytest.raises(lr_utils.DatasetError) as err:
        lr_utils.load_dataset(tmp_path)
    message = str(err.value)
    assert f"{tmp_path / lr_utils.TRAIN_FILE} has no dataset train_set_y" in message
    assert "keys present: list_classes, train_set_x" in message


def with_change(key, value):
    arrays = small_set()
    arrays[key] = value
    return arrays


BAD_SETS = {
    "images not RGB": (with_change("train_set_x", np.zeros((6, 4, 4), np.uint8)),
                       "train_set_x in {dir}/train_catvnoncat.h5 has shape (6, 4, 4) but must be (m, px, px, 3)"),
    "four channels": (with_change("test_set_x", np.zeros((4, 4, 4, 4), np.uint8)), "has shape (4, 4, 4, 4)"),
    "not square": (with_change("train_set_x", np.zeros((6, 4, 5, 3), np.uint8)), "has shape (6, 4, 5, 3)"),
    "float images": (with_change("train_set_x", np.zeros((6, 4, 4, 3))), "dtype float64 but images must be uint8"),
    "float labels": (with_change("test_set_y", np.zeros(4)),
                     "test_set_y in {dir}/test_catvnoncat.h5 has dtype float64"),
    "labels (1, m)": (with_change("train_set_y", np.zeros((1, 6), np.int64)), "has shape (1, 6) but must be (m,)"),
    "label 2": (with_change("train_set_y", np.array([0, 1, 2, 1, 0, 1])),
                "must hold only 0 (non-cat) and 1 (cat), but also holds [2]"),
    "count mismatch": (with_change("train_set_y", np.array([0, 1, 0, 1, 0])),
                       "train_set_x in {dir}/train_catvnoncat.h5 has 6 images but train_set_y has 5 labels"),
    "three classes": (with_change("list_classes", np.array([b"a", b"b", b"c"])),
                      "list_classes in {dir}/train_catvnoncat.h5 has shape (3,)"),
    "str classes": (with_change("list_classes", np.array(["non-cat", "cat"], dtype=h5py.string_dtype())),
                    "must be 2 byte strings"),
    "sizes differ": (with_change("test_set_x", np.zeros((4, 8, 8, 3), np.uint8)),
                     "train images have shape (4, 4, 3) and test images (8, 8, 3)"),
}


@pytest.mark.parametrize("arrays, expected", BAD_SETS.values(), ids=BAD_SETS.keys())
def test_bad_data_gives_a_clear_error(tmp_path, arrays, expected):
    write_raw(tmp_path, arrays)
    with pytest.raises(lr_utils.DatasetError) as err:
        lr_utils.load_dataset(tmp_path)
    assert expected.format(dir=tmp_path) in str(err.value)


def test_classes_must_agree_between_the_two_files(tmp_path):
    write_raw(tmp_path, small_set())
    with h5py.File(tmp_path / lr_utils.TEST_FILE, "a") as h5:
        h5["list_classes"][...] = np.array([b"dog", b"cat"], dtype="S7")
    with pytest.raises(lr_utils.DatasetError, match="list_classes differs"):
        lr_utils.load_dataset(tmp_path)


# -- h5io ------------------------------------------------------------------------------------------

def test_load_lr_utils_loads_the_given_file_once_per_path(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    assert h5io.load_lr_utils(Path("source/logistic_regression/lr_utils.py")) is lr_utils  # the same resolved path
    assert sys.modules[lr_utils.__name__] is lr_utils and lr_utils.__name__.startswith("catkit_lr_utils_")
    shutil.copy(LR_UTILS_PATH, tmp_path / "lr_utils.py")
    other = h5io.load_lr_utils(tmp_path / "lr_utils.py")
    assert other is not lr_utils and other.DatasetError is not lr_utils.DatasetError
    assert h5io.load_lr_utils(tmp_path / "lr_utils.py") is other
    with pytest.raises(CatkitError, match="no such file"):
        h5io.load_lr_utils(tmp_path / "nowhere" / "lr_utils.py")


def test_write_dataset_writes_the_course_schema_reproducibly(tmp_path):
    arrays = small_set()
    args = (arrays["train_set_x"], arrays["train_set_y"].reshape(1, -1).astype(np.int32),
            arrays["test_set_x"], arrays["test_set_y"])
    train_path, test_path = h5io.write_dataset(tmp_path / "a", *args, lr_utils=lr_utils)
    assert_loaded_equals(lr_utils.load_dataset(tmp_path / "a"), arrays)
    with h5py.File(train_path) as h5:
        assert {key: (h5[key].shape, h5[key].dtype.str) for key in h5} == {
            "train_set_x": ((6, 4, 4, 3), "|u1"), "train_set_y": ((6,), "<i8"), "list_classes": ((2,), "|S7")}
        assert h5["train_set_x"].compression == "gzip"
        infos = [h5py.h5o.get_info(h5[key].id) for key in h5]
        # No timestamps: same input, same bytes.
        assert all(i.atime == i.mtime == i.ctime == i.btime == 0 for i in infos)
    h5io.write_dataset(tmp_path / "b", *args, lr_utils=lr_utils)
    for path in (train_path, test_path):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_failed_write_keeps_the_old_files(tmp_path):
    good = small_set()
    h5io.write_dataset(tmp_path, good["train_set_x"], good["train_set_y"], good["test_set_x"], good["test_set_y"],
                       lr_utils=lr_utils)
    expected = f"Nothing was written to {tmp_path}: train_set_y in train_catvnoncat.h5 must hold only"
    with pytest.raises(lr_utils.DatasetError, match=expected):
        h5io.write_dataset(tmp_path, good["train_set_x"] // 2, good["train_set_y"] * 2, good["test_set_x"],
                           good["test_set_y"], lr_utils=lr_utils)
    assert sorted(p.name for p in tmp_path.iterdir()) == [lr_utils.TEST_FILE, lr_utils.TRAIN_FILE]
    assert_loaded_equals(lr_utils.load_dataset(tmp_path), good)


# -- synthetic default set --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("default")
    synthetic.build_default(out, lr_utils)
    return lr_utils.load_dataset(out)


@pytest.mark.slow
def test_regenerating_gives_the_committed_default_set(regenerated):
    committed = lr_utils.load_dataset(REPO / "source" / "logistic_regression" / "data")
    for new, old in zip(regenerated, committed, strict=True):
        np.testing.assert_array_equal(new, old)


@pytest.mark.slow
def test_generator_is_deterministic_per_seed(regenerated):
    train_x, train_y, test_x, test_y = synthetic.generate(0)
    for new, old in zip((train_x, train_y, test_x, test_y), regenerated[:4], strict=True):
        np.testing.assert_array_equal(new.reshape(old.shape), old)
    assert (train_y.sum(), test_y.sum()) == (72, 33)
    other = synthetic.generate(1)
    assert not np.array_equal(other[0], train_x)
    assert (other[1].sum(), other[3].sum()) == (72, 33)


def test_example_picture_is_the_committed_one(tmp_path):
    synthetic.render_example_picture(tmp_path / "cat.png")
    new = np.asarray(Image.open(tmp_path / "cat.png"))
    assert new.shape == (256, 256, 3)
    np.testing.assert_array_equal(new, np.asarray(Image.open(REPO / "source/logistic_regression/images/my_image.png")))


# -- photos builder --------------------------------------------------------------------------------

def make_photos(folder, specs):
    """Save tiny uniform pictures: specs maps file name -> PIL Image."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, image in specs.items():
        image.save(folder / name)


CAT_PHOTOS = {
    "wide.JPG": Image.new("RGB", (80, 40), (200, 100, 50)),
    "grey.png": Image.new("L", (30, 50), 128),
    "clear.png": Image.new("RGBA", (20, 20), (255, 0, 0, 0)),
}
NONCAT_PHOTOS = {
    "palette.gif": Image.new("P", (20, 30)),
    "b.jpeg": Image.new("RGB", (33, 33), (0, 0, 255)),
    "c.webp": Image.new("RGB", (40, 10), (0, 255, 0)),
    "d.bmp": Image.new("RGB", (9, 9), (10, 20, 30)),
    "e.png": Image.new("RGB", (50, 50), (250, 250, 0)),
}


@pytest.fixture
def photo_dirs(tmp_path):
    make_photos(tmp_path / "cats", CAT_PHOTOS)
    make_photos(tmp_path / "noncats", NONCAT_PHOTOS)
    (tmp_path / "noncats" / "notes.txt").write_text("not a picture")
    (tmp_path / "noncats" / "._b.jpeg").write_bytes(b"macOS metadata, not a picture")
    return tmp_path / "cats", tmp_path / "noncats"


def test_photos_build_a_valid_stratified_set(photo_dirs, tmp_path):
    def build(out, seed):
        photos.build_from_folders(*photo_dirs, tmp_path / out, lr_utils, test_fraction=0.4, size=16, seed=seed)
    build("out", 0)
    train_x, train_y, test_x, test_y, classes = lr_utils.load_dataset(tmp_path / "out")
    assert (train_x.shape, test_x.shape) == ((5, 16, 16, 3), (3, 16, 16, 3))
    assert (train_y.sum(), test_y.sum()) == (2, 1)  # 3 cats: one to test; 5 non-cats: two to test
    assert classes.tolist() == [b"non-cat", b"cat"]
    colours = {tuple(int(v) for v in image[8, 8]) for image in np.concatenate([train_x, test_x])}
    assert {(128, 128, 128), (255, 255, 255), (0, 0, 0)} <= colours  # greyscale, transparent on white, palette
    build("again", 0)
    for new, old in zip(lr_utils.load_dataset(tmp_path / "again")[:4], (train_x, train_y, test_x, test_y), strict=True):
        np.testing.assert_array_equal(new, old)


@pytest.mark.parametrize("fraction", [0.05, 0.95])
def test_each_class_keeps_a_photo_in_each_set(photo_dirs, tmp_path, fraction):
    photos.build_from_folders(*photo_dirs, tmp_path / "out", lr_utils, test_fraction=fraction, size=4)
    _, train_y, _, test_y, _ = lr_utils.load_dataset(tmp_path / "out")
    assert set(train_y[0]) == set(test_y[0]) == {0, 1}


def test_load_photo_crops_the_centre_and_follows_exif_orientation(tmp_path):
    image = Image.new("RGB", (60, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))  # blue middle third
    image.paste((0, 255, 0), (0, 10, 60, 20))  # green bottom half
    image.save(tmp_path / "plain.png")
    pixels = photos.load_photo(tmp_path / "plain.png", size=16)
    assert pixels.shape == (16, 16, 3) and pixels.dtype == np.uint8
    # The red sides are cropped off: blue above green. (Pixels away from edges: resampling blurs those.)
    np.testing.assert_allclose(pixels[[3, 12], 8], [(0, 0, 255), (0, 255, 0)], atol=2)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": green ends up on the left
    image.save(tmp_path / "rotated.png", exif=exif)
    pixels = photos.load_photo(tmp_path / "rotated.png", size=16)
    np.testing.assert_allclose(pixels[8, [3, 12]], [(0, 255, 0), (0, 0, 255)], atol=2)


def test_missing_or_empty_photo_folders_are_errors(photo_dirs, tmp_path):
    cats, noncats = photo_dirs
    with pytest.raises(lr_utils.DatasetError, match=f"cat photo folder {tmp_path / 'missing'} does not exist"):
        photos.build_from_folders(tmp_path / "missing", noncats, tmp_path / "out", lr_utils)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no pictures")
    with pytest.raises(lr_utils.DatasetError, match="non-cat photo folder .* holds 0 image file"):
        photos.build_from_folders(cats, tmp_path / "empty", tmp_path / "out", lr_utils)
    make_photos(tmp_path / "one", {"x.png": Image.new("RGB", (5, 5))})
    with pytest.raises(lr_utils.DatasetError, match="holds 1 image file.* needs at least 2"):
        photos.build_from_folders(tmp_path / "one", noncats, tmp_path / "out", lr_utils)
    assert not (tmp_path / "out").exists()


def test_unreadable_photos_are_all_named(photo_dirs, tmp_path):
    cats, noncats = photo_dirs
    (cats / "broken.jpg").write_bytes(b"not a jpeg")
    (noncats / "truncated.png").write_bytes((noncats / "e.png").read_bytes()[:60])
    with pytest.raises(lr_utils.DatasetError, match="2 photo") as err:
        photos.build_from_folders(cats, noncats, tmp_path / "out", lr_utils)
    assert str(cats / "broken.jpg") in str(err.value) and str(noncats / "truncated.png") in str(err.value)
    assert not (tmp_path / "out" / lr_utils.TRAIN_FILE).exists()


def test_existing_files_are_only_replaced_with_overwrite(photo_dirs, tmp_path):
    photos.build_from_folders(*photo_dirs, tmp_path / "out", lr_utils, size=8)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        photos.build_from_folders(*photo_dirs, tmp_path / "out", lr_utils, size=16)
    assert lr_utils.load_dataset(tmp_path / "out")[0].shape[1] == 8
    photos.build_from_folders(*photo_dirs, tmp_path / "out", lr_utils, size=16, overwrite=True)
    assert lr_utils.load_dataset(tmp_path / "out")[0].shape[1] == 16


# -- the `catkit data` commands, in-process --------------------------------------------------------

FOLDERS = [REPO / "source" / "logistic_regression", REPO / "source" / "python_basics_numpy"]
SHIPPED = "209 training pictures (72 cats), 50 test pictures (33 cats), 64x64 pixels, classes ['non-cat', 'cat']"


def data_args(*argv):
    parser = argparse.ArgumentParser(prog="catkit")
    commands.add_data_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["data", *argv])


def test_the_data_assignment_is_the_one_folder_holding_the_loader(tmp_path):
    assert commands.data_assignment(FOLDERS) == FOLDERS[0]
    with pytest.raises(CatkitError, match="No assignment of this course holds lr_utils.py") as err:
        commands.data_assignment(FOLDERS[1:])
    assert str(FOLDERS[1]) in str(err.value)
    (tmp_path / "lr_utils.py").write_text("")
    with pytest.raises(CatkitError, match="Several assignments") as err:
        commands.data_assignment([*FOLDERS, tmp_path])
    assert str(FOLDERS[0]) in str(err.value) and str(tmp_path) in str(err.value)


def test_check_reads_the_bundled_folder_then_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("CATVNONCAT_DATA", raising=False)
    assert commands.check(None, FOLDERS) == f"Data set OK (source/logistic_regression/data): {SHIPPED}"
    write_raw(tmp_path / "mine", small_set())
    monkeypatch.setenv("CATVNONCAT_DATA", str(tmp_path / "mine"))
    assert commands.check(None, FOLDERS).startswith(f"Data set OK (CATVNONCAT_DATA={tmp_path / 'mine'}): 6 training")
    assert commands.check("source/logistic_regression/data", FOLDERS).endswith(SHIPPED)


def assert_one_line_error(args, *phrases):
    with pytest.raises(CatkitError) as err:
        commands.run(args, FOLDERS)
    message = str(err.value)
    assert "\n" not in message, message
    for phrase in phrases:
        assert phrase in message, message


def test_user_errors_are_one_line_catkit_errors(photo_dirs, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CATVNONCAT_DATA", raising=False)
    assert_one_line_error(data_args("check", "missing_dir"), "Cannot find the data set", "missing_dir (no such")
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "data.h5").write_bytes(b"not HDF5")
    assert_one_line_error(data_args("check", "corrupt"), "corrupt/data.h5 is not a valid HDF5 file")
    build = ["from-photos", "--cat", "cats", "--non-cat", "noncats", "--out", "out"]
    assert_one_line_error(data_args(*build[:2], "nowhere", *build[3:]), "cat photo folder nowhere does not exist")
    assert_one_line_error(data_args(*build, "--test-fraction", "1.5"), "--test-fraction must be between 0 and 1")
    (tmp_path / "cats" / "broken.jpg").write_bytes(b"not a jpeg")
    assert_one_line_error(data_args(*build), "1 photo(s) cannot be read; fix or remove them: cats/broken.jpg: ")
    (tmp_path / "cats" / "broken.jpg").unlink()
    (tmp_path / "file").write_text("")
    assert_one_line_error(data_args(*build[:-1], "file"), "Cannot build the data set in file", "choose another")
    commands.run(data_args(*build), FOLDERS)
    assert commands.check("out", FOLDERS).startswith("Data set OK (out): 6 training pictures (2 cats)")
    assert_one_line_error(data_args(*build), "already exist", "out/train_catvnoncat.h5", "--overwrite")
    (tmp_path / "out" / "data.h5").write_bytes(b"")
    commands.run(data_args(*build, "--overwrite"), FOLDERS)
    assert capsys.readouterr().err == (f"catkit: warning: {Path('out') / 'data.h5'} exists, and lr_utils reads it "
                                       "instead of the files just written: remove it to use them.\n")


def test_data_arguments_default_to_the_bundled_folder_at_run_time():
    assert data_args("synth").out is None and data_args("synth").seed == 0
    args = data_args("from-photos", "--cat", "a", "--non-cat", "b")
    assert (args.out, args.test_fraction, args.seed, args.overwrite) == (None, 0.2, 0, False)
    assert data_args("check").directory is None


# -- the real course data, when it is beside the repository ---------------------------------------------

@pytest.mark.skipif(not (REAL_DATA / lr_utils.TRAIN_FILE).is_file(),
                    reason=f"the real course data is not at {REAL_DATA} (it is not shipped with the repository)")
def test_loads_the_real_course_data():
    train_x, train_y, test_x, test_y, classes = lr_utils.load_dataset(REAL_DATA)
    assert (train_x.shape, test_x.shape) == ((209, 64, 64, 3), (50, 64, 64, 3))
    assert (train_y.shape, test_y.shape) == ((1, 209), (1, 50))
    assert (train_y.sum(), test_y.sum()) == (72, 33)
    assert classes.tolist() == [b"non-cat", b"cat"]
