"""A seccomp filter for the sandbox: the kernel objects that outlive or cross sandboxes are refused.

Every sandbox runs as a host user of its own (:mod:`catkit.grading.isolation.users`), reused by
later sandboxes. Namespaces separate files, processes, network and System V / POSIX IPC, but the
kernel still keys some objects by **user** (the keyring, which outlives the sandbox), or by
**file** (the inode and offset of a page, whatever the mount namespace), and every sandbox reads the
same files (``/usr``, the Python installation, numpy). Two sandboxes graded at the same moment
could talk through them:

- the **keyring** of a user: a key added by one sandbox (``add_key``) is readable by every other
  sandbox of that user, during the run and after it (a later function relayed the reference's
  answers to an earlier one, found by the red team); POSIX **message queues** would carry data from
  one test cell's child to the next within a sandbox;
- **shared futexes**: a futex on a page of a file (numpy's shared library, mapped read-only by
  every sandbox) is keyed by that file's inode, so ``FUTEX_WAIT``/``FUTEX_WAKE`` without
  ``FUTEX_PRIVATE_FLAG`` reach the other sandboxes (student A's function sent its hidden arguments
  to student B's, which called the reference and sent its answer back: 5/5 for no code);
- **file locks** (``flock``, ``fcntl`` record and open-file-description locks, leases), and
  **change notifications** (inotify, fanotify, ``fcntl(F_NOTIFY)``) on files every sandbox can
  open: a lock taken, or a file read, by one is seen by another;
- the **page cache**: whether a page of a shared file is in memory (``mincore``, ``cachestat``,
  ``preadv2(RWF_NOWAIT)``, io_uring), set by reading it and ``posix_fadvise``/``readahead``;
- counts and limits kept per user: locked System V shared memory (``SHM_LOCK``), user
  namespaces (``unshare``, ``clone`` with ``CLONE_NEW*``), kernel AIO contexts (``io_setup``:
  ``/proc/sys/fs/aio-nr``), and what the host says of itself (``sysinfo``: free memory, the number
  of processes, the load; the kernel log, ``syslog``).

Graded functions need none of these (nor the tools of side channels and kernel exploits:
``perf_event_open``, ``userfaultfd``, ``bpf``, ``process_madvise``, ``kcmp``, file handles,
``memfd_secret``), so bubblewrap installs this filter (``--seccomp FD``) and those system calls
fail with EPERM; so does every system call made through another architecture's entry point
(32-bit or x32 calls on x86_64), which could bypass the list. ``clone3``, whose flags the filter
cannot read (they are in memory), answers ENOSYS: the C library then falls back to ``clone``,
whose flags it checks. The ``/proc`` files that count host-wide events are masked by
:mod:`catkit.grading.isolation.launch`.

The filter is a classic BPF program, built here (no library): check the architecture, compare the
system call number with each rule's, and for the rules on arguments, check the argument (its low
32 bits, at ``16 + 8 * index`` in ``struct seccomp_data`` on these little-endian machines).
"""

from __future__ import annotations

import os
import platform
import struct
from collections.abc import Collection
from dataclasses import dataclass

# The machines known here: AUDIT_ARCH value, and the numbers at and above which calls are refused
# (on x86_64, 0x40000000 and above: the x32 ABI).
_ARCHES: dict[str, tuple[int, int | None]] = {"x86_64": (0xC000003E, 0x40000000), "aarch64": (0xC00000B7, None)}

# System call numbers from the kernel's tables (arch/x86/entry/syscalls/syscall_64.tbl and
# include/uapi/asm-generic/unistd.h, which aarch64 uses): (x86_64, aarch64), None where the call
# does not exist on that machine. A number the running kernel does not know is harmless to refuse.
NUMBERS: dict[str, tuple[int | None, int | None]] = {
    "add_key": (248, 217), "request_key": (249, 218), "keyctl": (250, 219),
    "mq_open": (240, 180), "mq_unlink": (241, 181), "mq_timedsend": (242, 182),
    "mq_timedreceive": (243, 183), "mq_notify": (244, 184), "mq_getsetattr": (245, 185),
    "futex": (202, 98), "futex_waitv": (449, 449), "futex_wake": (454, 454),
    "futex_wait": (455, 455), "futex_requeue": (456, 456),
    "fcntl": (72, 25), "flock": (73, 32),
    "inotify_init": (253, None), "inotify_init1": (294, 26), "inotify_add_watch": (254, 27),
    "fanotify_init": (300, 262), "fanotify_mark": (301, 263),
    "mincore": (27, 232), "cachestat": (451, 451), "fadvise64": (221, 223), "readahead": (187, 213),
    "preadv2": (327, 286), "pwritev2": (328, 287),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "io_setup": (206, 0),
    "shmctl": (31, 195), "unshare": (272, 97), "setns": (308, 268), "clone": (56, 220), "clone3": (435, 435),
    "sysinfo": (99, 179), "syslog": (103, 116), "sched_setaffinity": (203, 122),
    "perf_event_open": (298, 241), "userfaultfd": (323, 282), "bpf": (321, 280),
    "process_madvise": (440, 440), "kcmp": (312, 272),
    "name_to_handle_at": (303, 264), "open_by_handle_at": (304, 265), "memfd_secret": (447, 447),
}

FUTEX_PRIVATE_FLAG = 128  # also FUTEX2_PRIVATE, in the flags of futex_wake and futex_wait
# fcntl commands: F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETLEASE,
# F_GETLEASE, F_NOTIFY (the same numbers on both machines, which are 64-bit: no F_*LK64 apart)
FCNTL_LOCKS_AND_NOTIFY = (5, 6, 7, 36, 37, 38, 1024, 1025, 1026)
SHM_LOCK, SHM_UNLOCK, IPC_64 = 11, 12, 0x100
# CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET
# (CLONE_NEWTIME, 0x80, is only unshare's: in clone's flags those bits are the exit signal)
CLONE_NEW = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000


@dataclass(frozen=True)
class Rule:
    """What the filter does with some system calls: ``refuse`` them (EPERM), answer ``nosys``
    (ENOSYS), allow them only if ``private`` (argument ``arg`` has ``bits`` set), or refuse them if
    argument ``arg``, masked with ``bits``, is one of ``values`` (``any_bit``: has any of ``bits``)."""

    name: str  # what the tests call it (``program(without=...)``)
    calls: tuple[str, ...]
    action: str = "refuse"  # refuse | nosys | private | values | any_bit
    arg: int = 0
    bits: int = 0xFFFFFFFF
    values: tuple[int, ...] = ()


RULES: tuple[Rule, ...] = (
    # The user's kernel keyring, outliving the sandbox (its user is reused); POSIX message queues.
    Rule("keyring", ("add_key", "request_key", "keyctl")),
    Rule("message queues", ("mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
                            "mq_getsetattr")),
    # Futexes keyed by file and offset: only process-private ones (op & FUTEX_PRIVATE_FLAG). glibc
    # uses private ones for every lock of a process (Python's, numpy's); shared ones only for
    # locks in memory shared between processes, and to join a thread (which Python never does).
    Rule("shared futexes", ("futex",), "private", arg=1, bits=FUTEX_PRIVATE_FLAG),
    Rule("shared futex2", ("futex_wake", "futex_wait"), "private", arg=3, bits=FUTEX_PRIVATE_FLAG),
    # ... whose flags are in memory, out of the filter's reach: refused.
    Rule("futex vectors", ("futex_waitv", "futex_requeue")),
    # File locks and leases, keyed by inode, seen by every process that opens the file; F_NOTIFY
    # (dnotify) reports reads of a folder's files by anyone.
    Rule("fcntl locks", ("fcntl",), "values", arg=1, values=FCNTL_LOCKS_AND_NOTIFY),
    Rule("flock", ("flock",)),
    # Watches on inodes: reads of a shared file by another sandbox.
    Rule("inotify", ("inotify_init", "inotify_init1", "inotify_add_watch")),
    Rule("fanotify", ("fanotify_init", "fanotify_mark")),
    # The page cache of shared files: probes (mincore, cachestat, a read that fails rather than
    # wait for the disk), and loading or dropping pages without reading them.
    Rule("page cache", ("mincore", "cachestat", "preadv2", "pwritev2", "fadvise64", "readahead")),
    # io_uring reads and writes (RWF_NOWAIT too) out of this filter's sight; kernel AIO contexts
    # are counted host-wide (/proc/sys/fs/aio-nr) and capped (aio-max-nr).
    Rule("async I/O", ("io_uring_setup", "io_uring_enter", "io_uring_register", "io_setup")),
    # Locked System V shared memory is counted per user (RLIMIT_MEMLOCK), across IPC namespaces.
    Rule("shm lock", ("shmctl",), "values", arg=1, bits=0xFFFFFFFF & ~IPC_64, values=(SHM_LOCK, SHM_UNLOCK)),
    # New namespaces (user namespaces are counted per user), and joining others.
    Rule("namespaces", ("unshare", "setns")),
    Rule("clone namespaces", ("clone",), "any_bit", arg=0, bits=CLONE_NEW),
    Rule("clone3", ("clone3",), "nosys"),
    # The host's free memory, process count and load (sysinfo), and the kernel log (syslog).
    Rule("host counters", ("sysinfo", "syslog")),
    # Choosing one's core: a sandbox that shares a core with another times it best (the timing
    # channel of README, Sandbox); the scheduler places sandboxes as it likes.
    Rule("cpu placement", ("sched_setaffinity",)),
    # Tools of side channels and kernel exploits that graded functions never need.
    Rule("side-channel tools", ("perf_event_open", "userfaultfd", "bpf", "process_madvise", "kcmp",
                                "name_to_handle_at", "open_by_handle_at", "memfd_secret")),
)
REFUSED = ("add_key, request_key, keyctl, the POSIX message queue calls, futexes that are not "
           "process-private, file locks and leases (flock, fcntl), inotify, fanotify and F_NOTIFY, "
           "page-cache probes (mincore, cachestat, preadv2, fadvise64, readahead), io_uring and kernel "
           "AIO, SHM_LOCK, new namespaces, sysinfo, syslog, sched_setaffinity, perf_event_open, userfaultfd, bpf, "
           "process_madvise, kcmp, file handles and memfd_secret")

# Classic BPF: the instructions used here, and seccomp's return values.
_LD_W_ABS, _ALU_AND, _JEQ, _JGE, _JSET, _RET = 0x20, 0x54, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
EPERM, ENOSYS = 1, 38
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data


def _arg(index: int) -> int:
    """Offset of the low 32 bits of argument ``index`` (little-endian)."""
    return 16 + 8 * index


class _Program:
    """Instructions with symbolic forward jumps, resolved by :meth:`assemble`."""

    def __init__(self) -> None:
        self.ops: list[tuple[int, int, str | None, str | None]] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, k: int, jt: str | None = None, jf: str | None = None) -> None:
        self.ops.append((code, k, jt, jf))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.ops)

    def assemble(self) -> bytes:
        out = []
        for index, (code, k, jt, jf) in enumerate(self.ops):
            offsets = [self.labels[target] - index - 1 if target else 0 for target in (jt, jf)]
            if not all(0 <= offset <= 255 for offset in offsets):
                raise ValueError("a seccomp jump out of reach")
            out.append(struct.pack("=HBBI", code, offsets[0], offsets[1], k))
        return b"".join(out)


def program(machine: str | None = None, without: Collection[str] = ()) -> bytes | None:
    """The compiled filter for ``machine`` (default: this one), or None where it is not known.
    ``without`` names rules to leave out: only the tests do, to show what each rule stops."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        return None
    arch, foreign_from = _ARCHES[machine]
    column = list(_ARCHES).index(machine)
    unknown = set(without) - {rule.name for rule in RULES}
    if unknown:
        raise ValueError(f"no seccomp rule named {sorted(unknown)}")
    rules = [rule for rule in RULES if rule.name not in without]
    bpf = _Program()
    bpf.op(_LD_W_ABS, _ARCH)
    bpf.op(_JEQ, arch, None, "deny")  # another machine's entry point: refused
    bpf.op(_LD_W_ABS, _NR)
    if foreign_from is not None:
        bpf.op(_JGE, foreign_from, "deny", None)
    # One comparison per system call, jumping to its rule's action.
    for number, target in [(numbers[column], f"rule {rule.name}" if rule.action not in ("refuse", "nosys")
                            else "deny" if rule.action == "refuse" else "nosys")
                           for rule in rules for numbers in [NUMBERS[call] for call in rule.calls]]:
        if number is not None:
            bpf.op(_JEQ, number, target, None)
    bpf.label("allow")
    bpf.op(_RET, _ALLOW)
    bpf.label("deny")
    bpf.op(_RET, _ERRNO | EPERM)
    bpf.label("nosys")
    bpf.op(_RET, _ERRNO | ENOSYS)
    for rule in rules:  # the argument checks, each ending in its own returns (BPF jumps forward only)
        if rule.action in ("refuse", "nosys"):
            continue
        allow, deny = f"{rule.name}: allow", f"{rule.name}: deny"
        bpf.label(f"rule {rule.name}")
        bpf.op(_LD_W_ABS, _arg(rule.arg))
        if rule.action == "private":
            bpf.op(_JSET, rule.bits, allow, deny)
        elif rule.action == "any_bit":
            bpf.op(_JSET, rule.bits, deny, allow)
        else:  # values
            if rule.bits != 0xFFFFFFFF:
                bpf.op(_ALU_AND, rule.bits)
            for value in rule.values:
                bpf.op(_JEQ, value, deny, None)
        bpf.label(allow)
        bpf.op(_RET, _ALLOW)
        bpf.label(deny)
        bpf.op(_RET, _ERRNO | EPERM)
    return bpf.assemble()


def filter_fd(without: Collection[str] = ()) -> int | None:
    """A file descriptor holding the filter, for bubblewrap's ``--seccomp`` (None if unknown).
    ``without``: see :func:`program` (the tests only)."""
    compiled = program(without=without)
    if compiled is None:
        return None
    descriptor = os.memfd_create("catkit-seccomp", 0)
    os.write(descriptor, compiled)
    os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor
