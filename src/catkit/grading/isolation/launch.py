"""How a sandbox is started: OS isolation and resource limits.

With bubblewrap (Debian package ``bubblewrap``) and root, a sandbox's processes run:

- in new network, PID, IPC and UTS namespaces: no network at all, and when the sandbox ends
  (or the grader dies) every process it started dies with its PID namespace;
- on a filesystem that holds only the system's libraries, the Python installation, the virtual
  environment and the kit's sandboxed modules (:mod:`catkit.grading.sandboxed`, nothing else of
  the kit), all read-only, plus two small writable tmpfs folders, ``/tmp`` and an empty private
  working folder: the course's ``source/``, the gradebook, the students' folders (its own
  included: a graded function needs no file, and a submission may hold symbolic links) do not
  exist in there;
- as an unprivileged user of its own, which no other live sandbox runs as (``setpriv``, no new
  privileges; see :mod:`catkit.grading.isolation.users`: the kernel's per-user counts, such as
  pending signals, pipe buffers and processes, are the sandbox's own), under the seccomp filter
  of :mod:`catkit.grading.isolation.seccomp` (no kernel object another sandbox can see);
- with the host-wide counters of ``/proc`` masked (:data:`MASKED`): free memory, load, CPU and
  disk statistics, interrupts, open files, file locks... change with what any sandbox does, so
  another sandbox reading them would receive what the first one sends;
- in a control group of its own that caps the memory (of every kind: anonymous, memfd, shared,
  tmpfs) and the number of processes of the whole sandbox, see :mod:`catkit.grading.isolation.cgroups`;
- under rlimits on address space, CPU time, file size and open files of each process.

Without bubblewrap, or when not root, only the rlimits remain: :func:`isolation_warning` says
so loudly and the grader prints it. Without control groups, the rlimits (and RLIMIT_NPROC) stand
in for them, with a warning too.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from catkit.errors import GraderFault
from catkit.grading.isolation import scratch
from catkit.grading.isolation.cgroups import Group
from catkit.grading.limits import Limits
from catkit.parent_death import die_with_parent

# The worker's empty working folder: its own tmpfs, at a path no bound directory lies under
# (/tmp may hold the parents of a virtual environment that lives under /tmp).
WORKDIR = "/catkit-sandbox"
# The only kit code a sandbox can read: the package that runs in it, imported as ``sandboxed``.
SANDBOXED = Path(__file__).resolve().parent.parent / "sandboxed"
MOUNT = "/opt/catkit"  # SANDBOXED is mounted at MOUNT/sandboxed
ZYGOTE_ENTRY = "import sys; sys.path.insert(0, sys.argv[1]); from sandboxed.zygote import main; main()"
# Caps that are not configurable (see catkit.grading.limits for those that are).
FILE_SIZE_MB = 16  # the largest file a process may write
OPEN_FILES = 256   # file descriptors of each process
SCRATCH_MB = 64    # each of the sandbox's two writable tmpfs folders, /tmp and its workdir
# Files of /proc that count host-wide events, which a sandbox can change (allocating memory,
# running, forking, opening or locking files, sleeping on a timer, doing I/O) and another read:
# each reads empty in the sandbox (an empty file bound over it). Graded functions, Python and numpy
# read none of them (glibc counts CPUs without /proc/stat: /sys is absent, sched_getaffinity
# answers). The folders of MASKED_FOLDERS are empty. Per-namespace files (/proc/sysvipc, /proc/net,
# the sandbox's own processes) stay. See README, Sandbox.
MASKED = ("/proc/meminfo", "/proc/vmstat", "/proc/zoneinfo", "/proc/buddyinfo", "/proc/pagetypeinfo",
          "/proc/slabinfo", "/proc/swaps", "/proc/stat", "/proc/loadavg", "/proc/uptime",
          "/proc/schedstat", "/proc/softirqs", "/proc/interrupts", "/proc/timer_list",
          "/proc/sched_debug", "/proc/latency_stats", "/proc/diskstats", "/proc/locks",
          "/proc/key-users", "/proc/keys", "/proc/cgroups", "/proc/sys/fs/file-nr",
          "/proc/sys/fs/inode-nr", "/proc/sys/fs/inode-state", "/proc/sys/fs/dentry-state",
          "/proc/sys/fs/aio-nr", "/proc/sys/kernel/pty/nr")
MASKED_FOLDERS = ("/proc/pressure", "/proc/fs", "/proc/irq")


def bubblewrap() -> str | None:
    """Path of ``bwrap`` when it can be used here (needs root for the user switch), else None."""
    path = shutil.which("bwrap")
    return path if path and os.geteuid() == 0 and shutil.which("setpriv") else None


def isolation_warning(mode: str) -> str | None:
    """The loud warning for a grader running without the full sandbox, or None."""
    if mode == "bwrap":
        return None
    reason = ("disabled by configuration (IsolatedExecute.sandbox = 'none')" if mode == "none"
              else "bubblewrap (bwrap), setpriv or root privileges are missing")
    return ("WARNING: student code is NOT fully sandboxed: " + reason + ". It runs with resource "
            "limits in a separate process only: it has network access, can read every file this "
            "user can read, and processes it detaches may outlive grading. Install bubblewrap "
            "('apt-get install bubblewrap', done by 'make setup' as root) and grade as root.")


def resolve_mode(requested: str) -> str:
    """'bwrap' or 'none' for a configured mode of 'auto', 'bwrap' or 'none'; GraderFault when
    'bwrap' is required but cannot be used here."""
    if requested == "none":
        return "none"
    if bubblewrap():
        return "bwrap"
    if requested == "bwrap":
        raise GraderFault("IsolatedExecute.sandbox is 'bwrap' but bubblewrap cannot be used here: "
                          "install it with 'apt-get install bubblewrap' and grade as root")
    return "none"


def _read_only_roots() -> list[str]:
    """What the worker must be able to read: system libraries, Python, the venv."""
    roots = {"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/alternatives"}
    for prefix in (sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))):
        roots.add(os.path.realpath(prefix))
    # A venv whose python lives under /usr is already covered; keep only existing paths.
    return sorted(path for path in roots if os.path.exists(path))


def _bind_with_parents(args: list[str], source: str, target: str) -> None:
    """Bind ``source`` at ``target``, creating world-readable parents (bwrap makes them 0700)."""
    parents = []
    parent = Path(target).parent
    while str(parent) != "/":
        parents.append(str(parent))
        parent = parent.parent
    for directory in reversed(parents):
        args += ["--perms", "0755", "--dir", directory]
    args += ["--ro-bind", source, target]


def _empty_file() -> str:
    """An empty read-only file, in this process's temporary folder (bound over masked files:
    /dev/null cannot be, binds being read-only and without devices)."""
    path = scratch.process_folder() / "empty"
    if not path.is_file():
        path.touch(mode=0o444)
    return str(path)


def _mask_proc(args: list[str], files: Sequence[str], folders: Sequence[str]) -> None:
    """Empty ``files`` and ``folders`` of the sandbox's /proc (those this kernel has)."""
    present = [path for path in files if os.path.isfile(path)]
    empty = _empty_file() if present else ""
    for path in present:
        args += ["--ro-bind", empty, path]
    for path in folders:
        if os.path.isdir(path):
            args += ["--perms", "0555", "--size", "4096", "--tmpfs", path, "--remount-ro", path]


def command(mode: str, role: str, control_fd: int, seccomp_fd: int | None = None, uid: int | None = None,
            masked: Sequence[str] = MASKED, masked_folders: Sequence[str] = MASKED_FOLDERS) -> list[str]:
    """The argv that starts a sandbox's zygote (``role`` 'student' or 'reference', see
    :mod:`catkit.grading.sandboxed.zygote`) with the given isolation ``mode``, driven over
    ``control_fd``, as the user and group ``uid`` (mode 'bwrap' only, required there: a UID claimed
    from :mod:`catkit.grading.isolation.users`), under the seccomp filter read from ``seccomp_fd``
    (see :mod:`catkit.grading.isolation.seccomp`), with ``masked`` files and ``masked_folders`` of
    /proc emptied (other values: the tests only, to show what the masks stop)."""
    python = [sys.executable, "-I", "-c", ZYGOTE_ENTRY]
    if mode == "none":
        return python + [str(SANDBOXED.parent), role, str(control_fd), "shared"]
    if uid is None:
        raise ValueError("a sandbox started with bubblewrap needs a user of its own (users.claim)")
    bwrap, setpriv = bubblewrap(), shutil.which("setpriv")
    if bwrap is None or setpriv is None:  # (resolve_mode said 'bwrap': the host changed since)
        raise OSError("bubblewrap (bwrap) or setpriv cannot be used here")
    scratch = ["--perms", "1777", "--size", str(SCRATCH_MB * 1024 * 1024), "--tmpfs"]
    args = [bwrap, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
            "--proc", "/proc", "--dev", "/dev", *scratch, "/tmp"]
    _mask_proc(args, masked, masked_folders)
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    for root in _read_only_roots():
        _bind_with_parents(args, root, root)
    # Only the sandboxed package: nothing else of the kit (the engine, examples, tests) is readable.
    _bind_with_parents(args, str(SANDBOXED), f"{MOUNT}/sandboxed")
    for name, value in worker_environment().items():
        args += ["--setenv", name, value]
    args += [*scratch, WORKDIR, "--chdir", WORKDIR, "--", setpriv, f"--reuid={uid}",
             f"--regid={uid}", "--clear-groups", "--no-new-privs"]
    return args + python + [MOUNT, role, str(control_fd), "isolated"]


def worker_environment() -> dict[str, str]:
    """A minimal environment: one BLAS thread keeps timings fair and memory under the cap."""
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def apply_limits(limits: Limits, group: Group | None = None) -> Callable[[], None]:
    """Return a ``preexec_fn`` that caps the sandbox's first process before it execs.

    With a control ``group`` (see :mod:`catkit.grading.isolation.cgroups`) the process joins it,
    and the group caps memory and processes for the whole sandbox. RLIMIT_NPROC, which counts
    every process of the sandbox's user on the host (a user no other sandbox runs as, see
    :mod:`catkit.grading.isolation.users`), is only the fallback without one.
    """
    mib = 1024 * 1024
    caps = [(resource.RLIMIT_AS, limits.memory_limit_mb * mib),
            (resource.RLIMIT_CPU, limits.cpu_limit_seconds),
            (resource.RLIMIT_FSIZE, FILE_SIZE_MB * mib),
            (resource.RLIMIT_NOFILE, OPEN_FILES),
            (resource.RLIMIT_CORE, 0)]
    if group is None:
        caps.append((resource.RLIMIT_NPROC, limits.max_processes))

    def preexec() -> None:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        if group is not None:
            group.join()
        die_with_parent()
        for kind, value in caps:
            resource.setrlimit(kind, (value, value))
    return preexec
