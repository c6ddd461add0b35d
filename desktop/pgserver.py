"""A private PostgreSQL server in a folder: for the test suite, the benchmark and a
one-machine trial of several kiosks (``python main.py db serve DIR``).

It uses the server programs of the machine's PostgreSQL package (Debian's
``postgresql``; ``make test`` installs it when missing). PostgreSQL refuses to run as
root, so as root the cluster belongs to the ``postgres`` system user and every server
program runs through ``runuser``. The server listens on 127.0.0.1 only, with ``trust``
authentication: it is a local, private server, never a production one.
"""
from __future__ import annotations

import glob
import logging
import os
import shutil
import socket
import subprocess
from pathlib import Path

from desktop.engine.core.errors import KioskError

log = logging.getLogger(__name__)

SUPERUSER = "postgres"


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: $PG_BINDIR, then PATH, then Debian's layout
    (the newest version first)."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    on_path = shutil.which("initdb")
    candidates.append(str(Path(on_path).parent) if on_path else "")
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                         else 0, reverse=True)
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalPostgres:
    """One cluster in ``root`` (created on first start), served on 127.0.0.1:``port``."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root)
        self.data = self.root / "data"
        self.port = port or free_port()
        bindir = find_bindir()
        if bindir is None:
            raise KioskError("PostgreSQL's server programs (initdb, pg_ctl) were not found; "
                             "install them (Debian: apt-get install postgresql) or set "
                             "PG_BINDIR")
        self.bindir = bindir
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bindir / program), *args]
        if self._as_root:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise KioskError(f"{program} failed ({result.returncode}): "
                             f"{(result.stderr or result.stdout).strip()[-800:]}")
        return result

    def _prepare_folder(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            shutil.chown(self.root, SUPERUSER)
            os.chmod(self.root, 0o700)

    def init(self) -> None:
        """initdb, once: UTF-8, trust on loopback, no fsync wait while creating."""
        if (self.data / "PG_VERSION").is_file():
            return
        self._prepare_folder()
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")

    def start(self) -> str:
        """Start (initialising first if needed) and wait until it accepts connections."""
        self.init()
        options = (f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")
        log.info("PostgreSQL started on 127.0.0.1:%d (%s)", self.port, self.data)
        return self.url

    def stop(self, mode: str = "fast") -> None:
        """Stop; ``immediate`` is a crash (no shutdown checkpoint), ``fast`` a clean stop."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except KioskError as exc:
            log.warning("Could not stop PostgreSQL in %s: %s", self.root, exc)
        shutil.rmtree(self.root, ignore_errors=True)
