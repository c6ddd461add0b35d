"""Recognition on a stream of frames: track faces so labels are steady and cheap.

Per frame: detect (on a downscaled frame), match detections to the tracks
(``tracking.Tracker``), and embed only faces that need it: new tracks, tracks whose label
is not yet confirmed, confirmed tracks due for a re-check, and faces that arrived
abruptly (``tracking.abrupt``), which keep their track only if the embedding agrees.

A displayed name is always backed by the current face: a decision that differs from the
label clears it (or replaces it, when decisive) on that very frame. A label is shown
after ``confirm_frames`` consistent decisions, or at once when a face's first decision
(or the first after a change) is decisive (``instant_decisions``). Attendance always
waits for ``confirm_frames`` agreeing decisions: one check-in per person per cool-down,
one visit per unknown
appearance (with anonymous visitor ids: per visitor and cool-down; storage/visitors.py).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop.engine.attendance.checkins import CheckIn
from desktop.engine.core.errors import KioskError
from desktop.engine.core.images import encode_jpeg
from desktop.engine.core.names import NOT_LIVE, UNKNOWN
from desktop.engine.decisions.liveness import OFF
from desktop.engine.decisions.matching import Match, decisive
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.live.liveness_gate import LivenessGate, RejectCounter
from desktop.engine.live.tracking import Track, Tracker
from desktop.engine.settings.config import DEFAULTS
from desktop.engine.storage.visitors import Appearances

__all__ = ["FrameResult", "LiveRecognizer", "Track", "UNKNOWN"]

log = logging.getLogger(__name__)


@dataclass
class FrameResult:
    tracks: list[Track]
    """Faces visible in this frame, largest first."""
    checkins: list[CheckIn]
    timings: dict[str, float]
    """Milliseconds per stage: detect, embed, search, liveness, total."""
    embedded: int
    rejected: int = 0
    """Faces judged not live since the kiosk started."""


class LiveRecognizer:
    """Stateful per-stream recogniser; call ``process`` with each frame from one thread."""

    def __init__(self, engine: FaceEngine, *, confirm_frames: int = DEFAULTS.confirm_frames,
                 recheck_seconds: float = DEFAULTS.recheck_seconds,
                 track_iou: float = DEFAULTS.track_iou,
                 max_missed: int = DEFAULTS.track_max_missed,
                 min_appearance: float = DEFAULTS.track_min_appearance,
                 detect_max_side: int = DEFAULTS.live_detect_max_side,
                 record_attendance: bool = True, liveness: str = OFF,
                 rejected: RejectCounter | None = None,
                 instant_decisions: bool = DEFAULTS.instant_decisions) -> None:
        self.engine = engine
        self.gate = LivenessGate(engine, liveness, rejected)
        """Passive check and/or head-turn challenge for faces about to be labelled."""
        self.score_subject = False
        """Registration: score the largest face's liveness on every frame (its samples)."""
        self.confirm_frames = max(1, confirm_frames)
        self.instant_decisions = instant_decisions
        self.recheck_seconds = recheck_seconds
        self.tracker = Tracker(track_iou=track_iou, max_missed=max_missed,
                               confirm_frames=self.confirm_frames,
                               min_appearance=min_appearance)
        self.detect_max_side = detect_max_side
        self.record_attendance = record_attendance
        self._live_ms = 0.0
        self.appearances = Appearances(engine.settings.appearance_gap_seconds, track_iou)
        """Without visitor ids: unknown tracks recently counted, so a detection gap does
        not make one person standing in view two visits."""

    @classmethod
    def from_settings(cls, engine: FaceEngine, **overrides: Any) -> LiveRecognizer:
        s = engine.settings
        options: dict[str, Any] = dict(
            confirm_frames=s.confirm_frames, instant_decisions=s.instant_decisions,
            recheck_seconds=s.recheck_seconds, track_iou=s.track_iou,
            max_missed=s.track_max_missed, min_appearance=s.track_min_appearance,
            detect_max_side=s.live_detect_max_side,
            liveness=engine.checkin_liveness)
        options.update(overrides)
        return cls(engine, **options)

    def reset(self) -> None:
        """Forget all tracks (new source, or the gallery changed under us)."""
        self.tracker.tracks = []

    @property
    def tracks(self) -> list[Track]:
        """The current tracks, including those missing from the last few frames."""
        return self.tracker.tracks

    def process(self, rgb: np.ndarray, now: float | None = None) -> FrameResult:
        now = time.monotonic() if now is None else now
        started = time.perf_counter()
        faces = self.engine.live_faces(rgb, max_side=self.detect_max_side)
        detected = time.perf_counter()
        visible = self.tracker.associate(faces, now)
        self._live_ms = 0.0
        checkins: list[CheckIn] = []
        for track in visible:  # running challenges see every frame
            challenge = track.liveness.challenge
            if challenge is not None and track.liveness.challenge_running:
                challenge.feed(track.face.detection, now)
                if not track.liveness.challenge_running:
                    self._settle(track, rgb, now, checkins)
        if self.score_subject and visible:
            self._score(visible[0], rgb)

        due = [t for t in visible if not t.liveness.challenge_running and (
            t.suspect or t.label != NOT_LIVE and (
                not self._unanimous(t) or now - t.last_embedded >= self.recheck_seconds))]
        if due:  # usually empty: tracked faces are labelled and not yet due a re-check
            before = time.perf_counter()
            vectors = self.engine.embed([t.face.crop for t in due])
            embedded = time.perf_counter()
            matches = self.engine.match(vectors)
            searched = time.perf_counter()
            for track, vector, match in zip(due, vectors, matches):
                if track.suspect and not self._same_face(track, vector, match):
                    fresh = self.tracker.split(track, now)
                    visible[visible.index(track)] = track = fresh
                track.suspect = False
                self._decide(track, vector, match, now)
                if track.label != NOT_LIVE:
                    self._settle(track, rgb, now, checkins)
        else:
            before = embedded = searched = time.perf_counter()
        finished = time.perf_counter()
        timings = {"detect": (detected - started) * 1000, "embed": (embedded - before) * 1000,
                   "search": (searched - embedded) * 1000, "liveness": self._live_ms,
                   "total": (finished - started) * 1000}
        return FrameResult(visible, checkins, timings, len(due), self.rejected)

    @property
    def rejected(self) -> int:
        """Faces judged not live since this recogniser started."""
        return self.gate.counter.count

    def _settle(self, track: Track, rgb: np.ndarray, now: float, checkins: list) -> None:
        """Confirm the label (after the liveness gate) and record attendance if due: only
        once ``confirm_frames`` decisions agree, even when the label was shown at once."""
        self._confirm(track, rgb, now)
        if track.label is not None and track.label != NOT_LIVE and track.match and \
                (track.match.name or UNKNOWN) == track.label and self._unanimous(track):
            checkin = self._attend(track, now)
            if checkin:
                checkins.append(checkin)

    def _score(self, track: Track, rgb: np.ndarray) -> None:
        started = time.perf_counter()
        track.liveness.verdict = self.engine.check_liveness(rgb, [track.box])[0]
        self._live_ms += (time.perf_counter() - started) * 1000

    # ---------------------------------------------------------------- internals
    def _same_face(self, track: Track, vector: np.ndarray, match: Match) -> bool:
        """Whether a face that arrived abruptly on ``track`` is still its face: its
        embedding agrees with the track's last one, or it is decided as the same person."""
        if track.vector is None:
            return track.label is None
        if float(np.dot(track.vector, vector)) >= self.engine.threshold:
            return True
        return track.known and match.name == track.label

    def _decide(self, track: Track, vector: np.ndarray, match: Match, now: float) -> None:
        """Record this frame's decision. A decision that differs from the last one starts
        the vote afresh, and one that differs from the shown label clears it at once: a
        label is only ever backed by the current face's own decision."""
        track.match, track.vector, track.last_embedded = match, vector, now
        if track.label == NOT_LIVE:
            return
        if track.votes and track.votes[-1] != match.name:
            track.votes.clear()
        track.votes.append(match.name)
        if track.label is not None and (match.name or UNKNOWN) != track.label:
            track.label, track.labelled_at = None, None

    def _confirm(self, track: Track, rgb: np.ndarray, now: float) -> None:
        """Change the label only when the decisions agree (``_agreed``), and the face
        passed the liveness gate (checked once per track, on this frame)."""
        if not self._agreed(track):
            return
        label = track.votes[0] or UNKNOWN
        if label != track.label and track.label != NOT_LIVE:
            started = time.perf_counter()
            admitted = self.gate.admit(track.liveness, track.id, rgb, track.box,
                                       named=label != UNKNOWN)
            self._live_ms += (time.perf_counter() - started) * 1000
            if admitted is None:  # a head-turn challenge is running: still pending
                return
            if not admitted:
                track.label, track.labelled_at, track.counted = NOT_LIVE, now, True
                return
            if label != UNKNOWN:  # a person first seen as unknown or as someone else
                track.counted = False  # checks in (with a snapshot, if kept)
            track.label = label
            track.labelled_at = now

    def _agreed(self, track: Track) -> bool:
        """The last ``confirm_frames`` decisions agree, or the track's very first one is
        decisive (the following frames keep voting while fewer than confirm_frames)."""
        votes = track.votes
        if self._unanimous(track):
            return True
        return (self.instant_decisions and len(votes) == 1 and track.label is None
                and track.match is not None
                and decisive(track.match, self.engine.gallery.model, self.engine.threshold))

    def _unanimous(self, track: Track) -> bool:
        return len(track.votes) >= self.confirm_frames and len(set(track.votes)) == 1

    def _attend(self, track: Track, now: float) -> CheckIn | None:
        """Attendance for a track whose confirmed label this frame's decision agrees with.

        A storage failure (disk full, database locked) must not stop the labels: it is
        logged and the next re-check tries again.
        """
        if not self.record_attendance:
            return None
        try:
            return self._record(track, now)
        except KioskError as exc:
            log.warning("Attendance not recorded: %s", exc)
            return None

    def _record(self, track: Track, now: float) -> CheckIn | None:
        attendance = self.engine.attendance
        wants_snapshot = (attendance.store_checkin_snapshots if track.known
                          else attendance.store_visitor_snapshots)
        snapshot = encode_jpeg(track.face.crop) if wants_snapshot and not track.counted else None
        if track.known and track.label and track.match:
            # every re-check moves last_seen; the cool-down keeps check-ins to one
            checkin = attendance.record_sighting(track.label, track.match.similarity,
                                                 snapshot=snapshot)
            track.counted = track.ever_known = True
            return checkin
        if track.ever_known:
            return None
        gallery = attendance.visitor_ids
        if gallery is not None:  # every re-check: the visit's last_seen moves
            if track.visitor is None:
                vector = self.engine.embed([track.face.crop])[0]
                track.visitor = gallery.assign(vector, self.engine.gallery.model.name)
            attendance.record_visitor(snapshot=snapshot, visitor=track.visitor)
            track.counted = True
            return None
        if not track.counted:
            if not self.appearances.continues(track.id, track.box, track.first_seen):
                attendance.record_visitor(snapshot=snapshot)
            track.counted = True
        self.appearances.note(track.id, track.box, now)
        return None
