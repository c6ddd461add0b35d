"""How many faces that fill the photo MTCNN finds alone, and with the padded retry.

    python -m desktop.tools.tight_crops [--faces ../shared/faces] [--shrink 0.05] [--pad 0.4]

Tight crops are cut from the first two photos of each person in FACES/people at their own
first detection's box, shrunk by SHRINK of its size on each side (0 = the box), optionally
upscaled to --width pixels; FACES/noface photos must stay without a face.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from desktop.engine import load_image
from desktop.engine.core.images import is_image_file
from desktop.engine.core.types import Detection
from desktop.engine.faces.crops import crop_face
from desktop.engine.faces.detection import FaceDetector, photo_faces


def box_crop(rgb: np.ndarray, det: Detection) -> np.ndarray:
    return crop_face(rgb, det.box)


def tight_crops(detector: FaceDetector, people: Path, shrink: float,
                width: int) -> list[tuple[str, np.ndarray]]:
    crops = []
    for folder in sorted(p for p in people.iterdir() if p.is_dir()):
        for path in sorted(p for p in folder.iterdir() if is_image_file(p))[:2]:
            faces = detector.detect(load_image(path))
            if not faces:
                continue
            x1, y1, x2, y2 = faces[0].box
            dx, dy = shrink * (x2 - x1), shrink * (y2 - y1)
            crop = load_image(path)[int(y1 + dy):int(y2 - dy), int(x1 + dx):int(x2 - dx)]
            if width:
                crop = cv2.resize(crop, (width, round(width * crop.shape[0] / crop.shape[1])),
                                  interpolation=cv2.INTER_CUBIC)
            crops.append((path.name, np.ascontiguousarray(crop)))
    return crops


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.tools.tight_crops",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path,
                        default=Path(__file__).resolve().parents[3] / "shared" / "faces")
    parser.add_argument("--shrink", type=float, default=0.05)
    parser.add_argument("--width", type=int, default=0, help="upscale crops to this width")
    parser.add_argument("--pad", type=float, default=0.4)
    args = parser.parse_args(argv)
    if not (args.faces / "people").is_dir():
        print(f"error: no people/ folder under {args.faces}", file=sys.stderr)
        return 2
    detector = FaceDetector()
    crops = tight_crops(detector, args.faces / "people", args.shrink, args.width)
    missed = [(name, c) for name, c in crops if not detector.detect(c)]
    found = [name for name, c in missed if photo_faces(detector, c, box_crop, None, args.pad)[0]]
    print(f"{len(crops)} tight crops (shrink {args.shrink:g}, width {args.width or 'as cut'}): "
          f"MTCNN alone finds {len(crops) - len(missed)}; of the {len(missed)} it misses, "
          f"the retry at pad {args.pad:g} finds {len(found)}")
    print("missed by MTCNN alone: " + ", ".join(name for name, _ in missed))
    noface = sorted(p for p in (args.faces / "noface").glob("*") if is_image_file(p))
    false = [p.name for p in noface
             if photo_faces(detector, load_image(p), box_crop, None, args.pad)[0]]
    print(f"noface photos with a face at pad {args.pad:g}: {len(false)} of {len(noface)}"
          + (f" ({', '.join(false)})" if false else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
