"""A real Jupyter server with nbgrader's formgrader, on 127.0.0.1, for the tests (no mock).

``JupyterServer(root)`` starts ``jupyter server`` from the kit's virtual environment in the course
root (so the formgrader reads that course's nbgrader_config.py), on a free port with a known token,
as a child of the test process that dies with it (``die_with_parent``), in a session of its own; its
runtime and configuration folders are an ``owned_folder`` (those of killed test runs are removed at
the next start), so the user's own Jupyter settings play no part. ``stop()`` ends it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from catkit.parent_death import die_with_parent
from dask_cluster import free_port
from processes import owned_folder

BIN = Path(sys.executable).parent
START_SECONDS = 60


class JupyterServer:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.folder = owned_folder("catkit-jupyter-")
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               "JUPYTER_RUNTIME_DIR": str(self.folder / "runtime"),
               "JUPYTER_CONFIG_DIR": str(self.folder / "config")}
        self.log = self.folder / "server.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "jupyter"), "server", "--ip=127.0.0.1", f"--port={self.port}", "--no-browser",
                 f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                 "--ServerApp.port_retries=0", "--allow-root"],
                cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=die_with_parent)
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise

    def _wait(self) -> None:
        end = time.monotonic() + START_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited ({self.process.returncode}):\n{self.logs()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.authenticated("/api/status"), timeout=5) as response:
                    if response.status == 200:
                        return
            if time.monotonic() > end:
                raise RuntimeError(f"jupyter server not up within {START_SECONDS} s:\n{self.logs()}")
            time.sleep(0.2)

    def authenticated(self, path: str) -> str:
        """The address of ``path`` with the token: the browser's first request logs it in."""
        return f"{self.url}{path}{'&' if '?' in path else '?'}token={self.token}"

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.authenticated(path), timeout=30) as response:
            return response.read().decode()

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-5000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        subprocess.run(["rm", "-rf", str(self.folder)], check=False)
