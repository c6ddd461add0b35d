"""Passive liveness figures: ``python -m desktop.bench.sections.liveness [--conventions]``.

Scores every face MTCNN finds in a sampled frame of the test video (live people on a real
camera), every face in the people photos (re-encoded photos: a weaker check), and the three
upstream samples (two attacks, one real); prints false rejects and milliseconds per face.
``--conventions`` repeats this for each input convention (channel order x value range),
which is how the one in ``antispoof.to_input`` was chosen.
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import torch

from desktop.bench.options import REPO
from desktop.engine.core.images import load_image
from desktop.engine.faces import antispoof
from desktop.engine.faces.antispoof import AntiSpoof
from desktop.engine.faces.detection import FaceDetector
from desktop.engine.settings.config import Settings

SHARED = REPO.parent / "shared"
CONVENTIONS: dict[str, Callable[[list[np.ndarray]], torch.Tensor]] = {
    "bgr-255": lambda c: torch.from_numpy(np.stack(c)[..., ::-1].copy()).permute(0, 3, 1, 2).float(),
    "rgb-255": lambda c: torch.from_numpy(np.stack(c)).permute(0, 3, 1, 2).float(),
    "bgr-1": lambda c: torch.from_numpy(np.stack(c)[..., ::-1].copy()).permute(0, 3, 1, 2).float() / 255,
    "rgb-1": lambda c: torch.from_numpy(np.stack(c)).permute(0, 3, 1, 2).float() / 255,
}


def video_frames(path: Path, every: int) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    index = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if index % every == 0:
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        index += 1


def collect(detector: FaceDetector, faces_dir: Path, every: int) -> dict[str, list]:
    """(image, boxes) per set: video frames, people photos, spoof samples."""
    sets: dict[str, list] = {"video": [], "people": [], "spoof": []}
    for rgb in video_frames(next((faces_dir / "video").iterdir()), every):
        sets["video"].append(("frame", rgb, [d.box for d in detector.detect(rgb, 640)]))
    for path in sorted((faces_dir / "people").glob("*/*")):
        rgb = load_image(path)
        sets["people"].append((path.name, rgb, [d.box for d in detector.detect(rgb)[:1]]))
    for path in sorted((faces_dir / "spoof").iterdir()):
        rgb = load_image(path)
        sets["spoof"].append((path.name, rgb, [d.box for d in detector.detect(rgb)[:1]]))
    return sets


def measure(model: AntiSpoof, sets: dict[str, list], threshold: float) -> dict:
    out: dict = {}
    for name, items in sets.items():
        scores, spent = [], 0.0
        per_image = {}
        for label, rgb, boxes in items:
            started = time.perf_counter()
            s = model.score(rgb, boxes)
            spent += time.perf_counter() - started
            scores.extend(s.tolist())
            if name == "spoof" and len(s):
                per_image[label] = round(float(s[0]), 4)
        arr = np.array(scores)
        out[name] = {"faces": len(arr), "false_reject": float(np.mean(arr < threshold)) if len(arr) else None,
                     "median": float(np.median(arr)) if len(arr) else None,
                     "p10": float(np.percentile(arr, 10)) if len(arr) else None,
                     "min": float(arr.min()) if len(arr) else None,
                     "false_reject_at": {t: float(np.mean(arr < t)) for t in (0.3, 0.5, 0.7, 0.9)}
                     if len(arr) else None}
        if per_image:
            out[name]["scores"] = per_image
    return out


def cost(model: AntiSpoof, sets: dict[str, list], weights: Path | None, runs: int = 30) -> dict:
    """Median ms for one face's liveness score, and (back to back) one FaceNet embedding."""
    from desktop.engine.faces.crops import crop_face
    from desktop.engine.faces.embedders.inception import FaceEmbedder
    _, rgb, boxes = next(item for item in sets["video"] if item[2])

    def median_ms(func) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            func()
            times.append(1000 * (time.perf_counter() - started))
        return float(np.median(times))
    out = {"liveness_ms_per_face": median_ms(lambda: model.score(rgb, boxes[:1]))}
    if weights:
        embedder = FaceEmbedder(weights=str(weights), device="cpu",
                                torch_threads=torch.get_num_threads())
        crop = crop_face(rgb, boxes[0])
        out["facenet_embed_ms_per_face"] = median_ms(lambda: embedder.embed([crop]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=Path, default=SHARED / "faces")
    parser.add_argument("--weights", default=str(SHARED / "models" / "anti_spoof"))
    parser.add_argument("--every", type=int, default=3, help="sample every Nth video frame")
    parser.add_argument("--threshold", type=float, default=Settings().liveness_threshold)
    parser.add_argument("--conventions", action="store_true")
    parser.add_argument("--facenet", type=Path,
                        default=SHARED / "models" / "20180408-102900-casia-webface-features.pt",
                        help="FaceNet weights, to time an embedding back to back")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (1 is fastest on a busy machine); 0 = all cores")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    detector = FaceDetector(device="cpu")
    model = AntiSpoof(args.weights, device="cpu")
    sets = collect(detector, args.faces, args.every)
    chosen = antispoof.to_input
    for name, convert in (CONVENTIONS.items() if args.conventions else [("current", chosen)]):
        antispoof.to_input = convert  # type: ignore[assignment]  # measuring conventions
        print(json.dumps({"convention": name, **measure(model, sets, args.threshold)}), flush=True)
    antispoof.to_input = chosen
    print(json.dumps({"threads": torch.get_num_threads(),
                      **cost(model, sets, args.facenet if args.facenet.is_file() else None)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
