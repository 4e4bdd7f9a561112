"""A real, throw-away PostgreSQL server for the tests (no mock, no system service).

The session-scoped fixture ``postgres`` runs Debian's server binaries (``initdb``, ``postgres``) in a
temporary folder, listening on 127.0.0.1 on a free port with trust authentication and
``fsync=off``, and stops it and removes the folder at the end of the session. The server is the
test process's own child, asked to die with it (the parent-death signal): a test run killed
mid-way (a CI timeout, Ctrl-C, kill -9) leaves no server behind. The server refuses to run as
root, so when the tests run as root (as in CI) it runs as the ``postgres`` system user, or
``nobody`` if there is none. Use it as::

    def test_something(postgres):
        url = postgres.new_database("mine")   # postgresql://USER@127.0.0.1:PORT/mine, empty

When the binaries are missing the fixture FAILS (never skips): ``make setup`` installs them.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from catkit.parent_death import die_with_parent
from processes import owned_folder

MISSING = ("PostgreSQL server binaries not found: run `make setup` as root (installs Debian's "
           "postgresql) or apt-get install postgresql")


def find_bindir():
    """The folder holding ``initdb`` and ``pg_ctl``: Debian's newest version, else PATH; or None."""
    def version(path):
        name = Path(path).parents[1].name
        return tuple(int(part) for part in name.split(".") if part.isdigit())
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
             if (Path(p).parent / "initdb").is_file()]
    if found:
        return max(found, key=lambda d: version(d / "pg_ctl"))
    pg_ctl, initdb = shutil.which("pg_ctl"), shutil.which("initdb")
    if pg_ctl and initdb and Path(pg_ctl).parent == Path(initdb).parent:
        return Path(pg_ctl).parent
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _traversable_by_others(folder):
    """Whether every folder from / down to ``folder`` lets other users through (mode o+x)."""
    folder = Path(folder).resolve()
    return all(p.stat().st_mode & stat.S_IXOTH for p in [folder, *folder.parents])


class PostgresServer:
    """One server: ``url`` (the maintenance database) and ``new_database(name)``."""

    def __init__(self, bindir):
        self.bindir = Path(bindir)
        if os.geteuid() == 0:
            self.user = next(name for name in ("postgres", "nobody") if _user_exists(name))
            prefix = ["runuser", "-u", self.user, "--"]
        else:
            self.user, prefix = pwd.getpwuid(os.geteuid()).pw_name, []
        self._prefix = prefix
        self.process = None
        parent = tempfile.gettempdir()
        if self._prefix and not _traversable_by_others(parent):
            parent = "/tmp"
        self.folder = owned_folder("catkit-pg-", parent)  # (and the folders of killed test runs removed)
        self.data, self.sockets = self.folder / "data", self.folder / "run"
        self.log = self.folder / "server.log"
        self.sockets.mkdir()
        if self._prefix:
            os.chmod(self.folder, 0o755)
            for path in (self.folder, self.sockets):
                shutil.chown(path, user=self.user)
        self.port = None
        self.started = False

    def _run(self, *args, **kwargs):
        """Run a server binary as the server's user, in its folder; raise with its output if it fails."""
        result = subprocess.run([*self._prefix, str(self.bindir / args[0]), *args[1:]],
                                cwd=self.folder, capture_output=True, text=True, timeout=60,
                                **kwargs)
        if result.returncode:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({result.returncode}):\n{result.stdout}"
                               f"{result.stderr}{log}")
        return result

    def _as_server_user(self):
        """``preexec_fn`` of the server: become its user, then ask to die with the test process
        (in that order: changing user clears the parent-death signal)."""
        if self._prefix:
            account = pwd.getpwnam(self.user)
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
        die_with_parent()

    def _serve(self):
        """Start the server as this process's child, on a free port; wait until it takes connections."""
        self.port = free_port()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.sockets}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                cwd=self.folder, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=self._as_server_user)
        end = time.monotonic() + 30
        while time.monotonic() < end and self.process.poll() is None:
            ready = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return True
            time.sleep(0.1)
        self._halt()
        return False

    def start(self):
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "--no-sync",
                  "-E", "UTF8", "--locale=C")
        for _ in range(3):  # the free port may be taken between asking and listening
            if self._serve():
                break
        else:
            raise RuntimeError(f"the PostgreSQL server did not start:\n{self.log.read_text(errors='replace')}")
        self.started = True
        self.url = self.database_url("postgres")
        return self

    def database_url(self, name):
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def new_database(self, name):
        """Create an empty database ``name`` (dropping one of that name) and return its URL."""
        client = {"cwd": self.folder, "capture_output": True, "text": True, "timeout": 60}
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]
        subprocess.run([str(self.bindir / "dropdb"), *where, "--if-exists", name], check=True,
                       **client)
        result = subprocess.run([str(self.bindir / "createdb"), *where, name], **client)
        if result.returncode:
            raise RuntimeError(f"createdb {name} failed:\n{result.stdout}{result.stderr}")
        return self.database_url(name)

    def _halt(self):
        """Immediate shutdown (SIGQUIT): the server and its backends end at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self):
        try:
            self._halt()
            self.started = False
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server for the whole test session (see the module's docstring)."""
    bindir = find_bindir()
    if bindir is None:
        pytest.fail(MISSING, pytrace=False)
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
