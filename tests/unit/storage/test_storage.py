"""Durability of the gallery database: crashes, corruption, a full disk, another model,
and a second process writing to the same file."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import kill_mid_write, person_photos

from desktop.engine.core.errors import DatabaseError, ModelMismatchError
from desktop.engine.facade.face_engine import FaceEngine


def _enroll_two(engine, load):
    engine.enroll("Tom_Cruise", [(str(p), load(p)) for p in person_photos("Tom_Cruise")[:2]])
    engine.enroll("Lucy_Liu", [(str(p), load(p)) for p in person_photos("Lucy_Liu")[:2]])


def _gallery_script(engine, settings, models, load, tmp_path, body: str) -> str:
    """A child-process script with a Gallery on the test database and one real face
    (``crop``, ``vector``), then ``body``; closes ``engine`` so only the child writes."""
    faces = engine.faces(load(person_photos("Roger_Federer")[0]))
    np.save(tmp_path / "crop.npy", faces[0].crop)
    np.save(tmp_path / "vector.npy", engine.embed([faces[0].crop]))
    info = models.embedder.info
    engine.close()
    return textwrap.dedent(f"""
        import numpy as np
        from pathlib import Path
        from desktop.engine.storage.sqlite import Database
        from desktop.engine.core.types import ModelInfo
        from desktop.engine.gallery.people import Gallery
        crop = np.load({str(tmp_path / 'crop.npy')!r})
        vector = np.load({str(tmp_path / 'vector.npy')!r})
        gallery = Gallery(Database(Path({str(settings.db_path)!r})),
                          ModelInfo({info.name!r}, {info.model_id!r}))
    """) + textwrap.dedent(body)


def test_killed_mid_write_reopens_with_every_committed_person(engine, settings, models, load,
                                                                tmp_path):
    writer = _gallery_script(engine, settings, models, load, tmp_path, """
        for i in range(100000):
            gallery.add_samples(f"person {i}", vector, [crop], ["crash test"])
            print(i, flush=True)
    """)
    committed = kill_mid_write(writer, after=40)
    assert committed >= 40

    reopened = FaceEngine(settings, models)
    names = {p.name for p in reopened.gallery.people()}
    assert {f"person {i}" for i in range(committed + 1)} <= names
    assert reopened.gallery.sample_count == len(names)  # index agrees with the database
    reopened.close()


@pytest.mark.parametrize("after", [2, 17, 31])
def test_killed_mid_delete_reopens_with_every_committed_deletion(engine, settings, models,
                                                                  load, tmp_path, after):
    """kill -9 while people are being deleted: the database opens, every committed deletion
    is gone (samples and index entries too), everyone not yet deleted is intact."""
    deleter = _gallery_script(engine, settings, models, load, tmp_path, """
        for i in range(40):
            gallery.add_samples(f"person {i}", vector, [crop], ["crash test"])
        for i in range(40):
            gallery.delete_person(f"person {i}")
            print(i, flush=True)
    """)
    deleted = kill_mid_write(deleter, after=after)
    assert after <= deleted < 39

    reopened = FaceEngine(settings, models)
    try:
        assert reopened.db.query("PRAGMA integrity_check")[0][0] == "ok"
        people = reopened.gallery.people()
        names = {p.name for p in people}
        # deletions run in order and the child may have gone on a little after its last
        # line was read: what remains is person k..39 for some k past the last reported
        first = min((int(name.split()[1]) for name in names), default=40)
        assert first > deleted
        assert names == {f"person {i}" for i in range(first, 40)}
        assert all(p.samples == 1 for p in people)
        assert reopened.gallery.sample_count == len(names)  # no index entry outlives a person
        assert reopened.db.query("SELECT COUNT(*) FROM samples WHERE person_id NOT IN "
                                 "(SELECT id FROM people)")[0][0] == 0
    finally:
        reopened.close()


def test_corrupt_database_gives_a_clear_error_and_is_left_alone(settings, models):
    settings.db_dir.mkdir(parents=True)
    garbage = b"this is not a database " * 100
    settings.db_path.write_bytes(garbage)
    with pytest.raises(DatabaseError, match="damaged"):
        FaceEngine(settings, models)
    assert settings.db_path.read_bytes() == garbage  # nothing overwritten


def test_truncated_database_is_reported_not_crashed(engine, settings, models, load):
    _enroll_two(engine, load)
    engine.db.checkpoint()
    engine.close()
    data = settings.db_path.read_bytes()
    settings.db_path.write_bytes(data[: len(data) // 2])
    for side in settings.db_dir.glob("gallery.sqlite3-*"):
        side.unlink()
    try:
        reopened = FaceEngine(settings, models)
    except DatabaseError as exc:
        assert "damaged" in str(exc)
    else:  # SQLite may still read what is left; then the index must match it
        assert reopened.gallery.sample_count == sum(p.samples for p in reopened.gallery.people())
        reopened.close()


def test_full_disk_loses_nothing(engine, load):
    _enroll_two(engine, load)
    before = engine.gallery.people()
    pages = engine.db.query("PRAGMA page_count")[0][0]
    engine.db.query(f"PRAGMA max_page_count = {pages}")  # the file may not grow: disk full
    photos = [(str(p), load(p)) for p in person_photos("Roger_Federer")[:3]]
    with pytest.raises(DatabaseError, match="full"):
        engine.enroll("Roger_Federer", photos)
    assert engine.gallery.people() == before
    assert engine.gallery.sample_count == 4
    engine.db.query("PRAGMA max_page_count = 1073741823")  # space freed
    engine.enroll("Roger_Federer", photos)
    assert len(engine.gallery.people()) == 3


def test_embeddings_of_another_model_are_refused_then_reembedded(engine, settings, models, load):
    _enroll_two(engine, load)
    with engine.db.transaction() as cur:  # as if enrolled with other weights
        cur.set_meta("model_id", "facenet:0123456789abcdef")
        cur.set_meta("model_name", "some-other-weights")
    engine.close()
    with pytest.raises(ModelMismatchError, match="reembed"):
        FaceEngine(settings, models)
    fixer = FaceEngine(settings, models, allow_model_mismatch=True)
    assert fixer.reembed() == 4
    fixer.close()
    engine = FaceEngine(settings, models)
    probe = load(person_photos("Lucy_Liu")[2])
    assert engine.identify(probe)[0].match.name == "Lucy_Liu"
    engine.close()


def test_second_process_sees_enrollments_and_deletions(engine, settings, models, load):
    other = FaceEngine(settings, models)  # its own connection, like the HTTP service
    probe = load(person_photos("Tom_Cruise")[3])
    assert other.identify(probe)[0].match.name is None
    _enroll_two(engine, load)
    assert other.identify(probe)[0].match.name == "Tom_Cruise"
    engine.delete("Tom_Cruise")
    assert other.identify(probe)[0].match.name is None
    other.close()


def test_interleaved_writers_never_map_a_deleted_face_to_a_new_person(engine, settings, models,
                                                                       load):
    _enroll_two(engine, load)
    other = FaceEngine(settings, models)
    other.delete("Lucy_Liu")                      # the service deletes her ...
    engine.enroll("Roger_Federer",                # ... while the window enrolls someone
                  [(str(p), load(p)) for p in person_photos("Roger_Federer")[:2]])
    lucy = load(person_photos("Lucy_Liu")[3])
    for eng in (engine, other):
        assert eng.identify(lucy)[0].match.candidate != "Lucy_Liu"
        assert eng.identify(lucy)[0].match.name is None
        assert {p.name for p in eng.gallery.people()} == {"Tom_Cruise", "Roger_Federer"}
        assert eng.gallery.sample_count == 4
    roger = load(person_photos("Roger_Federer")[3])
    assert other.identify(roger)[0].match.name == "Roger_Federer"
    other.close()
