"""Registering someone from the live camera: guidance, the crops taken, then saving."""
from __future__ import annotations

from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..engine.consent import Consent
from ..engine.recognition import Recognition
from .qt_images import pixmap
from .sample_collector import CaptureRules, SampleCollector

THUMB = QSize(96, 96)


class RegisterDialog(QDialog):
    """Feeds each recognition result to a ``SampleCollector`` and shows its progress.

    Emits ``captured(crops)`` once enough good crops are in; the caller saves them and
    then calls ``saved`` or ``failed``.
    """

    captured = pyqtSignal(list)

    def __init__(self, name: str, rules: CaptureRules | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(QLabel("Stand in front of the camera, alone, and look straight at it. "
                                "Pictures are taken automatically.", wordWrap=True))
        layout.addWidget(self.advice)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self._show_progress()

    @property
    def crops(self) -> list:
        return self.collector.crops

    def offer(self, recognition: Recognition) -> None:
        """Take a sample from this frame if it is a good one."""
        if self.collector.done:
            return
        took = self.collector.offer([t.face for t in recognition.tracks], recognition.frame_ts)
        self.advice.setText(self.collector.advice)
        if took:
            index = len(self.collector.crops) - 1
            self.thumbs[index].setPixmap(pixmap(self.collector.crops[index], THUMB))
            self._show_progress()
            if self.collector.done:
                self.advice.setText("Saving...")
                self.captured.emit(list(self.collector.crops))

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
