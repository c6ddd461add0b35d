"""Privacy with the real model and photos: consent, templates without photos, retention
while running, subject export, and the erasure proof with another process holding the
database open."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest
from conftest import ROOT, checkpointed, person_photos

from desktop.engine.core.errors import KioskError
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.storage import audit, consent
from desktop.engine.storage.consent import Consent, ConsentRequiredError

SUBJECT = "Zebulon Quartermaine"
"""Tom Cruise's photos under a name that appears nowhere else on disk."""


def _photos(load, person: str, n: int) -> list[tuple[str, np.ndarray]]:
    return [(f"photo {i}", load(p)) for i, p in enumerate(person_photos(person)[:n])]


def _engine(settings, models, **changes) -> FaceEngine:
    return FaceEngine(dataclasses.replace(settings, **{k: v for k, v in changes.items()
                                                       if k != "frontend"}),
                      models, frontend=changes.get("frontend", "engine"))


# ----------------------------------------------------------------------------- consent
def test_window_requires_consent_by_default_and_records_it(settings, models, load):
    engine = _engine(settings, models, frontend="window")
    with pytest.raises(ConsentRequiredError, match="tick the consent box"):
        engine.enroll("Tom_Cruise", _photos(load, "Tom_Cruise", 2))
    assert engine.gallery.people() == []
    given = Consent(settings.consent_text)
    engine.enroll("Tom_Cruise", _photos(load, "Tom_Cruise", 2), consent=given)
    person = engine.gallery.person("Tom_Cruise")
    record = consent.of_person(engine.db, person.id)
    assert record.text == settings.consent_text and record.recorded_via == "window"
    assert abs(record.given_at - time.time()) < 120
    # more photos later need no second consent
    engine.enroll("Tom_Cruise", _photos(load, "Tom_Cruise", 3)[2:])
    actions = [e.action for e in audit.entries(engine.db, subject=person.id)]
    assert actions == ["consent", "enroll", "enroll"]
    engine.close()


def test_require_consent_modes(settings, models, load):
    cli = _engine(settings, models, frontend="cli")  # 'window' mode: the CLI is not asked
    cli.enroll("Lucy_Liu", _photos(load, "Lucy_Liu", 1))
    cli.close()
    strict = _engine(settings, models, frontend="cli", require_consent="always")
    with pytest.raises(ConsentRequiredError, match="--consent"):
        strict.enroll("Tom_Cruise", _photos(load, "Tom_Cruise", 1))
    strict.close()
    with pytest.raises(KioskError, match="require_consent must be one of"):
        _engine(settings, models, frontend="cli", require_consent="sometimes").enroll(
            "Tom_Cruise", _photos(load, "Tom_Cruise", 1))


def test_cli_consent_file_and_people_listing(settings, models, load, tmp_path):
    from desktop import cli_privacy
    from desktop.cli import build_parser
    form = tmp_path / "form.txt"
    form.write_text("I, the undersigned, agree to face recognition at reception.\n")
    args = build_parser().parse_args(["enroll", "X", "a.jpg", "--consent-file", str(form),
                                      "--consent-by", "a guardian"])
    given = cli_privacy.consent_from_args(settings, args)
    assert given.text.startswith("I, the undersigned") and given.given_by == "a guardian"
    engine = _engine(settings, models, frontend="cli", require_consent="always")
    engine.enroll("Lucy_Liu", _photos(load, "Lucy_Liu", 1), consent=given)
    pid = engine.gallery.person("Lucy_Liu").id
    assert cli_privacy.consent_column(engine.db)[pid].startswith("consent 20")
    engine.close()


# ----------------------------------------------------------------------------- no photos
def test_templates_without_photos_recognise_but_cannot_be_reembedded(settings, models, load,
                                                                     dlib_models):
    engine = _engine(settings, models, keep_face_crops=False)
    engine.enroll("Tom_Cruise", _photos(load, "Tom_Cruise", 3))
    crops = engine.db.query("SELECT crop FROM samples")
    assert len(crops) == 3 and all(c == (b"",) for c in crops)
    probe = load(person_photos("Tom_Cruise")[4])
    assert engine.identify(probe)[0].match.name == "Tom_Cruise"
    assert engine.gallery.thumbnail("Tom_Cruise") in (None, b"")
    engine.reembed()  # the loaded model's own vectors are kept: nothing to re-make
    from desktop.engine.gallery.reembed import reembed_vectors
    with pytest.raises(KioskError, match="cannot be re-embedded"):  # another model: no photo
        reembed_vectors(engine, dlib_models.embedder, engine.gallery.reembed_inputs())
    engine.close()


# ----------------------------------------------------------------------------- retention
def test_retention_removes_old_rows_while_running(settings, models, load):
    engine = _engine(settings, models, retention_days=30, retention_people_days=365,
                     retention_interval_hours=0.5 / 3600)  # every half second, for the test
    engine.enroll("Tom_Cruise", _photos(load, "Tom_Cruise", 1))
    engine.enroll("Lucy_Liu", _photos(load, "Lucy_Liu", 1))
    old = time.time() - 400 * 86400
    engine.start_retention()
    # while it runs: a stale check-in, and a person last seen 400 days ago
    engine.attendance.record_sighting("Tom_Cruise", 0.9, ts=time.time() - 40 * 86400)
    engine.attendance.record_sighting("Tom_Cruise", 0.9)
    lucy = engine.gallery.person("Lucy_Liu").id
    with engine.db.transaction() as cur:
        cur.execute("UPDATE people SET created_at = ? WHERE id = ?", (old, lucy))
        cur.execute("UPDATE samples SET created_at = ? WHERE person_id = ?", (old, lucy))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
            engine.gallery.size > 1 or
            engine.db.query("SELECT COUNT(*) FROM checkins")[0][0] > 1 or
            len({e.action for e in audit.entries(engine.db) if e.actor == "retention"}) < 2):
        time.sleep(0.1)
    assert [p.name for p in engine.gallery.people()] == ["Tom_Cruise"]
    assert engine.db.query("SELECT COUNT(*) FROM checkins")[0][0] == 1  # today's stays
    purges = [e for e in audit.entries(engine.db) if e.actor == "retention"]
    assert {e.action for e in purges} == {"retention", "delete"}
    assert any(e.action == "delete" and e.subject == lucy for e in purges)
    engine.close()


# ----------------------------------------------------------------------------- export
def test_person_export_holds_everything_about_them(engine, load, tmp_path):
    engine.enroll("Tom_Cruise", _photos(load, "Tom_Cruise", 3),
                  consent=Consent("shown text"))
    engine.enroll("Lucy_Liu", _photos(load, "Lucy_Liu", 2))
    engine.attendance.record_sighting("Tom_Cruise", 0.8)
    out = tmp_path / "Tom_Cruise.zip"
    summary = engine.export_person("Tom_Cruise", out)
    assert summary["samples"] == 3 and summary["checkins"] == 1
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        document = json.loads(archive.read("person.json"))
        vectors = np.load(__import__("io").BytesIO(archive.read("embeddings.npy")))
        stored = dict(engine.db.query("SELECT id, crop FROM samples"))
        for sample in document["samples"]:
            assert archive.read(sample["crop"]) == stored[sample["id"]]
    assert {"README.txt", "person.json", "embeddings.npy"} <= names
    assert document["person"]["name"] == "Tom_Cruise" and vectors.shape == (3, 512)
    assert document["consent"]["text"] == "shown text"
    assert len(document["checkins"]) == 1 and len(document["attendance_days"]) == 1
    assert "Lucy_Liu" not in json.dumps(document)
    assert audit.entries(engine.db)[-1].action == "export"


# ----------------------------------------------------------------------------- erasure
HOLDER = """
import sys, time
import numpy as np
from pathlib import Path
from desktop.engine.storage.sqlite import Database
from desktop.engine.core.types import ModelInfo
from desktop.engine.gallery.people import Gallery
gallery = Gallery(Database(Path({path!r}), key={key!r}), ModelInfo({name!r}, {mid!r}))
probe = np.load({probe!r})
while True:  # like the HTTP service: keeps the file open, searches, follows changes
    print(gallery.size, ";".join(sorted(n for n, _ in gallery.search(probe, 3)[0])),
          flush=True)
    time.sleep(0.05)
"""


@pytest.mark.parametrize("key", [None, "erasure test key"])
def test_erasure_leaves_no_byte_of_the_person(settings, models, load, tmp_path, key):
    """After delete and a checkpoint, no file of the database folder (database, WAL,
    shm, index, log, settings) holds the person's name, any crop or any embedding, while
    a second process holds the same database open and keeps searching it."""
    engine = _engine(settings, models, db_key=key)
    engine.enroll(SUBJECT, _photos(load, "Tom_Cruise", 4), consent=Consent("text"))
    engine.enroll("Lucy_Liu", _photos(load, "Lucy_Liu", 2))
    engine.attendance.record_sighting(SUBJECT, 0.9)
    engine.rename(SUBJECT, SUBJECT + " Jr")  # the old name must be gone too
    secrets = engine.db.query("SELECT s.embedding, s.crop FROM samples s JOIN people p ON "
                              "p.id = s.person_id WHERE p.name = ?", (SUBJECT + " Jr",))
    probe = engine.embed([engine.faces(load(person_photos("Tom_Cruise")[5]))[0].crop])
    np.save(tmp_path / "probe.npy", probe)
    info = models.embedder.info
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER.format(
            path=str(settings.db_path), key=key, name=info.name, mid=info.model_id,
            probe=str(tmp_path / "probe.npy")))],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first = holder.stdout.readline()
        assert first.startswith("2 ") and SUBJECT in first  # it sees the person
        engine.delete(SUBJECT + " Jr")
        while not holder.stdout.readline().startswith("1 "):  # it saw the deletion
            pass
        assert holder.poll() is None  # still running, database still open
        checkpointed(engine.db)
        files = [p for p in settings.db_dir.iterdir() if p.is_file()]
        data = b"".join(p.read_bytes() for p in files)
        assert any(p.name.endswith("-wal") for p in files)  # the holder keeps WAL mode on
        for name in (SUBJECT, "Quartermaine"):
            assert name.encode() not in data and name.encode("utf-16-le") not in data
        for embedding, crop in secrets:
            middle = len(crop) // 2  # (JPEG headers are the same in every crop)
            for chunk in (embedding[:64], embedding[1000:1064], crop[middle:middle + 64],
                          crop[-66:-2]):
                assert chunk not in data
        assert b"Lucy_Liu" in data or key  # the others are still there (in clear if plain)
        assert engine.db.query("SELECT COUNT(*) FROM consent")[0][0] == 0
    finally:
        holder.kill()
        holder.wait()
        engine.close()


# ----------------------------------------------------------------------------- HTTP
def test_http_enrollment_consent_field_and_client_address_in_the_audit(settings, models,
                                                                       faces_dir):
    import httpx
    from test_server import photo, running

    from desktop.server.app import create_app
    engine = _engine(settings, models, frontend="http", require_consent="always")
    files = [photo(p, "images") for p in person_photos("Lucy_Liu")[:2]]
    with running(create_app(engine, engine.settings)) as url:
        refused = httpx.post(f"{url}/people/Lucy_Liu/faces", files=files, timeout=60)
        assert refused.status_code == 400 and "consent=true" in refused.json()["detail"]
        made = httpx.post(f"{url}/people/Lucy_Liu/faces?consent=true&consent_by=her%20agent",
                          files=files, timeout=60)
        assert made.status_code == 201, made.text
        assert httpx.delete(f"{url}/people/Lucy_Liu", timeout=60).status_code == 200
    entries = audit.entries(engine.db)
    assert [e.action for e in entries] == ["consent", "enroll", "delete"]
    assert {e.actor for e in entries} == {"http 127.0.0.1"}
    assert entries[0].detail["on_behalf"] is True
    engine.close()
