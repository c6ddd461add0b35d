"""The database file as the user meets it through the command line: a 0-byte file, a key
file that is not text, a folder this user cannot write, a clear file with a damaged first
page, and what a migration killed at its most dangerous moment leaves behind (real
SQLite/SQLCipher files, a real SIGKILL)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT
from test_privacy_storage import NAMES, _content, _fill

from desktop.engine.storage import sqlcipher as crypto_db
from desktop.engine.storage.sqlite import Database


def kiosk(db_dir: Path, *args: str, key: str = "", as_nobody: bool = False,
          ) -> subprocess.CompletedProcess:
    """``python main.py --db DIR ARGS`` as the user runs it (``audit`` needs no model)."""
    prefix = (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_nobody
              else [])
    return subprocess.run([*prefix, sys.executable, "main.py", "--db", str(db_dir), *args],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "FACE_KIOSK_KEY": key})


def one_line_error(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if not line.startswith("WARNING")]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]


def test_zero_byte_database_is_refused_and_left_as_it_is(tmp_path):
    (tmp_path / "gallery.sqlite3").write_bytes(b"")
    message = one_line_error(kiosk(tmp_path, "audit"))
    assert "empty (0 bytes)" in message and "backup" in message
    assert (tmp_path / "gallery.sqlite3").stat().st_size == 0  # not made a new gallery


def test_a_new_database_appears_complete_never_empty(tmp_path):
    path = tmp_path / "gallery.sqlite3"
    Database(path).close()
    assert crypto_db.file_state(path) == "plain"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gallery.sqlite3"]  # no .new-*
    Database(path).close()  # and it opens as the gallery it is


@pytest.mark.parametrize("content, expected", [
    (b"ab\xffcd\n", "not text (byte 0xff at offset 2"),
    (b"correct\x00horse\n", "a NUL byte"),
])
def test_key_file_that_is_not_a_text_line_is_one_clear_error(tmp_path, content, expected):
    _fill(tmp_path / "gallery.sqlite3", key="correct").db.close()
    key_file = tmp_path / "kiosk.key"
    key_file.write_bytes(content)
    key_file.chmod(0o600)
    message = one_line_error(kiosk(tmp_path, "--key-file", str(key_file), "audit"))
    assert expected in message and str(key_file) in message


@pytest.fixture
def other_user_dir():
    """A folder another user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="kiosk-ro-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


@pytest.mark.parametrize("existing", [False, True])
def test_read_only_folder_names_the_folder_and_what_it_needs(other_user_dir, existing):
    db_dir = other_user_dir / "db"
    db_dir.mkdir()
    if existing:
        _fill(db_dir / "gallery.sqlite3", key=None, people=1).db.close()
        (db_dir / "gallery.sqlite3").chmod(0o644)
    db_dir.chmod(0o555)
    # root may write anywhere: run as "nobody" then (the folder is root's, read-only)
    as_root = os.geteuid() == 0
    if as_root and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv to drop to another user")
    message = one_line_error(kiosk(db_dir, "audit", as_nobody=as_root))
    assert f"the database folder {db_dir} is not writable" in message
    assert "-wal" in message and "--db" in message


def test_damaged_clear_database_is_reported_damaged_not_encrypted(tmp_path):
    path = tmp_path / "gallery.sqlite3"
    _fill(path, key=None, people=6).db.close()
    data = bytearray(path.read_bytes())
    data[:4096] = os.urandom(4096)  # the first page (header and schema) overwritten
    path.write_bytes(bytes(data))
    assert not crypto_db.is_encrypted(path)  # the window will not ask for a key
    message = one_line_error(kiosk(tmp_path, "audit"))
    assert "damaged" in message and "plain" in message and "give its key" not in message
    with_key = one_line_error(kiosk(tmp_path, "audit", key="some key"))
    assert "damaged" in with_key


def test_encrypted_database_is_still_recognised_as_encrypted(tmp_path):
    _fill(tmp_path / "gallery.sqlite3", key="k", people=6).db.close()
    assert crypto_db.is_encrypted(tmp_path / "gallery.sqlite3")
    assert "is encrypted: give its key" in one_line_error(kiosk(tmp_path, "audit"))


# ----------------------------------------------------------------------------- kill -9
MIGRATE_AND_STALL = """
import sys, time
from pathlib import Path
from desktop.engine.storage import sqlcipher as crypto_db
def step(name):
    print(name, flush=True)
    if name == {stall!r}:
        time.sleep(600)  # SIGKILL lands here, with this step's files on disk
crypto_db.migrate(Path({path!r}), {old!r}, {new!r}, progress=step)
"""


def kill_at(path: Path, old: str | None, new: str | None, stall: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(MIGRATE_AND_STALL.format(
        path=str(path), old=old, new=new, stall=stall))], cwd=ROOT, stdout=subprocess.PIPE,
        text=True)
    for line in proc.stdout:
        if line.strip() == stall:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def folder_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())


@pytest.mark.parametrize("stall", ["exported", "verified"])
def test_killed_decrypt_leaves_no_clear_copy_once_the_database_is_opened(tmp_path, stall):
    path = tmp_path / "gallery.sqlite3"
    _fill(path, key="old key").db.close()
    original = _content(path, "old key")
    kill_at(path, "old key", None, stall)
    leftover = path.with_name(path.name + crypto_db.MIGRATING_SUFFIX)
    assert NAMES[0].encode() in leftover.read_bytes()  # the danger: a complete clear copy
    run = kiosk(tmp_path, "audit", key="old key")  # any open (audit, delete, the window)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gallery.sqlite3", "kiosk.log"]
    data = folder_bytes(tmp_path)
    assert not any(name.encode() in data for name in NAMES)
    assert crypto_db.is_encrypted(path) and _content(path, "old key") == original


def test_killed_encrypt_leaves_no_clear_index_beside_the_encrypted_file(tmp_path):
    path = tmp_path / "gallery.sqlite3"
    _fill(path, key=None).db.close()
    assert list(tmp_path.glob("index-*.faiss"))  # a plain gallery saves its index
    original = _content(path, None)
    kill_at(path, None, "new key", "swapped")  # the new file is in place, nothing after
    assert crypto_db.is_encrypted(path) and _content(path, "new key") == original
    assert not list(tmp_path.glob("index-*"))
    assert not any(name.encode() in folder_bytes(tmp_path) for name in NAMES)
