"""A host user per sandbox: the UID each sandbox runs as, never shared by two live sandboxes.

The kernel keeps some counts per user and shows them to every process of that user, whatever the
namespaces: the signals pending for the user (``SigQ`` in ``/proc/<pid>/status``), the pipe buffers
it holds (``fs.pipe-user-pages-soft``), its processes (RLIMIT_NPROC). Two sandboxes of one user
would pass data through them; so each sandbox (student or reference) runs as a user of its own,
from a range of host UIDs no account uses (:data:`FIRST` to ``FIRST + COUNT``, no ``/etc/passwd``
entry needed; the group is the same number).

A UID is claimed by creating ``<kit temp parent>/uids/<uid>`` (O_CREAT | O_EXCL, see
:mod:`catkit.grading.isolation.scratch`), which holds its owner's ``<pid>-<start time>``, and freed
when the sandbox closes (:func:`release`). A claim whose owner is gone (a grader killed outright)
is taken over, and removed by the next grading run (:func:`remove_stale`); its sandbox died with
its grader (``--die-with-parent``, its PID namespace, its control group). The search starts at a
random UID, so a claim takes one or two tries in practice.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

from catkit.errors import GraderFault
from catkit.grading.isolation import scratch

FIRST = 1_900_000_000  # the kit's UIDs: FIRST <= uid < FIRST + COUNT (and as many GIDs)
COUNT = 10_000
FRESH_SECONDS = 60.0  # a claim still empty after this long was never written: its owner died first


def in_range(uid: int) -> bool:
    """Whether ``uid`` is one of the kit's sandbox users."""
    return FIRST <= uid < FIRST + COUNT


def folder() -> Path:
    """``<kit temp parent>/uids``, made on first use (private, like its parent)."""
    path = scratch.parent() / "uids"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _owner() -> str:
    return f"{os.getpid()}-{scratch.start_time('self')}"


def _write_claim(path: Path) -> bool:
    """Create the claim ``path`` for this process; False if it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, _owner().encode())
    finally:
        os.close(fd)
    return True


def claim() -> int:
    """A UID no live sandbox on this machine runs as, claimed for this process until :func:`release`.
    GraderFault if all :data:`COUNT` are taken."""
    for attempt in range(3):  # another process may remove the empty folder (or the parent) meanwhile
        try:
            uids = folder()
            offset = random.randrange(COUNT)
            stale: list[int] = []
            for index in range(COUNT):
                uid = FIRST + (offset + index) % COUNT
                if _write_claim(uids / str(uid)):
                    return uid
                if len(stale) < 8 and _is_stale(uids / str(uid)):
                    stale.append(uid)
                if stale and index >= 8:
                    break
            with _locked(uids):  # take over a claim whose owner is gone
                for uid in stale:
                    if _take_over(uids / str(uid)):
                        return uid
        except FileNotFoundError:
            if attempt == 2:
                raise GraderFault("cannot claim a user for a sandbox: its folder keeps vanishing") from None
    raise GraderFault(f"no free user for a sandbox: all {COUNT} users from {FIRST} are taken "
                      f"(see {scratch.parent() / 'uids'})")


def release(uid: int, wait: float = 5.0) -> None:
    """Free this process's claim on ``uid`` once no process runs as it (its sandbox's last
    processes die a moment after the sandbox is killed), waiting up to ``wait`` seconds; a claim
    still in use then is kept, and freed once its processes and its owner are gone. The folder (and
    the kit's parent) go when empty."""
    end = time.monotonic() + wait
    while running(uid):
        if time.monotonic() > end:
            return
        time.sleep(0.01)
    uids = scratch.parent_path() / "uids"
    path = uids / str(uid)
    try:
        if path.read_text() == _owner():
            path.unlink()
    except OSError:
        pass
    for empty in (uids, uids.parent):
        try:
            os.rmdir(empty)
        except OSError:
            break  # another claim, or another process's folder, is in it; or it is gone


def remove_stale() -> list[int]:
    """Free the claims of processes that are gone (killed before they could); return their UIDs."""
    uids = scratch.parent_path() / "uids"
    freed = []
    if uids.is_dir() and not uids.is_symlink():
        with _locked(uids):
            for path in uids.iterdir():
                if path.name.isdigit() and _is_stale(path) and _remove_if_stale(path):
                    freed.append(int(path.name))
        with contextlib.suppress(OSError):
            os.rmdir(uids)
    return freed


@contextlib.contextmanager
def _locked(uids: Path) -> Iterator[None]:
    """Only one process at a time removes claims of others (creating one needs no lock: O_EXCL)."""
    fd = os.open(uids, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _is_stale(path: Path) -> bool:
    """Whether the claim ``path`` is held by no live process (and no process runs as its UID)."""
    try:
        owner = path.read_text()
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False  # released meanwhile: the next claim may take it
    pid, _, start = owner.partition("-")
    if not pid.isdigit():
        return age > FRESH_SECONDS and not running(int(path.name))
    return scratch.start_time(pid) != start and not running(int(path.name))


def _remove_if_stale(path: Path) -> bool:
    """Remove the claim ``path`` if it is still stale (call with the lock held)."""
    if not _is_stale(path):
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True


def _take_over(path: Path) -> bool:
    return _remove_if_stale(path) and _write_claim(path)


def running(uid: int) -> bool:
    """Whether a process on the host runs as ``uid`` (checked before a claim is freed or taken over)."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        if any(line.startswith("Uid:") and str(uid) in line.split()[1:] for line in lines):
            return True
    return False
