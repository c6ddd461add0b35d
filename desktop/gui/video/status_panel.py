"""The status bar: source, idle/active, preview fps, recognition latency per stage,
people, model."""
from __future__ import annotations

from collections import deque

from PyQt5.QtWidgets import QLabel, QStatusBar

from desktop.engine import Recognition, SourceState, SourceStatus, StoreStatus
from desktop.gui.video.message_area import SHOWN_MS, MessageArea

STATE_TEXT = {
    SourceState.CONNECTING: "connecting",
    SourceState.LIVE: "live",
    SourceState.RETRYING: "reconnecting",
    SourceState.ENDED: "ended",
    SourceState.FAILED: "unavailable",
}
STAGES = ("detect", "embed", "search", "total")
AVERAGE_OVER = 20
"""Recognition timings are averaged over this many frames: single frames jump around
(a frame where no face is due for a re-check embeds nothing)."""


def short_model_name(name: str) -> str:
    """'20180408-102900-casia-webface-features' -> 'casia-webface-features'."""
    parts = name.split("-")
    if len(parts) > 2 and parts[0].isdigit() and parts[1].isdigit():
        return "-".join(parts[2:])
    return name


def elide(text: str, limit: int) -> str:
    """Shorten in the middle: file names differ at their ends."""
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return text[:half] + "..." + text[-(limit - 3 - half):]


class StatusPanel:
    """Labels in a QStatusBar, updated by the window's timer and signals."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.source = QLabel(objectName="statusSource")
        bar.addWidget(self.source)
        self.notes = MessageArea(bar)
        """What just happened: elided in the middle, tooltip and history in full."""
        bar.addWidget(self.notes.label, 1)
        bar.addWidget(self.notes.button)
        self.activity = self._label("statusActivity")
        self.show_activity(True)
        self.preview = self._label("statusPreview")
        self.recognition = self._label("statusRecognition")
        self.liveness = self._label("statusLiveness")
        self.liveness.setToolTip("Faces judged not live (a photo or screen held up, or a "
                                 "head turn not made) since the kiosk started")
        self.people = self._label("statusPeople")
        self.model = self._label("statusModel")
        self.store = self._label("statusStore")
        self.store.hide()  # only a shared store has anything to say
        self._queued = 0
        self.preview_fps = 0.0
        self.recognition_fps = 0.0
        self.last: Recognition | None = None
        self._recent: deque[Recognition] = deque(maxlen=AVERAGE_OVER)

    def _label(self, name: str) -> QLabel:
        label = QLabel(objectName=name)
        self.bar.addPermanentWidget(label)
        return label

    def show_source(self, description: str, status: SourceStatus) -> None:
        self.source.setText(f"{elide(description, 32)} · {STATE_TEXT[status.state]}")
        self.source.setToolTip(f"{description}\n{status.message}")

    def timings(self) -> dict[str, float]:
        """Mean milliseconds per stage over the recent frames, plus capture-to-result."""
        if not self._recent:
            return {}
        means = {stage: sum(r.timings[stage] for r in self._recent) / len(self._recent)
                 for stage in STAGES}
        means["latency"] = sum(r.latency_ms for r in self._recent) / len(self._recent)
        return means

    def show_rates(self, preview_fps: float, recognition_fps: float) -> None:
        self.preview_fps, self.recognition_fps = preview_fps, recognition_fps
        self.preview.setText(f"preview {preview_fps:.1f} fps")
        t = self.timings()
        if not t or recognition_fps == 0:
            self.recognition.setText("recognition idle")
            self.recognition.setToolTip("")
            return
        self.recognition.setText(
            f"recognition {t['total']:.0f} ms (detect {t['detect']:.0f}, "
            f"embed {t['embed']:.0f}, search {t['search']:.1f}) · {recognition_fps:.1f}/s")
        self.recognition.setToolTip(
            f"Averages over the last {len(self._recent)} frames. Capture to result: "
            f"{t['latency']:.0f} ms (includes waiting for the recogniser).")

    def show_recognition(self, recognition: Recognition) -> None:
        self.last = recognition
        self._recent.append(recognition)
        self.liveness.setText(f"{recognition.rejected} not live" if recognition.rejected else "")

    def reset(self) -> None:
        self._recent.clear()
        self.last = None

    def show_activity(self, active: bool) -> None:
        """Motion gating's state: idle recognises only a few frames a second."""
        self.activity.setText("active" if active else "idle")
        self.activity.setToolTip("Recognising every frame" if active else
                                 "Nothing moves and no face is seen: recognising a few "
                                 "frames a second")

    def show_people(self, count: int) -> None:
        self.people.setText(f"{count} {'person' if count == 1 else 'people'} enrolled")

    def show_model(self, name: str, device: str) -> None:
        self.model.setText(f"{short_model_name(name)} · {device}")
        self.model.setToolTip(f"FaceNet weights {name}")

    def show_store(self, status: StoreStatus) -> None:
        """Shared store online/offline and the check-ins queued on this kiosk; a new
        queued check-in is said once in the message area (there is no welcome banner:
        only the store can tell whether it opened a check-in)."""
        if not status.shared:
            return
        text = "store online" if status.online else "store OFFLINE"
        if status.queued:
            text += f" · {status.queued} queued"
        self.store.setText(text)
        self.store.setStyleSheet("" if status.online else "color: #c62828; font-weight: bold")
        self.store.setToolTip(
            f"{status.label}\n" + ("Reachable." if status.online else
            "Unreachable: recognition goes on from this kiosk's index; check-ins are kept "
            "here and sent when it returns; enrolling, renaming and deleting wait."))
        self.store.show()
        if status.queued > self._queued and not status.online:
            self.message(f"Store offline: check-in queued on this kiosk "
                         f"({status.queued} waiting)")
        self._queued = status.queued

    def message(self, text: str, ms: int = SHOWN_MS) -> None:
        self.notes.show(text, ms)
