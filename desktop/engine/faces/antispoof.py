"""Passive liveness: is the face in front of the camera a real one, or a photo or screen?

The MiniFASNet pair of Silent-Face-Anti-Spoofing (Apache-2.0): two 80x80 CNNs that see
the face with different amounts of context (the box scaled 2.7x and 4x around its centre),
whose softmax outputs are averaged; class 1 is "real". It looks for the texture, moire and
edges of a reproduction in a single RGB frame, so it stops phone photos and ordinary prints
at some rate, not every screen or good print (``python -m desktop.bench.sections.liveness``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from desktop.engine.core.errors import WeightsUnavailableError
from desktop.engine.faces.detection import pick_device
from desktop.engine.faces.minifasnet import MiniFASNet, load_minifasnet
from desktop.engine.faces.weights import checkpoint_dir, download_once
from desktop.engine.settings.config import DEFAULTS

log = logging.getLogger(__name__)

UPSTREAM = ("https://raw.githubusercontent.com/minivision-ai/Silent-Face-Anti-Spoofing/"
            "b6d5f04ad78778917853b25c778acef6d5626d15/resources/anti_spoof_models/")
INPUT_SIZE = 80
REAL_CLASS = 1


@dataclass(frozen=True)
class SpoofModelFile:
    name: str
    variant: str
    scale: float
    sha256: str


MODEL_FILES = (
    SpoofModelFile("2.7_80x80_MiniFASNetV2.pth", "MiniFASNetV2", 2.7,
                   "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0"),
    SpoofModelFile("4_0_0_80x80_MiniFASNetV1SE.pth", "MiniFASNetV1SE", 4.0,
                   "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990"),
)


def resolve_antispoof_weights(folder: str | None) -> dict[str, Path]:
    """Both weight files: from ``folder`` if given, else torch's checkpoints folder
    (downloaded once from the upstream repository at a fixed commit)."""
    if folder:
        root = Path(folder).expanduser()
        missing = [f.name for f in MODEL_FILES if not (root / f.name).is_file()]
        if missing:
            raise WeightsUnavailableError(
                f"anti-spoofing weights not found in {root}: missing {', '.join(missing)}. "
                f"Pass --antispoof-weights DIR with both MiniFASNet files.")
        return {f.name: root / f.name for f in MODEL_FILES}
    return {f.name: download_once(UPSTREAM + f.name, checkpoint_dir() / f.name,
                                  what=f"anti-spoofing weights {f.name}", sha256=f.sha256,
                                  alternative="pass --antispoof-weights DIR (a folder with "
                                  "both MiniFASNet files), or turn liveness off")
            for f in MODEL_FILES}


def context_crop(rgb: np.ndarray, box: tuple[float, float, float, float], scale: float,
                 size: int = INPUT_SIZE) -> np.ndarray:
    """The box scaled by ``scale`` around its centre, clipped to the image, as size x size."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_w, half_h = (x2 - x1) * scale / 2, (y2 - y1) * scale / 2
    height, width = rgb.shape[:2]
    left, top = int(max(cx - half_w, 0)), int(max(cy - half_h, 0))
    right, bottom = int(min(cx + half_w, width)), int(min(cy + half_h, height))
    region = rgb[top:max(bottom, top + 1), left:max(right, left + 1)]
    return cv2.resize(region, (size, size), interpolation=cv2.INTER_LINEAR)


def to_input(crops: list[np.ndarray]) -> torch.Tensor:
    """RGB uint8 crops -> the networks' input: BGR channel order, values 0..255 as float.

    Determined by measurement, not by the three upstream samples alone: see
    ``python -m desktop.bench.sections.liveness --conventions``.
    """
    batch = np.ascontiguousarray(np.stack(crops)[..., ::-1])
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float()


class AntiSpoof:
    """The MiniFASNet pair; ``score`` gives P(real) per face box (averaged softmax)."""

    def __init__(self, weights_dir: str | None = DEFAULTS.antispoof_weights,
                 device: str = DEFAULTS.device) -> None:
        paths = resolve_antispoof_weights(weights_dir)
        self.device = pick_device(device)
        self.nets: list[tuple[float, MiniFASNet]] = []
        for spec in MODEL_FILES:
            path = paths[spec.name]
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
                net = load_minifasnet(spec.variant, state)
            except Exception as exc:  # truncated, another network, not a state_dict
                raise WeightsUnavailableError(
                    f"{path} is not a usable {spec.variant} state_dict: "
                    f"{str(exc).splitlines()[0][:200]}") from None
            self.nets.append((spec.scale, net.to(self.device)))
        log.info("Anti-spoofing models loaded on %s", self.device)

    def score(self, rgb: np.ndarray, boxes: list[tuple[float, float, float, float]]
              ) -> np.ndarray:
        """P(real face) in 0..1 for each box of the RGB image (the mean of both networks)."""
        if not boxes:
            return np.zeros(0, np.float32)
        total = np.zeros(len(boxes), np.float64)
        with torch.inference_mode():
            for scale, net in self.nets:
                batch = to_input([context_crop(rgb, b, scale) for b in boxes]).to(self.device)
                total += net(batch).softmax(1)[:, REAL_CLASS].double().cpu().numpy()
        return (total / len(self.nets)).astype(np.float32)
