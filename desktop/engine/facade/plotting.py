"""The query face beside its top-k matches with scores, as one image (no matplotlib needed)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from desktop.engine.core.errors import KioskError
from desktop.engine.faces.results import SearchHit

TILE = 160
CAPTION = 44


def _tile(face: np.ndarray | None, lines: list[str], colour: tuple[int, int, int]) -> np.ndarray:
    tile = np.full((TILE + CAPTION, TILE, 3), 255, np.uint8)
    if face is not None:
        tile[:TILE] = cv2.resize(face, (TILE, TILE))
    cv2.rectangle(tile, (0, 0), (TILE - 1, TILE - 1), colour, 3)
    for i, line in enumerate(lines):
        cv2.putText(tile, line[:22], (4, TILE + 17 + 19 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (20, 20, 20), 1, cv2.LINE_AA)
    return tile


def search_plot(query: np.ndarray, hits: list[SearchHit], threshold: float) -> np.ndarray:
    """RGB image: query tile, a gap, then one tile per hit (green at/above threshold)."""
    tiles = [_tile(query, ["query"], (60, 60, 200))]
    gap = np.full((TILE + CAPTION, 12, 3), 255, np.uint8)
    tiles.append(gap)
    for rank, hit in enumerate(hits, 1):
        colour = (40, 170, 40) if hit.similarity >= threshold else (200, 50, 50)
        tiles.append(_tile(hit.thumbnail, [f"{rank}. {hit.name}", f"sim {hit.similarity:.3f}"],
                           colour))
    return np.hstack(tiles)


def save_search_plot(out: Path, query: np.ndarray, hits: list[SearchHit], threshold: float) -> None:
    image = search_plot(query, hits, threshold)
    if not cv2.imwrite(str(out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise KioskError(f"cannot write {out} (use a .jpg or .png name in a writable folder)")
