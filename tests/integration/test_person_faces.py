"""A person's pictures one by one, with the real model and photos: the listing marks the
picture of somebody else, deleting one picture rebuilds the template and index and leaves
no byte of it in any file of the database folder (plain and SQLCipher), and the CLI and
HTTP front ends answer unknown ids with a clear 404 / one line, never a traceback."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import httpx
import numpy as np
import pytest
from conftest import ROOT, checkpointed, person_photos

from desktop.engine.core.errors import KioskError, UnknownFaceError, UnknownPersonError
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.facade.person_faces import delete_face, person_faces
from desktop.engine.storage import audit

HOLDER = """
import time
import numpy as np
from pathlib import Path
from desktop.engine.storage.sqlite import Database
from desktop.engine.core.types import ModelInfo
from desktop.engine.gallery.people import Gallery
gallery = Gallery(Database(Path({path!r}), key={key!r}), ModelInfo({name!r}, {mid!r}))
probe = np.load({probe!r})
while True:  # like the HTTP service: keeps the file open, searches, follows changes
    gallery.search(probe, 2)
    print(gallery.sample_count, flush=True)
    time.sleep(0.05)
"""

SUBJECT = "Zebulon Quartermaine"
"""Tom Cruise's photos (and one of Lucy Liu's, by mistake) under a name found nowhere else."""


def _enroll_with_a_wrong_picture(engine: FaceEngine, load) -> None:
    photos = [(f"photo {i}", load(p)) for i, p in enumerate(person_photos("Tom_Cruise")[:4])]
    photos.append(("the wrong one", load(person_photos("Lucy_Liu")[0])))
    engine.enroll(SUBJECT, photos, force=True)  # force: the wrong one stays in the template
    engine.enroll("Lucy_Liu", [("lucy", load(person_photos("Lucy_Liu")[1]))])


def _secrets(engine: FaceEngine, sample_id: int) -> list[bytes]:
    """Pieces of every stored form of one sample: its vectors, its JPEG crop, its
    model-neutral face (JPEG headers are alike in every crop: take the middle and end)."""
    row = engine.db.query("SELECT embedding, crop, face FROM samples WHERE id = ?",
                          (sample_id,))[0]
    vectors = [r[0] for r in engine.db.query(
        "SELECT vector FROM embeddings WHERE sample_id = ?", (sample_id,))]
    pieces = []
    for blob in [row[0], *vectors]:
        pieces += [bytes(blob[:64]), bytes(blob[1000:1064])]
    for jpeg in (row[1], row[2]):
        if jpeg:
            middle = len(jpeg) // 2
            pieces += [bytes(jpeg[middle:middle + 64]), bytes(jpeg[-66:-2])]
    return pieces


@pytest.mark.parametrize("key", [None, "a site key"])
def test_deleting_one_picture_leaves_no_byte_of_it(settings, models, load, key, tmp_path):
    """After delete_face and a checkpoint, no file of the database folder (database, WAL,
    shm, index, log) holds a piece of the picture, while a second process holds the same
    database open and keeps searching it."""
    engine = FaceEngine(dataclasses.replace(settings, db_key=key), models)
    holder = None
    try:
        _enroll_with_a_wrong_picture(engine, load)
        pictures = person_faces(engine, SUBJECT)
        assert len(pictures) == 5
        wrong = next(p for p in pictures if p.source == "the wrong one")
        assert wrong.outlier and not any(p.outlier for p in pictures if p is not wrong)
        assert wrong.similarity == min(p.similarity for p in pictures)
        secrets = _secrets(engine, wrong.id)
        kept = _secrets(engine, pictures[0].id)

        np.save(tmp_path / "probe.npy", engine.gallery.index.vectors(
            [bytes(engine.db.query("SELECT embedding FROM samples WHERE id = ?",
                                   (wrong.id,))[0][0])]))
        info = models.embedder.info
        holder = subprocess.Popen(  # another process holds the database open meanwhile
            [sys.executable, "-c", HOLDER.format(path=str(settings.db_path), key=key,
                                                 name=info.name, mid=info.model_id,
                                                 probe=str(tmp_path / "probe.npy"))],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "6"
        done = delete_face(engine, SUBJECT, wrong.id, actor="test")
        assert (done.face_id, done.remaining) == (wrong.id, 4)
        while holder.stdout.readline().strip() != "5":  # it saw the deletion
            pass
        assert holder.poll() is None
        after = person_faces(engine, SUBJECT)
        assert [p.id for p in after] == [p.id for p in pictures if p is not wrong]
        # the template no longer averages Lucy in: every remaining picture fits it better
        before = {p.id: p.similarity for p in pictures}
        assert all(p.similarity > before[p.id] for p in after)
        assert engine.gallery.sample_count == 5  # 4 left + Lucy's own
        lucy = engine.embed([engine.faces(load(person_photos("Lucy_Liu")[0]))[0].crop])
        assert engine.match(lucy)[0].name == "Lucy_Liu"  # no longer also the subject's
        entry = audit.entries(engine.db)[-1]
        assert entry.action == "delete_face" and entry.detail == {"sample": wrong.id,
                                                                  "remaining": 4}
        checkpointed(engine.db)
        data = b"".join(p.read_bytes() for p in settings.db_dir.iterdir() if p.is_file())
        for chunk in secrets:
            assert chunk not in data
        assert key or all(chunk in data for chunk in kept)  # the others are still there
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        engine.close()


def test_unknown_ids_other_peoples_pictures_and_the_last_picture(engine, load):
    _enroll_with_a_wrong_picture(engine, load)
    lucy = person_faces(engine, "Lucy_Liu")
    with pytest.raises(UnknownFaceError, match="has no picture"):
        delete_face(engine, SUBJECT, lucy[0].id)  # Lucy's id under another name
    with pytest.raises(UnknownFaceError):
        delete_face(engine, SUBJECT, 10**30)
    with pytest.raises(UnknownPersonError):
        person_faces(engine, "Nobody Here")
    with pytest.raises(KioskError, match="only one of Lucy_Liu: delete the person"):
        delete_face(engine, "Lucy_Liu", lucy[0].id)
    assert engine.gallery.person("Lucy_Liu").samples == 1


def test_cli_and_http(engine, load, weights_path):
    from test_server import running

    from desktop.server.app import create_app
    _enroll_with_a_wrong_picture(engine, load)

    def cli(*args: str, expect: int = 0) -> subprocess.CompletedProcess:
        run = subprocess.run([sys.executable, "main.py", *args, "--db",
                              str(engine.settings.db_dir), "--weights", str(weights_path)],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == expect, run.stderr
        assert "Traceback" not in run.stderr
        return run

    listed = [json.loads(line) for line in cli("faces", SUBJECT, "--json").stdout.splitlines()]
    assert [p["outlier"] for p in listed] == [False] * 4 + [True]
    assert "OUTLIER" in cli("faces", SUBJECT).stdout.splitlines()[-1]
    refused = cli("delete-face", SUBJECT, "999999", expect=2).stderr
    assert refused.count("\n") == 1 and "has no picture 999999" in refused
    out = cli("delete-face", SUBJECT, str(listed[-1]["id"])).stdout
    assert "4 picture(s) left" in out

    url_name = SUBJECT.replace(" ", "%20")
    with running(create_app(engine, engine.settings)) as url:
        faces = httpx.get(f"{url}/people/{url_name}/faces").json()["faces"]
        assert len(faces) == 4 and {"id", "similarity", "outlier", "source"} <= set(faces[0])
        for bad in ("999999", "99999999999999999999999", "x"):
            answer = httpx.delete(f"{url}/people/{url_name}/faces/{bad}")
            assert answer.status_code in (404, 422) and "detail" in answer.json()
        assert httpx.get(f"{url}/people/Nobody/faces").status_code == 404
        gone = httpx.delete(f"{url}/people/{url_name}/faces/{faces[0]['id']}")
        assert gone.status_code == 200 and gone.json()["remaining"] == 3
        assert httpx.get(f"{url}/people").json()["people"][1]["samples"] == 3


def test_deleting_a_picture_on_postgres(settings, models, load, pg_url):
    engine = FaceEngine(dataclasses.replace(settings, db_url=pg_url), models)
    try:
        _enroll_with_a_wrong_picture(engine, load)
        wrong = next(p for p in person_faces(engine, SUBJECT) if p.outlier)
        delete_face(engine, SUBJECT, wrong.id)
        assert engine.db.query("SELECT COUNT(*) FROM samples WHERE id = ?", (wrong.id,)) == [(0,)]
        assert engine.db.query("SELECT COUNT(*) FROM embeddings WHERE sample_id = ?",
                               (wrong.id,)) == [(0,)]
        assert len(person_faces(engine, SUBJECT)) == 4
        other = FaceEngine(dataclasses.replace(settings, db_url=pg_url,
                                               db_dir=settings.db_dir.parent / "b"), models)
        try:  # another kiosk of the site sees four pictures and matches Lucy to Lucy only
            assert other.gallery.person(SUBJECT).samples == 4
            lucy = other.embed([other.faces(load(person_photos("Lucy_Liu")[0]))[0].crop])
            assert other.match(lucy)[0].name == "Lucy_Liu"
        finally:
            other.close()
    finally:
        engine.close()
    assert np.isfinite(wrong.similarity)
