"""Liveness in the live loop: which tracks must prove they are live, and how. Qt-free.

The check runs on the recognition thread, once per track, when the track is about to get
its first confirmed label (never on every frame): the passive MiniFASNet score, and/or a
head-turn challenge fed with the track's detection on every following frame. The verdict
is cached on the track. A face judged fake is labelled ``NOT_LIVE`` for as long as the
track lasts (a second try needs the face to leave the picture), records no check-in or
visitor, and is counted and audited without names.

Directions: ``left`` is always the *person's own* left. The prompt says "your left"; the
sign in the image depends on whether the camera mirrors its picture (``camera_mirrored``);
the preview draws frames as the camera delivers them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.engine.core.errors import KioskError
from desktop.engine.decisions.challenge import LEFT, RIGHT, ChallengeState, HeadTurnChallenge
from desktop.engine.decisions.liveness import OFF, LivenessVerdict, uses_challenge, uses_passive
from desktop.engine.storage import audit

if TYPE_CHECKING:
    from desktop.engine.facade.face_engine import FaceEngine

log = logging.getLogger(__name__)

PROMPTS = {LEFT: "Turn your head to your left", RIGHT: "Turn your head to your right"}
OUTCOMES = {
    ChallengeState.RUNNING: "",
    ChallengeState.PASSED: "Thank you",
    ChallengeState.FAILED: "That was the other way: not checked in",
    ChallengeState.TIMED_OUT: "No head turn seen in time: not checked in",
}


def audit_spoof_attempt(kind: str, score: float | None, track_id: int,
                        engine: FaceEngine | None = None) -> None:
    """Record a rejected presentation attempt in the log and, given the engine, the audit
    trail (no names, no images: the kind of check, its score and the track)."""
    log.warning("Liveness: face rejected (%s, score %s, track %d)", kind,
                "-" if score is None else f"{score:.3f}", track_id)
    if engine is None:
        return
    try:
        audit.record(engine.db, "liveness_rejected", engine.frontend, check=kind,
                     score=None if score is None else round(score, 3), track=track_id)
    except KioskError as exc:  # an offline shared store: the log line above stays
        log.warning("Liveness rejection not audited: %s", type(exc).__name__)


@dataclass(frozen=True)
class ChallengeView:
    """What a front end draws for a running or finished head-turn challenge."""
    direction: str
    prompt: str
    progress: float
    state: str
    """'running', 'passed', 'failed' or 'timed out'."""
    message: str
    """What to tell the person once it ended ('' while running)."""

    @property
    def running(self) -> bool:
        return self.state == ChallengeState.RUNNING.value


def challenge_view(challenge: HeadTurnChallenge) -> ChallengeView:
    return ChallengeView(challenge.direction, PROMPTS[challenge.direction],
                         challenge.progress, challenge.state.value,
                         OUTCOMES[challenge.state])


def new_challenge(settings: Any, direction: str | None = None) -> HeadTurnChallenge:
    """A challenge with the site's settings; ``direction`` (the person's own left or right)
    random unless given. On a mirroring camera the measured sign is flipped."""
    options: dict[str, Any] = dict(required=settings.challenge_yaw,
                                   hold_frames=settings.challenge_frames,
                                   seconds=settings.challenge_seconds,
                                   mirrored=settings.camera_mirrored)
    if direction:
        options["direction"] = direction
    return HeadTurnChallenge(**options)


@dataclass
class TrackLiveness:
    """The cached liveness of one track."""
    verdict: LivenessVerdict | None = None
    """The passive verdict, once scored."""
    challenge: HeadTurnChallenge | None = None
    live: bool | None = None
    """None until decided; then True (labels may be shown) or False (NOT_LIVE)."""

    @property
    def challenge_running(self) -> bool:
        return self.challenge is not None and self.challenge.state is ChallengeState.RUNNING


class RejectCounter:
    """Faces judged not live since the kiosk started; outlives the recognisers that a
    settings change rebuilds (the status bar shows it)."""

    def __init__(self) -> None:
        self.count = 0


class LivenessGate:
    """Decides, once per track, whether a face about to be labelled is live.

    ``mode`` is the check-in mode (``FaceEngine.checkin_liveness``); the challenge is
    asked only of faces about to be named (nobody asks a stranger to turn their head).
    """

    def __init__(self, engine: FaceEngine, mode: str = OFF,
                 counter: RejectCounter | None = None) -> None:
        self.engine = engine
        self.mode = mode
        self.counter = counter or RejectCounter()

    @property
    def active(self) -> bool:
        return self.mode != OFF

    def admit(self, state: TrackLiveness, track_id: int, rgb: Any, box: tuple,
              named: bool) -> bool | None:
        """True: live (or nothing to check); False: judged fake; None: challenge running.

        ``named``: the label about to be shown is a person's (a challenge is asked only
        then, also of a track first labelled Unknown)."""
        if not self.active:
            return True
        if state.live is False:
            return False
        if uses_passive(self.mode) and state.verdict is None:
            state.verdict = self.engine.check_liveness(rgb, [box])[0]
            if not state.verdict.live:
                return self._reject(state, "passive", state.verdict.score, track_id)
        if uses_challenge(self.mode) and named:
            if state.challenge is None:
                state.challenge = new_challenge(self.engine.settings)
                log.info("Liveness: head-turn challenge (%s) for track %d",
                         state.challenge.direction, track_id)
                return None
            outcome = state.challenge.state
            if outcome is ChallengeState.RUNNING:
                return None
            if outcome is not ChallengeState.PASSED:
                return self._reject(state, f"challenge {outcome.value}", None, track_id)
        state.live = True
        return True

    def _reject(self, state: TrackLiveness, kind: str, score: float | None,
                track_id: int) -> bool:
        state.live = False
        self.counter.count += 1
        audit_spoof_attempt(kind, score, track_id, self.engine)
        return False


class SubjectChallenge:
    """The head-turn challenge at registration, fed with each recognised frame's tracks.

    It follows one track (the subject when it started), so the person who turned their
    head is the person whose pictures are taken; another face, or the subject leaving,
    never passes it. Qt-free: the window only draws ``view``.
    """

    def __init__(self, settings: Any, direction: str | None = None,
                 engine: FaceEngine | None = None) -> None:
        self.settings, self.engine = settings, engine
        self.challenge = new_challenge(settings, direction)
        self.track_id: int | None = None

    def feed(self, subject: Any | None, now: float) -> ChallengeView:
        """``subject``: the registration's subject track this frame (a TrackView), or None."""
        if self.track_id is None and subject is not None:
            self.track_id = subject.id
        seen = subject if subject is not None and subject.id == self.track_id else None
        was_running = not self.ended
        self.challenge.feed(seen.face.detection if seen is not None else None, now)
        if was_running and self.ended and not self.passed:
            audit_spoof_attempt(f"registration challenge {self.challenge.state.value}", None,
                                self.track_id or 0, self.engine)
        return self.view

    @property
    def view(self) -> ChallengeView:
        return challenge_view(self.challenge)

    @property
    def passed(self) -> bool:
        return self.challenge.state is ChallengeState.PASSED

    @property
    def ended(self) -> bool:
        return self.challenge.state is not ChallengeState.RUNNING

    def restart(self) -> None:
        """Try again, with a new random direction."""
        self.challenge = new_challenge(self.settings)
        self.track_id = None
