"""The grader's side of the sandbox boundary, attacked directly: nothing the worker does can
block the grader, flood it, or break the notebook it writes."""

import contextlib
import io
import time

import numpy as np
import pytest

from catkit.grading import remote
from catkit.grading.isolation import cgroups, handle, launch
from catkit.grading.job import Settings
from catkit.grading.limits import Limits
from conftest import PREAMBLE

MODE = launch.resolve_mode("auto")
SETTINGS = Settings(mode=MODE, cgroups=cgroups.available() is None, limits=Limits(timeout=3, cell_time_limit=6))
pytestmark = [pytest.mark.slow, pytest.mark.root]  # real sandboxes (bubblewrap needs root)
SANDBOXED = pytest.mark.skipif(MODE != "bwrap", reason="needs bubblewrap and root")
REFERENCES = {"double": "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"}


@contextlib.contextmanager
def worker(source, relies_on=(), settings=SETTINGS):
    """The student's ``f`` defined alone in a fresh sandboxed session, as the grader calls it."""
    students = remote.StudentSandbox(settings)
    references = handle.reference_sandbox(settings, PREAMBLE, REFERENCES)
    session = None
    try:
        session = remote.load(students, references, settings, PREAMBLE, source, "f", relies_on,
                              time.monotonic() + settings.limits.cell_time_limit,
                              f"used up the {settings.limits.cell_time_limit:g} s allowed for one test cell")
        yield remote.RemoteFunction(session, "f")
    finally:
        if session is not None:
            session.close()
        students.close()


STOP_READING = """
import sys, time
sys.modules["sandboxed.wire"].receive = lambda stream: time.sleep(3600)
def f(x):
    return x
"""

DRIP = """
import sys, time
wire = sys.modules["sandboxed.wire"]
real_send = wire.send
def slow_send(stream, message):
    time.sleep(2.2)
    real_send(stream, message)
wire.send = slow_send
def f(x):
    return x
"""

FLOOD = """
import sys
sys.modules["sandboxed.student"].MAX_TEXT = 10**9
def f(x):
    print("y" * 1_500_000)
    raise ValueError("z" * 1_500_000)
"""


def test_a_worker_that_stops_reading_cannot_block_the_grader():
    with worker(STOP_READING) as f:
        start = time.monotonic()
        with pytest.raises(remote.WorkerFault, match="did not finish within 3 s"):
            f(np.zeros(200_000))  # far more than a pipe holds
        assert time.monotonic() - start < 10


def test_dripping_answers_use_up_the_time_of_one_cell():
    start = time.monotonic()
    with worker(DRIP) as f:  # the load's answer drips too
        assert f(1.5) == 1.5
        with pytest.raises(remote.WorkerFault, match="used up the 6 s allowed for one test cell"):
            f(2.5)
    assert time.monotonic() - start < 12


def test_the_grader_clips_what_the_worker_sends():
    printed = io.StringIO()
    with worker(FLOOD) as f, contextlib.redirect_stdout(printed):
        with pytest.raises(remote.StudentCodeError) as error:
            f(0)
    assert len(printed.getvalue()) < remote.MAX_OUTPUT + 100
    assert len(error.value.message) < 2100
    # The attack reached the sandbox's own module: the worker sent all of it, and only the grader clipped it.
    assert printed.getvalue().endswith("(1480001 more characters)"), printed.getvalue()[-100:]
    assert error.value.message.endswith("(1498000 more characters)"), error.value.message[-100:]


def test_text_from_the_worker_is_valid_unicode():
    with worker('def f(x):\n    raise ValueError("bad \\ud800 value")\n') as f:
        with pytest.raises(remote.StudentCodeError) as error:
            f(0)
    error.value.message.encode("utf-8")  # a lone surrogate would make nbgrader fail to save the notebook
    assert error.value.kind == "ValueError" and "bad" in error.value.message


def test_in_place_changes_to_array_arguments_come_back_and_a_new_shape_is_refused():
    with worker("def f(x):\n    x += 1\n") as f:
        x = np.zeros((2, 3))
        assert f(x) is None
        assert np.array_equal(x, np.ones((2, 3)))
    with worker("def f(x):\n    x.shape = (6,)\n") as f:
        with pytest.raises(remote.StudentCodeError, match="changed the shape"):
            f(np.zeros((2, 3)))


@SANDBOXED
def test_the_worker_starts_in_an_empty_private_folder(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("solution")
    probe = f"import os\ndef f(x):\n    return os.getcwd(), os.listdir('.'), os.path.exists({str(secret)!r})\n"
    with worker(probe) as f:
        assert f(0) == (launch.WORKDIR, [], False)


# Hunts for the reference's source anywhere in its own process: the marker only the instructor's
# solution cells hold, the text around it, and the code of the reference function it relies on.
LEAK_HUNT = r'''
import dis, gc, inspect, io, re, sys
MARK = "### BEGIN " + "SOLUTION"
def _found(text):  # the marker as it opens a solution: followed by a line break (or its escape)
    return [text[i:i + 80] for i in [m.start() for m in re.finditer(re.escape(MARK) + r"(\n|\\n)", text)]]
def hunt():
    hits = []
    frame = sys._getframe()
    while frame is not None:  # the stack, up to the worker's request handling
        for scope in (frame.f_locals, frame.f_globals):
            hits += _found(repr(scope)[:2_000_000])
        frame = frame.f_back
    for obj in gc.get_objects():  # every object the collector knows, and the strings they hold
        if isinstance(obj, (dict, list, tuple)) and obj is not hits:
            for s in (obj.values() if isinstance(obj, dict) else obj):
                hits += _found(s) if isinstance(s, str) else []
    hits += _found(repr(globals()))
    if hasattr(double, "__code__"):  # a real function here would be the reference's own code
        out = io.StringIO()
        dis.dis(double, file=out)
        hits += ["double() is the reference's code: " + out.getvalue()[:200]]
    else:  # the stand-in's own code: the kit's, not the reference's
        hits += [c for c in double.__call__.__code__.co_consts if isinstance(c, str) and "2 * x" in c]
    try:  # the process's own memory, mapping by mapping
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                if "r" not in perms or "[vvar" in line or "[vsyscall" in line:
                    continue
                start, end = (int(x, 16) for x in span.split("-"))
                try:
                    mem.seek(start)
                    data = mem.read(end - start)
                except (OSError, OverflowError, ValueError):
                    continue
                hits += [data[i:i + 60].decode("latin-1") for i in
                         [m.start() for m in re.finditer(rb"return 2 \* x", data)]]
    except OSError as error:
        hits.append(f"cannot read own memory: {error}")
    return hits

def f(x):
    return hunt(), double(x)
'''


SLOW = SETTINGS.with_limits({"timeout": 30, "cell_time_limit": 30})  # reading all of its memory takes seconds


def test_reference_code_never_enters_the_students_process():
    """Stack, objects, globals, disassembly, code objects and the process's own memory: the student's
    function finds no line of the reference it relies on, which still computes the right answer."""
    with worker(LEAK_HUNT, relies_on=("double",), settings=SLOW) as f:
        hits, doubled = f(21)
    assert doubled == 42, "the reference double() did not answer through its stand-in"
    assert [hit for hit in hits if not hit.startswith("cannot read own memory")] == [], hits
    # Control: the same hunt, with the reference defined in the student's process (as the grader
    # once did), finds it in every place it looks.
    with worker(REFERENCES["double"] + LEAK_HUNT, settings=SLOW) as f:
        hits, _ = f(21)
    assert len([hit for hit in hits if "SOLUTION" in hit]) >= 3 and any("2 * x" in hit for hit in hits), hits


def test_a_function_cannot_call_the_reference_of_a_function_it_does_not_rely_on():
    with worker("def f(x):\n    return double(x)\n") as f:
        with pytest.raises(remote.StudentCodeError, match="NameError"):
            f(1)


DEEP_REPLY = """
import sys
wire = sys.modules["sandboxed.wire"]
def deep_send(stream, message):
    payload = ("[" * 200_000 + "]" * 200_000).encode()
    stream.write(len(payload).to_bytes(8, "big") + payload)
    stream.flush()
def f(x):
    wire.send = deep_send
    return x
"""

HUGE_REPLY = """
import sys
wire = sys.modules["sandboxed.wire"]
def huge_send(stream, message):
    payload = ('{"ok": true, "value": [' + ",".join(["1"] * 1_500_000) + "]}").encode()
    stream.write(len(payload).to_bytes(8, "big") + payload)
    stream.flush()
def f(x):
    wire.send = huge_send
    return x
"""


@pytest.mark.parametrize("attack, message", [(DEEP_REPLY, "nested more than 32 levels"),
                                             (HUGE_REPLY, "more than 100000 values")])
def test_forged_replies_are_refused_quickly_with_a_clear_message(attack, message):
    start = time.monotonic()
    with worker(attack) as f:
        with pytest.raises(remote.WorkerFault, match=message):
            f(1)
    assert time.monotonic() - start < 5


@SANDBOXED
def test_scratch_folders_are_writable_and_capped():
    probe = '''import os, tempfile
def f(x):
    with tempfile.NamedTemporaryFile(dir="/tmp") as handle:
        handle.write(b"ok")
    open("here.txt", "w").write("ok")
    try:  # files of 10 MiB (one file may hold 16 MiB: RLIMIT_FSIZE), until the folder is full
        for i in range(20):
            with open(f"/tmp/big{i}", "wb") as handle:
                handle.write(b"x" * 10 * 1024 * 1024)
        return "no cap"
    except OSError as error:
        return error.strerror
'''
    with worker(probe) as f:
        assert f(0) == "No space left on device"


KERNEL_OBJECTS = """
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
NUMBERS = {"x86_64": {"add_key": 248, "keyctl": 250, "mq_open": 240},
           "aarch64": {"add_key": 217, "keyctl": 219, "mq_open": 180}}[os.uname().machine]
def f(call):
    if call == "add_key":  # a key in the user's keyring, which outlives the sandbox (its user is reused)
        result = _libc.syscall(NUMBERS[call], b"user", b"catkit-relay", b"answer", 6, ctypes.c_long(-4))
    elif call == "keyctl":  # search the user's keyring for a key an earlier sandbox of that user left
        result = _libc.syscall(NUMBERS[call], 10, ctypes.c_long(-4), b"user", b"catkit-relay", 0)
    else:  # a POSIX message queue, to pass data to the next test cell's child
        result = _libc.syscall(NUMBERS[call], b"catkit-relay", os.O_CREAT | os.O_RDWR, 0o600, None)
    return [int(result), ctypes.get_errno()]
"""


@SANDBOXED
@pytest.mark.parametrize("call", ["add_key", "keyctl", "mq_open"])
def test_kernel_keyrings_and_message_queues_are_refused(call):
    """Keys live in the kernel, per user, beyond any namespace, and outlive the sandbox: when every
    sandbox ran as nobody, a key one student's function added was readable by another's (a relay of
    the reference's answers from a later function to an earlier one, found by the red team); a
    sandbox's user is reused by later sandboxes. The seccomp filter refuses those calls
    (catkit/grading/isolation/seccomp.py)."""
    with worker(KERNEL_OBJECTS) as f:
        assert f(call) == [-1, 1], f"{call} was not refused with EPERM"
