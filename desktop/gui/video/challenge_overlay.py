"""Drawing a head-turn challenge over the preview: the prompt and a progress ring.

The state lives in the engine (``ChallengeView``); this only paints it. The prompt names
the person's own left or right, so it reads the same on a mirrored or plain preview; no
arrow is drawn, since an arrow's meaning would flip with the preview.
"""
from __future__ import annotations

from PyQt5.QtCore import QRect, QRectF, Qt
from PyQt5.QtGui import QColor, QFontMetrics, QPainter, QPen

from desktop.engine import ChallengeView

RING_TRACK = QColor(255, 255, 255, 90)
RING_DONE = QColor("#2e9d45")
RING_FAILED = QColor("#d93025")
PROMPT_BACK = QColor(16, 18, 20, 200)


def challenge_text(view: ChallengeView) -> str:
    return view.prompt if view.running else view.message


def draw_challenge(painter: QPainter, view: ChallengeView, face: QRectF | None,
                   target: QRect) -> None:
    """The ring around ``face`` (in widget coordinates; none if the face is not in view)
    and the prompt or outcome at the top of the picture."""
    failed = not view.running and view.state != "passed"
    colour = RING_FAILED if failed else RING_DONE
    if face is not None:
        side = max(face.width(), face.height()) * 1.35
        ring = QRectF(face.center().x() - side / 2, face.center().y() - side / 2, side, side)
        width = max(4.0, side / 24)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(RING_TRACK, width))
        painter.drawEllipse(ring)
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.RoundCap)
        painter.setPen(pen)
        span = 360 if not view.running else int(360 * max(0.0, min(1.0, view.progress)))
        painter.drawArc(ring, 90 * 16, -span * 16)  # clockwise from 12 o'clock
    text = challenge_text(view)
    metrics = QFontMetrics(painter.font())
    w, h = metrics.horizontalAdvance(text) + 32, metrics.height() + 16
    box = QRectF(target.center().x() - w / 2, target.top() + 12, w, h)
    painter.setPen(Qt.NoPen)
    painter.setBrush(colour if not view.running else PROMPT_BACK)
    painter.drawRoundedRect(box, 8, 8)
    painter.setPen(QColor("white"))
    painter.drawText(box, Qt.AlignCenter, text)
