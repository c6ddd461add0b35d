"""Which source the window shows, and what it says about it (Qt side of the pipeline)."""
from __future__ import annotations

import logging

from PyQt5.QtCore import QObject
from PyQt5.QtWidgets import QFileDialog, QWidget

from desktop.engine import Frame, Settings, SourceError, SourceState, SourceStatus, open_source, source_kind
from desktop.gui.dialogs import ask_text
from desktop.gui.settings_dialog import VIDEO_FILTER
from desktop.gui.video.live_bridge import LiveBridge
from desktop.gui.video.status_panel import StatusPanel
from desktop.gui.video.video_view import VideoView

log = logging.getLogger(__name__)


class SourceControl(QObject):
    """Chooses sources (menus, the no-source message) and shows their frames and state."""

    def __init__(self, live: LiveBridge, settings: Settings, video: VideoView,
                 status: StatusPanel, parent: QWidget) -> None:
        super().__init__(parent)
        self.live, self.settings, self.video, self.status = live, settings, video, status
        self.window = parent
        self.spec = ""
        self.state: SourceStatus | None = None
        live.source_changed.connect(self._on_source_changed)
        live.frame_ready.connect(self._on_frame)
        live.status_changed.connect(self._on_status)
        message = video.message
        message.open_file.connect(self.choose_video)
        message.open_folder.connect(self.choose_folder)
        message.use_camera.connect(self.use_camera)
        message.retry.connect(lambda: self.set_source(self.spec))

    # ---------------------------------------------------------------- what is shown
    def camera_spec(self) -> str:
        spec = self.settings.source.strip()
        return spec if spec.isdigit() else "0"

    @property
    def kind(self) -> str:
        try:
            return source_kind(self.spec)
        except SourceError:
            return "source"

    @property
    def description(self) -> str:
        try:
            return open_source(self.spec).describe()
        except SourceError:
            return self.spec

    @property
    def live_now(self) -> bool:
        """The source is delivering pictures."""
        return self.state is not None and self.state.state is SourceState.LIVE

    # ---------------------------------------------------------------- choosing
    def set_source(self, spec: str) -> None:
        """Show ``spec`` (camera index, video, folder or URL) instead of the current source."""
        self.live.set_source(spec)

    def use_camera(self) -> None:
        self.set_source(self.camera_spec())

    def choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a video file", "", VIDEO_FILTER)
        if path:
            self.set_source(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, "Open a folder of photos")
        if path:
            self.set_source(path)

    def choose_stream(self) -> None:
        ask_text(self.window, "Open a stream", "Stream address (rtsp://... or http://...):",
                 self.set_source, text="rtsp://")

    # ---------------------------------------------------------------- pipeline events
    def _on_source_changed(self, spec: str) -> None:
        """Whoever changed the source (a menu, the settings): forget the old one's picture."""
        self.spec = spec
        self.state = None
        self.video.clear()
        self.status.reset()

    def _on_frame(self, frame: Frame) -> None:
        self.video.show_frame(frame)

    def _on_status(self, status: SourceStatus) -> None:
        self.state = status
        self.video.message.show_status(status, self.kind)
        self.status.show_source(self.description, status)
        if status.state in (SourceState.RETRYING, SourceState.ENDED, SourceState.FAILED):
            self.video.clear()
        if status.loops and self.kind == "video":
            self.status.message(status.message, 3000)
