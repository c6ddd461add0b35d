"""Per-stage cost on one real 640x480 frame: where a recognition's milliseconds go."""
from __future__ import annotations

import logging

import numpy as np

from desktop.bench.table import Column, Table
from desktop.bench.util import in_thread, inference_threads, median_ms
from desktop.engine.core.geometry import iou
from desktop.engine.core.images import decode_jpeg, encode_jpeg, load_image
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.faces.crops import crop_face

log = logging.getLogger(__name__)

BATCH = 8


def bench_stages(engine: FaceEngine, frame: np.ndarray, runs: int, frame_note: str) -> Table:
    """decode, detect, crop, embed (batch 1 and 8), search, and the whole identify()."""
    s = engine.settings
    side = s.live_detect_max_side
    table = Table("stages", f"Stages on one 640x480 frame ({frame_note}); median of {runs} runs",
                  [Column("stage"), Column("ms", ".2f"), Column("per", ""),
                   Column("note", "")])
    jpeg = encode_jpeg(frame, quality=90)
    ms, _ = median_ms(lambda: load_image(jpeg), runs)
    table.add("decode JPEG->RGB (PIL)", ms, "frame", f"load_image(bytes), {len(jpeg) // 1024} kB q90")
    ms, _ = median_ms(lambda: decode_jpeg(jpeg), runs)
    table.add("decode JPEG->RGB (OpenCV)", ms, "frame", "decode_jpeg(bytes)")

    detector = engine.models.detector
    run = engine.models.run  # inference only ever on the engine's inference thread
    ms, found = median_ms(lambda: run(detector.detect, frame, side), runs)
    table.add("detect (MTCNN)", ms, "frame",
              f"max_side {side}, min_face {detector.min_face_size}: {len(found)} faces")
    if not found:
        raise RuntimeError("the stage frame has no detectable face; cannot time the rest")
    boxes = [d.box for d in found]
    ms, crops = median_ms(lambda: [crop_face(frame, b, s.crop_size, s.crop_margin)
                                   for b in boxes], runs)
    table.add("align/crop 160x160", ms / len(boxes), "face", f"{len(boxes)} crops")

    one = crops[:1]
    ms, _ = median_ms(lambda: engine.embed(one), runs)
    table.add("embed, batch 1", ms, "face", "FaceNet, 1 crop per call")
    batch = (crops * BATCH)[:BATCH]
    ms, vectors = median_ms(lambda: engine.embed(batch), runs)
    table.add(f"embed, batch {BATCH}", ms / BATCH, "face", f"{ms:.1f} ms per call of {BATCH}")

    # Faiss runs on the calling thread: each of these on a thread of its own (see in_thread)
    ms, _ = in_thread(median_ms, lambda: engine.match(vectors[:1]), runs * 10)
    table.add("search + decide (1 face)", ms, "face",
              f"gallery of {engine.gallery.size} people / {engine.gallery.sample_count} samples")
    ms, _ = in_thread(median_ms, lambda: engine.match(vectors[:len(boxes)]), runs * 10)
    table.add(f"search + decide ({len(boxes)} faces)", ms / len(boxes), "face", "one call")

    _yunet_reference(table, engine, frame, found, vectors[:len(boxes)], runs)

    ms, results = in_thread(median_ms, lambda: engine.identify(frame), runs)
    table.add("identify() whole frame", ms, "frame",
              f"{len(results)} faces, detect_max_side {s.detect_max_side}, as the engine "
              "does it")
    ms, _ = in_thread(median_ms, lambda: engine.models.run(engine.identify, frame), runs)
    table.add("identify(), search on inference", ms, "frame",
              "the same, all of it on the inference thread")
    table.notes.append("identify() is the photo path (detect_max_side); the live loop detects "
                       f"at live_detect_max_side={side}. torch threads: "
                       f"{inference_threads(engine.models)}.")
    return table


def _yunet_reference(table: Table, engine: FaceEngine, frame: np.ndarray, found: list,
                     mtcnn_vectors: np.ndarray, runs: int) -> None:
    """The YuNet detector (live_detector yunet) beside MTCNN: how fast, how many faces,
    and how close FaceNet embeddings of its crops are to those of MTCNN's."""
    from desktop.engine.core.errors import KioskError
    from desktop.engine.faces.yunet import YuNetDetector
    s = engine.settings
    side = s.live_detect_max_side
    try:
        detector = engine.models.run(YuNetDetector, engine.detector)
    except KioskError as exc:
        log.info("no YuNet row: %s", exc)
        return
    ms, faces = median_ms(lambda: engine.models.run(detector.detect, frame, side), runs)
    boxes = [d.box for d in faces]
    cosines = []
    for det, vector in zip(found, mtcnn_vectors):
        best = max(boxes, key=lambda b: iou(b, det.box), default=None)
        if best is not None and iou(best, det.box) > 0.3:
            crop = crop_face(frame, best, s.crop_size, s.crop_margin)
            cosines.append(float(engine.embed([crop])[0] @ vector))
    table.add("detect (YuNet, MTCNN on regions)", ms, "frame",
              f"live_detector yunet: {len(boxes)} faces; FaceNet cosine of its crops to "
              "MTCNN crops: median "
              f"{np.median(cosines) if cosines else float('nan'):.3f}")


