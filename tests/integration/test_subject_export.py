"""Subject export as the user runs it (`person export`, a real process and model): the
default file stays in the working folder whatever the name, is readable by its owner
only, and never replaces a file unless asked."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, person_photos

from desktop.engine.privacy.export import default_path
from desktop.engine.storage.consent import Consent

TRAVERSAL = "../../x"


def _enroll(engine, load, name: str) -> None:
    photos = [(f"photo {i}", load(p)) for i, p in enumerate(person_photos("Tom_Cruise")[:2])]
    engine.enroll(name, photos, consent=Consent("text"))


def _export(settings, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "person", "export", *args,
         "--db", str(settings.db_dir), "--weights", settings.weights,
         "--antispoof-weights", settings.antispoof_weights],
        cwd=cwd, capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: os.umask(0o022))  # the usual umask: 0644 files by default
    assert "Traceback" not in run.stderr, run.stderr
    return run


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_file_name_stays_in_the_working_folder():
    here = Path("/work/here")
    assert default_path("../../x", here) == here / "x.zip"
    assert default_path("/etc/cron.d/x", here) == here / "etc_cron_d_x.zip"
    assert default_path("..\\..\\win", here) == here / "win.zip"
    assert default_path("Zoë O'Brien", here) == here / "Zoë O_Brien.zip"
    assert default_path("...", here) == here / "person.zip"


def test_export_of_a_traversal_name_stays_here_private_and_never_replaces(
        engine, settings, load, tmp_path):
    _enroll(engine, load, TRAVERSAL)
    work = tmp_path / "a" / "b" / "work"
    work.mkdir(parents=True)
    first = _export(settings, work, TRAVERSAL)
    assert first.returncode == 0, first.stderr
    out = work / "x.zip"
    assert out.is_file() and _mode(out) == 0o600
    assert not (tmp_path / "a" / "x.zip").exists()  # where ../../x.zip would have gone
    assert sorted(p.name for p in work.iterdir()) == ["x.zip"]  # no temporary file left
    with zipfile.ZipFile(out) as archive:
        assert "person.json" in archive.namelist()
    before = out.read_bytes()

    again = _export(settings, work, TRAVERSAL)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "--force" in again.stderr and out.read_bytes() == before

    out.chmod(0o644)
    forced = _export(settings, work, TRAVERSAL, "--force")
    assert forced.returncode == 0, forced.stderr
    assert _mode(out) == 0o600 and zipfile.is_zipfile(out)


def test_explicit_out_may_go_anywhere_but_is_private_and_not_replaced(
        engine, settings, load, tmp_path):
    _enroll(engine, load, "Zebulon Quartermaine")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "subject.zip"
    target.write_bytes(b"someone else's file")
    refused = _export(settings, tmp_path, "Zebulon Quartermaine", "--out", str(target))
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert target.read_bytes() == b"someone else's file"
    target.unlink()
    made = _export(settings, tmp_path, "Zebulon Quartermaine", "--out", str(target))
    assert made.returncode == 0, made.stderr
    assert _mode(target) == 0o600 and zipfile.is_zipfile(target)


def test_engine_export_refuses_an_existing_file_unless_overwrite(engine, load, tmp_path):
    _enroll(engine, load, "Zebulon Quartermaine")
    out = tmp_path / "z.zip"
    out.write_bytes(b"keep me")
    with pytest.raises(Exception, match="already exists"):
        engine.export_person("Zebulon Quartermaine", out)
    assert out.read_bytes() == b"keep me"
    summary = engine.export_person("Zebulon Quartermaine", out, overwrite=True)
    assert summary["samples"] == 2 and _mode(out) == 0o600
    with zipfile.ZipFile(out) as archive:
        assert np.load(__import__("io").BytesIO(archive.read("embeddings.npy"))).shape[0] == 2
