"""Grading jobs on a ``dask.distributed`` cluster: :class:`DaskGradingPool`, a
:class:`~catkit.grading.pools.GradingPool` like the local one (``c.IsolatedExecute.scheduler =
"tcp://host:8786"``).

nbgrader's own work stays in its one process; each submission's :class:`~catkit.grading.job.Job`
is a Dask task that a worker grades with its own sandboxes:

- On the worker, the task hands the job to a :class:`~catkit.grading.pools.LocalGradingPool` of that worker (one grading
  process per worker thread, made once per worker process and configuration): student code never
  runs in the Dask worker itself, the grading processes die with the worker (parent-death
  signal), and their sandboxes with them (bubblewrap's ``--die-with-parent``).
- The sandbox and control groups are resolved *on the worker's machine*, by the same
  :func:`catkit.grading.engine.resolve_settings` as locally: ``sandbox = "auto"`` means bubblewrap where that
  worker has it; ``"bwrap"`` or ``cgroups = "required"`` make a worker without them refuse (the
  submission is "not graded", never a 0). A worker's warnings (no sandbox, no control groups) are
  repeated once in nbgrader's log, naming the worker.
- Grading is deterministic (hidden inputs come from the course secret, the student and the
  cell), so a task may run anywhere, and again: when a worker dies, the scheduler gives its tasks
  to another worker (Dask's ``distributed.scheduler.allowed-failures``, 3 by default); a job that
  killed more workers than that, or a cluster that went away, is a :class:`GraderFault`: the
  submission is "not graded" and the same command grades it later.
"""

from __future__ import annotations

import logging
import pickle
import threading
import uuid
from collections.abc import Callable, Hashable
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any

from catkit.errors import GraderFault
from catkit.grading.job import Job, Result, Settings
from catkit.grading.pools import LocalGradingPool

if TYPE_CHECKING:
    from distributed import Future, Worker

WORKERS_SECONDS = 60  # for a first worker to join the scheduler (reaching it: Dask's own
# distributed.comm.timeouts.connect, 30 s by default, e.g. DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s)


# --- on a worker ----------------------------------------------------------------------------------

_pools: dict[bytes, tuple[LocalGradingPool, tuple[str, ...]]] = {}  # pickled settings factory -> (pool,
# warnings), in this worker process
_pools_lock = threading.Lock()


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _worker_pool(factory: bytes, worker: Worker) -> tuple[LocalGradingPool, tuple[str, ...]]:
    """This worker's grading pool for the pickled settings factory ``factory``, made on first use."""
    with _pools_lock:
        if factory not in _pools:
            log = logging.getLogger("catkit.grading.dask_pool")
            collected = _Warnings()
            log.addHandler(collected)
            try:
                settings = pickle.loads(factory)(log)
            except Exception as error:  # noqa: BLE001 - a worker that may not grade (no bwrap, say)
                raise GraderFault(f"the Dask worker {worker.address} cannot grade: {error}") from None
            finally:
                log.removeHandler(collected)
            _pools[factory] = (LocalGradingPool(settings, worker.state.nthreads), tuple(collected.messages))
        return _pools[factory]


def grade_on_worker(factory: bytes, job: bytes) -> tuple[Result, str, tuple[str, ...]]:
    """The Dask task: grade the pickled ``job`` in one of this worker's grading processes.
    Returns (result, worker address, the worker's warnings).

    Its arguments come pickled, so that the worker's event loop only receives bytes: importing
    the kit and nbgrader, on first use, happens here, in the task's thread."""
    from distributed import get_worker

    worker = get_worker()
    pool, warnings = _worker_pool(factory, worker)
    graded: Job = pickle.loads(job)
    try:
        result = pool.result((graded.student, graded.key), graded)
    except GraderFault as fault:
        raise GraderFault(f"{fault} (on the Dask worker {worker.address})") from None
    return result, worker.address, warnings


# --- in nbgrader's process ------------------------------------------------------------------------

class DaskGradingPool:
    """Grade jobs on the Dask cluster whose scheduler is at ``scheduler``.

    ``make_settings`` is a picklable callable ``make_settings(log) -> Settings`` that each
    worker calls (once) to resolve the settings on its own machine, logging warnings to ``log``.
    Never raises: a cluster that cannot be reached makes every job a GraderFault saying why.
    ``processes`` is the cluster's: the threads of all its workers.
    """

    def __init__(self, scheduler: str, make_settings: Callable[[logging.Logger], Settings],
                 log: logging.Logger) -> None:
        self.scheduler, self.factory, self.log = scheduler, pickle.dumps(make_settings), log
        self.pending: dict[Hashable, tuple[str, Future]] = {}  # name -> (job key, future)
        self.warned: set[tuple[str, str]] = set()
        self.client: Any = None
        self.fault: str | None = None
        self.processes = 1
        try:
            from distributed import Client
            self.client = Client(scheduler, set_as_default=False)
            self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
            workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
            self.processes = max(1, sum(worker["nthreads"] for worker in workers))
            log.info("Grading on the Dask cluster %s: %d workers, %d threads", scheduler, len(workers),
                     self.processes)
        except Exception as error:  # noqa: BLE001 - unreachable, refused, no worker: said per submission
            self.fault = f"the Dask scheduler {scheduler} cannot be used ({type(error).__name__}: {error})"
            log.error("Cannot grade: %s", self.fault)
            self.close()

    def _submit(self, job: Job) -> Future:
        return self.client.submit(grade_on_worker, self.factory, pickle.dumps(job), pure=False,
                                  key=f"catkit_grade-{job.student}-{uuid.uuid4().hex}")

    def submit(self, name: Hashable, job: Job) -> None:
        """Start grading ``job`` (named ``name``) on the cluster unless it is already under way."""
        if self.fault is None and name not in self.pending:
            self.pending[name] = (job.key, self._submit(job))

    def result(self, name: Hashable, job: Job) -> Result:
        """The result of ``job``: graded ahead if that was this very job, else graded now."""
        from distributed import KilledWorker

        if self.fault is not None:
            raise GraderFault(self.fault)
        key, future = self.pending.pop(name, (None, None))
        if key != job.key or future is None:
            if future is not None:
                future.cancel()
            future = self._submit(job)
        try:
            result: Result
            worker: str
            result, worker, warnings = future.result()
        except KilledWorker as error:
            raise GraderFault(f"grading it killed Dask workers one after another ({error})") from None
        except (CancelledError, OSError, TimeoutError) as error:  # the cluster's, not grading's
            raise GraderFault(f"the Dask cluster {self.scheduler} failed ({type(error).__name__}: "
                              f"{error})") from None
        finally:
            future.release()
        for warning in warnings:
            if (worker, warning) not in self.warned:
                self.warned.add((worker, warning))
                self.log.warning("On the Dask worker %s: %s", worker, warning)
        return result

    def close(self) -> None:
        for _, future in self.pending.values():
            future.cancel()
        self.pending.clear()
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - at exit, the client's loop may be gone already
                pass
            self.client = None
