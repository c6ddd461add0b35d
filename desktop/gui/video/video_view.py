"""The preview: newest camera frame, scaled to fit, with the latest recognition's boxes.

Frames and recognition results arrive independently, so the preview runs at the
camera's rate however slow recognition is; boxes come from the most recent result.
"""
from __future__ import annotations

import time
from typing import Any

import cv2
from PyQt5.QtCore import QRect, QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PyQt5.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from desktop.engine import NOT_LIVE, ChallengeView, Frame, Recognition, TrackView
from desktop.gui.video.banner import WelcomeBanner
from desktop.gui.video.challenge_overlay import draw_challenge
from desktop.gui.video.qt_images import qimage
from desktop.gui.video.rate_meter import RateMeter
from desktop.gui.video.source_message import SourceMessage

KNOWN = QColor("#2e9d45")
UNKNOWN = QColor("#d93025")
PENDING = QColor("#c9ced6")
FAKE = QColor("#e37400")
"""A face the liveness check judged a photo or screen: 'Not live'."""
BACKGROUND = QColor("#101214")
STALE_SECONDS = 2.0
"""Boxes older than this are not drawn (recognition stopped or fell far behind)."""


def fit(rgb: Any, width: int, height: int) -> Any:
    """``rgb`` resized for the screen, cheaply: a 1080p frame shrunk with area averaging
    cost ~15 ms, 45% of a core at 30 fps; an exact integer area step (OpenCV's fast path)
    and a bilinear rest cost ~2.5 ms and look the same."""
    if (rgb.shape[1], rgb.shape[0]) == (width, height):
        return rgb
    factor = min(rgb.shape[1] // width, rgb.shape[0] // height)
    if factor >= 2:
        rgb = cv2.resize(rgb, (rgb.shape[1] // factor, rgb.shape[0] // factor),
                         interpolation=cv2.INTER_AREA)
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)


def label_rect(box: QRectF, w: float, h: float, target: QRect) -> QRectF:
    """Where a ``w`` x ``h`` name label goes: above the box (below it at the top edge),
    left-aligned with it, and shifted to stay inside ``target``, the picture."""
    top = box.top() - h - 2 if box.top() - h - 2 >= target.top() else box.bottom() + 2
    top = min(top, target.top() + target.height() - h)
    left = min(box.left() - 1.5, target.left() + target.width() - w)
    return QRectF(max(left, target.left()), max(top, target.top()), w, h)


def box_colour(track: TrackView) -> QColor:
    if track.label is None:
        return PENDING
    if track.label == NOT_LIVE:
        return FAKE
    return KNOWN if track.known else UNKNOWN


class VideoView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoView")
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.frame: Frame | None = None
        self.recognition: Recognition | None = None
        self.preview_rate = RateMeter()
        self.painted = 0
        """Distinct frames painted since the window opened (the benchmark's preview rate)."""
        self._painted_seq = 0
        self._scaled: Any = None  # (key, QImage) of the last scaled frame
        self.challenge: tuple[ChallengeView, int | None] | None = None
        """The registration's head-turn challenge and the track it follows."""
        self.banner = WelcomeBanner(self)
        self.message = SourceMessage(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 24)
        layout.addStretch(1)
        layout.addWidget(self.message, 0, Qt.AlignCenter)
        layout.addStretch(1)
        # at the bottom: faces are usually in the upper half of the picture
        layout.addWidget(self.banner, 0, Qt.AlignBottom | Qt.AlignHCenter)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's naming
        super().resizeEvent(event)
        if self.banner.isVisible():
            self.banner.fit()

    # ---------------------------------------------------------------- inputs
    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        self.update()

    def show_recognition(self, recognition: Recognition) -> None:
        self.recognition = recognition
        self.update()

    def show_challenge(self, view: ChallengeView | None, track_id: int | None = None) -> None:
        """Draw (or, with None, stop drawing) the registration's challenge over the preview."""
        self.challenge = None if view is None else (view, track_id)
        self.update()

    def clear(self) -> None:
        """Forget the picture and boxes (the source changed)."""
        self.frame = None
        self.recognition = None
        self._scaled = None
        self.preview_rate.clear()
        self.update()

    # ---------------------------------------------------------------- painting
    def image_rect(self) -> QRect:
        """Where the frame goes: as large as fits, centred, aspect kept."""
        if self.frame is None:
            return QRect()
        height, width = self.frame.rgb.shape[:2]
        scale = min(self.width() / width, self.height() / height)
        w, h = max(1, int(width * scale)), max(1, int(height * scale))
        return QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's naming
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self.frame is None:
            return
        target = self.image_rect()
        painter.drawImage(target.topLeft(), self._scaled_image(target))
        if self.frame.seq != self._painted_seq:
            self._painted_seq = self.frame.seq
            self.preview_rate.tick()
            self.painted += 1
        recognition = self.recognition
        if recognition is None or time.monotonic() - recognition.finished > STALE_SECONDS:
            return
        height, width = self.frame.rgb.shape[:2]
        if recognition.frame_size != (width, height):
            return
        painter.setRenderHint(QPainter.Antialiasing)
        scale = target.width() / width
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(max(13, min(26, target.height() // 30)))
        painter.setFont(font)
        for track in recognition.tracks:
            self._draw_track(painter, track, target, scale)
        self._draw_challenges(painter, recognition, target, scale)

    def _scaled_image(self, target: QRect):
        frame = self.frame
        assert frame is not None  # paintEvent returns early without one
        key = (frame.seq, target.width(), target.height())
        if self._scaled is None or self._scaled[0] != key:
            self._scaled = (key, qimage(fit(frame.rgb, target.width(), target.height())))
        return self._scaled[1]

    def _draw_challenges(self, painter: QPainter, recognition: Recognition, target: QRect,
                         scale: float) -> None:
        """Check-in challenges of the tracks, then the registration's (drawn on top)."""
        asks: list[tuple[ChallengeView, TrackView | None]] = [
            (t.challenge, t) for t in recognition.tracks if t.challenge is not None]
        if self.challenge is not None:
            view, track_id = self.challenge
            asks.append((view, next((t for t in recognition.tracks if t.id == track_id), None)))
        for view, track in asks:
            draw_challenge(painter, view, self._box(track, target, scale) if track else None,
                           target)

    @staticmethod
    def _box(track: TrackView, target: QRect, scale: float) -> QRectF:
        x1, y1, x2, y2 = track.box
        return QRectF(target.x() + x1 * scale, target.y() + y1 * scale,
                      (x2 - x1) * scale, (y2 - y1) * scale)

    def _draw_track(self, painter: QPainter, track: TrackView, target: QRect,
                    scale: float) -> None:
        box = self._box(track, target, scale)
        colour = box_colour(track)
        painter.setPen(QPen(colour, 3))
        painter.setBrush(Qt.NoBrush)
        painter.drawRoundedRect(box, 4, 4)
        metrics = QFontMetrics(painter.font())
        pad = 5
        # a label wider than the picture is elided; any other stays whole, inside it
        text = metrics.elidedText(track.text, Qt.ElideRight, target.width() - 2 * pad)
        label = label_rect(box, metrics.horizontalAdvance(text) + 2 * pad,
                           metrics.height() + pad, target)
        painter.setPen(Qt.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(label, 4, 4)
        painter.setPen(QColor("#1d1f21") if track.label is None else QColor("white"))
        painter.drawText(label, Qt.AlignCenter, text)
