"""The grading engine, in three layers separated by trust.

1. :mod:`catkit.grading.sandboxed`: the code that runs INSIDE a sandbox, as a user of its own, next
   to student code (the zygote, the student's session, the reference oracle, the wire format). It is
   the only kit code a sandbox can read, so it imports only the standard library, numpy and its
   own modules (relative imports), and trusts nothing it receives.
2. :mod:`catkit.grading.isolation`: what starts and holds sandboxes (bubblewrap, rlimits, control
   groups, seccomp, the handle on a running zygote). It may import :mod:`catkit.errors`,
   :mod:`catkit.parent_death` and the engine's plain data (:mod:`.limits`, :mod:`.job`, :mod:`.layout`);
   never the rest of the engine, and never the sandboxed code (it only names its folder).
3. The trusted engine: :mod:`.limits` (the six configurable limits, declared once),
   :mod:`.layout` (what an instructor notebook says), :mod:`.job` (settings, jobs, results),
   :mod:`.harness` (one submission's test cells, run in the grader's process), :mod:`.remote`
   (one test cell's session with a sandbox), :mod:`.reference`, :mod:`.pools` and
   :mod:`.dask_pool` (where jobs are graded), and :mod:`.engine`, the one entry point the nbgrader
   plugin uses. It may import both layers below (of the sandboxed code, only :mod:`.sandboxed.wire`,
   to read what a sandbox sends).

The rest of the kit grades through :mod:`.engine` alone (and reads notebooks with :mod:`.layout`,
limits with :mod:`.limits`).
"""
