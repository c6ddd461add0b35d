"""Registering the person in front of the camera: check, ask the name, capture, save."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PyQt5.QtCore import QObject
from PyQt5.QtWidgets import QWidget

from desktop.engine import (
    Consent,
    FaceEngine,
    KioskError,
    Recognition,
    SubjectChallenge,
    name_key,
    normalize_name,
    uses_challenge,
    uses_passive,
)
from desktop.engine.decisions.matching import distinct_level
from desktop.gui.dialogs import ask, ask_text, inform
from desktop.gui.people.consent_dialog import ask_consent
from desktop.gui.people.enroll_flow import EnrollFlow
from desktop.gui.people.register_dialog import RegisterDialog
from desktop.gui.people.sample_collector import SEVERAL, CaptureRules, subject
from desktop.gui.video.source_control import SourceControl

log = logging.getLogger(__name__)

FRESH_SECONDS = 2.0
"""A recognition result older than this does not describe who is in front of the camera."""


class Registration(QObject):
    """Ctrl+R. The capture dialog takes its crops from the live results, so the preview
    never waits for it."""

    def __init__(self, engine: FaceEngine, enroll: EnrollFlow, source: SourceControl,
                 latest: Callable[[], Recognition | None], parent: QWidget) -> None:
        super().__init__(parent)
        self.engine, self.enroll, self.source = engine, enroll, source
        self.latest = latest
        self.window = parent
        self.dialog: RegisterDialog | None = None

    def fresh_recognition(self) -> Recognition | None:
        rec = self.latest()
        if rec is None or time.monotonic() - rec.finished > FRESH_SECONDS:
            return None
        return rec

    def offer(self, recognition: Recognition) -> None:
        if self.dialog is not None:
            self.dialog.offer(recognition)

    def register(self) -> None:
        """Check there is exactly one person in view, ask the name, capture."""
        if self.dialog is not None:
            self.dialog.raise_()
            return
        recognition = self.fresh_recognition()
        if not self.source.live_now or recognition is None:
            inform(self.window, "No camera picture",
                   "Registering needs a live picture of the person. Connect a camera, or "
                   "open a video or a folder of photos, then press Register again.",
                   warning=True)
            return
        face, problem = subject([t.face for t in recognition.tracks],
                                self.engine.settings.subject_area_ratio)
        if face is None:
            text = ("There is more than one person in front of the camera. Registering "
                    "needs one person alone in the picture." if problem == SEVERAL else
                    "Nobody is in front of the camera. Ask the person to stand in front of "
                    "it and look at it, then press Register again.")
            inform(self.window, "Cannot register now", text, warning=True)
            return
        ask_text(self.window, "Register", "Name of the person in front of the camera:",
                 self.confirm)

    def confirm(self, name: str) -> None:
        try:
            name = normalize_name(name)
        except KioskError as exc:
            inform(self.window, "Cannot register", str(exc), warning=True)
            return
        existing = next((p.name for p in self.engine.gallery.people()
                         if name_key(p.name) == name_key(name)), None)
        if existing:
            ask(self.window, "Already registered", f"{existing} is already registered. Add "
                f"new pictures to {existing}?", "Add pictures",
                on_yes=lambda _checked: self._start_quietly(existing))
        else:  # consent first: no picture is taken of someone who did not agree
            ask_consent(self.window, self.engine, name,
                        lambda given: self._start_quietly(name, given))

    def start(self, name: str, consent: Consent | None = None) -> RegisterDialog:
        """Open the capture dialog for ``name``, with the liveness checks the settings ask
        for at registration (a head turn first; a passive score on every captured face);
        ``consent`` is saved with the pictures."""
        s = self.engine.settings
        mode = s.liveness if s.liveness_at_registration else "off"
        passive = uses_passive(mode)
        challenge = SubjectChallenge(s, engine=self.engine) if uses_challenge(mode) else None
        rules = CaptureRules.from_settings(
            s, distinct_level(self.engine.threshold, s.register_max_similarity),
            self.engine.outlier_threshold)
        dialog = RegisterDialog(name, rules, parent=self.window, challenge=challenge,
                                passive=passive, embed=self._embed)
        dialog.consent = consent
        dialog.challenge_changed.connect(self.source.video.show_challenge)
        pipeline = self.source.live.pipeline
        pipeline.score_subject(passive)
        dialog.finished.connect(lambda _result: pipeline.score_subject(False))
        dialog.captured.connect(lambda crops: self.enroll.save_registration(
            dialog, crops, f"camera: {self.source.description}"))
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _embed(self, crop, done) -> None:
        """The capture dialog's embedder: on the task runner, never on the GUI thread."""
        def failed(exc: BaseException) -> None:
            log.warning("Registration sample not embedded: %s", exc)
            done(None)
        self.enroll.tasks.run(lambda: self.engine.embed([crop])[0], done, failed)

    def _start_quietly(self, name: str, consent: Consent | None = None) -> None:
        self.start(name, consent)

    def _closed(self, dialog: RegisterDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
