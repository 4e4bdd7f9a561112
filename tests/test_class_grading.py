"""A class graded with real ``nbgrader autograde`` runs: resumable, deterministic, bounded, honest.

- Resumable: a run killed with SIGKILL (its whole process group, or nbgrader alone) at several
  points is finished by the same plain command; the grades are those of a run that was never
  interrupted, nothing is half-graded or counted twice, and no grading process or sandbox
  outlives the killed nbgrader.
- Deterministic: grading again gives the same outputs, hidden tests included; another course
  secret draws other inputs.
- Bounded: a submission whose every call is slow finishes within its grading budget; the
  function that is fast keeps its points, and so does another student of the same run.
- Grader faults: a sandbox that cannot start leaves the submission "not graded", never a 0, and
  the same command grades it once the cause is fixed.

The course is generated once (``template``); each test grades a copy of it.
"""

import contextlib
import csv
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from catkit import nbgrader_commands
from catkit.course import Course, read_stamp
from catkit.nbgrader_plugins.export import assignment_file
from catkit.submissions import answers
from conftest import (
    ASSIGNMENT,
    FUNCTIONS,
    MISTAKES,
    NOTEBOOK,
    autograded_nb,
    gradebook_counts,
    gradebook_scores,
    graded_outputs,
    make_course,
    nbgrader,
    needs_manual_grading,
    read,
    solved,
    submit,
    write_secret,
)
from processes import alive, descendants

pytestmark = pytest.mark.slow  # every test grades with real nbgrader runs

TIMEOUT = 3  # seconds per call of a student's function, in every course of this module
ONE_BUG = ["sigmoid-sign-error", "propagate-no-1-over-m", "optimize-mutates-w", "predict-flat"]
CLASS = ["correct", *ONE_BUG]
GRADES_PER_SUBMISSION = 12  # graded test cells: a visible and a hidden one per function
RUN_SECONDS = 300  # a run that takes longer than this is stuck


# --- courses --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The course with its student version generated, no submission (copied by every test)."""
    return make_course(tmp_path_factory.mktemp("template") / "course",
                       f"\nc.IsolatedExecute.timeout = {TIMEOUT}\n")


def _copy(template, root, extra_config=""):
    shutil.copytree(template, root)
    if extra_config:
        with open(root / "nbgrader_config.py", "a") as handle:
            handle.write("\n" + extra_config + "\n")
    return root


def _class_copy(template, root, secret=None):
    """A copy of the course with the class submitted; with ``secret``, that course secret."""
    _copy(template, root)
    submit(root, "correct", solved(root))
    for name in ONE_BUG:
        submit(root, name, solved(root, MISTAKES[name][1]))
    if secret is not None:
        write_secret(root, secret)
    return root


# --- nbgrader runs --------------------------------------------------------------------------------

def _command(*args):
    """``nbgrader autograde`` with the PATH and environment catkit.nbgrader_commands uses."""
    return nbgrader_commands.command("autograde", ASSIGNMENT, *args)


def _autograde(root, *args):
    command, env = _command(*args)
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=RUN_SECONDS)


def _start(root, log, *args):
    """Start ``nbgrader autograde`` in a session (and process group) of its own."""
    command, env = _command(*args)
    return subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


# --- what a graded course holds -------------------------------------------------------------------

def _stamped(root):
    return sorted(s for s in CLASS if read_stamp(autograded_nb(root, s)))


@dataclass
class Snapshot:
    scores: dict   # student -> {function: points, total}
    outputs: dict  # student -> {grade_id: outputs}


def _snapshot(root):
    return Snapshot(gradebook_scores(root), {s: graded_outputs(root, s) for s in CLASS})


def _assert_graded_as(root, reference):
    """Every student graded completely, once, with the grades and outputs of ``reference``."""
    assert _stamped(root) == sorted(CLASS), "a submission is not completely graded (no stamp)"
    for student in CLASS:
        assert needs_manual_grading(root, student) == [], f"{student} is half-graded"
    assert gradebook_counts(root) == {s: [1, 1, GRADES_PER_SUBMISSION] for s in CLASS}, "duplicated grades"
    assert gradebook_scores(root) == reference.scores
    for student in CLASS:
        assert graded_outputs(root, student) == reference.outputs[student], f"{student}'s outputs differ"


# --- processes ------------------------------------------------------------------------------------

def _grading(cmdline):
    return "catkit.grading" in cmdline or "sandboxed.zygote" in cmdline or "bwrap" in cmdline


SURVIVAL_SECONDS = 10.0  # what the processes below a killed nbgrader get to die


def _survivors(seen):
    """Processes of ``seen`` still alive SURVIVAL_SECONDS after the kill (sooner if none are)."""
    end = time.monotonic() + SURVIVAL_SECONDS
    while True:
        living = {key: cmd for key, cmd in seen.items() if alive(*key)}
        if not living or time.monotonic() > end:
            return living
        time.sleep(0.1)


# --- the reference: the class graded without interruption -----------------------------------------

@dataclass
class Reference:
    root: Path
    secret: str  # the course secret the class was graded with
    snapshot: Snapshot


@pytest.fixture(scope="module")
def reference(template, tmp_path_factory):
    root = _class_copy(template, tmp_path_factory.mktemp("reference") / "course")
    result = _autograde(root)
    assert result.returncode == 0, result.stderr[-3000:]
    secret = (root / ".catkit" / "course_secret").read_text()
    snapshot = _snapshot(root)
    # The class as expected: the correct submission full marks, each one-bug submission loses
    # points on its function only.
    assert snapshot.scores["correct"]["total"] == 20
    for name in ONE_BUG:
        function, scores = MISTAKES[name][0], snapshot.scores[name]
        assert scores[function] < snapshot.scores["correct"][function], name
        assert scores["total"] - scores[function] == 20 - snapshot.scores["correct"][function], name
    _assert_graded_as(root, snapshot)
    return Reference(root, secret, snapshot)


# --- deterministic --------------------------------------------------------------------------------

RANDOM_SHAPE = re.compile(r"for a random X of shape \(\d+, \d+\)")


def _errors(outputs):
    return [output["evalue"] for output in outputs if output["output_type"] == "error"]


def test_grading_again_changes_nothing_and_another_secret_draws_other_inputs(reference):
    root, before = reference.root, reference.snapshot
    secret = root / ".catkit" / "course_secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    released = [path for path in (root / "release").rglob("*") if path.is_file()]
    assert released and not [path for path in released
                             if path.name == secret.name or reference.secret.strip().encode() in path.read_bytes()]
    # The comparison below covers hidden tests whose messages quote inputs drawn from the seed.
    quoting = [(student, cell) for student, cells in before.outputs.items() for cell, outputs in cells.items()
               if cell.endswith("_hidden_tests") and any(RANDOM_SHAPE.search(e) for e in _errors(outputs))]
    assert ("propagate-no-1-over-m", "propagate_hidden_tests") in quoting

    again = _autograde(root, "--force")
    assert again.returncode == 0, again.stderr[-3000:]
    _assert_graded_as(root, before)  # every graded cell's outputs, hidden tests included, and the scores

    # Another course secret: other inputs, so another shape quoted, for the same mistake and points.
    student = "propagate-no-1-over-m"
    secret.write_text(os.urandom(32).hex() + "\n")
    redrawn = _autograde(root, "--force", "--student", student)
    assert redrawn.returncode == 0, redrawn.stderr[-3000:]
    old, new = before.outputs[student], graded_outputs(root, student)
    old_message, new_message = _errors(old["propagate_hidden_tests"]), _errors(new["propagate_hidden_tests"])
    assert len(new_message) == 1 and RANDOM_SHAPE.search(new_message[0]), new_message
    assert new_message != old_message, f"the same inputs with another secret: {new_message}"
    assert new["propagate_checks"] == old["propagate_checks"]  # visible checks have fixed inputs
    assert gradebook_scores(root)[student] == before.scores[student]


# --- bounded --------------------------------------------------------------------------------------

BUDGET = 12
SLEEP = 2.9  # just under the call timeout: each call alone would pass
FAST = "predict"  # the one function that does not sleep, graded after eight cut-off cells
CUT_OFF = (f"share of the submission's {BUDGET} s grading budget", f"used up its {BUDGET} s grading budget")


def _slow_submission(root):
    """The reference answers, each function but FAST sleeping SLEEP seconds per call."""
    solutions = answers(read(root / "source" / ASSIGNMENT / NOTEBOOK))
    edits = {}
    for function in FUNCTIONS:
        if function != FAST:
            cell = f"{function}_solution"
            header = re.search(rf"^def {function}\(.*\):$", solutions[cell], re.M).group(0)
            edits[cell] = [(header, f"import time\n\n\n{header}\n    time.sleep({SLEEP})")]
    return solved(root, edits)


@pytest.mark.root  # it waits to see the submission's bubblewrap sandbox, which needs root
def test_a_slow_submission_stays_within_its_budget(template, tmp_path):
    root = _copy(template, tmp_path / "course", f"c.IsolatedExecute.submission_budget = {BUDGET}")
    submit(root, "slow", _slow_submission(root))
    submit(root, "unaffected", solved(root))  # graded after "slow", in the same run
    folder, graded = root / "autograded" / "slow" / ASSIGNMENT, autograded_nb(root, "slow")
    with open(tmp_path / "autograde.log", "w") as log:
        start = time.monotonic()
        process = _start(root, log)
        begun = sandboxed = finished = None
        while process.poll() is None:
            now = time.monotonic()
            if now > start + RUN_SECONDS:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail(f"nbgrader did not finish within {RUN_SECONDS} s")
            begun = begun or (folder.exists() and now)  # nbgrader starts on the submission (the first)
            sandboxed = sandboxed or (any("bwrap" in cmd for cmd in descendants(process.pid).values()) and now)
            finished = finished or (read_stamp(graded) and now)
            time.sleep(0.05)
    assert process.returncode == 0, (tmp_path / "autograde.log").read_text()[-3000:]
    assert begun and sandboxed and finished, "the submission was not seen being graded"
    took = (f"nbgrader started on the submission {begun - start:.1f} s into the run; its grading processes "
            f"started their first sandbox {sandboxed - begun:.1f} s later; the submission was stamped "
            f"{finished - sandboxed:.1f} s after that; its grading took {read_stamp(graded)['grading_seconds']} s")
    # Grading the submission (its test cells, sandboxes started and restarted after each cut-off
    # included) stays within the budget; with nbgrader's own work on it (saving the grades,
    # writing the notebook), within the budget plus 15 s. Without the budget it would take
    # minutes: each of the 10 slow functions is called 1 to 9 times per test cell, 2.9 s a call.
    assert read_stamp(graded)["grading_seconds"] < BUDGET + 3, took
    assert finished - sandboxed < BUDGET + 15, took
    print(took)

    scores = gradebook_scores(root)
    assert scores["unaffected"]["total"] == 20
    assert needs_manual_grading(root, "slow") == []
    outputs = graded_outputs(root, "slow")
    for cell, cell_outputs in outputs.items():
        errors = _errors(cell_outputs)
        if cell.startswith(FAST):
            assert errors == [], f"{cell}: {errors}"
        else:
            assert len(errors) == 1 and any(text in errors[0] for text in CUT_OFF), f"{cell}: {errors}"
    assert scores["slow"] == {**dict.fromkeys(FUNCTIONS, 0.0), FAST: scores["unaffected"][FAST],
                              "total": scores["unaffected"][FAST]}


# --- grader faults are not the student's zero -----------------------------------------------------

def _export(root):
    nbgrader(root, "export", "--to", str(root / "grades.csv"))
    with open(assignment_file(root / "grades.csv", ASSIGNMENT), newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_a_sandbox_that_cannot_start_leaves_the_submission_not_graded(template, tmp_path):
    # Under a 40 MiB address-space cap the sandbox's Python cannot load numpy: its zygote exits
    # before it is ready. The instructor's setting, not the student's code.
    root = _copy(template, tmp_path / "course", "c.IsolatedExecute.memory_limit_mb = 40")
    submit(root, "correct", solved(root))
    failed = _autograde(root)
    assert failed.returncode != 0
    log = failed.stderr
    assert re.search(r"correct's submission was NOT graded: the \w+ sandbox could not start", log), log[-3000:]
    assert "This is not the student's doing" in log
    assert not list((root / "autograded").rglob("*.ipynb")), "a notebook was written for a submission not graded"
    assert "could not start" in (root / ".catkit" / "not_graded" / ASSIGNMENT / "correct.txt").read_text()
    row = _export(root)["correct"]
    assert row["status"].startswith("not graded: ") and "could not start" in row["status"], row
    assert [row[column] for column in (*FUNCTIONS, "total")] == [""] * (len(FUNCTIONS) + 1)  # not a 0
    with Course.at(root).open_gradebook() as gb:  # nbgrader's rows for it: never scored
        scored = gb.db.execute(text("SELECT COUNT(*) FROM grade WHERE auto_score IS NOT NULL")).scalar_one()
    assert scored == 0

    config = root / "nbgrader_config.py"
    config.write_text(config.read_text().replace("c.IsolatedExecute.memory_limit_mb = 40", ""))
    fixed = _autograde(root)
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert read_stamp(autograded_nb(root, "correct"))
    assert gradebook_scores(root)["correct"]["total"] == 20
    assert needs_manual_grading(root, "correct") == []
    assert not (root / ".catkit" / "not_graded" / ASSIGNMENT / "correct.txt").exists()  # the reason is gone


# --- resumable after kill -9 ----------------------------------------------------------------------

def _wait_for(process, condition, watched, what):
    """Poll until ``condition()``; meanwhile note every process below nbgrader in ``watched``."""
    end = time.monotonic() + RUN_SECONDS
    while not condition():
        watched.update(descendants(process.pid))
        assert process.poll() is None, f"nbgrader ended (status {process.returncode}) before {what}"
        assert time.monotonic() < end, f"nbgrader never reached the point: {what}"
        time.sleep(0.05)
    watched.update(descendants(process.pid))


def _unstamped_folders(root):
    return sorted(folder.parent.name for folder in (root / "autograded").glob(f"*/{ASSIGNMENT}")
                  if not read_stamp(folder / NOTEBOOK))


# point -> (what nbgrader is killed after, whether its whole process group is killed or nbgrader alone)
KILL_POINTS = {
    "right-after-start": ("one second", True),
    "after-some-completed": ("two stamped notebooks, and another one under way", True),
    "during-grading": ("a first autograded folder, and a sandbox running", False),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_run_is_finished_by_the_same_command(template, reference, tmp_path, point):
    root = _class_copy(template, tmp_path / "course", reference.secret)
    what, whole_group = KILL_POINTS[point]
    watched = {}  # every process seen below nbgrader: none may outlive it
    with open(tmp_path / "killed.log", "w") as log:
        process = _start(root, log)
        try:
            if point == "right-after-start":
                started = time.monotonic()
                _wait_for(process, lambda: time.monotonic() > started + 1.0, watched, what)
            elif point == "after-some-completed":
                _wait_for(process, lambda: len(_stamped(root)) >= 2 and _unstamped_folders(root), watched, what)
            else:
                _wait_for(process, lambda: list((root / "autograded").glob(f"*/{ASSIGNMENT}")) and any(
                    _grading(cmd) for cmd in descendants(process.pid).values()), watched, what)
        finally:
            with contextlib.suppress(ProcessLookupError):
                if whole_group:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    os.kill(process.pid, signal.SIGKILL)  # as `kill -9 <pid of nbgrader>` would
            returncode = process.wait(timeout=30)
    assert returncode == -signal.SIGKILL

    # No grading process, sandbox or helper outlives the killed nbgrader.
    survivors = _survivors(watched)
    for pid, _ in survivors:  # ours: do not leave them to the machine
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert survivors == {}, f"orphaned processes {SURVIVAL_SECONDS} s after nbgrader was killed: {survivors}"

    # The kill did interrupt something.
    stamped_before = {s: autograded_nb(root, s).read_bytes() for s in _stamped(root)}
    unstamped_before = _unstamped_folders(root)
    if point == "right-after-start":
        assert stamped_before == {}
    elif point == "after-some-completed":
        assert 2 <= len(stamped_before) < len(CLASS) and unstamped_before, (sorted(stamped_before), unstamped_before)
    else:
        assert any(_grading(cmd) for cmd in watched.values()), "no sandbox was running: nothing to orphan"
        assert unstamped_before, "no grading was under way when nbgrader was killed"
        assert len(stamped_before) < len(CLASS)

    # The same plain command finishes the job.
    rerun = _autograde(root)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    for student in unstamped_before:
        assert f"Grading of {root / 'autograded' / student / ASSIGNMENT} was interrupted" in rerun.stderr
    _assert_graded_as(root, reference.snapshot)
    # What was completely graded before the kill was kept as it was, not graded again.
    for student, content in stamped_before.items():
        assert autograded_nb(root, student).read_bytes() == content, f"{student} was graded again"
