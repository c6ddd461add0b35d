"""PostgreSQL fixtures: one private server for the whole test session (started with the
machine's PostgreSQL programs, as the ``postgres`` user when the tests run as root), and
a fresh database per test. Tests skip, with the reason, only if no server can start."""
from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pg_server():
    from desktop.engine.core.errors import KioskError
    from desktop.pgserver import LocalPostgres
    try:
        import psycopg  # noqa: F401
        server = LocalPostgres(Path(tempfile.mkdtemp(prefix="kiosk-pg-")))
        server.start()
    except (ImportError, KioskError) as exc:
        pytest.skip(f"no PostgreSQL server could be started: {exc}")
    yield server
    server.destroy()


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a new, empty database on the session's server (dropped afterwards)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)
