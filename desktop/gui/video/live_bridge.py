"""The live pipeline seen from Qt: its callbacks become signals on the GUI thread.

The engine's ``LivePipeline`` does the work on its own threads; this adapter only turns
each callback into a queued signal and drops what is out of date by the time the GUI
thread gets to it (a frame or status of a previous source, a result from before a reset).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence

from PyQt5.QtCore import QObject, pyqtSignal

from desktop.engine import FaceEngine, Frame, LivePipeline, PipelineListener, Recognition, SourceStatus


class _Emitter(PipelineListener):
    """Runs on the pipeline's threads; only emits (Qt queues the signals to the GUI)."""

    def __init__(self, bridge: LiveBridge) -> None:
        self.bridge = bridge

    def on_source(self, spec: str, source_id: int) -> None:
        self.bridge._pending.clear()
        self.bridge._source.emit(spec, source_id)

    def on_frame(self, frame: Frame, source_id: int) -> None:
        # at most one paint request until the GUI took the frame: a busy GUI thread never
        # gets a backlog of stale frames
        if not self.bridge._pending.is_set():
            self.bridge._pending.set()
            self.bridge._frame.emit(source_id)

    def on_status(self, status: SourceStatus, source_id: int) -> None:
        self.bridge._status.emit(status, source_id)

    def on_result(self, recognition: Recognition) -> None:
        self.bridge._result.emit(recognition)

    def on_error(self, message: str) -> None:
        self.bridge.failed.emit(message)

    def on_activity(self, active: bool) -> None:
        self.bridge.activity_changed.emit(active)


class LiveBridge(QObject):
    source_changed = pyqtSignal(str)  # spec of the new current source
    frame_ready = pyqtSignal(object)  # Frame: the newest frame of the current source
    status_changed = pyqtSignal(object)  # SourceStatus of the current source
    result_ready = pyqtSignal(object)  # Recognition of a current frame
    failed = pyqtSignal(str)
    activity_changed = pyqtSignal(bool)  # True: full rate; False: idle (motion gating)
    _source = pyqtSignal(str, int)
    _frame = pyqtSignal(int)
    _status = pyqtSignal(object, int)
    _result = pyqtSignal(object)

    def __init__(self, engine: FaceEngine, parent: QObject | None = None,
                 listeners: Sequence[PipelineListener] = ()) -> None:
        super().__init__(parent)
        self.pipeline = LivePipeline(engine)
        self._pending = threading.Event()
        self._source.connect(self._on_source)
        self._frame.connect(self._on_frame)
        self._status.connect(self._on_status)
        self._result.connect(self._on_result)
        self.pipeline.add_listener(_Emitter(self))
        for listener in listeners:
            self.pipeline.add_listener(listener)
        self.pipeline.start()

    def set_source(self, spec: str) -> None:
        self.pipeline.set_source(spec)

    def _on_source(self, spec: str, source_id: int) -> None:
        if source_id == self.pipeline.source_id:
            self.source_changed.emit(spec)

    def _on_frame(self, source_id: int) -> None:
        self._pending.clear()
        frame = self.pipeline.latest_frame()
        if source_id == self.pipeline.source_id and frame is not None:
            self.frame_ready.emit(frame)

    def _on_status(self, status: SourceStatus, source_id: int) -> None:
        if source_id == self.pipeline.source_id:
            self.status_changed.emit(status)

    def _on_result(self, recognition: Recognition) -> None:
        if self.pipeline.is_current(recognition):
            self.result_ready.emit(recognition)

    def stop(self) -> None:
        self.pipeline.stop()
