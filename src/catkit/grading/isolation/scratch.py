"""The kit's temporary folders: under one parent named for the kit, one folder per grading process.

Everything the kit makes on disk while grading lives in ``<tmp>/catkit-<uid>/`` (``<tmp>`` is
``tempfile.gettempdir()``: ``$TMPDIR``, else ``/tmp``), so an operator sees it in one place:

- ``<pid>-<start>/`` for each process that grades (a grading process of nbgrader, of a Dask worker),
  named by its process id and start time, holding a folder per sandbox it runs (the sandbox's
  working folder on the host; the sandbox itself sees only its own tmpfs);
- ``uids/``, the claims on the users the sandboxes run as (one file per live sandbox, see
  :mod:`catkit.grading.isolation.users`);
- nothing else: output the kit keeps per sandbox or test cell is in unnamed files, which vanish with
  their last descriptor.

A process removes its folder when it ends normally; a sandbox removes its own when it closes. A
process killed outright (``kill -9``, the OOM killer) cannot: the next grading run on the machine
removes the folders whose process is gone (:func:`remove_stale`), as it removes their control
groups.
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
from pathlib import Path

from catkit.errors import GraderFault

_own: Path | None = None  # this process's folder, made on first use


def parent_path() -> Path:
    """``<tmp>/catkit-<uid>``, whether it exists or not."""
    return Path(tempfile.gettempdir()) / f"catkit-{os.geteuid()}"


def parent() -> Path:
    """``<tmp>/catkit-<uid>``: made private (0700) on first use, and refused unless it is this user's
    own folder (not a link, nobody else may write in it)."""
    folder = parent_path()
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        found = os.lstat(folder)
    except OSError as error:
        raise GraderFault(f"cannot make the kit's temporary folder {folder}: {error}") from None
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.geteuid() or found.st_mode & 0o022:
        raise GraderFault(f"{folder} is not a private folder of this user (a link, another user's, or writable "
                          "by others): remove it, or set TMPDIR to another folder")
    return folder


def start_time(pid: int | str) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (None if there is no such process):
    with the pid, it names one process, even after the pid is reused."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat_line.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command's name


def process_folder() -> Path:
    """This process's folder, ``<parent>/<pid>-<start>``; removed when the process ends normally."""
    global _own
    if _own is None or not _own.is_dir():
        for attempt in range(3):  # another process may remove the parent, empty, at that moment
            folder = parent() / f"{os.getpid()}-{start_time('self')}"
            try:
                folder.mkdir(mode=0o700, exist_ok=True)
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise GraderFault(f"cannot make the kit's temporary folder {folder}") from None
        if _own is None:
            atexit.register(remove_own)
        _own = folder
    return _own


def new_folder(prefix: str) -> Path:
    """A fresh folder in this process's folder (its caller removes it)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=process_folder()))


def remove_own() -> None:
    """Remove this process's folder, and the parent when no other process uses it."""
    global _own
    if _own is not None:
        shutil.rmtree(_own, ignore_errors=True)
        _own = None
        for empty in (parent_path() / "uids", parent_path()):
            try:
                os.rmdir(empty)
            except OSError:
                pass  # another process's folder (or a claim) is in it, or it is gone already


def remove_stale() -> list[Path]:
    """Remove the folders of processes that are gone (killed before they could); return them."""
    folder = parent_path()
    removed = []
    if folder.is_dir() and not folder.is_symlink():
        for entry in folder.iterdir():
            pid, _, start = entry.name.partition("-")
            if pid.isdigit() and start_time(pid) != start:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed
