"""A person's pictures one by one: list them with how well each fits the person, and
delete one without deleting the person.

Staff can register a bad picture (someone else, a blurred frame); enrollment keeps
probable wrong photos out of the template, but only deleting them removes them. Deleting
one picture gives the same erasure guarantees as deleting a person: its row, every
model's vector of it and its crops go in one transaction (with the audit row, ids only),
the index and the person's template are rebuilt from the store, and the WAL is
checkpointed (VACUUM FULL on PostgreSQL) so no copy of its bytes stays in the files.

A person's last picture is not deleted: that would leave a name nobody can match, with
consent and attendance attached. Deleting the person is the explicit way to do that.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from desktop.engine.core.errors import KioskError, UnknownFaceError
from desktop.engine.decisions.checks import outlier_flags
from desktop.engine.storage import audit

if TYPE_CHECKING:
    from desktop.engine.facade.face_engine import FaceEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FacePicture:
    """One stored sample of a person."""
    id: int
    created_at: float
    source: str
    similarity: float
    """Cosine similarity to the person's template (the mean of their in-template samples)."""
    outlier: bool
    """Probably someone else: kept out of the template at enrollment, or by the outlier
    rule (checks.outlier_flags) applied to the person's samples as they are now."""
    crop: bytes
    """The JPEG face crop; empty when the site keeps no face crops."""

    def to_json(self) -> dict:
        return {"id": self.id, "created_at": self.created_at, "source": self.source,
                "similarity": round(self.similarity, 4), "outlier": self.outlier,
                "has_crop": bool(self.crop)}


@dataclass(frozen=True)
class FaceDeleted:
    name: str
    face_id: int
    remaining: int


def person_faces(engine: FaceEngine, name: str) -> list[FacePicture]:
    """The person's pictures, oldest first (UnknownPersonError for an unknown name)."""
    gallery = engine.gallery
    gallery.refresh()
    person = gallery.person(name)
    rows = engine.db.query("SELECT id, created_at, source, embedding, in_template, crop "
                           "FROM samples WHERE person_id = ? ORDER BY id", (person.id,))
    if not rows:
        return []
    vectors = gallery.index.vectors([bytes(r[3]) for r in rows])
    with gallery.index.lock:
        template = gallery.index.templates.template(person.id)
    sims = vectors @ template if template is not None else np.zeros(len(rows), np.float32)
    flags = outlier_flags(vectors, np.zeros((0, vectors.shape[1]), np.float32),
                          engine.outlier_threshold)
    return [FacePicture(int(r[0]), float(r[1]), str(r[2]), float(sim),
                        bool(flag) or not bool(r[4]), bytes(r[5] or b""))
            for r, sim, flag in zip(rows, sims, flags)]


def delete_face(engine: FaceEngine, name: str, face_id: int, *,
                actor: str | None = None) -> FaceDeleted:
    """Erase one picture of ``name``; refuses an id that is not theirs and their last one."""
    gallery = engine.gallery
    with gallery.index.lock:
        person = gallery.person(name)
        with engine.db.transaction() as cur:
            ids = [int(r[0]) for r in cur.execute(
                "SELECT id FROM samples WHERE person_id = ?", (person.id,)).fetchall()]
            if face_id not in ids:
                raise UnknownFaceError(f"{person.name} has no picture {face_id} (see the ids "
                                       f"their pictures list)")
            if len(ids) == 1:
                raise KioskError(
                    f"picture {face_id} is the only one of {person.name}: delete the person "
                    f"instead, or add other pictures first")
            # every model's vector of it goes with it (embeddings: ON DELETE CASCADE)
            cur.execute("DELETE FROM embeddings WHERE sample_id = ?", (face_id,))
            cur.execute("DELETE FROM samples WHERE id = ?", (face_id,))
            audit.append(cur, "delete_face", actor or engine.frontend, person.id,
                         sample=face_id, remaining=len(ids) - 1)
            generation = gallery.index.bump(cur)
        gallery.index.sample_removed(person.id, face_id, generation)
    engine.db.checkpoint()
    log.info("Deleted sample #%d of person #%d (%d left)", face_id, person.id, len(ids) - 1)
    return FaceDeleted(person.name, face_id, len(ids) - 1)
