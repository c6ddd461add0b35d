"""The window on a shared PostgreSQL store that goes away mid-run (a real server, stopped
and started again; real Qt widgets offscreen; the real model): the status bar says
offline, a check-in made meanwhile is queued (no welcome banner), deleting is refused
with a clear message, and the queued check-in reaches the store when it returns."""
from __future__ import annotations

import dataclasses

from conftest import person_photos
from gui_helpers import WAIT, Seen, dialog
from PyQt5.QtWidgets import QMessageBox

from desktop.engine.facade.face_engine import FaceEngine
from desktop.gui.main_window import MainWindow


def test_window_when_the_shared_store_goes_offline(settings, models, load, faces_dir,
                                                   pg_server, pg_url, qtbot):
    shared = dataclasses.replace(settings, db_url=pg_url, store_poll_seconds=0.2)
    engine = FaceEngine(shared, models)
    window = None
    try:
        photos = person_photos("Tom_Cruise")
        engine.enroll("Tom_Cruise", [(str(p), load(p)) for p in photos[:3]])
        window = MainWindow(engine, source=str(faces_dir / "noface" / "skimage_grass.png"))
        qtbot.addWidget(window)
        window.show()
        label = window.status.store
        qtbot.waitUntil(lambda: label.isVisible() and label.text() == "store online",
                        timeout=WAIT)
        seen = Seen(window)
        pg_server.stop()
        qtbot.waitUntil(lambda: label.text().startswith("store OFFLINE"), timeout=WAIT)
        assert "color" in label.styleSheet()

        window.source.set_source(str(photos[-1]))  # Tom walks up while the store is away
        qtbot.waitUntil(lambda: "Tom_Cruise" in seen.labels and "queued" in label.text(),
                        timeout=WAIT)
        assert not window.video.banner.isVisible()  # only the store can open a check-in
        assert "check-in queued" in window.status.notes.text()

        window.people_actions._delete("Tom_Cruise", keep_attendance=False)
        box = dialog(qtbot, QMessageBox, "Could not delete")
        assert "unreachable" in box.text() and "refused" in box.text()
        box.accept()
        assert engine.gallery.sample_count == 3

        pg_server.start()
        qtbot.waitUntil(lambda: label.text() == "store online", timeout=WAIT)
        qtbot.waitUntil(lambda: engine.attendance.queued == 0, timeout=WAIT)
        assert engine.db.query("SELECT name FROM checkins") == [("Tom_Cruise",)]
        assert engine.gallery.person("Tom_Cruise").samples == 3  # the delete never ran
    finally:
        if not (pg_server.data / "postmaster.pid").exists():
            pg_server.start()
        if window is not None:
            window.shutdown()
        engine.close()


def test_window_starts_while_the_shared_store_is_down(settings, models, load, faces_dir,
                                                      pg_server, pg_url, qtbot):
    """A power cut, the kiosk boots first: the window opens from the kiosk's cache, says
    the store is offline, recognises, and joins the store when it returns."""
    shared = dataclasses.replace(settings, db_url=pg_url, store_poll_seconds=0.2)
    photos = person_photos("Tom_Cruise")
    first = FaceEngine(shared, models)
    first.enroll("Tom_Cruise", [(str(p), load(p)) for p in photos[:2]])
    first.close()
    pg_server.stop()
    engine, window = None, None
    try:
        engine = FaceEngine(shared, models)
        window = MainWindow(engine, source=str(photos[-1]))
        qtbot.addWidget(window)
        window.show()
        label = window.status.store
        qtbot.waitUntil(lambda: label.text().startswith("store OFFLINE"), timeout=WAIT)
        assert "offline" in window.people.count.text()
        seen = Seen(window)
        qtbot.waitUntil(lambda: "Tom_Cruise" in seen.labels, timeout=WAIT)
        pg_server.start()
        qtbot.waitUntil(lambda: label.text() == "store online", timeout=WAIT)
        qtbot.waitUntil(lambda: window.people.count.text() == "1 person enrolled",
                        timeout=WAIT)
        qtbot.waitUntil(lambda: engine.attendance.queued == 0, timeout=WAIT)
        assert [r[0] for r in engine.db.query("SELECT name FROM checkins")] == ["Tom_Cruise"]
    finally:
        if not (pg_server.data / "postmaster.pid").exists():
            pg_server.start()
        if window is not None:
            window.shutdown()
        if engine is not None:
            engine.close()
