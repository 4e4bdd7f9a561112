"""The code that runs inside a sandbox, as the sandbox's own user, next to student code.

This package is the only code of the kit a sandbox can read: bubblewrap mounts this folder alone,
read-only, at ``/opt/catkit/sandboxed``, and the zygote is started as ``from sandboxed.zygote
import main`` (see :mod:`catkit.grading.isolation.launch`). So its modules import only the
standard library, numpy and one another, through relative imports (``from . import wire``):
the same files are ``catkit.grading.sandboxed`` in the grader, which uses :mod:`.wire` to read
what a sandbox sends, and ``sandboxed`` in the sandbox. tests/test_trust_boundary.py checks both.

- :mod:`.zygote`: a sandbox's first process; forks one fresh child per test cell;
- :mod:`.student`: a child of a student sandbox: one student cell, its function called;
- :mod:`.oracle`: a child of the reference sandbox: the reference functions a student's relies on;
- :mod:`.wire`: the values and messages that cross the boundary, plain data only.
"""
