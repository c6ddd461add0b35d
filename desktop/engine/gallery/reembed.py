"""``reembed --model X``: every sample's vector for the loaded model, without the photos.

What each kind of sample allows:
- a sample enrolled since schema 3 keeps a model-neutral crop (embedders/stored.py): any
  model makes its own input from it, as it would from the photo;
- a vector this model already made (the gallery used it before) is reused as it is;
- an older sample keeps only FaceNet's 160 px crop (box + margin, no landmarks). FaceNet,
  whatever its weights, embeds it as before. Another model needs landmarks and more of
  the head than that crop holds: MTCNN is run again on the crop, and the model's input is
  warped from it with the missing border filled black. That works (tested), but such a
  sample is a poorer one than a fresh enrollment; a sample whose crop shows no face
  cannot be re-embedded, and then nothing is changed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from desktop.engine.core.errors import KioskError
from desktop.engine.core.images import decode_jpeg
from desktop.engine.faces.detection import photo_faces
from desktop.engine.faces.subject import subject_index
from desktop.engine.storage import audit
from desktop.engine.storage import embeddings as modelstore

log = logging.getLogger(__name__)

BATCH = 64


def model_input(engine, embedder, crop: bytes, face: bytes | None,
                meta: str | None) -> np.ndarray | None:
    """``embedder``'s input for one stored sample, or None when it cannot be made."""
    if face is not None and meta:
        stored = modelstore.stored_from_columns(face, meta)
        return embedder.crop(stored.image, stored.detection)
    old = decode_jpeg(crop)
    if embedder.kind == "facenet":
        return old  # the legacy crop is FaceNet's own input
    found, _ = engine.models.run(photo_faces, engine.detector, old, embedder.crop, None,
                                 engine.settings.detect_pad)
    index = subject_index([d.area for d, _ in found])
    return None if index is None else found[index][1]


def reembed_vectors(engine, embedder, rows: list[tuple[int, bytes, bytes | None, str | None]],
                    progress: Callable[[int, int], None] | None = None) -> dict[int, np.ndarray]:
    """{sample id: vector} of ``embedder`` for every row of ``Gallery.reembed_inputs``;
    KioskError (nothing changed) if some cannot be made."""
    model_id = embedder.model_id
    known = modelstore.stored_vectors(engine.db, model_id)
    vectors = {sid: known[sid] for sid, *_ in rows if sid in known}
    todo = [row for row in rows if row[0] not in known]
    from desktop.engine.privacy.hooks import check_reembed_possible
    check_reembed_possible([(sid, crop or face or b"") for sid, crop, face, _ in todo])
    failed: list[int] = []
    done = len(vectors)
    for start in range(0, len(todo), BATCH):
        ids, inputs = [], []
        for sid, crop, face, meta in todo[start:start + BATCH]:
            made = model_input(engine, embedder, crop, face, meta)
            if made is None:
                failed.append(sid)
            else:
                ids.append(sid)
                inputs.append(made)
        if inputs:
            vectors.update(zip(ids, engine.models.run(embedder.embed, inputs)))
        done += len(todo[start:start + BATCH])
        if progress:
            progress(done, len(rows))
    if failed:
        raise KioskError(f"{len(failed)} older sample(s) keep only a small face crop in which "
                         f"no face was found again, so {embedder.name} cannot "
                         f"embed them; nothing was changed. Re-enroll those people (samples "
                         f"{', '.join(map(str, failed[:10]))}) or keep the current model.")
    log.info("Re-embedding with %s: %d reused, %d computed", model_id, len(rows) - len(todo),
             len(todo))
    return vectors


def switch_model(engine, spec: str, progress: Callable[[int, int], None] | None = None) -> int:
    """Load model ``spec`` (facenet, dlib, onnx:PATH), re-embed every sample with it, and
    only then make it the engine's model (on the inference thread, so no frame is matched
    half-way); on any error the engine keeps its model and the database is unchanged.
    Returns the number of samples re-embedded."""
    from dataclasses import replace

    from desktop.engine.faces.embedders import load_embedder
    from desktop.engine.gallery.people import Gallery
    settings = replace(engine.settings, model=spec)
    embedder = engine.models.run(load_embedder, settings)
    rows = engine.gallery.reembed_inputs()
    vectors = reembed_vectors(engine, embedder, rows, progress)

    def swap() -> None:
        gallery = Gallery(engine.db, embedder.info, allow_model_mismatch=True)
        gallery.replace_embeddings(vectors)
        engine.models.embedder = embedder
        engine.gallery = gallery
        engine.settings.model = spec
    engine.models.run(swap)
    audit.record(engine.db, "reembed", engine.frontend, samples=len(rows), model=embedder.name)
    log.info("Switched the face model to %s (%d samples)", embedder.model_id, len(rows))
    return len(rows)
