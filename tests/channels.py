"""Two live student sandboxes at once, for the tests of channels between sandboxes (test_channels.py).

A :class:`Pair` starts two student sandboxes, as two submissions graded at the same moment are,
and defines a student's cell in each: ``send`` and ``receive`` call its function ``f`` there.
The test is the clock: it sets a bit in the sender, then asks the receiver what it sees, bit by
bit, so no verdict depends on the machine's speed (waits inside the sandboxes are bounded, as a
backstop only).

``without`` (seccomp rules to leave out), ``unmasked`` (no /proc masks) and ``same_user`` (both
sandboxes run as one user, as they all ran as ``nobody`` once) start the pair with a protection
removed, to show that data crosses without it: the sandbox is then started with
``seccomp.filter_fd(without=...)``, ``launch.command(masked=())``, or ``users.claim`` answering one
UID the pair claimed (and ``users.release`` leaving it), patched in only while these two sandboxes
start (a sandbox reads its filter, its argv and its user once, when it starts).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

from catkit.grading import remote
from catkit.grading.isolation import handle, launch, seccomp, users
from catkit.grading.isolation.handle import SandboxHandle
from catkit.grading.job import Settings
from conftest import PREAMBLE


class OwnSandbox(remote.StudentSandbox):
    """A student sandbox started with the given seccomp rules left out, /proc masks, and user
    (``uid``: that one rather than a user of its own) (never a spare of handle.student_sandbox,
    which later tests would get)."""

    def __init__(self, settings: Settings, without: Collection[str] = (), unmasked: bool = False,
                 uid: int | None = None) -> None:
        super().__init__(settings)
        self.without, self.unmasked, self.uid = tuple(without), unmasked, uid

    def get(self) -> SandboxHandle:
        if self.sandbox is None or not self.sandbox.alive():
            self.discard()
            with _protections(self.without, self.unmasked, self.uid):
                self.sandbox = SandboxHandle("student", self.settings).ready()
            if self.uid is not None:
                self.sandbox.uid = None  # the pair's user: the pair frees it, once both sandboxes are closed
            self.baseline = self.sandbox.processes()
        return self.sandbox


@contextlib.contextmanager
def _protections(without: Collection[str], unmasked: bool, uid: int | None = None) -> Iterator[None]:
    real_filter, real_command = seccomp.filter_fd, launch.command
    real_claim, real_release = users.claim, users.release
    if without:
        seccomp.filter_fd = functools.partial(real_filter, without=without)  # type: ignore[assignment]
    if unmasked:
        launch.command = functools.partial(real_command, masked=(), masked_folders=())  # type: ignore[assignment]
    if uid is not None:
        users.claim = lambda: uid  # type: ignore[assignment]
        users.release = lambda uid, wait=0.0: None  # type: ignore[assignment]
    try:
        yield
    finally:
        seccomp.filter_fd, launch.command = real_filter, real_command  # type: ignore[assignment]
        users.claim, users.release = real_claim, real_release  # type: ignore[assignment]


class Pair:
    """Two sandboxes, each with the student's cell ``source`` defined, alive together."""

    def __init__(self, source: str, settings: Settings, without: Collection[str] = (), unmasked: bool = False,
                 same_user: bool = False) -> None:
        self.settings = settings
        self.shared_uid = users.claim() if same_user else None  # claimed for both, freed by close
        self.sandboxes = [OwnSandbox(settings, without, unmasked, self.shared_uid) for _ in range(2)]
        self.sessions: list[remote.CellSession] = []
        references = handle.reference_sandbox(settings, PREAMBLE, {})
        try:
            for sandbox in self.sandboxes:
                deadline = time.monotonic() + settings.limits.cell_time_limit
                self.sessions.append(remote.load(sandbox, references, settings, PREAMBLE, source, "f", (),
                                                 deadline, "used up the time of the cell"))
        except BaseException:
            self.close()
            raise
        self.send: Callable[..., Any] = remote.RemoteFunction(self.sessions[0], "f")
        self.receive: Callable[..., Any] = remote.RemoteFunction(self.sessions[1], "f")

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        for sandbox in self.sandboxes:
            sandbox.close()
        if self.shared_uid is not None:
            users.release(self.shared_uid)
            self.shared_uid = None


@contextlib.contextmanager
def pair(source: str, settings: Settings, without: Collection[str] = (), unmasked: bool = False,
         same_user: bool = False) -> Iterator[Pair]:
    both = Pair(source, settings, without, unmasked, same_user)
    try:
        yield both
    finally:
        both.close()


def to_bits(message: bytes) -> list[int]:
    return [(byte >> (7 - index)) & 1 for byte in message for index in range(8)]


def from_bits(bits: list[int]) -> bytes:
    return bytes(sum(bit << (7 - index) for index, bit in enumerate(bits[start:start + 8]))
                 for start in range(0, len(bits) - 7, 8))
