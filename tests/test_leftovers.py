"""Nothing left behind: grading leaves no folder, file, control group or IPC object, and a killed run
leaves only what the next run removes; the tests' own servers die with the test process.

Each grading run here gets its own temporary folder (``TMPDIR``), so what the kit makes there is
counted exactly, whatever other tests do meanwhile; control groups are counted by the process ids
that made them (``catkit-<pid>-<n>``), those of the run's own grading processes.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from catkit import nbgrader_commands
from catkit.grading.isolation import cgroups, launch, users
from conftest import MISTAKES, REPO, make_course, release_nb, solved, submit
from dask_cluster import wait_until
from processes import alive, descendants, remove_stale_folders

pytestmark = [pytest.mark.slow, pytest.mark.root,
              pytest.mark.skipif(launch.resolve_mode("auto") != "bwrap", reason="needs bubblewrap and root")]

RUN_SECONDS = 300  # a run that takes longer is stuck


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("leftovers") / "course")
    submit(root, "correct", solved(root))
    submit(root, "untouched", release_nb(root))
    submit(root, "sign-error", solved(root, MISTAKES["sigmoid-sign-error"].edits))
    return root


def _course(template, tmp_path):
    import shutil
    root = tmp_path / "course"
    shutil.copytree(template, root)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return root, scratch


def _start(root, scratch, *args):
    command, env = nbgrader_commands.command("autograde", "logistic_regression", *args)
    return subprocess.Popen(command, cwd=root, env={**env, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _watch(process, until=None):
    """The pids of every process below ``process`` while it runs (or until ``until()`` holds)."""
    seen = set()
    end = time.monotonic() + RUN_SECONDS
    while process.poll() is None and time.monotonic() < end:
        seen |= {pid for pid, _ in descendants(process.pid)}
        if until is not None and until():
            break
        time.sleep(0.02)
    return seen


def _groups_of(pids):
    """The control groups the processes ``pids`` made for their sandboxes that still exist."""
    return sorted(str(group) for parent in cgroups.parents() for group in parent.glob("catkit-*")
                  if int(group.name.split("-")[1]) in pids)


def _ipc_of(pids):
    """System V IPC objects on the host created by one of ``pids``."""
    found = []
    for kind in ("shm", "msg", "sem"):
        lines = open(f"/proc/sysvipc/{kind}").read().splitlines()
        header = lines[0].split()
        if "cpid" in header:
            found += [line for line in lines[1:] if int(line.split()[header.index("cpid")]) in pids]
    return found


def _everything_in(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def _sandbox_shm():
    """Entries of the host's /dev/shm owned by a sandbox's user."""
    return {entry.name for entry in os.scandir("/dev/shm") if users.in_range(entry.stat().st_uid)}


def test_a_clean_run_leaves_nothing_behind(template, tmp_path):
    root, scratch = _course(template, tmp_path)
    sandbox_shm = _sandbox_shm()
    claims = scratch / f"catkit-{os.geteuid()}" / "uids"
    run = _start(root, scratch)
    claimed = []  # the users of the run's sandboxes, seen while it runs
    pids = _watch(run, until=lambda: claimed.extend(path.name for path in claims.glob("*")) or claimed)
    pids |= _watch(run)
    assert claimed and all(users.in_range(int(uid)) for uid in claimed), claimed
    assert run.wait(timeout=RUN_SECONDS) == 0, run.stdout.read()[-3000:]
    assert pids, "no grading process was seen"
    assert not claims.exists(), f"grading left claims on sandbox users: {_everything_in(claims)}"
    assert _everything_in(scratch) == [], "grading left files or folders in its temporary folder"
    assert _groups_of(pids) == [], "grading left control groups"
    assert _ipc_of(pids) == []
    assert _sandbox_shm() <= sandbox_shm
    assert not [pid for pid in pids if alive(pid)], "a grading process outlived nbgrader"


def test_a_killed_run_leaves_only_what_the_next_run_removes(template, tmp_path):
    root, scratch = _course(template, tmp_path)
    parent = scratch / f"catkit-{os.geteuid()}"
    run = _start(root, scratch)
    pids = _watch(run, until=lambda: any(parent.glob("*/*")))  # a sandbox's folder: grading under way
    os.kill(run.pid, signal.SIGKILL)  # nbgrader alone; its grading processes die with it
    run.wait(timeout=60)
    wait_until(lambda: not [pid for pid in pids if alive(pid)], 60, "the killed run's processes to end")
    left = _everything_in(scratch)
    assert left, "the killed run left nothing: this test would show nothing"

    rerun = _start(root, scratch)
    pids |= _watch(rerun)
    assert rerun.wait(timeout=RUN_SECONDS) == 0, rerun.stdout.read()[-3000:]
    assert _everything_in(scratch) == [], f"the next run did not remove what the killed one left: {left}"
    assert _groups_of(pids) == [], "control groups of the killed run are left"


SERVERS = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from postgres import PostgresServer, find_bindir
    from dask_cluster import DaskCluster
    server = PostgresServer(find_bindir()).start()
    cluster = DaskCluster(workers=1)
    print(server.process.pid, cluster.scheduler.pid, *[w.pid for w in cluster.workers.values()], flush=True)
    print(server.folder, cluster.folder, flush=True)
    time.sleep(600)
""")


@pytest.mark.postgres
@pytest.mark.dask
def test_the_tests_servers_die_with_the_test_process():
    """A test run killed mid-way (a CI timeout, Ctrl-C, kill -9) leaves no PostgreSQL or Dask server."""
    tests = REPO / "tests"
    host = subprocess.Popen([sys.executable, "-c", SERVERS, str(tests)], stdout=subprocess.PIPE, text=True,
                            cwd=tests)
    try:
        pids = [int(pid) for pid in host.stdout.readline().split()]
        folders = [Path(folder) for folder in host.stdout.readline().split()]
        assert len(pids) == 3 and all(alive(pid) for pid in pids)
    finally:
        host.kill()
        host.wait()
    wait_until(lambda: not [pid for pid in pids if alive(pid)], 60, "the servers to end with the test process")
    # Their folders are removed when the next servers start.
    removed = remove_stale_folders("catkit-pg-", folders[0].parent) + remove_stale_folders("catkit-dask-")
    assert set(folders) <= set(removed) and not any(folder.exists() for folder in folders)
