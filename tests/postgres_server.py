"""A throwaway PostgreSQL server for the test run.

``PostgresServer.start()`` finds the server binaries, runs ``initdb`` into a
temporary directory and starts ``postgres`` on a free 127.0.0.1 port with
durability switched off (fsync, synchronous_commit, full_page_writes) for
speed.  When the tests run as root, the server runs as the ``postgres`` OS
user (PostgreSQL refuses to run as root).  ``stop()`` stops it and deletes
the directory; it is also registered with ``atexit``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVER_USER = "postgres"
SUPERUSER = "postgres"
REQUIRED = ("initdb", "pg_ctl", "postgres")


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres; PostgresUnavailable when none does."""
    candidates: list[Path] = []
    if env := os.environ.get("MASSAGE_PG_BINDIR"):
        candidates.append(Path(env))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0)
    candidates.extend(Path(path) for path in reversed(versions))
    candidates.extend(Path(path) for path in glob.glob("/usr/pgsql-*/bin"))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in REQUIRED):
            return bindir
    raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One private PostgreSQL cluster in a temporary directory (trust authentication, 127.0.0.1 only)."""

    def __init__(self, bindir: Path | None = None) -> None:
        """Prepare (nothing runs until ``start``)."""
        self.bindir = bindir or find_bindir()
        self.root: Path | None = None
        self.port = 0
        self._running = False
        self._as_user: str | None = None

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        assert self.root is not None, "server not started"
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """An SQLAlchemy URL for ``database`` as the superuser."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_user is not None:
            runuser = shutil.which("runuser")
            if runuser:
                command = [runuser, "-u", self._as_user, "--", *command]
            else:
                command = ["su", self._as_user, "-s", "/bin/sh", "-c", subprocess.list2cmdline(command)]
        cwd = self.root if self.root is not None else None
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd)

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            log = ""
            with contextlib.suppress(OSError, AssertionError):
                log = (self.root / "server.log").read_text(errors="replace")[-2000:] if self.root else ""
            raise RuntimeError(f"{what} failed ({result.returncode}): {result.stderr.strip()}\n{log}")

    def start(self, attempts: int = 3) -> PostgresServer:
        """initdb and start the server; retry on another port if the chosen one was taken meanwhile."""
        self.root = Path(tempfile.mkdtemp(prefix="massage-pg-"))
        atexit.register(self.stop)
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(f"running as root and there is no {SERVER_USER!r} OS user") from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as_user = SERVER_USER
        result = self._run(
            "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-sync",
        )
        self._check(result, "initdb")
        for attempt in range(attempts):
            self.port = free_port()
            options = (
                f"-h 127.0.0.1 -p {self.port} -k {self.root} -F "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                "-c shared_buffers=32MB"
            )
            result = self._run(
                "pg_ctl", "-D", str(self.data_dir), "-l", str(self.root / "server.log"), "-o", options,
                "-w", "-t", "60", "start",
            )
            if result.returncode == 0:
                self._running = True
                return self
            if attempt == attempts - 1:
                self._check(result, "pg_ctl start")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        """Stop the server (fast, discarding nothing we need) and delete its directory."""
        if self._running:
            self._running = False
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "30", "stop", timeout=60)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
