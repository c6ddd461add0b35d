"""What one recognised frame produced, frozen for the front ends.

Tracks belong to the live recogniser and change on every frame, so the pipeline hands
front ends immutable ``TrackView`` snapshots inside a ``Recognition`` instead.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .attendance import CheckIn
from .feed import Frame
from .live import FrameResult, Track
from .live_liveness import ChallengeView, challenge_view
from .liveness import LivenessVerdict
from .matching import Match
from .results import Face


@dataclass(frozen=True)
class TrackView:
    """What a front end needs of a track, frozen at the time of one frame."""
    id: int
    box: tuple[float, float, float, float]
    text: str
    label: str | None
    """A name, 'Unknown', or None while pending."""
    known: bool
    similarity: float | None
    face: Face
    """Detection (box, landmarks) and the 160x160 crop: what registration samples."""
    label_seconds: float | None
    """Seconds from first sight to a confirmed label; None while pending."""
    newly_labelled: bool
    """The label was confirmed (or changed) on this very frame."""
    fresh_match: Match | None = None
    """The decision made on this very frame; None if the face was not re-embedded."""
    liveness: LivenessVerdict | None = None
    """The track's passive verdict, if it was scored (cached: once per track, or on
    every frame while registering)."""
    challenge: ChallengeView | None = None
    """The head-turn challenge asked of this face, if any (running or just ended)."""
    visitor: str | None = None
    """The anonymous visitor id of an unknown face (visitor_ids on), else None."""

    @classmethod
    def of(cls, track: Track, now: float) -> TrackView:
        latency = (track.labelled_at - track.first_seen
                   if track.labelled_at is not None else None)
        return cls(track.id, track.box, track.text, track.label, track.known,
                   track.match.similarity if track.match else None, track.face, latency,
                   track.labelled_at == now,
                   track.match if track.last_embedded == now else None,
                   track.liveness.verdict, _challenge(track, now))


OUTCOME_SECONDS = 2.0
"""How long the outcome of a check-in challenge stays on screen."""


def _challenge(track: Track, now: float) -> ChallengeView | None:
    """The track's challenge while it runs, and its outcome for a moment after."""
    challenge = track.liveness.challenge
    if challenge is None:
        return None
    view = challenge_view(challenge)
    recent = track.labelled_at is not None and now - track.labelled_at <= OUTCOME_SECONDS
    return view if view.running or recent else None


@dataclass(frozen=True)
class Recognition:
    frame_seq: int
    frame_ts: float
    frame_size: tuple[int, int]
    """(width, height) of the frame the boxes refer to."""
    tracks: tuple[TrackView, ...]
    checkins: tuple[CheckIn, ...]
    timings: dict[str, float]
    embedded: int
    finished: float
    """time.monotonic() when the result was ready."""
    rejected: int = 0
    """Faces judged not live since the kiosk started (liveness)."""

    @classmethod
    def of(cls, frame: Frame, result: FrameResult) -> Recognition:
        height, width = frame.rgb.shape[:2]
        return cls(frame.seq, frame.ts, (width, height),
                   tuple(TrackView.of(t, frame.ts) for t in result.tracks),
                   tuple(result.checkins), dict(result.timings), result.embedded,
                   time.monotonic(), result.rejected)

    @property
    def latency_ms(self) -> float:
        """Capture to result, including waiting for the recogniser to be free."""
        return (self.finished - self.frame_ts) * 1000
