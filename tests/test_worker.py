"""The grader's side of the sandbox boundary, attacked directly: nothing the worker does can
block the grader, flood it, or break the notebook it writes."""

import contextlib
import io
import time

import numpy as np
import pytest

from catkit.grading import harness, remote, sandbox
from catkit.grading.notebook import PREAMBLE

MODE = sandbox.resolve_mode("auto")
SETTINGS = harness.Settings(mode=MODE, timeout=3, cell_time_limit=6)
SANDBOXED = pytest.mark.skipif(MODE != "bwrap", reason="needs bubblewrap and root")


@contextlib.contextmanager
def worker(source):
    handle = remote.start(SETTINGS, PREAMBLE, {}, source, "<your f cell>", "f")
    try:
        yield remote.RemoteFunction(handle, "f")
    finally:
        handle.close()


STOP_READING = """
import sys, time
sys.modules["catkit.grading.wire"].receive = lambda stream: time.sleep(3600)
def f(x):
    return x
"""

DRIP = """
import sys, time
wire = sys.modules["catkit.grading.wire"]
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
sys.modules["catkit.grading.worker"].MAX_TEXT = 10**9
def f(x):
    print("y" * 3_000_000)
    raise ValueError("z" * 3_000_000)
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
        assert f(0) == (sandbox.WORKDIR, [], False)
