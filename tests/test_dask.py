"""A class graded on a real ``dask.distributed`` cluster (``dask scheduler`` and two ``dask worker``
on 127.0.0.1, tests/dask_cluster.py), compared with the same class graded locally.

- Level A: plain ``nbgrader autograde --IsolatedExecute.scheduler=tcp://…`` (SQLite gradebook): one
  nbgrader, every submission graded by a worker: the same scores and graded outputs as locally.
- Level B: ``catkit grade --scheduler tcp://…`` with a PostgreSQL gradebook: one nbgrader per
  worker, each on its shard of the class: the same scores and outputs.
- A worker killed with SIGKILL mid-run: its nbgrader dies with it, the other worker finishes the
  shard, every grade is right and none is counted twice.
- With a SQLite gradebook, ``catkit grade --scheduler`` runs one nbgrader (level A), never shards.
- A shard's nbgrader leaves another shard's grading in progress alone (``resume.interrupted``
  respects ``CourseDirectory.student_id_exclude``).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from catkit import cluster, nbgrader_commands
from catkit.course import Course, read_stamp
from catkit.grading import dask_pool
from conftest import (
    ASSIGNMENT,
    MISTAKES,
    NOTEBOOK,
    autograded_nb,
    gradebook_counts,
    gradebook_scores,
    graded_outputs,
    make_course,
    release_nb,
    solved,
    submit,
    write_secret,
)
from dask_cluster import free_port, wait_until
from processes import alive, descendants

pytestmark = [pytest.mark.slow, pytest.mark.dask]

CATKIT = str(Path(sys.executable).with_name("catkit"))
ONE_BUG = ["sigmoid-sign-error", "propagate-no-1-over-m", "optimize-mutates-w", "predict-flat"]
CLASS = ["correct", "untouched", *ONE_BUG]
GRADES_PER_SUBMISSION = 12  # graded test cells: a visible and a hidden one per function
RUN_SECONDS = 300


# --- courses and what a graded course holds -------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("template") / "course")


def _class_copy(template, root, secret=None):
    """A copy of the course with the class submitted (and, given, that course secret)."""
    shutil.copytree(template, root)
    for student, nb in _class_notebooks(root).items():
        submit(root, student, nb)
    if secret is not None:
        write_secret(root, secret)
    return root


def _class_notebooks(root):
    return {"correct": solved(root), "untouched": release_nb(root),
            **{name: solved(root, MISTAKES[name].edits) for name in ONE_BUG}}


def _assert_graded_as(root, reference):
    """Every student graded completely, once, with the scores and graded outputs of ``reference``."""
    assert sorted(s for s in CLASS if read_stamp(autograded_nb(root, s))) == sorted(CLASS), "not all stamped"
    assert gradebook_counts(root) == {s: [1, 1, GRADES_PER_SUBMISSION] for s in CLASS}, "missing or duplicated"
    assert gradebook_scores(root) == reference["scores"]
    for student in CLASS:
        assert graded_outputs(root, student) == reference["outputs"][student], f"{student}'s outputs differ"


def _nbgrader(root, *args, env=None):
    command, environment = nbgrader_commands.command(*args)
    return subprocess.run(command, cwd=root, env={**environment, **(env or {})}, capture_output=True, text=True,
                          timeout=RUN_SECONDS)


@pytest.fixture(scope="module")
def local(template, tmp_path_factory):
    """The class graded locally (one nbgrader, local grading processes): what the cluster must give."""
    root = _class_copy(template, tmp_path_factory.mktemp("local") / "course")
    result = _nbgrader(root, "autograde", ASSIGNMENT)
    assert result.returncode == 0, result.stderr[-3000:]
    scores = gradebook_scores(root)
    assert scores["correct"]["total"] == 20 and scores["untouched"]["total"] == 0
    assert all(0 < scores[name]["total"] < 20 for name in ONE_BUG)
    return {"secret": (root / ".catkit" / "course_secret").read_text(), "scores": scores,
            "outputs": {student: graded_outputs(root, student) for student in CLASS}}


# --- level A: one nbgrader, the jobs on the cluster -----------------------------------------------

def _workers_that_graded(cluster):
    with cluster.client() as client:
        return sorted(name for name, pools in client.run(lambda: len(dask_pool._pools)).items() if pools)


def test_nbgrader_autograde_on_a_dask_cluster_grades_as_locally(template, local, dask_cluster, tmp_path):
    root = _class_copy(template, tmp_path / "course", local["secret"])
    result = _nbgrader(root, "autograde", ASSIGNMENT, f"--IsolatedExecute.scheduler={dask_cluster.address}")
    assert result.returncode == 0, result.stderr[-3000:] + dask_cluster.logs()
    assert f"Grading on the Dask cluster {dask_cluster.address}: 2 workers, 4 threads" in result.stderr
    assert _workers_that_graded(dask_cluster), "no worker graded anything"
    _assert_graded_as(root, local)


def test_an_unreachable_scheduler_leaves_submissions_not_graded(template, tmp_path):
    root = _class_copy(template, tmp_path / "course")
    port = free_port()  # nothing listens there
    result = _nbgrader(root, "autograde", ASSIGNMENT, "--student=correct",
                       f"--IsolatedExecute.scheduler=tcp://127.0.0.1:{port}",
                       env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})  # Dask's own setting
    assert result.returncode != 0
    assert f"the Dask scheduler tcp://127.0.0.1:{port} cannot be used" in result.stderr, result.stderr[-3000:]
    reason = (root / ".catkit" / "not_graded" / ASSIGNMENT / "correct.txt").read_text()
    assert "NOT graded" in reason and "cannot be used" in reason
    assert not autograded_nb(root, "correct").exists()


# --- level B: one nbgrader per worker, a shard of the class each (PostgreSQL) ---------------------

def _incoming(root, folder):
    """The class as a folder of submissions for ``catkit grade``."""
    for student, nb in _class_notebooks(root).items():
        (folder / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(nb, folder / student / ASSIGNMENT / NOTEBOOK)
    return folder


def _postgres_course(template, postgres, root, name, secret):
    url = postgres.new_database(name)
    shutil.copytree(template, root)
    (root / "gradebook.db").unlink()
    with open(root / "nbgrader_config.py", "a") as handle:
        handle.write(f"\nc.CourseDirectory.db_url = {url!r}\n")
    write_secret(root, secret)
    return root


def _shard_workers(stderr):
    """The worker that graded each shard, from catkit grade's lines ("shard 1/2 (3 submissions) on …")."""
    return re.findall(r"^catkit: shard \d+/\d+ \(\d+ submissions\) on (tcp://[\d.]+:\d+):", stderr, re.MULTILINE)


def _catkit_grade(root, incoming, scheduler):
    return subprocess.Popen([CATKIT, "grade", ASSIGNMENT, "--submissions", str(incoming), "--scheduler", scheduler],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.postgres
def test_catkit_grade_shards_the_class_over_the_workers(template, local, dask_cluster, postgres, tmp_path):
    root = _postgres_course(template, postgres, tmp_path / "course", "dask_shards", local["secret"])
    incoming = _incoming(root, tmp_path / "incoming")
    process = _catkit_grade(root, incoming, dask_cluster.address)
    stdout, stderr = process.communicate(timeout=RUN_SECONDS)
    assert process.returncode == 0, stderr[-3000:] + dask_cluster.logs()
    assert (f"grading {len(CLASS)} submissions of {ASSIGNMENT} on the Dask cluster {dask_cluster.address}: "
            "2 shards") in stderr
    assert len(set(_shard_workers(stderr))) == 2, f"the shards did not run on both workers:\n{stderr}"
    _assert_graded_as(root, local)
    assert "20/20" in stdout  # catkit grade's table, from the PostgreSQL gradebook


@pytest.mark.postgres
def test_a_worker_killed_mid_run_costs_nothing(template, local, dask_cluster, postgres, tmp_path):
    root = _postgres_course(template, postgres, tmp_path / "course", "dask_killed", local["secret"])
    incoming = _incoming(root, tmp_path / "incoming")
    process = _catkit_grade(root, incoming, dask_cluster.address)
    try:
        # A worker whose nbgrader is grading a submission of its shard (an unstamped folder).
        def grading():
            for name, worker in dask_cluster.workers.items():
                for (pid, _), command in descendants(worker.pid).items():
                    if "nbgrader autograde" in command and "student_id_exclude=" in command:
                        excluded = command.split("student_id_exclude=")[1].split()[0].split(",")
                        shard = [s for s in CLASS if s not in excluded]
                        if any((autograded_nb(root, s).parent.exists() and not read_stamp(autograded_nb(root, s)))
                               for s in shard):
                            return name, pid, shard
            assert process.poll() is None, process.communicate()[1][-3000:]
            return None
        wait_until(grading, RUN_SECONDS, "a worker's nbgrader grading a submission")
        name, nbgrader_pid, _ = grading()
        below = descendants(nbgrader_pid)
        killed = dask_cluster.address_of(name)
        dask_cluster.kill_worker(name)  # SIGKILL, the worker process alone
        wait_until(lambda: not alive(nbgrader_pid) and not any(alive(*key) for key in below), 15,
                   "the killed worker's nbgrader and its grading processes died with it")
        _, stderr = process.communicate(timeout=RUN_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
        if len(dask_cluster.workers) < 2:
            dask_cluster.add_worker()  # the next tests get two workers again
    assert process.returncode == 0, stderr[-3000:] + dask_cluster.logs()
    # The killed worker's shard was finished by the other worker.
    shards = _shard_workers(stderr)
    assert len(shards) == 2 and killed not in shards, stderr
    _assert_graded_as(root, local)


def test_with_a_sqlite_gradebook_catkit_grade_runs_one_nbgrader_on_the_cluster(template, tmp_path, monkeypatch,
                                                                               capsys):
    root = tmp_path / "course"
    shutil.copytree(template, root)
    calls = []
    monkeypatch.setattr(nbgrader_commands, "autograde", lambda *args: calls.append(args) or "the run")
    course = Course.at(root)
    assert cluster.autograde(course, ASSIGNMENT, scheduler="tcp://127.0.0.1:8786") == "the run"
    assert calls == [(course, ASSIGNMENT, False, "--IsolatedExecute.scheduler=tcp://127.0.0.1:8786")]
    assert "the gradebook is SQLite" in capsys.readouterr().err


# --- a shard leaves the others' work alone --------------------------------------------------------

def test_a_shard_leaves_another_shards_grading_in_progress_alone(template, local, tmp_path):
    root = _class_copy(template, tmp_path / "course", local["secret"])
    # Another shard's nbgrader is grading "untouched": its autograded folder exists, not stamped yet.
    other = autograded_nb(root, "untouched").parent
    other.mkdir(parents=True)
    shutil.copy(root / "submitted" / "untouched" / ASSIGNMENT / NOTEBOOK, other / NOTEBOOK)
    before = (other / NOTEBOOK).read_bytes()
    mine = [student for student in CLASS if student != "untouched"][:2]
    exclude = ",".join(student for student in CLASS if student not in mine)
    result = _nbgrader(root, "autograde", ASSIGNMENT, f"--CourseDirectory.student_id_exclude={exclude}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (other / NOTEBOOK).read_bytes() == before, "this shard removed another shard's work in progress"
    assert "was interrupted" not in result.stderr
    scores = gradebook_scores(root)
    assert sorted(scores) == sorted(mine) and all(scores[s] == local["scores"][s] for s in mine)
    # The other shard's own run (or a rerun of it) finishes its work as usual.
    rerun = _nbgrader(root, "autograde", ASSIGNMENT, "--student=untouched")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"Grading of {other} was interrupted" in rerun.stderr
    assert gradebook_scores(root)["untouched"] == local["scores"]["untouched"]
