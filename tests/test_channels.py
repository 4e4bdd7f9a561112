"""No channel between two sandboxes graded at the same moment (issue 19, part 1).

Every sandbox reads the same files (the Python installation, numpy), so the kernel objects it keys
by file or inode are the same in every sandbox, whatever the namespaces: student A's function
passed its hidden arguments to student B's, which called the reference and sent the answer back,
through shared futexes on numpy's library (5/5 for no code); and when every sandbox ran as nobody,
so were the counts the kernel keeps per user. Each test here starts two live sandboxes and tries to
pass a message from one to the other through one channel: with the sandbox's protections nothing
crosses (the calls fail with EPERM, the /proc file reads empty, the count is the receiver's own);
with that one protection removed (``channels.pair(without=...)``, ``unmasked=True``,
``same_user=True``), the message crosses, so the test can fail. The test is the clock: it sets a
bit in the sender, then asks the receiver (see tests/channels.py).
"""

from __future__ import annotations

import errno
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from catkit.grading import remote
from catkit.grading.isolation import cgroups, launch, seccomp, users
from catkit.grading.job import Settings
from catkit.grading.limits import Limits
from channels import from_bits, pair, to_bits
from test_worker import worker

MODE = launch.resolve_mode("auto")
SETTINGS = Settings(mode=MODE, cgroups=cgroups.available() is None,
                    limits=Limits(timeout=20, cell_time_limit=120))
pytestmark = [pytest.mark.slow, pytest.mark.root,
              pytest.mark.skipif(MODE != "bwrap", reason="needs bubblewrap and root")]
MESSAGE = b"dw=1"  # a few bytes: 32 bits, one at a time

# Helpers every probe shares: raw system calls, and errors as data (an errno, never an exception).
COMMON = r'''
import ctypes, errno, mmap, os, struct, time
import numpy
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
X86 = os.uname().machine == "x86_64"
NUMPY = os.path.dirname(numpy.__file__)
FILES = [os.path.join(NUMPY, name) for name in ("__config__.pyi", "_globals.pyi")]  # read by nothing else

def syscall(*args):
    result = _libc.syscall(*args)
    return result, (ctypes.get_errno() if result == -1 else 0)

class Refused(Exception):
    pass

def check(result):
    value, error = result
    if error:
        raise Refused(error)
    return value
'''

# Shared futexes: both sandboxes map numpy's library MAP_SHARED read-only (the same inode); the
# sender waits on page 0 or 1 of it (the bit), the receiver wakes page 0, then 1, until one wakes it.
FUTEX = COMMON + r'''
FUTEX_NR = 202 if X86 else 98
FUTEX_WAIT, FUTEX_WAKE = 0, 1
_fd = os.open(numpy.core._multiarray_umath.__file__, os.O_RDONLY)
BASE = _libc.mmap(None, 8192, mmap.PROT_READ, mmap.MAP_SHARED, _fd, 0)

class Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]

def f(op, bit=0):
    try:
        if op == "send":  # wait on page ``bit`` until woken (or 10 s: a backstop)
            address = BASE + 4096 * bit
            value = ctypes.c_uint32.from_address(address).value
            end = time.monotonic() + 10
            while time.monotonic() < end:
                result, error = syscall(FUTEX_NR, ctypes.c_void_p(address), FUTEX_WAIT, value,
                                        ctypes.byref(Timespec(1, 0)), None, 0)
                if error not in (errno.ETIMEDOUT, errno.EINTR, errno.EAGAIN):
                    check((result, error))
                    return "woken"
            return "not woken"
        end = time.monotonic() + 10  # receive: wake page 0, then page 1, until one had a waiter
        while time.monotonic() < end:
            for page in (0, 1):
                if check(syscall(FUTEX_NR, ctypes.c_void_p(BASE + 4096 * page), FUTEX_WAKE, 1, None, None, 0)):
                    return page
            time.sleep(0.001)
        return None
    except Refused as refused:
        return ["refused", refused.args[0]]
'''

# File locks on files every sandbox can open read-only: the sender locks file 0 or 1, the
# receiver asks which one is locked (each kind of lock asks its own way).
LOCKS = COMMON + r'''
import fcntl
F_GETLK, F_SETLK, F_OFD_GETLK, F_OFD_SETLK = 5, 6, 36, 37
held = []

def _flock_struct(kind):  # struct flock: type, whence, start, len, pid (the whole file)
    return struct.pack("hhqqi4x", kind, 0, 0, 0, 0)

def _lock(kind, fd):
    if kind == "flock":
        check(syscall(73 if X86 else 32, fd, fcntl.LOCK_EX | fcntl.LOCK_NB))
    else:
        command = F_SETLK if kind == "posix" else F_OFD_SETLK
        check(syscall(72 if X86 else 25, fd, command, _flock_struct(fcntl.F_RDLCK)))

def _locked(kind, fd):
    if kind == "flock":
        result, error = syscall(73 if X86 else 32, fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        if error == errno.EWOULDBLOCK:
            return True
        check((result, error))
        syscall(73 if X86 else 32, fd, fcntl.LOCK_UN)
        return False
    command = F_GETLK if kind == "posix" else F_OFD_GETLK
    probe = ctypes.create_string_buffer(_flock_struct(fcntl.F_WRLCK), 32)
    check(syscall(72 if X86 else 25, fd, command, probe))
    return struct.unpack("hhqqi4x", probe.raw)[0] != fcntl.F_UNLCK

def f(op, kind, bit=0):
    try:
        if op == "send":
            while held:
                os.close(held.pop())  # releases its lock
            fd = os.open(FILES[bit], os.O_RDONLY)
            held.append(fd)
            _lock(kind, fd)
            return "held"
        fds = [os.open(path, os.O_RDONLY) for path in FILES]
        try:
            seen = [_locked(kind, fd) for fd in fds]
        finally:
            for fd in fds:
                os.close(fd)
        return seen.index(True) if seen.count(True) == 1 else None
    except Refused as refused:
        return ["refused", refused.args[0]]
'''

# Change notification: the receiver watches files 0 and 1 (inotify, or fanotify); the sender opens one.
NOTIFY = COMMON + r'''
import select
IN_OPEN = 0x20
watches = {}
state = {}

def f(op, kind, bit=0):
    try:
        if op == "watch":
            if kind == "inotify":
                fd = check(syscall(294 if X86 else 26, os.O_NONBLOCK))
                for index, path in enumerate(FILES):
                    watches[check(syscall(254 if X86 else 27, fd, path.encode(), IN_OPEN))] = index
            else:  # fanotify: FAN_CLASS_NOTIF | FAN_REPORT_FID, FAN_MARK_ADD on each file's inode
                fd = check(syscall(300 if X86 else 262, 0x200, os.O_RDONLY))
                for path in FILES:
                    check(syscall(301 if X86 else 263, fd, 1, IN_OPEN, -100, path.encode()))
            state["fd"] = fd
            return "watching"
        if op == "send":
            os.close(os.open(FILES[bit], os.O_RDONLY))
            return "opened"
        if not select.select([state["fd"]], [], [], 10)[0]:  # receive
            return None
        data = os.read(state["fd"], 4096)
        if kind == "inotify":
            return watches.get(struct.unpack_from("i", data)[0])
        # fanotify: the event names the file by a handle, which holds its inode number (ext4,
        # tmpfs, overlayfs...): the receiver tells the two files apart by it
        found = [index for index, path in enumerate(FILES)
                 if struct.pack("I", os.stat(path).st_ino & 0xFFFFFFFF) in data[24:]]
        return found[0] if len(found) == 1 else data.hex()
    except Refused as refused:
        return ["refused", refused.args[0]]
'''

# The page cache of a file every sandbox can read (numpy's type stubs, which nothing reads): the
# sender drops page 0 and page 32 from the cache (posix_fadvise) and reads one of them; the
# receiver asks which one is cached with a read that fails rather than wait (preadv2, RWF_NOWAIT).
PAGE_CACHE = COMMON + r'''
STUBS = os.path.join(NUMPY, "__init__.pyi")
PAGES = (0, 32 * 4096)
FADVISE = 221 if X86 else 223
PREADV2 = 327 if X86 else 286
POSIX_FADV_RANDOM, POSIX_FADV_DONTNEED, RWF_NOWAIT = 1, 4, 8

class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

def _cached(fd, offset):
    buffer = ctypes.create_string_buffer(4096)
    vector = Iovec(ctypes.cast(buffer, ctypes.c_void_p), 4096)
    result, error = syscall(PREADV2, fd, ctypes.byref(vector), 1, ctypes.c_long(offset), 0, RWF_NOWAIT)
    if error == errno.EAGAIN:
        return False
    check((result, error))
    return True

def f(op, bit=0):
    fd = os.open(STUBS, os.O_RDONLY)
    try:
        if op == "send":
            check(syscall(FADVISE, fd, 0, 0, POSIX_FADV_RANDOM))  # no read-ahead
            check(syscall(FADVISE, fd, 0, 0, POSIX_FADV_DONTNEED))  # the whole file (a page alone may stay)
            os.pread(fd, 4096, PAGES[bit])
            return "set"
        seen = [_cached(fd, offset) for offset in PAGES]
        return seen.index(True) if seen.count(True) == 1 else None
    except Refused as refused:
        return ["refused", refused.args[0]]
    finally:
        os.close(fd)
'''

# Host-wide counters: the sender holds 512 MiB or frees it; the receiver reads MemAvailable in
# /proc/meminfo (and asks sysinfo).
COUNTERS = COMMON + r'''
held = []

def f(op, bit=0):
    if op == "send":
        held.clear()
        if bit:
            held.append(numpy.ones(64 << 20))  # 512 MiB, every page written
        return "set"
    meminfo = open("/proc/meminfo").read()
    available = [int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemAvailable:")]
    info = ctypes.create_string_buffer(128)
    result, error = syscall(99 if X86 else 179, info)
    return [available[0] if available else None, error]
'''


def _transmit(send: Any, receive: Any, *args: Any, concurrent: bool = False) -> list[Any]:
    """The bits of MESSAGE, one at a time: what the receiver saw for each (stops at a refusal)."""
    received: list[Any] = []
    for bit in to_bits(MESSAGE):
        if concurrent:  # the sender blocks until the receiver reaches it
            sent: list[Any] = []
            sender = threading.Thread(target=lambda bit=bit, sent=sent: sent.append(send("send", *args, bit)))
            sender.start()
            received.append(receive("receive", *args))
            sender.join()
        else:
            sent = [send("send", *args, bit)]
            received.append(receive("receive", *args))
        if received[-1] not in (0, 1):
            received.append(sent[0])
            break
    return received


def _crossed(received: list[Any]) -> bool:
    return len(received) == len(to_bits(MESSAGE)) and from_bits(received) == MESSAGE


def test_shared_futexes_carry_nothing_between_sandboxes() -> None:
    """The issue's channel: FUTEX_WAIT and FUTEX_WAKE (without FUTEX_PRIVATE_FLAG) on numpy's
    library, mapped MAP_SHARED read-only in two sandboxes: the same futex key in both."""
    with pair(FUTEX, SETTINGS, without=["shared futexes"]) as open_:
        leaked = _transmit(open_.send, open_.receive, concurrent=True)
    assert _crossed(leaked), f"the control did not pass the message: {leaked}"
    with pair(FUTEX, SETTINGS) as closed:
        received = _transmit(closed.send, closed.receive, concurrent=True)
    assert received == [["refused", errno.EPERM], ["refused", errno.EPERM]], received


@pytest.mark.parametrize("kind, rule", [("flock", "flock"), ("posix", "fcntl locks"), ("ofd", "fcntl locks")])
def test_file_locks_carry_nothing_between_sandboxes(kind: str, rule: str) -> None:
    """A lock on a file every sandbox can open (flock, POSIX record locks, open file description
    locks) is seen by every process that asks (F_GETLK, a lock that would block)."""
    with pair(LOCKS, SETTINGS, without=[rule]) as open_:
        leaked = _transmit(open_.send, open_.receive, kind)
    assert _crossed(leaked), f"the control did not pass the message: {leaked}"
    with pair(LOCKS, SETTINGS) as closed:
        received = _transmit(closed.send, closed.receive, kind)
    assert received == [["refused", errno.EPERM], ["refused", errno.EPERM]], received


@pytest.mark.parametrize("kind", ["inotify", "fanotify"])
def test_file_notifications_carry_nothing_between_sandboxes(kind: str) -> None:
    """A watch on a file every sandbox can open sees the other sandboxes open it."""
    with pair(NOTIFY, SETTINGS, without=[kind]) as open_:
        watching = open_.receive("watch", kind)
        if kind == "fanotify" and watching != "watching":
            pytest.skip(f"unprivileged fanotify is not available on this kernel: {watching}")
        assert watching == "watching"
        leaked = _transmit(open_.send, open_.receive, kind)
    assert _crossed(leaked), f"the control did not pass the message: {leaked}"
    with pair(NOTIFY, SETTINGS) as closed:
        assert closed.receive("watch", kind) == ["refused", errno.EPERM]


@pytest.fixture
def shared_file() -> Iterator[str]:
    """A file both sandboxes can read (in the virtual environment, bound into every sandbox) and that
    nothing else on the machine reads: another test reading the same file would flip its pages."""
    path = Path(sys.prefix) / f"catkit-page-cache-probe-{os.getpid()}.bin"
    with open(path, "wb") as handle:
        handle.write(os.urandom(40 * 4096))
        handle.flush()
        os.fsync(handle.fileno())  # (dirty pages stay cached whatever fadvise says: a fresh file's are)
    try:
        yield str(path)
    finally:
        path.unlink()


def test_the_page_cache_carries_nothing_between_sandboxes(shared_file: str) -> None:
    """Whether a page of a shared file is cached: set by reading it and dropping it (fadvise),
    read without loading it (preadv2 with RWF_NOWAIT)."""
    program = PAGE_CACHE.replace('os.path.join(NUMPY, "__init__.pyi")', repr(shared_file))
    for _ in range(3):  # (memory pressure may evict a page between send and receive: try again)
        with pair(program, SETTINGS, without=["page cache"]) as open_:
            leaked = _transmit(open_.send, open_.receive)
        if _crossed(leaked):
            break
    assert _crossed(leaked), f"the control did not pass the message: {leaked}"
    with pair(program, SETTINGS) as closed:
        received = _transmit(closed.send, closed.receive)
    assert received == [["refused", errno.EPERM], ["refused", errno.EPERM]], received


def _memory_bits(both: Any, bits: list[int]) -> list[Any]:
    """Each bit: what the receiver reads with the sender's memory freed, then with the bit set; a
    drop of more than 256 MiB is a 1 (two reads milliseconds apart: the host's own noise is small)."""
    seen = []
    for bit in bits:
        both.send("send", 0)
        freed = both.receive("receive")
        both.send("send", bit)
        now = both.receive("receive")
        if freed[0] is None or now[0] is None or freed[1] or now[1]:
            return [freed, now]
        seen.append(int(freed[0] - now[0] > 256 * 1024))
    return seen


def test_host_memory_counters_carry_nothing_between_sandboxes() -> None:
    """/proc/meminfo (and sysinfo) show the host's free memory, which any sandbox changes: 512
    MiB held or not is a bit. Masked, the file reads empty, and sysinfo is refused."""
    bits = to_bits(MESSAGE[:1])
    with pair(COUNTERS, SETTINGS, without=["host counters"], unmasked=True) as open_:
        leaked = _memory_bits(open_, bits)
        if leaked != bits:  # a neighbour's burst on a shared host: once more
            leaked = _memory_bits(open_, bits)
    assert leaked == bits, f"the control did not pass the bits: {leaked}"
    with pair(COUNTERS, SETTINGS) as closed:
        assert _memory_bits(closed, bits) == [[None, errno.EPERM], [None, errno.EPERM]]


PROC_PROBE = f"""
import os, numpy
def f(x):
    files = {{path: open(path).read() for path in {launch.MASKED!r} if os.path.exists(path)}}
    folders = {{path: os.listdir(path) for path in {launch.MASKED_FOLDERS!r} if os.path.exists(path)}}
    return files, folders, float(numpy.linalg.norm(numpy.arange(x))), os.cpu_count() is not None
"""


def test_host_wide_proc_files_are_masked_and_numpy_still_works() -> None:
    with worker(PROC_PROBE, settings=SETTINGS) as f:
        files, folders, norm, cpus = f(4)
    present = [path for path in launch.MASKED if os.path.isfile(path)]
    assert "/proc/meminfo" in present and "/proc/stat" in present
    assert sorted(files) == sorted(present) and set(files.values()) == {""}, files
    assert folders and all(listing == [] for listing in folders.values()), folders
    assert norm == pytest.approx(float(np.linalg.norm(np.arange(4)))) and cpus


# Every other refused call, one by one in a sandbox: EPERM (clone3: ENOSYS, so that the C
# library falls back to clone, whose flags the filter reads).
REFUSED_CALLS = COMMON + r'''
NUMBERS = {name: numbers[0 if X86 else 1] for name, numbers in TABLE.items()}
def f(name):
    args = {"futex": (0, 0, 0), "futex_wake": (0, 1, 1, 2), "futex_wait": (0, 0, 1, 2),
            "fcntl": (0, 5, 0), "shmctl": (0, 11, 0), "clone": (0x10000000 | 17, 0, 0, 0, 0)}.get(name, (0, 0, 0, 0))
    number = NUMBERS[name]
    if number is None:
        return "absent"
    return syscall(number, *[ctypes.c_long(a) for a in args])[1]
'''.replace("TABLE", repr(seccomp.NUMBERS))


@pytest.mark.parametrize("name", sorted({call for rule in seccomp.RULES for call in rule.calls}))
def test_every_refused_call_fails_with_eperm(name: str) -> None:
    with worker(REFUSED_CALLS, settings=SETTINGS) as f:
        assert f(name) in ((errno.ENOSYS,) if name == "clone3" else (errno.EPERM, "absent"))


ALLOWED = COMMON + r'''
import threading, subprocess
def f(x):
    word = ctypes.c_uint32(0)
    private = syscall(202 if X86 else 98, ctypes.byref(word), 1 | 128, 1)  # FUTEX_WAKE_PRIVATE
    lock = threading.Lock()
    results = []
    threads = [threading.Thread(target=lambda: results.append(float(numpy.ones(x).sum()))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    echo = subprocess.run(["/bin/echo", "ok"], capture_output=True, text=True).stdout.strip()
    with lock:
        return [list(private), sorted(results), status, echo]
'''


def test_what_graded_code_uses_still_works() -> None:
    """Private futexes (every lock of a process), threads, fork, a subprocess (clone3 answers
    ENOSYS: the C library falls back to clone)."""
    with worker(ALLOWED, settings=SETTINGS) as f:
        assert f(5) == [[0, 0], [5.0, 5.0, 5.0], 7, "ok"]


def test_rules_are_known() -> None:
    with pytest.raises(ValueError, match="no seccomp rule"):
        seccomp.program(without=["no such rule"])
    for machine in ("x86_64", "aarch64"):
        assert len(seccomp.program(machine) or b"") % 8 == 0
    assert remote.StudentSandbox  # the pair helper builds on it


# Counts the kernel keeps per user, shown to every process of that user: /proc/<pid>/status (SigQ)
# gives the number of signals pending for the whole user; a sender holding 100 signals pending
# (blocked) or none passes a bit to every other process of its user. Each sandbox runs as a user of
# its own (catkit/grading/isolation/users.py), so the receiver sees only its own; with both sandboxes
# as one user (``same_user=True``, as every sandbox ran as nobody once) the message crosses. The
# same holds for the pipe buffers a user may hold (fs.pipe-user-pages-soft). See README, Sandbox.
SIGNALS = r'''
import os, signal
def f(op, bit=0):
    if op == "send":
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
        while signal.sigpending():
            signal.sigwait([signal.SIGRTMIN])  # one instance at a time: drain what was queued
        for _ in range(100 * bit):
            os.kill(os.getpid(), signal.SIGRTMIN)
        return "set"
    status = open("/proc/self/status").read()
    return int([line for line in status.splitlines() if line.startswith("SigQ:")][0].split()[1].split("/")[0])
'''


def _signal_counts(same_user: bool) -> tuple[list[int], list[int]]:
    """The bits sent, and the SigQ count the receiver read after each."""
    bits = to_bits(MESSAGE[:1])
    with pair(SIGNALS, SETTINGS, same_user=same_user) as both:
        own = [sandbox.get().uid for sandbox in both.sandboxes]  # None: the pair's shared user
        assert own == [None, None] if same_user else (own[0] != own[1] and all(map(users.in_range, own))), own
        counts = []
        for bit in bits:
            both.send("send", bit)
            counts.append(both.receive("receive"))
    return bits, counts


def test_pending_signal_counts_carry_nothing_between_sandboxes() -> None:
    bits, counts = _signal_counts(same_user=False)
    assert [int(count >= 100) for count in counts] == [0] * len(bits), counts
    # The control: both sandboxes as one user, the message crosses.
    bits, counts = _signal_counts(same_user=True)
    assert [int(count >= 100) for count in counts] == bits, counts
