"""Registering someone from the live camera: guidance, the crops taken, then saving."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt5 import sip
from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engine import Consent, Recognition, SubjectChallenge, TrackView
from desktop.gui.people.sample_collector import CaptureRules, SampleCollector, subject
from desktop.gui.video.qt_images import pixmap

NOT_LIVE_ADVICE = ("This does not look like a live person (a photo or a screen?). "
                   "Registration needs the person in front of the camera.")
CHALLENGE_PASSED = "Thank you. Now look straight at the camera."

THUMB = QSize(96, 96)

Embedder = Callable[[np.ndarray, Callable[[np.ndarray | None], None]], None]
"""Embeds a crop off the GUI thread and calls back with its vector, or None if that
failed (on the GUI thread)."""


class RegisterDialog(QDialog):
    """Feeds each recognition result to a ``SampleCollector`` and shows its progress.

    Emits ``captured(crops)`` once enough good crops are in; the caller saves them and
    then calls ``saved`` or ``failed``. With liveness at registration: a head-turn
    ``challenge`` comes first (pictures are then taken of the same track only), and with
    ``passive`` a picture is taken only from a frame whose face was scored live.
    """

    captured = pyqtSignal(list)
    challenge_changed = pyqtSignal(object, object)
    """(ChallengeView or None, the followed track id): for drawing over the preview."""

    def __init__(self, name: str, rules: CaptureRules | None = None,
                 parent: QWidget | None = None, *, challenge: SubjectChallenge | None = None,
                 passive: bool = False, embed: Embedder | None = None) -> None:
        super().__init__(parent)
        self.challenge = challenge
        self.embed = embed
        """With it, each candidate is embedded and a repeated pose skipped (collector)."""
        self._embedding = False
        self.passive = passive
        self.rejected = 0
        """Frames whose face the passive check judged not live."""
        self.setObjectName("registerDialog")
        self.name = name
        self.consent: Consent | None = None
        """Given in the consent dialog before this one opened; saved with the pictures."""
        self.collector = SampleCollector(rules or CaptureRules())
        self.setWindowTitle(f"Register {name}")
        self.setAttribute(Qt.WA_DeleteOnClose)
        heading = QLabel(f"Registering <b>{_escape(name)}</b>", objectName="registerHeading")
        self.advice = QLabel(self.collector.advice, objectName="registerAdvice",
                             alignment=Qt.AlignCenter, wordWrap=True)
        self.progress = QLabel(objectName="registerProgress", alignment=Qt.AlignCenter)
        self.thumbs: list[QLabel] = []
        row = QHBoxLayout()
        for _ in range(self.collector.rules.samples):
            thumb = QLabel(objectName="registerThumb", alignment=Qt.AlignCenter)
            thumb.setFixedSize(THUMB)
            self.thumbs.append(thumb)
            row.addWidget(thumb)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel, rejected=self.reject)
        self.try_again = QPushButton("Try again", objectName="registerTryAgain",
                                     clicked=self._try_again)
        self.try_again.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(QLabel("Stand in front of the camera, alone, and look at it. "
                                "Pictures are taken automatically; turn your head a little "
                                "between them, so that they differ.", wordWrap=True))
        layout.addWidget(self.advice)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.try_again, 0, Qt.AlignCenter)
        layout.addWidget(self.buttons)
        self._show_progress()
        if challenge is not None:
            self.advice.setText(challenge.view.prompt)

    @property
    def crops(self) -> list:
        return self.collector.crops

    def offer(self, recognition: Recognition) -> None:
        """Take a sample from this frame if it is a good one (after the liveness checks)
        and, once embedded, unlike the ones taken."""
        if self.collector.done:
            return
        tracks = list(recognition.tracks)
        if self.challenge is not None and not self._challenge(tracks, recognition.frame_ts):
            return
        if self.passive and not self._live(tracks):
            return
        if self._embedding:  # the last candidate is still being compared
            return
        now = recognition.frame_ts
        face = self.collector.candidate([t.face for t in tracks], now)
        self.advice.setText(self.collector.advice)
        if face is None:
            return
        if self.embed is None:
            self._considered(self.collector.consider(face, None, now))
            return
        self._embedding = True

        def embedded(vector: np.ndarray | None) -> None:
            if not sip.isdeleted(self):
                self._embedding = False
                if vector is not None and not self.collector.done:
                    self._considered(self.collector.consider(face, vector, now))
        self.embed(face.crop, embedded)

    def _considered(self, took: bool) -> None:
        self.advice.setText(self.collector.advice)
        if took:
            index = len(self.collector.crops) - 1
            self.thumbs[index].setPixmap(pixmap(self.collector.crops[index], THUMB))
            self._show_progress()
            if self.collector.done:
                self.advice.setText("Saving...")
                self.captured.emit(list(self.collector.crops))

    def _subject(self, tracks: list[TrackView]) -> TrackView | None:
        face, _ = subject([t.face for t in tracks], self.collector.rules.subject_area_ratio)
        return next((t for t in tracks if t.face is face), None)

    def _challenge(self, tracks: list[TrackView], now: float) -> bool:
        """Feed the head-turn challenge; True once it passed and the subject is its track."""
        assert self.challenge is not None
        if not self.challenge.ended:
            view = self.challenge.feed(self._subject(tracks), now)
            self.challenge_changed.emit(view, self.challenge.track_id)
            if view.running:
                self.advice.setText(f"{view.prompt} ({view.progress:.0%})")
            elif self.challenge.passed:
                self.advice.setText(CHALLENGE_PASSED)
            else:
                self.advice.setText(f"{view.message.split(':')[0]}. Press Try again, then "
                                    f"{view.prompt[0].lower()}{view.prompt[1:]} when asked.")
                self.try_again.show()
            return False
        subject_track = self._subject(tracks)
        if not self.challenge.passed:
            return False
        if subject_track is None or subject_track.id != self.challenge.track_id:
            self.advice.setText("Only the person who turned their head can be registered; "
                                "please stay in front of the camera.")
            return False
        return True

    def _live(self, tracks: list[TrackView]) -> bool:
        subject_track = self._subject(tracks)
        verdict = subject_track.liveness if subject_track else None
        if subject_track is not None and verdict is not None and not verdict.live:
            self.rejected += 1
            self.advice.setText(NOT_LIVE_ADVICE)
            return False
        return subject_track is None or verdict is not None

    def _try_again(self) -> None:
        if self.challenge is not None:
            self.challenge.restart()
            self.try_again.hide()
            self.challenge_changed.emit(self.challenge.view, None)
            self.advice.setText(self.challenge.view.prompt)

    def done(self, result: int) -> None:  # noqa: D102 - QDialog's; stop drawing the ring
        self.challenge_changed.emit(None, None)
        super().done(result)

    def saved(self, message: str) -> None:
        self.advice.setText(message)
        self.accept()

    def failed(self, message: str) -> None:
        self.advice.setText(message)
        self.reject()

    def _show_progress(self) -> None:
        self.progress.setText(f"{len(self.collector.crops)} of "
                              f"{self.collector.rules.samples} pictures")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
