"""What starts and holds sandboxes, on the grader's side (trusted code, run as root).

- :mod:`.launch`: how a sandbox is started: the bubblewrap command, the rlimits, the isolation
  mode this machine allows and the warning when it is not the full sandbox;
- :mod:`.handle`: the grader's handle on a running sandbox (:class:`~.handle.SandboxHandle`), and
  the sandboxes a grading process keeps (a spare student sandbox, the reference sandbox);
- :mod:`.cgroups`: a control group per sandbox, capping its memory and processes as a whole;
- :mod:`.seccomp`: the system calls a sandbox may not make;
- :mod:`.users`: the host user each sandbox runs as, never shared by two live sandboxes;
- :mod:`.scratch`: the kit's temporary folders.

None of this is readable inside a sandbox: only :mod:`catkit.grading.sandboxed` is.
"""
