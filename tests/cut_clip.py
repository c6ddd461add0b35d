"""A clip of people stepping into the same spot one after another, with hard cuts: real
held-out photos of enrolled people and of strangers pasted at one position on a real
desk scene, a little sensor noise per frame, written as an MJPG video."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from desktop.bench.data import _blend, background, head_layer
from desktop.engine.core.images import load_image

SPOT = (190, 110)
"""Where every visitor's head is pasted (top-left of the 260 px photo) in 640x480."""


@dataclass(frozen=True)
class Appearance:
    expected: str | None
    """The enrolled name, or None for a stranger."""
    start: int
    end: int


def write_cut_clip(root: Path, visitors: list[tuple[str | None, Path]], path: Path, *,
                   frames_each: int = 15, fps: float = 25.0) -> list[Appearance]:
    """Each (expected name or None, photo) for ``frames_each`` frames, back to back."""
    base = background(root)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps,
                             (base.shape[1], base.shape[0]))
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
    rng = np.random.default_rng(7)
    appearances, index = [], 0
    for expected, photo_path in visitors:
        photo, mask = head_layer(load_image(photo_path))
        still = base.copy()
        _blend(still, photo, mask, *SPOT)
        for _ in range(frames_each):
            noisy = np.clip(still + rng.normal(0, 2.0, still.shape), 0, 255).astype(np.uint8)
            writer.write(cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR))
        appearances.append(Appearance(expected, index, index + frames_each))
        index += frames_each
    writer.release()
    return appearances
