"""Grading time is CPU time of the student's sandbox, and a sandbox gets one core at most.

- The cap: a sandbox running many busy processes gets about one core, however many it starts.
- Starvation: one submission whose functions each fork 28 busy processes (each in a session of its
  own) is graded in the same ``nbgrader autograde`` run as correct bystanders: every bystander is
  graded with full marks, the attacker loses the points of its attacking functions only.
- Load: a class graded on a quiet machine and again while busy processes outside any sandbox keep
  every core saturated gets identical grades and graded outputs.
- Verdicts: a function that loops forever fails its cell in CPU time, one that sleeps fails it on
  the wall clock; the wall-clock backstop (only a machine too busy, or a stopped sandbox, reaches
  it) leaves the submission not graded (GraderFault), never a lost point.

(The course-level tests use only what any version of the kit has, so that they can be run against
one without these protections: they fail there.)
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from catkit.errors import GraderFault
from catkit.grading import harness, reference, remote
from catkit.grading.isolation import cgroups, handle
from catkit.grading.job import Job
from catkit.parent_death import die_with_parent
from catkit.submissions import answers
from conftest import (
    FUNCTIONS,
    MISTAKES,
    NOTEBOOK,
    PREAMBLE,
    SOURCE_NB,
    autograde,
    gradebook_scores,
    graded_outputs,
    make_course,
    read,
    solved,
    submit,
)
from test_host_caps import cell
from test_host_caps import pytestmark as host_caps_marks
from test_worker import REFERENCES, SETTINGS

pytestmark = host_caps_marks  # the same needs: bubblewrap, root, control groups
NO_CPU = cgroups.cpu_available()
needs_cpu = pytest.mark.skipif(NO_CPU is not None, reason=f"no CPU accounting for sandboxes here: {NO_CPU}")


@contextlib.contextmanager
def saturated(per_core=2):
    """Busy processes outside any sandbox, ``per_core`` per core, for the duration."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL,
                             preexec_fn=die_with_parent) for _ in range(per_core * (os.cpu_count() or 1))]
    try:
        time.sleep(0.5)
        yield
    finally:
        for process in busy:
            process.kill()
        for process in busy:
            process.wait()


# --- the cap ----------------------------------------------------------------------------------------

# ``n`` busy processes, each in a session of its own, for ``seconds``; then the function ends them.
BUSY_CHILDREN = '''import os, signal, time
def f(n, seconds):
    pids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os.setsid()
            while True:
                pass
        pids.append(pid)
    time.sleep(seconds)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return len(pids)
'''


@needs_cpu
def test_a_sandbox_gets_one_core_at_most_however_many_processes_it_runs():
    settings = SETTINGS.with_limits({"timeout": 20, "cell_time_limit": 30})
    students = remote.StudentSandbox(settings)
    try:
        group = students.get().group
        with cell(students, BUSY_CHILDREN, settings) as f:
            cpu, wall = group.cpu_seconds(), time.monotonic()
            assert f(12, 3.0) == 12
            cpu, wall = group.cpu_seconds() - cpu, time.monotonic() - wall
    finally:
        students.close()
    print(f"\n12 busy processes in one sandbox: {cpu:.2f} s of CPU in {wall:.2f} s ({cpu / wall:.2f} cores; "
          f"{os.cpu_count()} on this machine)")
    # One core, plus at most one accounting period (0.1 s) of burst; on a busy machine only less.
    assert cpu <= 1.05 * wall + 0.1


# --- verdicts ---------------------------------------------------------------------------------------

ENDLESS = "def f(x):\n    while True:\n        pass\n"
SLEEPS = "import time\ndef f(x):\n    time.sleep(3600)\n"
# About ``seconds`` of CPU, measured in the function's own process, then the answer.
COMPUTES = '''import time
def f(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return seconds
'''


def call(source, settings, *args):
    """What ``f(*args)`` of ``source`` returns, or the exception it raises, in a sandbox of its own."""
    students = remote.StudentSandbox(settings)
    try:
        with cell(students, source, settings) as f:
            return f(*args)
    except (remote.WorkerFault, remote.StudentCodeError, GraderFault) as error:
        return error
    finally:
        students.close()


@needs_cpu
def test_an_endless_loop_fails_its_cell_in_cpu_time():
    settings = SETTINGS.with_limits({"timeout": 2, "cell_time_limit": 10})
    start = time.monotonic()
    outcome = call(ENDLESS, settings, 0)
    assert isinstance(outcome, remote.WorkerFault), outcome
    assert "did not finish within 2 s of CPU time (an endless loop, or far too slow?)" in str(outcome)
    assert time.monotonic() - start < 15


@needs_cpu
def test_an_endless_loop_of_calls_to_a_reference_function_fails_its_cell_in_cpu_time():
    """The reference's answers are not the student's CPU time, but its own side of each call is:
    the loop is stopped by its CPU time, not by the wall-clock backstop (not a grader fault)."""
    settings = SETTINGS.with_limits({"timeout": 1, "cell_time_limit": 10})
    students = remote.StudentSandbox(settings)
    references = handle.reference_sandbox(settings, PREAMBLE, REFERENCES)
    try:
        with pytest.raises(remote.WorkerFault, match="did not finish within 1 s of CPU time"):
            session = remote.load(students, references, settings, PREAMBLE, "def f(x):\n    while True:\n"
                                  "        double(x)\n", "f", ("double",), time.monotonic() + 10, "(cell)")
            try:
                remote.RemoteFunction(session, "f")(1)
            finally:
                session.close()
    finally:
        students.close()


def test_a_function_that_sleeps_fails_its_cell_on_the_wall_clock():
    """Sleeping (or blocking) is the function's own doing: it counts as on the wall clock."""
    settings = SETTINGS.with_limits({"timeout": 2, "cell_time_limit": 10})
    start = time.monotonic()
    outcome = call(SLEEPS, settings, 0)
    assert isinstance(outcome, remote.WorkerFault), outcome
    assert str(outcome).startswith("did not finish within 2 s"), outcome
    assert time.monotonic() - start < 8


@needs_cpu
def test_a_function_within_its_cpu_time_passes_however_busy_the_machine():
    """1.5 s of CPU against a 2.5 s timeout: on a saturated machine it takes longer than 2.5 s on
    the wall clock (so wall-clock budgets fail it), and passes in CPU time."""
    settings = SETTINGS.with_limits({"timeout": 2.5, "cell_time_limit": 10})
    with saturated(per_core=3):
        start = time.monotonic()
        outcome = call(COMPUTES, settings, 1.5)
        took = time.monotonic() - start
    print(f"\n1.5 s of CPU on a saturated machine: {took:.1f} s on the wall clock, outcome {outcome!r}")
    assert outcome == 1.5


def _job(source, test="assert sigmoid(0) == 0.5\n"):
    layout, references = reference.from_notebook(SOURCE_NB)
    return Job("student", (("sigmoid_checks", test),), {"sigmoid": source}, references, "s" * 32, layout)


SLOW_SIGMOID = '''import time
def sigmoid(z):
    start = time.process_time()
    while time.process_time() - start < 3:
        pass
    return 1 / (1 + np.exp(-z))
'''


@needs_cpu
@pytest.mark.parametrize("test", ["assert sigmoid(0) == 0.5\n",
                                  "try:\n    sigmoid(0)\nexcept Exception:\n    pass\n"])  # it cannot be caught
def test_the_wall_clock_backstop_makes_a_grader_fault_not_a_lost_point(monkeypatch, test):
    """A tiny backstop stands for a machine too busy to give the sandbox its CPU: the function
    computes, within its CPU time, when the wall clock runs out."""
    monkeypatch.setattr(remote, "BACKSTOP_FACTOR", 0.0)
    monkeypatch.setattr(remote, "BACKSTOP_SECONDS", 1.0)
    settings = SETTINGS.with_limits({"timeout": 10, "cell_time_limit": 20})
    try:
        with pytest.raises(GraderFault, match="no fault of the student's"):
            harness.grade(_job(SLOW_SIGMOID, test), settings)
    finally:
        handle.close_all()


@needs_cpu
def test_a_stopped_sandbox_makes_a_grader_fault_not_a_lost_point(monkeypatch):
    """A sandbox stopped from outside (SIGSTOP) uses no CPU: nothing the student did."""
    monkeypatch.setattr(remote, "BACKSTOP_FACTOR", 0.0)
    monkeypatch.setattr(remote, "BACKSTOP_SECONDS", 3.0)
    settings = SETTINGS.with_limits({"timeout": 2, "cell_time_limit": 20})
    students = remote.StudentSandbox(settings)
    group = students.get().group

    def stop():
        time.sleep(0.5)
        for pid in group.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    stopper = threading.Thread(target=stop)
    try:
        with pytest.raises(GraderFault, match="no fault of the student's"):
            with cell(students, ENDLESS, settings) as f:
                stopper.start()
                f(0)
    finally:
        stopper.join()
        students.close()
        handle.close_all()


# --- a class in one nbgrader run ------------------------------------------------------------------

def _course(tmp_path, config):
    return make_course(tmp_path / "course", config)


def _scores_and_outputs(root, students):
    scores = gradebook_scores(root)
    return {s: scores[s] for s in students}, {s: graded_outputs(root, s) for s in students}


ATTACKING = [f for f in FUNCTIONS if f != "predict"]  # predict stays correct: its points are the attacker's
ATTACK = '''import os


def _starve():
    for _ in range(28):
        try:
            if os.fork() == 0:
                os.setsid()
                while True:
                    pass
        except OSError:
            pass
    while True:
        pass


'''


def _attacker(root):
    """The reference answers, each attacking function first forking 28 busy processes, each in a
    session of its own, then looping itself."""
    solutions = answers(read(root / "source" / "logistic_regression" / NOTEBOOK))
    edits = {}
    for function in ATTACKING:
        header = re.search(rf"^def {function}\(.*\):$", solutions[f"{function}_solution"], re.M).group(0)
        edits[f"{function}_solution"] = [(header, f"{ATTACK}{header}\n    _starve()")]
    return solved(root, edits)


BYSTANDERS = ["by-1", "by-2", "by-3", "by-4"]


def test_a_submission_that_forks_busy_processes_starves_no_other(tmp_path):
    # Tight budgets, so that a bystander starved of CPU would run out of them.
    root = _course(tmp_path, "\nc.IsolatedExecute.timeout = 3\nc.IsolatedExecute.submission_budget = 6\n"
                             "c.IsolatedExecute.workers = 2\n")
    submit(root, "attacker", _attacker(root))  # graded first, beside the bystanders
    for name in BYSTANDERS:
        submit(root, name, solved(root))
    start = time.monotonic()
    run = autograde(root)
    took = time.monotonic() - start
    scores, outputs = _scores_and_outputs(root, ["attacker", *BYSTANDERS])
    print(f"\nthe class of {1 + len(BYSTANDERS)} graded in {took:.1f} s; scores {scores}")
    assert run.returncode == 0, run.log_tail  # every submission graded
    for name in BYSTANDERS:
        assert scores[name]["total"] == 20, (name, scores[name], outputs[name])
    assert scores["attacker"] == {**dict.fromkeys(ATTACKING, 0.0), "predict": 3.0, "total": 3.0}


LOAD_CLASS = ["correct", "sigmoid-sign-error", "sigmoid-hard-coded", "initialize-flat-w", "initialize-array-b",
              "propagate-no-1-over-m", "propagate-global", "optimize-mutates-w", "optimize-cost-every-iteration",
              "predict-flat", "predict-threshold-zero", "model-global", "model-ignores-iterations"]


def test_grades_are_the_same_on_a_quiet_and_on_a_saturated_machine(tmp_path):
    # Budgets a correct submission uses a small part of, in CPU; on the wall clock, under load, more.
    root = _course(tmp_path, "\nc.IsolatedExecute.timeout = 1\nc.IsolatedExecute.submission_budget = 3\n")
    for name in LOAD_CLASS:
        submit(root, name, solved(root, MISTAKES[name][1] if name in MISTAKES else None))
    quiet = autograde(root)
    assert quiet.returncode == 0, quiet.log_tail
    before = _scores_and_outputs(root, LOAD_CLASS)
    with saturated():
        start = time.monotonic()
        busy = autograde(root, "logistic_regression", True)
        took = time.monotonic() - start
    assert busy.returncode == 0, busy.log_tail
    after = _scores_and_outputs(root, LOAD_CLASS)  # (graded outputs: the stamps' grading times are not in them)
    print(f"\n{len(LOAD_CLASS)} submissions graded again on a saturated machine in {took:.1f} s")
    assert before[0]["correct"]["total"] == 20
    for name in LOAD_CLASS[1:]:
        assert before[0][name]["total"] < 20, name
    assert after[0] == before[0]
    for name in LOAD_CLASS:
        assert after[1][name] == before[1][name], name
