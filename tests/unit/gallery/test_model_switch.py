"""Several models in one gallery: switching FaceNet -> dlib (and back) by re-embedding
stored faces, and an old-schema database migrating, on real photos with the real models."""
from __future__ import annotations

import sqlite3

import pytest
from conftest import person_photos

PEOPLE = ("Kit_Harington", "Rose_Leslie", "Ethan_Hawke", "Adam_Sandler", "Alastair_Campbell",
          "Alejandro_Toledo")


def _enroll(engine, load) -> dict[str, list]:
    """Enroll the first 3 photos of each person; return the rest as probes."""
    probes = {}
    for person in PEOPLE:
        photos = person_photos(person)
        engine.enroll(person, [(p.name, load(p)) for p in photos[:3]], force=True)
        probes[person] = photos[3:5]
    return probes


def _recognised(engine, probes, load, candidates: bool = False) -> tuple[int, int]:
    """(probes named rightly, probes); with ``candidates``, ranked first instead of named."""
    right = total = 0
    for person, paths in probes.items():
        for path in paths:
            result = engine.identify(load(path))
            names = [(f.match.candidate if candidates else f.match.name) for f in result]
            right += [n for n in names if n] == [person]
            total += 1
    return right, total


def _engine(settings, models):
    from desktop.engine.facade.face_engine import FaceEngine
    return FaceEngine(settings, models, allow_model_mismatch=True)


def test_reembed_facenet_to_dlib_and_back_keeps_everyone(settings, models, dlib_models,
                                                         faces_dir, load):
    from desktop.engine.storage import embeddings as modelstore
    facenet = _engine(settings, models)
    probes = _enroll(facenet, load)
    before = _recognised(facenet, probes, load)
    assert before[0] >= before[1] - 1
    samples = facenet.gallery.sample_count
    counts = [p.samples for p in facenet.gallery.people()]
    facenet.close()

    dlib = _engine(settings, dlib_models)
    assert dlib.gallery.model_mismatch
    assert dlib.reembed() == samples
    assert not dlib.gallery.model_mismatch and dlib.gallery.dim == 128
    assert dlib.threshold == pytest.approx(dlib_models.embedder.default_threshold)
    assert [p.samples for p in dlib.gallery.people()] == counts
    right, total = _recognised(dlib, probes, load)
    assert right >= total - 1, (right, total)
    for person in PEOPLE:  # every enrolled photo still finds its own person
        vectors, _ = dlib.gallery.person_vectors(person)
        assert [r[0][0] for r in dlib.gallery.search_templates(vectors, 1)] == \
            [person] * len(vectors)
    dlib.gallery.set_threshold(0.93)  # remembered for dlib
    rows = {m.model_id: m for m in modelstore.models(dlib.db)}
    assert rows[dlib_models.embedder.model_id].samples == samples
    assert rows[models.embedder.model_id].samples == samples
    dlib.close()

    back = _engine(settings, models)  # FaceNet's vectors are reused: nothing to compute
    assert back.gallery.model_mismatch
    back.reembed()
    assert back.threshold == pytest.approx(0.65)
    assert _recognised(back, probes, load) == before
    back.close()
    again = _engine(settings, dlib_models)
    again.reembed()
    assert again.threshold == pytest.approx(0.93)
    again.close()


def _make_old_schema(path) -> None:
    """Turn a current database into a version-2 file: no models/embeddings tables, no
    neutral crops (what kiosks wrote before storage/embeddings.py kept crops)."""
    conn = sqlite3.connect(path)
    conn.executescript("DROP TABLE embeddings; DROP TABLE models; "
                       "ALTER TABLE samples DROP COLUMN face; "
                       "ALTER TABLE samples DROP COLUMN face_meta; "
                       "UPDATE meta SET value = '2' WHERE key = 'schema_version';")
    conn.commit()
    conn.close()


def test_old_schema_migrates_and_switches_from_legacy_crops(settings, models, dlib_models,
                                                            faces_dir, load):
    from desktop.engine.storage import embeddings as modelstore
    facenet = _engine(settings, models)
    probes = _enroll(facenet, load)
    before = _recognised(facenet, probes, load)
    samples = facenet.gallery.sample_count
    facenet.close()
    _make_old_schema(settings.db_path)

    migrated = _engine(settings, models)  # opens, migrates, recognises as before
    assert _recognised(migrated, probes, load) == before
    (row,) = modelstore.models(migrated.db)
    assert (row.model_id, row.samples, row.dim) == (models.embedder.model_id, samples, 512)
    assert migrated.db.query("SELECT COUNT(*) FROM samples WHERE face IS NULL")[0][0] == samples
    migrated.close()

    # only FaceNet's 160 px crops are left: dlib re-finds the landmarks in them, and the
    # black border where the crop ends costs similarity: everyone still ranks first, but
    # at dlib's default threshold fewer probes are named than after a fresh enrollment
    dlib = _engine(settings, dlib_models)
    assert dlib.reembed() == samples
    right, total = _recognised(dlib, probes, load, candidates=True)
    assert right >= total - 1, (right, total)
    named, _ = _recognised(dlib, probes, load)
    print(f"legacy crops -> dlib: {named} of {total} probes named at the default threshold")
    dlib.close()


@pytest.fixture(scope="module")
def fusion_models(weights_path):
    from desktop.engine.faces.networks import Models
    from desktop.engine.settings.config import Settings
    return Models(Settings(model="fusion", weights=str(weights_path)))


def test_fusion_names_enrolled_people_and_not_strangers(tmp_path, weights_path, fusion_models,
                                                        faces_dir, load):
    from desktop.engine.decisions.matching import model_defaults
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.settings.file import load_settings
    embedder = fusion_models.embedder
    assert embedder.kind == "fusion" and embedder.dim == 512 + 128
    engine = FaceEngine(load_settings(tmp_path / "db", model="fusion", weights=str(weights_path)),
                        fusion_models)
    try:
        assert engine.threshold == pytest.approx(model_defaults("fusion-facenet-dlib").threshold)
        probes = _enroll(engine, load)
        right, total = _recognised(engine, probes, load)
        assert right >= total - 1, (right, total)
        strangers = sorted((faces_dir / "unknown").iterdir())[:12]
        named = [f.match.name for p in strangers for f in engine.identify(load(p)) if f.match.name]
        assert len(named) <= 1, named
        # the fused score is one number per face, as for any model: verify agrees with it
        a, b = person_photos("Rose_Leslie")[:2]
        same = engine.verify(load(a), load(b))
        assert same.same and 0.0 < same.similarity <= 1.0
    finally:
        engine.close()


# ------------------------------------------------------------ fast tier: synthetic vectors
def _unit(seed: int, n: int, dim: int):
    import numpy as np
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _switch_round_trip(db) -> None:
    """Two models in one store, on SQLite or PostgreSQL: each keeps its vectors and its
    threshold, the active one feeds the index, and every write bumps the generation."""
    import numpy as np

    from desktop.engine.core.stored_crop import StoredCrop
    from desktop.engine.core.types import Detection, ModelInfo
    from desktop.engine.gallery.people import Gallery
    from desktop.engine.storage import embeddings as modelstore
    a, b = ModelInfo("model-a", "a:1", 512, 0.6), ModelInfo("model-b", "b:1", 128, 0.9)
    face = StoredCrop(np.full((64, 64, 3), 120, np.uint8),
                      Detection((16.0, 16.0, 48.0, 48.0), 0.99, np.full((5, 2), 32.0, np.float32)))
    gallery = Gallery(db, a)
    gallery.add_samples("Ann", _unit(1, 2, 512), [np.zeros((160, 160, 3), np.uint8)] * 2,
                        ["x", "y"], stored=[face, None])
    ids = [r[0] for r in gallery.reembed_inputs()]
    (with_face, meta), without = gallery.reembed_inputs()[0][2:], gallery.reembed_inputs()[1][2:]
    assert without == (None, None)
    assert modelstore.stored_from_columns(bytes(with_face), meta).detection.box == (16, 16, 48, 48)
    generation = db.get_meta("generation")
    other = Gallery(db, b, allow_model_mismatch=True)
    assert other.model_mismatch
    other.replace_embeddings(dict(zip(ids, _unit(2, 2, 128))))
    assert db.get_meta("generation") != generation and other.dim == 128
    assert other.threshold == pytest.approx(0.9) and other.sample_count == 2
    other.set_threshold(0.93)
    rows = {m.model_id: m for m in modelstore.models(db)}
    assert {k: (m.dim, m.samples) for k, m in rows.items()} == {"a:1": (512, 2), "b:1": (128, 2)}
    back = Gallery(db, a, allow_model_mismatch=True)
    back.replace_embeddings(modelstore.stored_vectors(db, "a:1"))
    assert back.threshold == pytest.approx(0.6) and back.dim == 512
    assert back.search_templates(_unit(1, 1, 512), 1)[0][0][0] == "Ann"
    back.delete_person("Ann")
    assert db.query("SELECT COUNT(*) FROM embeddings")[0][0] == 0


def test_two_models_in_one_sqlite_store(tmp_path):
    from desktop.engine.storage.sqlite import Database
    db = Database(tmp_path / "faces.db")
    try:
        _switch_round_trip(db)
    finally:
        db.close()


def test_two_models_in_one_postgres_store(pg_url, tmp_path):
    from desktop.engine.storage.postgres import PgDatabase
    db = PgDatabase(pg_url, tmp_path / "kiosk")
    try:
        _switch_round_trip(db)
    finally:
        db.close()
