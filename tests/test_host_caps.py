"""A sandbox's caps, measured on the host from outside: its control group holds the memory its
processes take, whatever the kind (anonymous in many processes, memfd files, System V shared
memory), and the number of its processes, whatever processes of other users (``nobody``, the user
of another sandbox) run on the host. Each cap is also shown missing without a control group (and
the process count shared with a user per sandbox removed), so these tests can fail.

The host is shared (other graders, other test suites): host memory is measured as
MemTotal - MemAvailable, sampled every 20 ms, as a rise over a baseline taken just before; a
measurement that lands on the wrong side of its bound is taken once more (an escape happens
every time, the noise of a neighbour's burst hardly twice in a row).
"""

import contextlib
import dataclasses
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from catkit.errors import GraderFault
from catkit.grading import harness, reference, remote
from catkit.grading.isolation import cgroups, handle, launch, users
from catkit.grading.job import Job
from conftest import PREAMBLE, SOURCE_NB
from test_worker import REFERENCES, SETTINGS, worker

NO_CGROUPS = cgroups.available()
pytestmark = [
    pytest.mark.slow, pytest.mark.root,
    pytest.mark.skipif(launch.resolve_mode("auto") != "bwrap",
                       reason="needs bubblewrap and root ('make setup' installs bubblewrap; CI runs as root)"),
    pytest.mark.skipif(NO_CGROUPS is not None, reason=f"no per-sandbox control groups on this host: {NO_CGROUPS}"),
]

MiB = 1 << 20
CAP_MB = 512
# What the host may show above the cap: the grader's own buffers and the kernel's bookkeeping of
# the sandbox's processes (page tables, sockets) outside its group (together a few tens of MiB
# here), and what the neighbours on a shared machine allocate meanwhile.
MARGIN_MB = 256
CAPPED = SETTINGS.with_limits({"timeout": 20, "cell_time_limit": 30, "memory_limit_mb": CAP_MB})
# Rlimits only: RLIMIT_AS per process. Its RLIMIT_NPROC (per user: the sandbox's own), raised: this
# control is about memory.
UNCAPPED = dataclasses.replace(CAPPED, cgroups=False).with_limits({"max_processes": 4096})

# Four children each write up to 1 GiB, every page (RLIMIT_AS, memory_limit_mb per process, stops each
# at about 400 MiB: it keeps what it got), and hold it together: the function waits until each
# child is ready or dead, for ``hold`` more seconds, then lets them go; their exit codes
# (-9: SIGKILL).
FORK_HOG = '''import os, select, time
def f(children, mib, hold):
    ready_r, ready_w = os.pipe()
    release_r, release_w = os.pipe()
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            os.close(release_w)
            chunks = []
            try:
                for _ in range(mib // 32):
                    chunk = np.empty(32 << 20, np.uint8)
                    chunk.fill(1)
                    chunks.append(chunk)
            except MemoryError:
                pass
            os.write(ready_w, b"r")
            os.read(release_r, 1)  # until the function lets go
            os._exit(0)
        pids.append(pid)
    codes, ready = {}, 0
    while ready + len(codes) < children:
        if select.select([ready_r], [], [], 0.02)[0]:
            ready += len(os.read(ready_r, 64))
        for pid in pids:
            if pid not in codes:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes[pid] = os.waitstatus_to_exitcode(status)
    time.sleep(hold)
    os.close(release_w)
    return [codes[pid] if pid in codes else os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
'''

# Anonymous memory first (this process is then the sandbox's biggest), then memfd files written
# with write(): never mapped, so RLIMIT_AS does not see them; 16 MiB a file (RLIMIT_FSIZE).
MEMFD_HOG = '''import os, time
def f(children, mib, hold):
    anon = np.ones(96 << 20, np.uint8)
    fds, block = [], b"x" * (8 << 20)
    for i in range(mib // 8):
        if i % 2 == 0:
            fds.append(os.memfd_create(f"hog{i}"))
        os.write(fds[-1], block)
    time.sleep(hold)
    return len(fds), int(anon[::4096].sum())
'''

# System V shared memory (the sandbox's own IPC namespace): segments written through a brief
# mapping, then detached: they outlive every mapping, and the process.
SYSV_HOG = '''import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
def f(children, mib, hold):
    anon = np.ones(96 << 20, np.uint8)
    segments = []
    for _ in range(mib // 32):
        segment = libc.shmget(0, 32 << 20, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
        if segment < 0:
            raise OSError(ctypes.get_errno(), "shmget")
        address = libc.shmat(segment, None, 0)
        ctypes.memset(address, 1, 32 << 20)
        libc.shmdt(address)
        segments.append(segment)
    time.sleep(hold)
    return len(segments), int(anon[::4096].sum())
'''

ATTACKS = {"fork": (FORK_HOG, (4, 1024, 1.0)), "memfd": (MEMFD_HOG, (0, 1200, 1.0)),
           "sysv": (SYSV_HOG, (0, 1200, 1.0))}

# A correct function of the next cell: it needs memory of its own, well within the cap.
NEXT_MB = 192
NEXT_CELL = f"def f(x):\n    return int(np.ones({NEXT_MB} << 20, np.uint8).sum()) + x\n"


def host_memory_in_use():
    info = {}
    with open("/proc/meminfo") as handle:
        for line in handle:
            key, value = line.split(":")
            info[key] = int(value.split()[0]) * 1024
    return info["MemTotal"] - info["MemAvailable"]


def _read_number(folder, names, key=None):
    """The first of ``names`` that ``folder`` holds, as a number (``key``: the line of a key-value file)."""
    for name in names:
        try:
            text = (Path(folder) / name).read_text()
        except OSError:
            continue
        if key is None:
            return int(text.split()[0])
        for line in text.splitlines():
            if line.split()[:1] == [key]:
                return int(line.split()[1])
    return None


class Watch:
    """A thread sampling, every 20 ms, the host's memory in use and the control group of the
    student sandbox (whichever is current): its memory peak, the processes the kernel killed for
    going over it, its processes and its refused forks."""

    def __init__(self, students):
        self.students = students
        self.baseline = statistics.median(self._pause(host_memory_in_use) for _ in range(5))
        self.rise = self.group_memory = self.oom_kills = self.processes = self.refused_forks = 0
        self.group_dirs = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _pause(read):
        time.sleep(0.02)
        return read()

    def _sample(self):
        self.rise = max(self.rise, host_memory_in_use() - self.baseline)
        group = getattr(self.students.sandbox, "group", None)
        for folder in list(getattr(group, "dirs", [])):
            self.group_dirs.add(folder)
            memory = _read_number(folder, ["memory.max_usage_in_bytes", "memory.peak"])
            oom_kills = _read_number(folder, ["memory.oom_control", "memory.events"], key="oom_kill")
            processes = _read_number(folder, ["pids.peak", "pids.current"])
            refused = _read_number(folder, ["pids.events"], key="max")
            self.group_memory = max(self.group_memory, memory or 0)
            self.oom_kills = max(self.oom_kills, oom_kills or 0)
            self.processes = max(self.processes, processes or 0)
            self.refused_forks = max(self.refused_forks, refused or 0)

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def cell(students, source, settings):
    """The student's ``f`` in a new session of the submission's sandbox ``students``."""
    references = handle.reference_sandbox(settings, PREAMBLE, REFERENCES)
    session = remote.load(students, references, settings, PREAMBLE, source, "f", (),
                          time.monotonic() + settings.limits.cell_time_limit, "used up the time of its cell")
    try:
        yield remote.RemoteFunction(session, "f")
    finally:
        session.close()


def attack(students, name, settings):
    """Run attack ``name`` in a new session of ``students``, watched; (outcome, watch), where the
    outcome is what the call returned or the exception it raised."""
    source, args = ATTACKS[name]
    handle.reference_sandbox(settings, PREAMBLE, REFERENCES)  # started before the baseline
    students.get()
    with Watch(students) as watch:
        try:
            with cell(students, source, settings) as f:
                outcome = f(*args)
        except (remote.WorkerFault, remote.StudentCodeError) as error:
            outcome = error
        watch._sample()
    return outcome, watch


def measured(name, settings, settled):
    """attack() in a sandbox of its own, taken again (twice at most) if ``settled(watch)`` is false:
    the host's memory also moves with whatever else the machine runs."""
    for _ in range(3):
        students = remote.StudentSandbox(settings)
        try:
            start = time.monotonic()
            outcome, watch = attack(students, name, settings)
            seconds = time.monotonic() - start
        finally:
            students.close()
        print(f"\n{name} attack, {'with' if settings.cgroups else 'WITHOUT'} a control group: host memory "
              f"rose by {watch.rise / MiB:.0f} MiB at most (group's own peak {watch.group_memory / MiB:.0f} MiB, "
              f"{watch.oom_kills} processes killed for going over), "
              f"{seconds:.1f} s; outcome: {outcome!r}")
        if settled(watch):
            break
    return outcome, watch


def within_cap(watch):
    return watch.rise < (CAP_MB + MARGIN_MB) * MiB


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_the_memory_cap_holds_on_the_host_whatever_the_kind_of_memory(name):
    outcome, watch = measured(name, CAPPED, within_cap)
    assert within_cap(watch), f"host memory rose by {watch.rise / MiB:.0f} MiB under a {CAP_MB} MiB cap"
    assert 0 < watch.group_memory <= CAP_MB * MiB
    if name == "fork":
        # The children that go over are killed by the kernel; the function's own process, not
        # over, only sees their exit codes: at most one child keeps its ~400 MiB.
        assert isinstance(outcome, list) and outcome.count(-9) >= 3, outcome
        assert watch.oom_kills >= 3
    else:
        # The process holding the memory is the biggest: the kernel kills it, and the grader
        # tells why from the group's oom_kill counter.
        # (The grader says so only when the group's oom_kill counter rose; the watch may miss it,
        # as the sandbox, left with System V objects, is replaced at once.)
        assert isinstance(outcome, remote.WorkerFault), outcome
        assert f"went over the memory cap of {CAP_MB} MiB" in str(outcome)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_without_a_control_group_the_same_attacks_take_host_memory_far_past_the_cap(name):
    """The control: rlimits alone (RLIMIT_AS per process) let each attack through."""
    outcome, watch = measured(name, UNCAPPED, lambda watch: not within_cap(watch))
    assert watch.rise > (CAP_MB + MARGIN_MB) * MiB, f"only {watch.rise / MiB:.0f} MiB without a control group"
    assert not isinstance(outcome, Exception), outcome
    if name == "fork":
        assert outcome == [0, 0, 0, 0]



@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_the_next_cell_after_a_memory_attack_gets_its_memory(name):
    students = remote.StudentSandbox(CAPPED)
    try:
        attack(students, name, CAPPED)
        with cell(students, NEXT_CELL, CAPPED) as f:
            assert f(1) == (NEXT_MB << 20) + 1
    finally:
        students.close()


# The function's process is the sandbox's biggest (the kernel kills it), and it leaves a
# sleeping child behind (the grader then replaces the sandbox); the child closes its copy of the
# session's socket, so that the grader sees the death at once.
OOM_AND_LEFTOVER = '''import os, time
def f(x):
    if os.fork() == 0:
        os.closerange(3, 4096)
        time.sleep(60)
        os._exit(0)
    anon = np.ones(96 << 20, np.uint8)
    fds = []
    for i in range(200):
        if i % 2 == 0:
            fds.append(os.memfd_create("hog"))
        os.write(fds[-1], b"x" * (8 << 20))
    return len(fds)
'''


def fault_of(source, settings):
    """The WorkerFault that calling ``f`` of ``source`` raises, in a sandbox of its own."""
    students = remote.StudentSandbox(settings)
    try:
        with pytest.raises(remote.WorkerFault) as error:
            with cell(students, source, settings) as f:
                f(0)
    finally:
        students.close()
    return error


def test_going_over_the_cap_is_named_even_when_the_sandbox_is_replaced():
    error = fault_of(OOM_AND_LEFTOVER, CAPPED)
    assert "killed" in str(error.value), str(error.value)  # the kernel's kill was seen
    assert f"went over the memory cap of {CAP_MB} MiB" in str(error.value), str(error.value)


# Exits at once, but a child it leaves behind keeps the session's socket open.
EXIT_BEHIND_A_CHILD = '''import os, time
def f(x):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    os._exit(3)
'''


def test_a_process_that_dies_is_reported_at_once_even_if_a_child_holds_its_socket():
    start = time.monotonic()
    error = fault_of(EXIT_BEHIND_A_CHILD, SETTINGS)
    assert "exited with status 3" in str(error.value), str(error.value)
    assert time.monotonic() - start < SETTINGS.limits.timeout


def test_dev_shm_and_posix_shared_memory_are_out_of_reach():
    probe = '''import os
from multiprocessing import shared_memory
def f(x):
    refused = []
    try:
        shared_memory.SharedMemory(create=True, size=1 << 20)
    except PermissionError:
        refused.append("SharedMemory")
    try:
        open("/dev/shm/hog", "wb").close()
    except PermissionError:
        refused.append("/dev/shm")
    return refused
'''
    with worker(probe) as f:
        assert f(0) == ["SharedMemory", "/dev/shm"]


NOBODY = 65534


def processes_on_the_host(uid):
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        count += line.split()[1] == str(uid)
    return count


@contextlib.contextmanager
def other_users_sleepers(count=40):
    """``count`` processes of the user nobody, and ``count`` of a user claimed as another sandbox's
    (its UID, yielded), outside any sandbox, for the test's duration: each more than a sandbox may run."""
    sleepers = []
    uid = users.claim()
    try:
        for user in (NOBODY, uid):
            for _ in range(count):
                sleepers.append(subprocess.Popen(
                    ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "sleep", "120"],
                    stdin=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while min(map(processes_on_the_host, (NOBODY, uid))) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert min(map(processes_on_the_host, (NOBODY, uid))) >= count > SETTINGS.limits.max_processes
        yield uid
    finally:
        for sleeper in sleepers:
            sleeper.kill()
        for sleeper in sleepers:
            sleeper.wait()
        users.release(uid)


FORKS_ONCE = '''import os
def f(x):
    pid = os.fork()
    if pid == 0:
        os._exit(1)
    return x + os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
'''

FORK_BOMB = '''import os
def f(x):
    while True:
        try:
            os.fork()
        except OSError:
            pass
'''


@pytest.mark.parametrize("with_cgroups", [True, False], ids=["control group", "rlimits only"])
def test_processes_of_other_users_do_not_count_against_a_sandbox(with_cgroups):
    """Nobody's processes, and another sandbox's, with or without a control group: RLIMIT_NPROC,
    the fallback, counts only the processes of the sandbox's own user."""
    settings = SETTINGS if with_cgroups else dataclasses.replace(SETTINGS, cgroups=False)
    with other_users_sleepers():
        handle.close_all()  # both sandboxes start now, among the sleepers
        try:
            with worker(FORKS_ONCE, settings=settings) as f:
                assert f(41) == 42
        finally:
            handle.close_all()


def test_a_fork_bomb_stays_within_the_sandboxs_own_process_cap():
    cap = SETTINGS.limits.max_processes
    with other_users_sleepers():
        students = remote.StudentSandbox(SETTINGS)
        start = time.monotonic()
        try:
            with Watch(students) as watch:
                students.get()
                with pytest.raises(remote.WorkerFault, match=f"did not finish within {SETTINGS.limits.timeout:g} s"):
                    with cell(students, FORK_BOMB, SETTINGS) as f:
                        f(0)
        finally:
            students.close()
        seconds = time.monotonic() - start
    print(f"\nfork bomb: at most {watch.processes} processes in the sandbox's group (cap {cap}), "
          f"{watch.refused_forks} forks refused, grader back in {seconds:.1f} s")
    assert watch.processes == cap, "the bomb did not reach the cap, or went past it"
    assert watch.refused_forks > 0
    assert seconds < SETTINGS.limits.timeout + 8
    assert watch.group_dirs and not any(folder.exists() for folder in watch.group_dirs), "its group is left"


def test_without_a_control_group_a_user_per_sandbox_keeps_other_processes_out_of_its_count():
    """RLIMIT_NPROC, the fallback, counts every process of the sandbox's user on the host: with a
    user of its own, the submission grades among 40 processes of another sandbox's user and 40 of
    nobody. The control: the same submission, its sandboxes started as that other sandbox's user (as
    when every sandbox ran as nobody), is a grader fault (never a zero)."""
    layout, references = reference.from_notebook(SOURCE_NB)
    job = Job("student", (("sigmoid_checks", "assert sigmoid(0) == 0.5\n"),),
                      {"sigmoid": "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"}, references, "s" * 32, layout)
    rlimits_only = dataclasses.replace(SETTINGS, cgroups=False)
    try:
        with other_users_sleepers() as other:
            handle.close_all()
            outputs = harness.grade(job, rlimits_only).outputs["sigmoid_checks"]
            assert outputs == [], outputs  # passed: no error, nothing printed
            handle.close_all()
            real_claim, real_release = users.claim, users.release
            users.claim, users.release = (lambda: other), (lambda uid, wait=0.0: None)
            try:
                with pytest.raises(GraderFault, match="could not start") as fault:
                    harness.grade(job, rlimits_only)
            finally:
                handle.close_all()  # (their user is the sleepers', freed with them)
                users.claim, users.release = real_claim, real_release
            print(f"\nwithout a control group, as the user of 40 other processes: GraderFault: {fault.value}")
    finally:
        handle.close_all()
