"""Write a cat / non-cat data set in the course's HDF5 schema, checked by the students' own loader.

The schema (the original course files'):

    train_catvnoncat.h5: train_set_x (m_train, px, px, 3) uint8, train_set_y (m_train,) int64, list_classes (2,) S7
    test_catvnoncat.h5:  test_set_x (m_test, px, px, 3) uint8,   test_set_y (m_test,) int64,   list_classes (2,) S7

The schema is checked in one place only: the students' loader ``lr_utils.py``, a standalone file that
lives in the course (in the logistic-regression assignment's source folder, copied next to the students'
notebook). The caller gives its path to :func:`load_lr_utils`; catkit never looks for it beside itself.
"""

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import h5py
import numpy as np
import numpy.typing as npt

from catkit.errors import CatkitError

_MODULE_PREFIX = "catkit_lr_utils_"


def load_lr_utils(path: Path) -> ModuleType:
    """Return the lr_utils module in the file `path`, loaded once per resolved path.

    It is registered in sys.modules under a name derived from the path, so that its DatasetError is one
    class for every caller that loads the same file. Raises CatkitError if there is no such file.
    """
    resolved = Path(path).resolve()
    name = _MODULE_PREFIX + hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    if not resolved.is_file():
        raise CatkitError(f"Cannot load the data loader {path}: there is no such file. It belongs to the course "
                          "(the logistic-regression assignment's source folder): run catkit in the course root.")
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise CatkitError(f"Cannot load the data loader {path}: Python does not recognise it as a module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it, as an import does
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def write_dataset(out_dir: str | os.PathLike[str], train_x: npt.ArrayLike, train_y: npt.ArrayLike,
                  test_x: npt.ArrayLike, test_y: npt.ArrayLike, classes: Iterable[str | bytes] = (b"non-cat", b"cat"),
                  *, lr_utils: ModuleType) -> tuple[Path, Path]:
    """Write train_catvnoncat.h5 and test_catvnoncat.h5 into `out_dir` and check them with lr_utils.

    Arguments:
    out_dir -- directory to write to (created if missing); existing files of the same name are replaced
    train_x, test_x -- uint8 arrays of shape (m, px, px, 3)
    train_y, test_y -- 0/1 integer labels of shape (m,) or (1, m); stored as int64 (m,)
    classes -- the two class names, index 0 = label 0; stored as a byte-string array (S7 for the default)
    lr_utils -- the students' loader module (see load_lr_utils), which checks the files written

    Returns (train_path, test_path). Files are written to a temporary folder, checked by
    lr_utils.load_dataset, and only then moved into place, so a failure never leaves a half-written
    file nor replaces a good one. Raises lr_utils.DatasetError if the arrays do not fit the schema.
    """
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
        detail = str(err).replace(f"{tmp_dir}{os.sep}", "")
        raise lr_utils.DatasetError(f"Nothing was written to {out_dir}: {detail}") from None
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    if (out_dir / lr_utils.SINGLE_FILE).exists():
        warnings.warn(f"{out_dir / lr_utils.SINGLE_FILE} exists, and lr_utils reads it instead of the files just "
                      "written: remove it to use them.", stacklevel=2)
    return out_dir / lr_utils.TRAIN_FILE, out_dir / lr_utils.TEST_FILE


def _labels(y: npt.ArrayLike) -> np.ndarray:
    """Turn (1, m) labels into (m,); cast integer/bool labels to int64 (anything else is left for lr_utils)."""
    y = np.asarray(y)
    y = y[0] if y.ndim == 2 and y.shape[0] == 1 else y
    return y.astype(np.int64) if y.dtype.kind in "biu" else y


def _put(h5: h5py.File, key: str, array: np.ndarray) -> None:
    """Store one array, compressed and without timestamps so that equal inputs give equal files."""
    h5.create_dataset(key, data=array, compression="gzip", track_times=False)
