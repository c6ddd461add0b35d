"""A person deleted over HTTP while another program reads the database leaves the WAL
file once that reader finishes, with no further request to the idle service (the real
app, model and photos; the reader is a separate process holding a read snapshot)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import time

import httpx
from conftest import ROOT, person_photos
from test_server import photo, running

from desktop.engine.facade.face_engine import FaceEngine

NAME = "Zebulon Quartermaine"

READER = """
import sys
import sqlcipher3.dbapi2 as sqlite
conn = sqlite.connect({path!r}, isolation_level=None)
conn.execute("BEGIN")
conn.execute("SELECT COUNT(*) FROM people").fetchone()  # a snapshot from before the delete
print("reading", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
conn.close()
print("closed", flush=True)
sys.stdin.readline()  # stays alive, like a window that is no longer reading
"""


def test_deleted_name_leaves_the_wal_after_the_last_reader_closes(settings, models):
    from desktop.server.app import create_app
    engine = FaceEngine(dataclasses.replace(settings, require_consent="never"), models,
                        frontend="http")
    wal = settings.db_path.with_name(settings.db_path.name + "-wal")
    reader = None
    try:
        with running(create_app(engine, engine.settings)) as url:
            files = [photo(p, "images") for p in person_photos("Tom_Cruise")[:2]]
            made = httpx.post(f"{url}/people/{NAME}/faces", files=files, timeout=120)
            assert made.status_code == 201, made.text
            assert NAME.encode() in wal.read_bytes()  # the enrollment is in the WAL
            reader = subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(READER.format(
                    path=str(settings.db_path)))],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert reader.stdout.readline().strip() == "reading"
            gone = httpx.delete(f"{url}/people/{NAME}", timeout=60)
            assert gone.status_code == 200, gone.text
            assert NAME.encode() in wal.read_bytes()  # the reader holds the checkpoint up
            reader.stdin.write("close\n")
            reader.stdin.flush()
            assert reader.stdout.readline().strip() == "closed"
            deadline = time.monotonic() + 5  # no request from here on: the service is idle
            while NAME.encode() in wal.read_bytes() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert NAME.encode() not in wal.read_bytes()
            assert NAME.encode() not in settings.db_path.read_bytes()
            assert reader.poll() is None  # the other program is still running
    finally:
        if reader is not None:
            reader.kill()
            reader.wait()
        engine.close()
