"""The kiosk window's sources, attendance, settings, shortcuts and start-up, with the
real model and a real database in tmp."""
from __future__ import annotations

import csv
import json
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from gui_helpers import WAIT, states
from PyQt5.QtCore import QDate, QEventLoop, QTimer
from PyQt5.QtWidgets import QApplication, QMessageBox
from test_sources import _MjpegHandler, write_video

from desktop.engine.video.feed import SourceState
from desktop.gui.app import run_app
from desktop.gui.main_window import MainWindow
from desktop.gui.settings_dialog import SettingsDialog


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
    assert rows[0] == ["day", "name", "first_in", "last_seen", "checkins", "kiosks"]
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

    from desktop.engine.settings.file import load_settings
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
    from desktop.engine.settings.file import load_settings
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
    # no quit is left pending: later event loops (the next tests' waits) still run
    loop, started = QEventLoop(), time.monotonic()
    QTimer.singleShot(200, loop.quit)
    loop.exec_()
    assert time.monotonic() - started >= 0.15
