"""Which face in this frame is which track: box overlap, guarded against hard cuts.

Tracking lets the live loop skip embedding faces it already knows, so a wrong match here
puts one person's name on another. A face is matched to the previous frame's track it
overlaps most, but if it arrives abruptly (found again after a frame without it, moved
or resized sharply, or looking different: ``appearance``) the match is only provisional:
the track is marked ``suspect``, re-embedded at once, and kept only if the new embedding
agrees with the track's last one (``LiveRecognizer``); otherwise the face starts a new
track with no label.
"""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from desktop.engine.core.geometry import iou
from desktop.engine.core.names import NOT_LIVE, PENDING, UNKNOWN
from desktop.engine.decisions.matching import Match
from desktop.engine.faces.results import Face
from desktop.engine.live.liveness_gate import TrackLiveness

APPEARANCE_SIDE = 16
"""The crop is compared at this size: enough for a different face, blind to noise."""
SIZE_JUMP = 1.3
"""A box whose area grows or shrinks by this factor in one frame arrived abruptly."""
CENTRE_JUMP = 0.3
"""A box whose centre moves by this share of its side in one frame arrived abruptly."""


def appearance(crop: np.ndarray) -> np.ndarray:
    """A tiny zero-mean unit-length colour thumbnail of the inner face of an aligned
    crop (eyes, nose, mouth: no background or hair, which two visitors may share). Two
    crops' dot product is near 1 for the same face a frame later, lower for another face."""
    side = crop.shape[0]
    inner = crop[side // 5: side - side // 10, side // 5: side - side // 5]
    small = cv2.resize(inner, (APPEARANCE_SIDE, APPEARANCE_SIDE),
                       interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    return small / (float(np.linalg.norm(small)) + 1e-6)


@dataclass
class Track:
    id: int
    face: Face
    first_seen: float
    votes: deque = field(default_factory=deque)
    """The last decisions since the decision last changed: a name, or None for unknown."""
    match: Match | None = None
    label: str | None = None
    """Confirmed label: a name, UNKNOWN, or None while still pending."""
    labelled_at: float | None = None
    last_embedded: float = float("-inf")
    missed: int = 0
    counted: bool = False
    """Attendance (check-in or visitor count) already handled for this track."""
    ever_known: bool = False
    """Once recognised, a track is never also counted as an unknown visitor."""
    liveness: TrackLiveness = field(default_factory=TrackLiveness)
    vector: np.ndarray | None = None
    """The last embedding of this track's face."""
    look: np.ndarray | None = None
    """``appearance`` of the face in the last frame it was seen."""
    suspect: bool = False
    """This frame's face arrived abruptly: re-embed it and keep the track only if the
    embedding agrees (``LiveRecognizer``)."""
    visitor: str | None = None
    """The anonymous visitor id of an unknown face (visitor_ids on), else None."""

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.face.detection.box

    @property
    def known(self) -> bool:
        return self.label not in (None, UNKNOWN, NOT_LIVE)

    @property
    def text(self) -> str:
        """What the window draws above the box."""
        if self.label is None:
            return PENDING
        if self.label in (UNKNOWN, NOT_LIVE):
            return self.label
        return f"{self.label} {self.match.similarity:.2f}" if self.match else self.label


def abrupt(track: Track, face: Face, look: np.ndarray, min_appearance: float) -> bool:
    """Whether ``face`` may not be the track's face: it was missing last frame, or its
    box jumped or changed size, or it looks different (``appearance`` below the level)."""
    if track.missed:
        return True
    (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = track.box, face.detection.box
    area_a, area_b = max((ax2 - ax1) * (ay2 - ay1), 1e-6), max((bx2 - bx1) * (by2 - by1), 1e-6)
    if max(area_a, area_b) / min(area_a, area_b) >= SIZE_JUMP:
        return True
    side = np.sqrt(area_a)
    moved = np.hypot((ax1 + ax2 - bx1 - bx2) / 2, (ay1 + ay2 - by1 - by2) / 2)
    if moved >= CENTRE_JUMP * side:
        return True
    return track.look is not None and float(track.look @ look) < min_appearance


class Tracker:
    """The tracks of one stream and the greedy best-overlap matching of new faces."""

    def __init__(self, *, track_iou: float, max_missed: int, confirm_frames: int,
                 min_appearance: float) -> None:
        self.track_iou = track_iou
        self.max_missed = max_missed
        self.confirm_frames = confirm_frames
        self.min_appearance = min_appearance
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def new(self, face: Face, now: float) -> Track:
        return Track(next(self._ids), face, now, votes=deque(maxlen=self.confirm_frames))

    def associate(self, faces: list[Face], now: float) -> list[Track]:
        """This frame's faces as tracks, largest first; abrupt arrivals marked suspect."""
        looks = [appearance(f.crop) for f in faces]
        pairs = sorted(((iou(t.box, f.detection.box), -t.missed, ti, fi)
                        for ti, t in enumerate(self.tracks) for fi, f in enumerate(faces)),
                       reverse=True)
        used_tracks, used_faces, visible = set(), set(), []
        for overlap, _, ti, fi in pairs:  # best overlap first; at a tie, the track seen last
            if overlap < self.track_iou:
                break
            if ti in used_tracks or fi in used_faces:
                continue
            used_tracks.add(ti)
            used_faces.add(fi)
            track = self.tracks[ti]
            track.suspect = abrupt(track, faces[fi], looks[fi], self.min_appearance)
            track.face, track.look, track.missed = faces[fi], looks[fi], 0
            visible.append(track)
        for ti, track in enumerate(self.tracks):
            if ti not in used_tracks:
                track.missed += 1
        for fi, face in enumerate(faces):
            if fi not in used_faces:
                track = self.new(face, now)
                track.look = looks[fi]
                self.tracks.append(track)
                visible.append(track)
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        visible.sort(key=lambda t: t.face.detection.area, reverse=True)
        return visible

    def split(self, track: Track, now: float) -> Track:
        """``track``'s face turned out to be someone else: a new track takes the face, and
        the old one ends (its person left the spot; kept, it would win the next frame's
        matching by overlap and be split again)."""
        fresh = self.new(track.face, now)
        fresh.look = track.look
        self.tracks = [t for t in self.tracks if t is not track] + [fresh]
        return fresh
