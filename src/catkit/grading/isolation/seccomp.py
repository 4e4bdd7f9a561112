"""A seccomp filter for the sandbox: the kernel objects that outlive or cross sandboxes are refused.

Every sandbox runs as the host's ``nobody``. Namespaces separate files, processes, network and
System V / POSIX IPC, but not the kernel **keyring** of a user: a key added by one sandbox
(``add_key``) is readable by every other sandbox of that user, during the run and after it, a
channel between students (a later function relaying the reference's answers to an earlier one,
found by the red team). POSIX **message queues** would carry data from one test cell's child to
the next within a sandbox. Graded functions need neither, so bubblewrap installs this filter
(``--seccomp FD``) and those system calls fail with EPERM; so does every system call made through
another architecture's entry point (32-bit or x32 calls on x86_64), which could bypass the list.

The filter is a classic BPF program, built here (no library): check the architecture, then
compare the system call number with each refused one.
"""

from __future__ import annotations

import os
import platform
import struct

# (AUDIT_ARCH value, refused system calls by number, numbers at or above which calls are refused)
_ARCHES: dict[str, tuple[int, tuple[int, ...], int | None]] = {
    # add_key, request_key, keyctl, mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify,
    # mq_getsetattr; 0x40000000 and above: the x32 ABI.
    "x86_64": (0xC000003E, (248, 249, 250, 240, 241, 242, 243, 244, 245), 0x40000000),
    "aarch64": (0xC00000B7, (217, 218, 219, 180, 181, 182, 183, 184, 185), None),
}
REFUSED = "add_key, request_key, keyctl and the POSIX message queue calls"

_LD_W_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes | None:
    """The compiled filter for ``machine`` (default: this one), or None where it is not known."""
    known = _ARCHES.get(machine or platform.machine())
    if known is None:
        return None
    arch, refused, foreign_from = known
    deny = _ERRNO | 1  # EPERM
    checks = ([(_JGE, foreign_from)] if foreign_from else []) + [(_JEQ, number) for number in refused]
    ops = [_op(_LD_W_ABS, _ARCH), _op(_JEQ, arch, jt=1), _op(_RET, deny), _op(_LD_W_ABS, _NR)]
    for index, (code, value) in enumerate(checks):
        ops.append(_op(code, value, jt=len(checks) - index))  # to the deny at the end
    ops += [_op(_RET, _ALLOW), _op(_RET, deny)]
    return b"".join(ops)


def filter_fd() -> int | None:
    """A file descriptor holding the filter, for bubblewrap's ``--seccomp`` (None if unknown)."""
    compiled = program()
    if compiled is None:
        return None
    descriptor = os.memfd_create("catkit-seccomp", 0)
    os.write(descriptor, compiled)
    os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor
