"""Helpers for the window tests: answer dialogs the way a user would, watch labels."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PyQt5.QtWidgets import QApplication, QInputDialog, QMessageBox, QPushButton

from desktop.gui.main_window import MainWindow

WAIT = 60_000  # ms; generous: two cores shared with other test runs
VIDEO = "video/facenet-pytorch_video.mp4"


def dialog(qtbot, kind=QMessageBox, title: str | None = None):
    """Wait for a visible top-level dialog of ``kind`` (and ``title``) and return it."""
    found = []

    def visible() -> bool:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, kind) and widget.isVisible() and \
                    (title is None or widget.windowTitle() == title):
                found[:] = [widget]
                return True
        return False
    qtbot.waitUntil(visible, timeout=WAIT)
    return found[0]


def click(box: QMessageBox, text: str) -> None:
    button = next(b for b in box.findChildren(QPushButton) if b.text().replace("&", "") == text)
    button.click()


def answer_text(qtbot, title: str, text: str) -> None:
    box = dialog(qtbot, QInputDialog, title)
    box.setTextValue(text)
    box.accept()


class Seen:
    """Every label the window shows, gathered from its results."""

    def __init__(self, window: MainWindow) -> None:
        self.labels: set[str] = set()
        self.texts: list[str] = []
        window.recognized.connect(self.add)

    def add(self, recognition) -> None:
        for track in recognition.tracks:
            if track.label is not None:
                self.labels.add(track.label)
                self.texts.append(track.text)


def states(window: MainWindow, record: list) -> None:
    window.live.status_changed.connect(lambda s: record.append(s.state))


def slideshow(tmp_path: Path, *photos: Path, name: str = "show") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for i, photo in enumerate(photos):
        (folder / f"{i:02d}_{photo.name}").symlink_to(photo)
    return folder


def video_crops(path: Path, engine, frames: tuple[int, ...]) -> list[np.ndarray]:
    """The largest face's crop in each of ``frames`` of the video."""
    cap = cv2.VideoCapture(str(path))
    crops, index = [], 0
    while len(crops) < len(frames):
        ok, bgr = cap.read()
        assert ok, "video shorter than expected"
        if index in frames:
            faces = engine.faces(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), max_side=640)
            crops.append(faces[0].crop)
        index += 1
    cap.release()
    return crops

