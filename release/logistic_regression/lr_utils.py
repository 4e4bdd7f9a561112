"""Load the cat / non-cat pictures for the logistic-regression assignment.

Where the data is looked for (the first that applies wins):

1. the ``data_dir`` argument of :func:`load_dataset`, if you give one;
2. else the directory named by the environment variable ``CATVNONCAT_DATA``;
3. else the first directory called ``data`` that holds the files, looking in the
   current working directory, then its parent, then the parent's parent, ...

A data directory holds EITHER the two course files ``train_catvnoncat.h5``
(keys ``train_set_x``, ``train_set_y``, ``list_classes``) and
``test_catvnoncat.h5`` (keys ``test_set_x``, ``test_set_y``, ``list_classes``),
OR one file ``data.h5`` holding all five keys (used if both are present).

Every problem found (missing files, corrupt file, wrong key, shape, dtype or
labels) raises a :class:`DatasetError` that says what was expected, what was
found, where, and how to fix it.
"""

import os
from pathlib import Path

import h5py
import numpy as np

ENV_VAR = "CATVNONCAT_DATA"
TRAIN_FILE = "train_catvnoncat.h5"
TEST_FILE = "test_catvnoncat.h5"
SINGLE_FILE = "data.h5"

_FIX = (f"Fix: put {TRAIN_FILE} and {TEST_FILE} (or one {SINGLE_FILE}) in a folder called 'data' "
        f"next to your notebook, or set the environment variable {ENV_VAR} to the folder that holds them.")


class DatasetError(ValueError):
    """The data set could not be found or does not have the expected layout."""


def load_dataset(data_dir=None):
    """Load and check the cat / non-cat data set.

    Arguments:
    data_dir -- folder holding the data files; None to search (see the module docstring)

    Returns:
    train_set_x_orig -- uint8 array of shape (m_train, num_px, num_px, 3), the training images
    train_set_y -- integer array of shape (1, m_train), 1 for "cat" and 0 for "non-cat"
    test_set_x_orig -- uint8 array of shape (m_test, num_px, num_px, 3), the test images
    test_set_y -- integer array of shape (1, m_test)
    classes -- bytes array of shape (2,), the class names: classes[0] is "non-cat", classes[1] "cat"
    """
    directory = _find_data_dir(data_dir)
    if (directory / SINGLE_FILE).is_file():
        data = _read(directory / SINGLE_FILE, ["train_set_x", "train_set_y", "test_set_x", "test_set_y", "list_classes"])
        classes = data["list_classes"]
    else:
        data = _read(directory / TRAIN_FILE, ["train_set_x", "train_set_y", "list_classes"])
        train_classes = data.pop("list_classes")
        data.update(_read(directory / TEST_FILE, ["test_set_x", "test_set_y", "list_classes"]))
        classes = data["list_classes"]
        if not np.array_equal(train_classes, classes):
            raise DatasetError(f"list_classes differs between the two files in {directory}: "
                               f"{train_classes.tolist()} in {TRAIN_FILE} but {classes.tolist()} in {TEST_FILE}. "
                               "Both files must come from the same data set.")
    train_set_x_orig, train_set_y_orig = data["train_set_x"], data["train_set_y"]
    test_set_x_orig, test_set_y_orig = data["test_set_x"], data["test_set_y"]

    if train_set_x_orig.shape[1:] != test_set_x_orig.shape[1:]:
        raise DatasetError(f"train and test images in {directory} must have the same size, but train images have "
                           f"shape {train_set_x_orig.shape[1:]} and test images {test_set_x_orig.shape[1:]}.")

    train_set_y = train_set_y_orig.reshape((1, train_set_y_orig.shape[0]))
    test_set_y = test_set_y_orig.reshape((1, test_set_y_orig.shape[0]))
    return train_set_x_orig, train_set_y, test_set_x_orig, test_set_y, classes


def _has_files(directory):
    """True if `directory` holds data.h5 or both course files."""
    return (directory / SINGLE_FILE).is_file() or ((directory / TRAIN_FILE).is_file() and (directory / TEST_FILE).is_file())


def _describe(directory):
    """Say what a searched directory holds, for error messages."""
    if not directory.is_dir():
        return f"  {directory} (no such directory)"
    found = sorted(p.name for p in directory.iterdir() if p.suffix == ".h5")
    return f"  {directory} ({'holds only ' + ', '.join(found) if found else 'no .h5 files'})"


def _find_data_dir(data_dir):
    """Return the directory to read, following the search order in the module docstring."""
    if data_dir is not None:
        candidates, origin = [Path(data_dir)], "the data_dir argument"
    elif os.environ.get(ENV_VAR):
        candidates, origin = [Path(os.environ[ENV_VAR])], f"the environment variable {ENV_VAR}"
    else:
        cwd = Path.cwd().resolve()
        candidates, origin = [d / "data" for d in (cwd, *cwd.parents)], f"'data' folders from {cwd} upwards ({ENV_VAR} is not set)"
    for directory in candidates:
        if _has_files(directory):
            return directory
    searched = "\n".join(_describe(d) for d in candidates)
    raise DatasetError(f"Cannot find the data set. Expected {TRAIN_FILE} and {TEST_FILE}, or {SINGLE_FILE}, "
                       f"in a directory given by {origin}. Searched:\n{searched}\n{_FIX}")


def _read(path, keys):
    """Read `keys` from the HDF5 file `path` into a dict of arrays, checking each one."""
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise DatasetError(f"{path} is not a valid HDF5 file (it may be corrupt or only partly downloaded): {err}. "
                           "Fix: replace it with a fresh copy.") from None
    with h5:
        missing = [key for key in keys if not isinstance(h5.get(key), h5py.Dataset)]
        if missing:
            raise DatasetError(f"{path} has no dataset {', '.join(missing)}. Expected keys: {', '.join(keys)}; "
                               f"keys present: {', '.join(sorted(h5.keys())) or 'none'}.")
        data = {key: np.array(h5[key][()]) for key in keys}
    for key, array in data.items():
        _check(key, array, path)
    for kind in ("train", "test"):
        x, y = data.get(f"{kind}_set_x"), data.get(f"{kind}_set_y")
        if x is not None and y is not None and x.shape[0] != y.shape[0]:
            raise DatasetError(f"{kind}_set_x in {path} has {x.shape[0]} images but {kind}_set_y has {y.shape[0]} "
                               "labels: there must be exactly one label per image.")
    return data


def _check(key, array, path):
    """Raise DatasetError if the array stored under `key` in `path` does not have the expected layout."""
    where = f"{key} in {path}"
    if key.endswith("_x"):
        if array.ndim != 4 or array.shape[3] != 3 or array.shape[1] != array.shape[2] or 0 in array.shape:
            raise DatasetError(f"{where} has shape {array.shape} but must be (m, px, px, 3): "
                               "m >= 1 square RGB images of px x px pixels.")
        if array.dtype != np.uint8:
            raise DatasetError(f"{where} has dtype {array.dtype} but images must be uint8 (pixel values 0..255).")
    elif key.endswith("_y"):
        if array.ndim != 1 or array.shape[0] == 0:
            raise DatasetError(f"{where} has shape {array.shape} but must be (m,): one label per image.")
        if not np.issubdtype(array.dtype, np.integer):
            raise DatasetError(f"{where} has dtype {array.dtype} but labels must be integers (0 or 1).")
        bad = np.setdiff1d(array, [0, 1])
        if bad.size:
            raise DatasetError(f"{where} must hold only 0 (non-cat) and 1 (cat), but also holds {bad.tolist()}.")
    elif array.shape != (2,) or array.dtype.kind != "S":
        raise DatasetError(f"{where} has shape {array.shape} and dtype {array.dtype} but must be 2 byte strings "
                           "(shape (2,), e.g. [b'non-cat', b'cat']).")
