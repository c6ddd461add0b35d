"""What the video area says when there is no picture, with ways out of it."""
from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.engine import SourceState, SourceStatus

TITLES = {
    SourceState.CONNECTING: "Connecting...",
    SourceState.RETRYING: "No picture",
    SourceState.ENDED: "The video has ended",
    SourceState.FAILED: "Cannot show this source",
}


class SourceMessage(QFrame):
    """A centred panel: title, explanation, and buttons to pick another source."""

    open_file = pyqtSignal()
    open_folder = pyqtSignal()
    use_camera = pyqtSignal()
    retry = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sourceMessage")
        self.title = QLabel(objectName="sourceTitle", alignment=Qt.AlignCenter)
        self.detail = QLabel(objectName="sourceDetail", alignment=Qt.AlignCenter, wordWrap=True)
        self.file_button = QPushButton("Open a video file...", clicked=self.open_file)
        self.folder_button = QPushButton("Open a folder of photos...", clicked=self.open_folder)
        self.camera_button = QPushButton("Use the camera", clicked=self.use_camera)
        self.retry_button = QPushButton("Try again now", clicked=self.retry)
        buttons = QHBoxLayout()
        for button in (self.retry_button, self.camera_button, self.file_button,
                       self.folder_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self.state: SourceState | None = None
        self.hide()

    def show_status(self, status: SourceStatus, kind: str) -> None:
        """Explain ``status`` of a source of ``kind`` ('camera', 'video', ...)."""
        if status.state is SourceState.LIVE:
            self.state = status.state
            self.hide()
            return
        if status.state is SourceState.CONNECTING and self.state is SourceState.RETRYING:
            return  # a retry is under way: keep explaining why, do not flicker
        self.state = status.state
        title = TITLES[status.state]
        detail = status.message
        if status.state is SourceState.RETRYING:
            title = "No camera" if kind == "camera" else "No picture"
            retry = status.retry_in or 0.0
            wait = f"{retry:.0f}" if retry >= 1 else f"{retry:.1f}"
            detail += f".\nTrying again by itself in {wait} s."
            if kind == "camera":
                detail += "\nConnect a camera, or show a video file or a folder of photos instead."
        elif status.state is SourceState.ENDED:
            detail = "Play it again, or choose another source."
        elif status.state is SourceState.FAILED:
            detail += ".\nChoose a camera, a video file or a folder of photos."
        self.title.setText(title)
        self.detail.setText(detail)
        self.retry_button.setVisible(status.state in (SourceState.RETRYING, SourceState.ENDED))
        self.retry_button.setText("Play again" if status.state is SourceState.ENDED
                                  else "Try again now")
        self.camera_button.setVisible(kind != "camera")
        self.show()
        self.raise_()
