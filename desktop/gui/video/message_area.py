"""The status bar's message area: what just happened, readable in full.

QStatusBar's own temporary message is cut at the right and gone in seconds, so an export
path or a long error was never readable. Here the message is elided in the middle (file
names and paths differ at their ends), its tooltip holds the whole text, it stays up
longer, and the "Messages" button lists every recent message with its time.
"""
from __future__ import annotations

import time
from collections import deque

from PyQt5.QtCore import QSize, Qt, QTimer
from PyQt5.QtGui import QPainter
from PyQt5.QtWidgets import QLabel, QListWidget, QSizePolicy, QToolButton, QWidget

HISTORY = 200
"""Messages kept for the log panel (this session only; the log file keeps the rest)."""
SHOWN_MS = 30_000
"""How long a message stays in the bar (a receptionist may be busy when it appears)."""


class ElidedLabel(QLabel):
    """A one-line label that elides its text in the middle to fit, tooltip in full."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's naming
        super().setText(text)
        self.setToolTip(text)
        self.update()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - any width; the text elides
        return QSize(60, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        """What is drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), Qt.ElideMiddle, self.width())

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's naming
        painter = QPainter(self)
        painter.drawText(self.rect(), int(Qt.AlignVCenter | Qt.AlignLeft), self.shown_text())


class MessageArea:
    """The elided message label and the Messages button with its history popup."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.label = ElidedLabel(parent, objectName="statusMessage")
        self.label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.history: deque[tuple[float, str]] = deque(maxlen=HISTORY)
        self.button = QToolButton(parent, objectName="statusMessages", text="Messages",
                                  autoRaise=True, clicked=self.show_history)
        self.button.setToolTip("Every message of this session, with its time")
        self.button.setEnabled(False)
        self.panel = QListWidget(parent, objectName="messageLog")  # owned: freed with the bar
        self.panel.setWindowFlags(Qt.Popup)
        self.panel.setWordWrap(True)
        self._clear = QTimer(self.label, singleShot=True, timeout=lambda: self.label.setText(""))

    def show(self, text: str, ms: int = SHOWN_MS) -> None:
        self.label.setText(text)
        self.history.append((time.time(), text))
        self.button.setEnabled(True)
        self.button.setText(f"Messages ({len(self.history)})")
        self.button.setMinimumWidth(self.button.sizeHint().width())  # never elided
        self._clear.start(ms)

    def text(self) -> str:
        return self.label.text()

    def show_history(self) -> QListWidget:
        """The popup with the full text of every recent message, newest first."""
        self.panel.clear()
        for ts, text in reversed(self.history):
            self.panel.addItem(f"{time.strftime('%H:%M:%S', time.localtime(ts))}  {text}")
        self.panel.resize(640, min(400, 24 * len(self.history) + 40))
        corner = self.button.mapToGlobal(self.button.rect().topRight())
        self.panel.move(corner.x() - self.panel.width(), corner.y() - self.panel.height())
        self.panel.show()
        return self.panel
