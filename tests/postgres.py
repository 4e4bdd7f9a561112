"""A real, throw-away PostgreSQL server for the tests (no mock, no system service).

The session-scoped fixture ``postgres`` runs Debian's server binaries (``initdb``, ``pg_ctl``) in a
temporary folder, listening on 127.0.0.1 on a free port with trust authentication and
``fsync=off``, and stops it and removes the folder at the end of the session. The server refuses
to run as root, so when the tests run as root (as in CI) it runs as the ``postgres`` system user,
or ``nobody`` if there is none. Use it as::

    def test_something(postgres):
        url = postgres.new_database("mine")   # postgresql://USER@127.0.0.1:PORT/mine, empty

When the binaries are missing the fixture FAILS (never skips): ``make setup`` installs them.
"""

import glob
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

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
        parent = tempfile.gettempdir()
        if self._prefix and not _traversable_by_others(parent):
            parent = "/tmp"
        self.folder = Path(tempfile.mkdtemp(prefix="catkit-pg-", dir=parent))
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

    def start(self):
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "--no-sync",
                  "-E", "UTF8", "--locale=C")
        for attempt in range(3):  # the free port may be taken between asking and listening
            self.port = free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                       f"-c unix_socket_directories={self.sockets} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            try:
                self._run("pg_ctl", "start", "-w", "-t", "30", "-D", str(self.data),
                          "-l", str(self.log), "-o", options)
                break
            except RuntimeError:
                if attempt == 2:
                    raise
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

    def stop(self):
        try:
            if self.started:
                self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data))
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
