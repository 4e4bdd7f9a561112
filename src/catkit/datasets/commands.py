"""The ``catkit data`` commands: check, rebuild and replace the logistic-regression exercise's data set.

    catkit data check [DIR]          check a data folder (default: CATVNONCAT_DATA, else the course's bundled set)
    catkit data synth [--out DIR] [--seed N]
    catkit data from-photos --cat DIR --non-cat DIR [--out DIR] [--test-fraction F] [--seed N] [--overwrite]

Everything these tools know of the exercise comes from the course they are run in, never from where
catkit is installed: the data loader is ``lr_utils.py`` in the one assignment source folder that holds
it (the data assignment), and the bundled data set is that folder's ``data/``, which nbgrader releases
with the notebook. The caller (the command line) gives the course's assignment source folders.
Relative paths are relative to the current directory (the course root). Every problem the user can
fix leaves as a one-line CatkitError.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from catkit.errors import CatkitError

LOADER = "lr_utils.py"  # the students' data loader, the one place the data set's schema is checked
DATA = "data"  # the bundled data folder, inside the data assignment's source folder


def add_data_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``data`` and its actions (check, synth, from-photos) with the sub-command parsers `commands`."""
    data = commands.add_parser("data", help="data set tools").add_subparsers(dest="action", required=True)
    check = data.add_parser("check", help="check a data folder (default: CATVNONCAT_DATA, else the bundled set)")
    check.add_argument("directory", nargs="?", default=None)
    synth = data.add_parser("synth", help="(re)build the default synthetic data set")
    synth.add_argument("--out", default=None, help="folder to write (default: the course's bundled data folder)")
    synth.add_argument("--seed", type=int, default=0)
    photos = data.add_parser("from-photos", help="build a data set from folders of photos")
    photos.add_argument("--cat", required=True, help="folder of cat photos")
    photos.add_argument("--non-cat", required=True, help="folder of non-cat photos")
    photos.add_argument("--out", default=None, help="folder to write (default: the course's bundled data folder)")
    photos.add_argument("--test-fraction", type=float, default=0.2)
    photos.add_argument("--seed", type=int, default=0)
    photos.add_argument("--overwrite", action="store_true", help="replace existing data files")


def data_assignment(assignment_folders: Sequence[Path]) -> Path:
    """The one folder among the course's assignment source folders that holds lr_utils.py."""
    holding = [Path(folder) for folder in assignment_folders if (Path(folder) / LOADER).is_file()]
    if len(holding) == 1:
        return holding[0]
    if not holding:
        looked = ", ".join(str(folder) for folder in assignment_folders) or "none: the course has no assignments"
        raise CatkitError(f"No assignment of this course holds {LOADER}, the data loader the 'catkit data' tools "
                          f"use (assignment folders looked at: {looked}). Run catkit in the root of the "
                          f"logistic-regression course, whose assignment folder holds {LOADER}.")
    raise CatkitError(f"Several assignments of this course hold {LOADER}: {', '.join(map(str, holding))}; the "
                      f"'catkit data' tools need exactly one data loader. Keep {LOADER} in one assignment only.")


def run(args: argparse.Namespace, assignment_folders: Sequence[Path]) -> None:
    """Run the ``catkit data`` action `args.action`; print what it did."""
    if args.action == "check":
        print(check(args.directory, assignment_folders))
        return
    folder = data_assignment(assignment_folders)
    lr_utils = _loader(folder)
    out = Path(args.out) if args.out is not None else _shown(folder / DATA)
    if args.action == "synth":
        from catkit.datasets.synthetic import build_default
        paths = _writing(out, lr_utils, lambda: build_default(out, lr_utils, seed=args.seed))
    elif args.action == "from-photos":
        from catkit.datasets.photos import build_from_folders
        if not 0 < args.test_fraction < 1:
            raise CatkitError(f"--test-fraction must be between 0 and 1 (exclusive), not {args.test_fraction}: "
                              "it is the share of each class's photos that goes to the test set, such as 0.2.")
        paths = _writing(out, lr_utils, lambda: build_from_folders(
            args.cat, args.non_cat, out, lr_utils, test_fraction=args.test_fraction, seed=args.seed,
            overwrite=args.overwrite))
    else:
        raise ValueError(f"unknown catkit data action {args.action!r}")  # the parser allows no other
    for path in paths:
        print(f"wrote {path}")


def check(directory: str | None, assignment_folders: Sequence[Path]) -> str:
    """Check the data set in `directory` and return the "Data set OK (...): ..." line.

    With no `directory`: the folder the notebook would load, that is the one CATVNONCAT_DATA names if
    it is set, else the course's bundled data folder.
    """
    folder = data_assignment(assignment_folders)
    lr_utils = _loader(folder)
    if directory is not None:
        where = directory
    elif os.environ.get(lr_utils.ENV_VAR):
        where = f"{lr_utils.ENV_VAR}={os.environ[lr_utils.ENV_VAR]}"
    else:
        bundled = _shown(folder / DATA)
        if not bundled.is_dir():
            raise CatkitError(f"Cannot find the data set: the course's bundled data folder {bundled} does not exist "
                              f"and {lr_utils.ENV_VAR} is not set. Fix: run 'catkit data synth' to build the default "
                              f"set there, give a folder ('catkit data check DIR'), or set {lr_utils.ENV_VAR} to the "
                              "folder that holds the data files.")
        directory = where = str(bundled)
    with _user_errors(lr_utils, f"Cannot read the data set in {where}"):
        train_x, train_y, test_x, test_y, classes = lr_utils.load_dataset(directory)
    return (f"Data set OK ({where}): {train_x.shape[0]} training pictures ({int(train_y.sum())} cats), "
            f"{test_x.shape[0]} test pictures ({int(test_y.sum())} cats), {train_x.shape[1]}x{train_x.shape[2]} "
            f"pixels, classes {[c.decode() for c in classes]}")


def _loader(folder: Path) -> ModuleType:
    from catkit.datasets.h5io import load_lr_utils
    return load_lr_utils(folder / LOADER)


def _shown(path: Path) -> Path:
    """`path` relative to the current directory (the course root) if it is inside it, for shorter messages."""
    try:
        return path.relative_to(Path.cwd()) if path.is_absolute() else path
    except ValueError:
        return path


def _writing(out: Path, lr_utils: ModuleType, build: Callable[[], tuple[Path, Path]]) -> tuple[Path, Path]:
    """Run `build`, which writes a data set into `out`: its warnings as one line each, its errors as CatkitError."""
    with warnings.catch_warnings(record=True) as caught, _user_errors(lr_utils, f"Cannot build the data set in {out}"):
        warnings.simplefilter("always", UserWarning)  # such as: a data.h5 there hides the files written
        paths = build()
    for warning in caught:
        print(f"catkit: warning: {_one_line(str(warning.message))}", file=sys.stderr)
    return paths


@contextmanager
def _user_errors(lr_utils: ModuleType, doing: str) -> Iterator[None]:
    """Turn the loader's DatasetError and file system errors into one-line CatkitErrors."""
    try:
        yield
    except lr_utils.DatasetError as error:
        raise CatkitError(_one_line(str(error))) from error
    except FileExistsError as error:  # the data set files are there and --overwrite was not given
        if error.filename is None:
            raise CatkitError(_one_line(str(error))) from error
        raise CatkitError(f"{doing}: {error.filename} exists and is not a folder. Fix: choose another --out.") \
            from error
    except OSError as error:  # a folder that cannot be created or written, a file that cannot be read
        reason = error.strerror or str(error)
        where = f" ({error.filename})" if error.filename else ""
        raise CatkitError(f"{doing}: {reason}{where}. Fix: check the path and its permissions, or choose another "
                          "folder.") from error


def _one_line(message: str) -> str:
    """The loader's multi-line messages (a list of folders searched, of unreadable photos) on one line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = lines[0] if lines else message
    for line in lines[1:]:
        text += (" " if text.endswith((":", ".", ";")) else "; ") + line
    return text
