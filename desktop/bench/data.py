"""Real inputs for the bench, all made from the developer photo set (no random pixels).

* a 640x480 "camera frame": the 7-face group photo padded onto a real desk scene;
* a bench gallery: people enrolled from their first photos, the rest held out as probes;
* synthetic "videos": real photos composed onto the desk scene frame by frame, with the
  ground truth of when each face appears and who it is.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from desktop.bench.util import progress
from desktop.engine.core.errors import KioskError
from desktop.engine.core.images import is_image_file, load_image
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.faces.subject import subject_face
from desktop.engine.live.tracker import UNKNOWN

log = logging.getLogger(__name__)

FRAME_W, FRAME_H = 640, 480
GROUP_PHOTO = "group/dlib_2007_007763.jpg"
GROUP_FACES = 7
BACKGROUND = "noface/dlib_video_frame_000100.jpg"
ENROLL_PER_PERSON = 3
FACE_PHOTO_SIDE = 260
"""Pasted photos are scaled to this longer side: a face of ~110 px, a person at a desk."""


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_image_file(p)) if folder.is_dir() else []


def background(root: Path) -> np.ndarray:
    """A real face-free desk scene at 640x480."""
    return cv2.resize(load_image(root / BACKGROUND), (FRAME_W, FRAME_H),
                      interpolation=cv2.INTER_LINEAR)


def paste_center(canvas: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """``photo`` centred on a copy of ``canvas`` (cropped if larger)."""
    out = canvas.copy()
    h, w = min(photo.shape[0], out.shape[0]), min(photo.shape[1], out.shape[1])
    y, x = (out.shape[0] - h) // 2, (out.shape[1] - w) // 2
    out[y:y + h, x:x + w] = photo[:h, :w]
    return out


def group_frame(root: Path) -> np.ndarray:
    """The 7-face group photo (500x375, faces 40-60 px) padded to 640x480, not rescaled."""
    return paste_center(background(root), load_image(root / GROUP_PHOTO))


# ----------------------------------------------------------------------------- gallery
@dataclass
class PersonPhotos:
    name: str
    enroll: list[Path]
    probes: list[Path]


def split_people(root: Path, limit: int = 0) -> list[PersonPhotos]:
    """People with >= 4 photos: the first 3 (sorted) to enroll, the others held out."""
    people = []
    for folder in sorted(p for p in (root / "people").iterdir() if p.is_dir()):
        photos = _images(folder)
        if len(photos) > ENROLL_PER_PERSON:
            people.append(PersonPhotos(folder.name, photos[:ENROLL_PER_PERSON],
                                       photos[ENROLL_PER_PERSON:]))
    if not people:
        raise KioskError(f"no people with 4+ photos under {root / 'people'}")
    return people[:limit] if limit else people


def enroll_people(engine: FaceEngine, people: list[PersonPhotos]) -> list[PersonPhotos]:
    """Enroll everyone (``force``: look-alikes are expected in LFW); returns who made it."""
    enrolled = []
    for person in progress(people, desc="enrolling bench gallery", unit="person"):
        try:
            engine.enroll(person.name, [(str(p), load_image(p)) for p in person.enroll],
                          force=True)
            enrolled.append(person)
        except KioskError as exc:
            log.warning("bench gallery: skipping %s: %s", person.name, exc)
    log.info("bench gallery: %d people, %d samples", engine.gallery.size,
             engine.gallery.sample_count)
    return enrolled


def embed_photos(engine: FaceEngine, paths: list[Path], desc: str) -> np.ndarray:
    """Embeddings of the subject face of each photo (photos without one are skipped)."""
    crops = []
    for path in progress(paths, desc=desc, unit="photo"):
        try:
            crops.append(subject_face(engine.faces(load_image(path))).crop)
        except KioskError:
            continue
    return engine.embed(crops)


def stored_embeddings(engine: FaceEngine) -> np.ndarray:
    rows = engine.db.query("SELECT embedding FROM samples ORDER BY id")
    return np.stack([np.frombuffer(r[0], np.float32) for r in rows]) if rows else \
        np.zeros((0, 512), np.float32)


def stranger_photos(root: Path) -> list[Path]:
    return _images(root / "unknown")


# ----------------------------------------------------------------------------- sequences
@dataclass
class Appearance:
    """Ground truth: from frame ``start`` to ``end`` (exclusive) ``faces`` faces are visible
    whose correct label is ``expected`` (a name, or UNKNOWN for strangers)."""
    expected: str
    start: int
    end: int
    faces: int = 1


@dataclass
class Sequence:
    """A synthetic clip: real photos composed onto a real scene, one frame at a time."""
    name: str
    fps: float
    length: int
    base: np.ndarray
    layers: list[tuple[int, int, np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]] = \
        field(default_factory=list)
    """(start, end, photo, alpha mask, start xy, per-frame dxdy)."""
    appearances: list[Appearance] = field(default_factory=list)

    def frame(self, index: int) -> np.ndarray:
        out = self.base.copy()
        for start, end, photo, alpha, (x0, y0), (dx, dy) in self.layers:
            if start <= index < end:
                step = index - start
                _blend(out, photo, alpha, x0 + dx * step, y0 + dy * step)
        return out


def _blend(canvas: np.ndarray, photo: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    h = min(photo.shape[0], canvas.shape[0] - y)
    w = min(photo.shape[1], canvas.shape[1] - x)
    if h <= 0 or w <= 0:
        return
    region = canvas[y:y + h, x:x + w].astype(np.float32)
    a = alpha[:h, :w, None]
    canvas[y:y + h, x:x + w] = (a * photo[:h, :w] + (1 - a) * region).astype(np.uint8)


def head_layer(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The photo scaled to FACE_PHOTO_SIDE with a soft elliptical mask (a head, not a card)."""
    scale = FACE_PHOTO_SIDE / max(photo.shape[:2])
    photo = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    h, w = photo.shape[:2]
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (w // 2, h // 2), (int(w * 0.40), int(h * 0.48)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=max(2.0, w / 40))
    return photo, mask


def single_face_sequence(root: Path, visitors: list[tuple[str, Path]], fps: float = 25.0,
                         show_seconds: float = 2.0, gap_seconds: float = 0.6) -> Sequence:
    """One person at a time walks into the desk scene, drifts 3 px/frame, and leaves.

    ``visitors``: (expected label, photo); the photo is a held-out one, never enrolled.
    """
    gap, show = round(gap_seconds * fps), round(show_seconds * fps)
    seq = Sequence("1 face", fps, len(visitors) * (gap + show) + gap, background(root))
    for n, (expected, path) in enumerate(visitors):
        start = gap + n * (gap + show)
        photo, mask = head_layer(load_image(path))
        seq.layers.append((start, start + show, photo, mask, (90, 100), (3, 0)))
        seq.appearances.append(Appearance(expected, start, start + show))
    return seq


def group_sequence(root: Path, fps: float = 25.0, lead_seconds: float = 0.5,
                   show_seconds: float = 3.0) -> Sequence:
    """The empty scene, then the 7-face group photo: seven strangers appear at once."""
    lead, show = round(lead_seconds * fps), round(show_seconds * fps)
    seq = Sequence("7 faces (group photo)", fps, lead + show, background(root))
    group = load_image(root / GROUP_PHOTO)
    alpha = np.ones(group.shape[:2], np.float32)
    x, y = (FRAME_W - group.shape[1]) // 2, (FRAME_H - group.shape[0]) // 2
    seq.layers.append((lead, lead + show, group, alpha, (x, y), (0, 0)))
    seq.appearances.append(Appearance(UNKNOWN, lead, lead + show, GROUP_FACES))
    return seq


def pick_visitors(people: list[PersonPhotos], root: Path, count: int) -> list[tuple[str, Path]]:
    """``count`` enrolled people spread over the gallery (held-out photo each) + 1 stranger."""
    chosen = [people[i * len(people) // count] for i in range(min(count, len(people)))]
    visitors = [(p.name, p.probes[-1]) for p in chosen]
    strangers = stranger_photos(root)
    if strangers:
        visitors.append((UNKNOWN, strangers[0]))
    return visitors
