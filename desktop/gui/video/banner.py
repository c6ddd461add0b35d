"""The 'Welcome, NAME' greeting shown over the video when someone checks in."""
from __future__ import annotations

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import QLabel, QWidget

SHOW_MS = 5000
MARGIN = 48
"""Space left free beside the banner inside the video area."""


def greeting(names: list[str]) -> str:
    if len(names) == 1:
        return f"Welcome, {names[0]}!"
    return f"Welcome, {', '.join(names[:-1])} and {names[-1]}!"


class WelcomeBanner(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeBanner")
        self.setAlignment(Qt.AlignCenter)
        self.setWordWrap(True)
        self.names: list[str] = []
        self._timer = QTimer(self, singleShot=True, timeout=self._expire)
        self.hide()

    def greet(self, names: list[str]) -> None:
        """Show (or extend) the greeting; names seen within the display time are merged."""
        for name in names:
            if name not in self.names:
                self.names.append(name)
        if not self.names:
            return
        self.setText(greeting(self.names))
        self.fit()
        self.show()
        self.raise_()
        self._timer.start(SHOW_MS)

    def fit(self) -> None:
        """One line if it fits the video's width, else wrapped onto several lines."""
        self.ensurePolished()
        frame = self.contentsMargins().left() + self.contentsMargins().right() + 2 * self.margin()
        one_line = self.fontMetrics().horizontalAdvance(self.text()) + frame + 24
        room = self.parentWidget().width() - MARGIN if self.parentWidget() else one_line
        width = max(120, min(one_line, room))
        height = self.heightForWidth(width)
        self.setFixedSize(width, height if height > 0 else self.sizeHint().height())

    def _expire(self) -> None:
        self.names = []
        self.hide()
