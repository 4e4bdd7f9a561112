"""Write a cat / non-cat data set in the course's HDF5 schema, checked by the students' own loader.

The schema (the original course files'):

    train_catvnoncat.h5: train_set_x (m_train, px, px, 3) uint8, train_set_y (m_train,) int64, list_classes (2,) S7
    test_catvnoncat.h5:  test_set_x (m_test, px, px, 3) uint8,   test_set_y (m_test,) int64,   list_classes (2,) S7

The schema is checked in one place only: ``source/logistic_regression/lr_utils.py``, which this
module imports by file path (it is a standalone file copied next to the students' notebook).
"""

import importlib.util
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np

LR_UTILS_PATH = Path(__file__).resolve().parents[3] / "source" / "logistic_regression" / "lr_utils.py"
_MODULE_NAME = "catkit_lr_utils"


def load_lr_utils():
    """Return the students' lr_utils module (loaded once, from LR_UTILS_PATH in the repository)."""
    if _MODULE_NAME not in sys.modules:
        if not LR_UTILS_PATH.is_file():
            raise FileNotFoundError(f"catkit needs {LR_UTILS_PATH} to check data sets; "
                                    "install catkit in editable mode (pip install -e .) from the course repository.")
        spec = importlib.util.spec_from_file_location(_MODULE_NAME, LR_UTILS_PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE_NAME] = module  # registered so its DatasetError is one class for every caller
        spec.loader.exec_module(module)
    return sys.modules[_MODULE_NAME]


def write_dataset(out_dir, train_x, train_y, test_x, test_y, classes=(b"non-cat", b"cat")):
    """Write train_catvnoncat.h5 and test_catvnoncat.h5 into `out_dir` and check them with lr_utils.

    Arguments:
    out_dir -- directory to write to (created if missing); existing files of the same name are replaced
    train_x, test_x -- uint8 arrays of shape (m, px, px, 3)
    train_y, test_y -- 0/1 integer labels of shape (m,) or (1, m); stored as int64 (m,)
    classes -- the two class names, index 0 = label 0; stored as a byte-string array (S7 for the default)

    Returns (train_path, test_path). Files are written to a temporary folder, checked by
    lr_utils.load_dataset, and only then moved into place, so a failure never leaves a half-written
    file nor replaces a good one. Raises lr_utils.DatasetError if the arrays do not fit the schema.
    """
    lr_utils = load_lr_utils()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    list_classes = np.array([c.encode() if isinstance(c, str) else bytes(c) for c in classes])
    parts = {lr_utils.TRAIN_FILE: ("train", train_x, train_y), lr_utils.TEST_FILE: ("test", test_x, test_y)}

    # The temporary folder is inside out_dir so that the final rename stays on one file system.
    tmp_dir = Path(tempfile.mkdtemp(prefix=".writing-", dir=out_dir))
    try:
        for name, (kind, x, y) in parts.items():
            with h5py.File(tmp_dir / name, "w") as h5:
                _put(h5, f"{kind}_set_x", np.asarray(x))
                _put(h5, f"{kind}_set_y", _labels(y))
                _put(h5, "list_classes", list_classes)
        lr_utils.load_dataset(tmp_dir)
        for name in parts:
            (tmp_dir / name).replace(out_dir / name)
    except lr_utils.DatasetError as err:  # name the file, not the temporary folder that is about to vanish
        raise lr_utils.DatasetError(f"Nothing was written to {out_dir}: " + str(err).replace(f"{tmp_dir}{os.sep}", "")) from None
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    if (out_dir / lr_utils.SINGLE_FILE).exists():
        warnings.warn(f"{out_dir / lr_utils.SINGLE_FILE} exists, and lr_utils reads it instead of the files just "
                      "written: remove it to use them.", stacklevel=2)
    return out_dir / lr_utils.TRAIN_FILE, out_dir / lr_utils.TEST_FILE


def _labels(y):
    """Turn (1, m) labels into (m,); cast integer/bool labels to int64 (anything else is left for lr_utils to reject)."""
    y = np.asarray(y)
    y = y[0] if y.ndim == 2 and y.shape[0] == 1 else y
    return y.astype(np.int64) if y.dtype.kind in "biu" else y


def _put(h5, key, array):
    """Store one array, compressed and without timestamps so that equal inputs give equal files."""
    h5.create_dataset(key, data=array, compression="gzip", track_times=False)
