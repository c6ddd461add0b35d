"""Full-screen kiosk mode: only the video, shortcuts still work (F11 or Esc leaves)."""
from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QMainWindow, QShortcut, QWidget


class KioskMode:
    def __init__(self, window: QMainWindow, chrome: list[QWidget]) -> None:
        self.window = window
        self.chrome = chrome
        """Everything but the video: hidden in kiosk mode."""
        QShortcut(QKeySequence(Qt.Key_Escape), window, activated=self.leave)

    def toggle(self) -> None:
        if self.window.isFullScreen():
            self.leave()
            return
        for widget in self.chrome:
            widget.hide()
        self.window.showFullScreen()

    def leave(self) -> None:
        if not self.window.isFullScreen():
            return
        self.window.showNormal()
        for widget in self.chrome:
            widget.show()
