"""A real ``dask.distributed`` cluster on 127.0.0.1 for the tests (Dask's own commands, no mock).

``DaskCluster`` starts ``dask scheduler`` on a free port and workers with ``dask worker`` (no
nanny: a worker killed with SIGKILL stays dead, as a machine that goes away would, instead of
being restarted by its nanny), each in a process group of its own, from the kit's virtual
environment (so they import catkit, and nbgrader finds alembic on PATH). It waits
until every worker is registered with the scheduler; ``stop()`` kills them all. Usable outside
pytest (the benchmark uses it); the module fixture ``dask_cluster`` gives one with two workers.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catkit.parent_death import die_with_parent
from processes import descendants, exists, owned_folder

BIN = Path(sys.executable).parent
START_SECONDS = 60


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskCluster:
    def __init__(self, workers=2, nthreads=1, cwd=None):
        self.folder = owned_folder("catkit-dask-")  # (and the folders of killed test runs removed)
        self.cwd = cwd or self.folder
        self.nthreads = nthreads
        self.env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.scheduler = None
        self.workers = {}  # name -> Popen
        self.count = 0
        self.address = None
        self._start(workers)

    def _popen(self, name, *args):
        log = open(self.folder / f"{name}.log", "ab")
        try:
            # Its own session (killed as a group), and dies with the test process: a test run killed
            # mid-way leaves no scheduler or worker behind.
            return subprocess.Popen([str(BIN / "dask"), *args], cwd=self.cwd, env=self.env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
        finally:
            log.close()

    def _start(self, workers):
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.scheduler = self._popen("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                     "--no-dashboard")
        try:
            for _ in range(workers):
                self.add_worker(wait=False)
            self.wait_for_workers(len(self.workers))
        except BaseException:
            self.stop()
            raise

    def add_worker(self, wait=True):
        """Start one more worker (named w0, w1, ...); wait until the scheduler has it."""
        name = f"w{self.count}"
        self.count += 1
        self.workers[name] = self._popen(name, "worker", self.address, "--name", name, "--host", "127.0.0.1",
                                         "--nthreads", str(self.nthreads), "--no-nanny", "--no-dashboard",
                                         "--local-directory", str(self.folder / name))
        if wait:
            self.wait_for_workers(len(self.workers))
        return name

    def client(self):
        from distributed import Client
        return Client(self.address, set_as_default=False, timeout=START_SECONDS)

    def wait_for_workers(self, count):
        with self.client() as client:
            try:
                client.wait_for_workers(count, timeout=START_SECONDS)
            except TimeoutError:
                raise RuntimeError(f"{count} Dask workers did not register within {START_SECONDS} s:\n"
                                   + self.logs()) from None

    def worker_names(self):
        """Names of the workers the scheduler knows now."""
        with self.client() as client:
            return sorted(info["name"] for info in client.scheduler_info(n_workers=-1)["workers"].values())

    def address_of(self, name):
        with self.client() as client:
            return next(address for address, info in client.scheduler_info(n_workers=-1)["workers"].items()
                        if info["name"] == name)

    def kill_worker(self, name):
        """SIGKILL the worker process alone (what it started must die with it)."""
        process = self.workers.pop(name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def logs(self):
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.folder.glob("*.log")))

    def stop(self):
        below = {key for process in self.workers.values() for key in descendants(process.pid)}
        for process in [*self.workers.values(), self.scheduler]:
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        self.workers = {}
        subprocess.run(["rm", "-rf", str(self.folder)], check=False)
        # The workers' grading processes die with them (a parent-death signal) and leave their
        # temporary folders, user claims and control groups to the next grading on this machine, which
        # removes them; no grading may come after the last test: remove them now.
        deadline = time.monotonic() + 30
        while any(exists(pid, start) for pid, start in below) and time.monotonic() < deadline:  # (reaped too)
            time.sleep(0.05)
        from catkit.grading.isolation import cgroups, scratch, users
        users.remove_stale()
        scratch.remove_stale()
        cgroups.remove_stale()


@pytest.fixture(scope="module")
def dask_cluster():
    """A scheduler and two workers of two threads each on 127.0.0.1, for the module's tests (two
    threads: a shard moved from a killed worker runs beside the survivor's own, as on a real cluster)."""
    cluster = DaskCluster(workers=2, nthreads=2)
    try:
        yield cluster
    finally:
        cluster.stop()


def wait_until(condition, seconds, what):
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)
