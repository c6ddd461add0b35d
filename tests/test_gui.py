"""The kiosk window on real sources, with the real model and a real database in tmp.

Dialogs are answered the way a user would: find the open box, click its button.
Set KIOSK_SCREENSHOT=resources/screenshot.png to save the README screenshot.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
from PyQt5.QtCore import QDate, QTimer
from PyQt5.QtWidgets import QApplication, QInputDialog, QMessageBox, QPushButton
from test_sources import _MjpegHandler, write_video

from desktop.engine.feed import SourceState
from desktop.gui.app import run_app
from desktop.gui.main_window import MainWindow
from desktop.gui.register_dialog import RegisterDialog
from desktop.gui.settings_dialog import SettingsDialog

WAIT = 60_000  # ms; generous: two cores shared with other test runs
VIDEO = "video/facenet-pytorch_video.mp4"


# ----------------------------------------------------------------------------- helpers
@pytest.fixture
def open_window(engine, qtbot):
    """Build MainWindows over the test engine; threads are stopped at teardown."""
    windows: list[MainWindow] = []

    def make(source: str) -> MainWindow:
        window = MainWindow(engine, source=source)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window
    yield make
    for window in windows:
        window.shutdown()


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


# ----------------------------------------------------------------------------- live video
def test_video_labels_the_enrolled_person_greets_and_marks_strangers(
        engine, faces_dir, open_window, qtbot, tmp_path):
    video = faces_dir / VIDEO
    # the boy in the blue hoodie walks towards the camera for the whole clip
    engine.enroll_crops("Alex", video_crops(video, engine, (60, 100)), ["frame 60", "frame 100"])
    window = open_window(str(video))
    seen = Seen(window)
    qtbot.waitUntil(lambda: {"Alex", "Unknown"} <= seen.labels, timeout=WAIT)
    assert any(t.startswith("Alex 0.") for t in seen.texts), "known faces show name + similarity"

    # the check-in reached the banner and the attendance list
    qtbot.waitUntil(lambda: "Alex" in window.attendance.names(), timeout=WAIT)
    assert window.video.banner.text() == "Welcome, Alex!"
    assert "1 person checked in today" in window.attendance.summary.text()
    assert engine.attendance.visitors() >= 1

    # the status bar tells preview fps, recognition per stage, people and model
    qtbot.waitUntil(lambda: window.status.preview_fps > 0 and window.status.recognition_fps > 0,
                    timeout=WAIT)
    assert "detect" in window.status.recognition.text()
    assert window.status.people.text() == "1 person enrolled"
    assert "casia-webface" in window.status.model.text() and "cpu" in window.status.model.text()

    window.tabs.setCurrentWidget(window.attendance)
    qtbot.waitUntil(lambda: window.video.banner.isVisible() and any(
        t.label == "Alex" for t in (window.last_recognition.tracks
                                    if window.last_recognition else ())), timeout=WAIT)
    shot = window.grab()
    assert not shot.isNull() and shot.width() > 600
    target = os.environ.get("KIOSK_SCREENSHOT")
    shot.save(target if target else str(tmp_path / "screenshot.png"))


def test_folder_slideshow_names_the_enrolled_person_and_not_a_stranger(
        engine, settings, faces_dir, open_window, qtbot, tmp_path, load):
    kit = sorted((faces_dir / "people" / "Kit_Harington").iterdir())
    engine.enroll("Kit Harington", [(str(p), load(p)) for p in kit[:2]])
    settings.slideshow_seconds = 1.0
    folder = slideshow(tmp_path, kit[2], faces_dir / "unknown" / "Razali_Ismail_0001.jpg")
    window = open_window(str(folder))
    seen = Seen(window)
    qtbot.waitUntil(lambda: {"Kit Harington", "Unknown"} <= seen.labels, timeout=WAIT)
    assert seen.labels == {"Kit Harington", "Unknown"}
    assert window.people.names() == ["Kit Harington"]


# ----------------------------------------------------------------------------- people
def test_register_from_the_live_source_then_recognised_then_deleted(
        engine, settings, faces_dir, open_window, qtbot, tmp_path):
    settings.slideshow_seconds = 1.0
    kit = sorted((faces_dir / "people" / "Kit_Harington").iterdir())
    window = open_window(str(slideshow(tmp_path, *kit[:2])))
    seen = Seen(window)
    qtbot.waitUntil(lambda: window.registration.fresh_recognition() is not None and
                    len(window.registration.fresh_recognition().tracks) == 1, timeout=WAIT)

    window.act_register.trigger()
    answer_text(qtbot, "Register", "Kit")
    dialog(qtbot, RegisterDialog)
    saved = []
    window.gallery_changed.connect(saved.append)
    qtbot.waitUntil(lambda: bool(saved), timeout=WAIT)
    assert saved[0].startswith("Registered Kit (5 pictures")
    assert [p.name for p in engine.gallery.people()] == ["Kit"]
    assert window.people.names() == ["Kit"]
    seen.labels.clear()
    qtbot.waitUntil(lambda: "Kit" in seen.labels, timeout=WAIT)

    # the same face under another name: warned, and not saved when the user declines
    window.registration.start("Jon Snow")
    question = dialog(qtbot, QMessageBox, "Already registered?")
    assert "looks like Kit" in question.text()
    click(question, "Cancel")
    qtbot.waitUntil(lambda: window.registration.dialog is None, timeout=WAIT)
    assert [p.name for p in engine.gallery.people()] == ["Kit"]

    # Del asks, with "keep attendance" off by default, then removes everything
    window.people.select("Kit")
    window.act_delete.trigger()
    confirm = dialog(qtbot, QMessageBox, "Delete person")
    assert not confirm.checkBox().isChecked()
    click(confirm, "Delete")
    qtbot.waitUntil(lambda: window.people.names() == [], timeout=WAIT)
    assert engine.gallery.people() == [] and engine.gallery.size == 0
    assert engine.attendance.day() == []
    seen.labels.clear()
    qtbot.waitUntil(lambda: "Unknown" in seen.labels, timeout=WAIT)
    assert "Kit" not in seen.labels


def test_register_refuses_several_faces_and_no_face(faces_dir, open_window, qtbot):
    window = open_window(str(faces_dir / "group" / "face_recognition_kit_with_rose.jpg"))
    qtbot.waitUntil(lambda: window.registration.fresh_recognition() is not None and
                    len(window.registration.fresh_recognition().tracks) == 2, timeout=WAIT)
    window.registration.register()
    box = dialog(qtbot, QMessageBox, "Cannot register now")
    assert "more than one person" in box.text()
    click(box, "OK")

    window.source.set_source(str(faces_dir / "noface" / "skimage_rocket.jpg"))
    qtbot.waitUntil(lambda: window.registration.fresh_recognition() is not None, timeout=WAIT)
    window.registration.register()
    box = dialog(qtbot, QMessageBox, "Cannot register now")
    assert "Nobody is in front of the camera" in box.text()
    click(box, "OK")
    assert window.registration.dialog is None


def test_enroll_from_photo_files_and_from_a_folder(engine, faces_dir, open_window, qtbot,
                                                   tmp_path):
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    rose = sorted((faces_dir / "people" / "Rose_Leslie").iterdir())
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a photo")
    window.enroll.enroll_files("Rose Leslie", [str(p) for p in rose] + [str(bad)])
    box = dialog(qtbot, QMessageBox, "Enrolled, with some photos skipped")
    assert "Enrolled Rose Leslie from 2 photo(s)" in box.text()
    click(box, "OK")
    assert window.people.names() == ["Rose Leslie"]

    # the same face under another name: asked, and saved when the user insists
    window.enroll.enroll_files("Rose L.", [str(rose[0])])
    question = dialog(qtbot, QMessageBox, "Already registered?")
    assert "looks like Rose Leslie" in question.text()
    click(question, "Register anyway")
    qtbot.waitUntil(lambda: window.people.names() == ["Rose L.", "Rose Leslie"], timeout=WAIT)
    engine.delete("Rose L.")

    root = tmp_path / "staff"
    for name in ("Roger_Federer", "Lucy_Liu"):
        (root / name).mkdir(parents=True)
        for photo in sorted((faces_dir / "people" / name).iterdir())[:2]:
            shutil.copy(photo, root / name / photo.name)
    cancelled = []
    window.gallery_changed.connect(cancelled.append)
    click(window.enroll.enroll_folder(str(root)), "Cancel")  # stops at the next photo
    qtbot.waitUntil(lambda: bool(cancelled), timeout=WAIT)
    assert cancelled == ["Enrollment cancelled; nobody was added"]
    assert [p.name for p in engine.gallery.people()] == ["Rose Leslie"]

    progress = window.enroll.enroll_folder(str(root))
    box = dialog(qtbot, QMessageBox, "Enrollment finished")
    assert "enrolled 4 photo(s) of 2 people" in box.text()
    click(box, "OK")
    assert not progress.isVisible()
    assert window.people.names() == ["Lucy_Liu", "Roger_Federer", "Rose Leslie"]
    assert window.status.people.text() == "3 people enrolled"
    assert "Rose L." not in window.people.names()


def test_people_panel_search_and_rename(engine, faces_dir, open_window, qtbot, load):
    for name in ("Lucy_Liu", "Roger_Federer"):
        photo = sorted((faces_dir / "people" / name).iterdir())[0]
        engine.enroll(name.replace("_", " "), [(str(photo), load(photo))])
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    window.people.refresh()
    assert window.people.names() == ["Lucy Liu", "Roger Federer"]
    assert window.people.model.item(0, 1).data(0) == 1  # pictures
    window.people.search.setText("ROG")
    assert window.people.names() == ["Roger Federer"]
    window.people.rename_button.click()  # the only hit needs no selection
    answer_text(qtbot, "Rename", "Roger F.")
    qtbot.waitUntil(lambda: window.people.names() == ["Roger F."], timeout=WAIT)
    window.people.search.clear()
    assert window.people.names() == ["Lucy Liu", "Roger F."]


# ----------------------------------------------------------------------------- sources
def test_no_camera_says_so_keeps_retrying_and_offers_files(settings, faces_dir, open_window,
                                                           qtbot):
    settings.reconnect_max_seconds = 0.5
    index = next(i for i in range(7, 64) if not Path(f"/dev/video{i}").exists())
    window = open_window(str(index))
    record: list = []
    states(window, record)
    message = window.video.message
    qtbot.waitUntil(lambda: message.isVisible() and message.title.text() == "No camera",
                    timeout=WAIT)
    assert f"No camera found at index {index}" in message.detail.text()
    assert message.file_button.isVisible() and message.folder_button.isVisible()
    qtbot.waitUntil(lambda: record.count(SourceState.RETRYING) >= 2, timeout=WAIT)
    assert window.status.source.text().endswith("reconnecting")
    assert window.video.frame is None

    window.source.set_source("/dev/no-such-camera")
    qtbot.waitUntil(lambda: message.title.text() == "Cannot show this source", timeout=WAIT)
    assert "No such camera, file or folder" in message.detail.text()

    window.source.set_source(str(faces_dir / "noface" / "skimage_grass.png"))
    qtbot.waitUntil(lambda: window.source.live_now and not message.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: window.video.frame is not None, timeout=WAIT)


def test_video_end_loops_or_offers_to_play_again(settings, open_window, qtbot, tmp_path):
    clip = str(write_video(tmp_path / "clip.avi", frames=5, fps=25))
    window = open_window(clip)
    record: list = []
    window.live.status_changed.connect(lambda s: record.append(s))
    qtbot.waitUntil(lambda: any(s.loops >= 2 for s in record), timeout=WAIT)
    assert window.video.frame is not None and window.source.live_now

    settings.loop_video = False
    window.source.set_source(clip)
    message = window.video.message
    qtbot.waitUntil(lambda: message.isVisible() and
                    message.title.text() == "The video has ended", timeout=WAIT)
    assert message.retry_button.isVisible() and message.retry_button.text() == "Play again"
    message.retry_button.click()
    qtbot.waitUntil(lambda: window.source.live_now, timeout=WAIT)


def test_stream_drop_out_is_shown_and_reconnected(settings, open_window, qtbot):
    settings.reconnect_max_seconds = 0.5
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MjpegHandler)
    server.connections = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        window = open_window(f"http://127.0.0.1:{server.server_port}/video.mjpg")
        record: list = []
        states(window, record)
        qtbot.waitUntil(lambda: SourceState.RETRYING in record and
                        record[record.index(SourceState.RETRYING):].count(SourceState.LIVE) > 0,
                        timeout=WAIT)
        assert server.connections >= 2
    finally:
        server.shutdown()


# ----------------------------------------------------------------------------- attendance
def test_attendance_date_picker_and_csv_export(engine, faces_dir, open_window, qtbot,
                                               tmp_path, load):
    photo = sorted((faces_dir / "people" / "Lucy_Liu").iterdir())[0]
    engine.enroll("Lucy Liu", [(str(photo), load(photo))])
    engine.attendance.record_sighting("Lucy Liu", 0.9)
    engine.attendance.record_visitor()
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    panel = window.attendance
    panel.refresh()
    assert panel.names() == ["Lucy Liu"]
    assert panel.table.item(0, 3).text() == "1"
    assert panel.summary.text() == "1 person checked in today; 1 unknown visitor"
    panel.date.setDate(QDate.currentDate().addDays(-1))
    assert panel.names() == [] and "that day" in panel.summary.text()
    panel.today_button.click()
    assert panel.names() == ["Lucy Liu"]

    export = window.export_attendance()
    out = tmp_path / "out.csv"
    export.path.setText(str(out))
    export.buttons.button(export.buttons.Save).click()
    qtbot.waitUntil(out.exists, timeout=WAIT)
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["day", "name", "first_in", "last_seen", "checkins"]
    assert rows[1][1] == "Lucy Liu" and rows[1][4] == "1"


# ----------------------------------------------------------------------------- settings
def test_settings_dialog_applies_and_saves_only_what_changed(engine, settings, faces_dir,
                                                               open_window, qtbot):
    settings.weights = "/one/off/override.pt"  # like --weights: must not be saved
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    applied = []
    window.settings_applied.connect(applied.append)
    dialog_ = window.open_settings()
    assert isinstance(dialog_, SettingsDialog)
    assert dialog_.use_database_threshold.isChecked()
    assert dialog_.threshold.value() == pytest.approx(engine.gallery.threshold, abs=0.005)
    dialog_.use_database_threshold.setChecked(False)
    dialog_.threshold.setValue(0.7)
    dialog_.cooldown.setValue(5)
    dialog_.source.setText(str(faces_dir / "noface" / "skimage_rocket.jpg"))
    dialog_.buttons.button(dialog_.buttons.Ok).click()
    qtbot.waitUntil(lambda: bool(applied), timeout=WAIT)

    assert engine.threshold == pytest.approx(0.7)
    assert engine.attendance.cooldown == pytest.approx(300)
    assert window.source.spec.endswith("skimage_rocket.jpg")
    saved = json.loads((settings.db_dir / "settings.json").read_text())
    assert set(saved) == {"threshold", "cooldown_minutes", "source"}
    assert saved["threshold"] == 0.7 and saved["cooldown_minutes"] == 5.0
    qtbot.waitUntil(lambda: window.source.live_now, timeout=WAIT)

    from desktop.config import load_settings
    again = load_settings(settings.db_dir)
    assert again.threshold == pytest.approx(0.7) and again.source.endswith("skimage_rocket.jpg")
    assert again.weights == "vggface2"


def test_settings_smallest_face_rebuilds_this_engines_detector(engine, models, faces_dir,
                                                                open_window, qtbot):
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    dialog_ = window.open_settings()
    dialog_.min_face_size.setValue(80)
    dialog_.buttons.button(dialog_.buttons.Ok).click()
    qtbot.waitUntil(lambda: engine.detector is not models.detector, timeout=WAIT)
    assert engine.detector.min_face_size == 80
    assert models.detector.min_face_size == 40  # the shared models are left alone


def test_shortcuts_and_kiosk_mode(faces_dir, open_window, qtbot):
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    keys = {a.shortcut().toString() for a in window.actions()}
    assert {"Ctrl+R", "Del", "Ctrl+,", "F11", "Ctrl+Q"} <= keys
    window.act_fullscreen.trigger()
    qtbot.waitUntil(window.isFullScreen, timeout=WAIT)
    assert not window.tabs.isVisible() and not window.toolbar.isVisible()
    assert window.video.isVisible()
    window.act_fullscreen.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=WAIT)
    assert window.tabs.isVisible()


# ----------------------------------------------------------------------------- boot
def test_run_app_with_an_engine_opens_the_window_and_returns_on_close(
        engine, settings, faces_dir, qtbot):
    settings.source = str(faces_dir / "noface" / "skimage_grass.png")
    opened = []

    def close_when_shown() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].source.live_now:
            opened.append(windows[0])
            windows[0].close()
        else:
            QTimer.singleShot(100, close_when_shown)
    QTimer.singleShot(100, close_when_shown)
    assert run_app(settings, engine=engine) == 0
    assert opened and opened[0]._closed


def test_startup_failure_is_a_message_box_not_a_traceback(tmp_path, weights_path, models):
    from desktop.config import load_settings
    settings = load_settings(tmp_path / "db", weights=str(weights_path))
    settings.db_dir.mkdir(parents=True)
    settings.db_path.write_bytes(b"this is not an SQLite database" * 100)
    shown = []

    def answer() -> None:
        boxes = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QMessageBox) and w.isVisible()]
        if boxes:
            shown.append(boxes[0].text())
            boxes[0].button(QMessageBox.Ok).click()
        else:
            QTimer.singleShot(100, answer)
    QTimer.singleShot(100, answer)
    assert run_app(settings, models=models) == 1
    assert shown and "damaged" in shown[0] and str(settings.db_path) in shown[0]
