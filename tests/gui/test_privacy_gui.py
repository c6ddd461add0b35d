"""Consent in the kiosk window: registration from the camera and enrollment from photos
ask for it first (require_consent defaults to 'window'), and record it."""
from __future__ import annotations

import pytest
from gui_helpers import WAIT, dialog, slideshow
from PyQt5.QtWidgets import QApplication, QLabel

from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.storage import consent
from desktop.gui.main_window import MainWindow
from desktop.gui.people.consent_dialog import ConsentDialog
from desktop.gui.people.register_dialog import RegisterDialog


@pytest.fixture
def window_engine(settings, models):
    engine = FaceEngine(settings, models, frontend="window")
    yield engine
    engine.close()


def _consent(qtbot) -> ConsentDialog:
    box = dialog(qtbot, ConsentDialog)
    assert not box.ok.isEnabled()  # OK only once ticked
    box.box.setChecked(True)
    assert box.ok.isEnabled()
    box.ok.click()
    return box


def test_registration_and_photo_enrollment_ask_for_consent(window_engine, settings, faces_dir,
                                                           qtbot, tmp_path):
    settings.slideshow_seconds = 1.0
    settings.register_samples = 2  # two photos: two poses (a still repeats, and is skipped)
    kit = sorted((faces_dir / "people" / "Kit_Harington").iterdir())
    window = MainWindow(window_engine, source=str(slideshow(tmp_path, *kit[:2])))
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.registration.fresh_recognition() is not None and
                        len(window.registration.fresh_recognition().tracks) == 1, timeout=WAIT)
        window.registration.confirm("Kit")
        shown = dialog(qtbot, ConsentDialog)
        assert shown.findChild(QLabel, "consentText").text() == settings.consent_text
        shown.reject()  # no consent: no capture at all
        QApplication.processEvents()
        assert window.registration.dialog is None
        window.registration.confirm("Kit")
        _consent(qtbot)
        dialog(qtbot, RegisterDialog)
        saved = []
        window.gallery_changed.connect(saved.append)
        try:
            qtbot.waitUntil(lambda: bool(saved), timeout=3 * WAIT)  # 2 cores
        except Exception:
            print([(type(w).__name__, w.windowTitle(), getattr(w, "text", lambda: "")())
                   for w in QApplication.topLevelWidgets() if w.isVisible()])
            print([type(w).__name__ for w in QApplication.topLevelWidgets()],
                  window.registration.dialog and window.registration.dialog.advice.text())
            raise
        kit_id = window_engine.gallery.person("Kit").id
        record = consent.of_person(window_engine.db, kit_id)
        assert record.recorded_via == "window" and record.text == settings.consent_text

        rose = [str(p) for p in sorted((faces_dir / "people" / "Rose_Leslie").iterdir())[:2]]
        from desktop.gui.people.consent_dialog import ask_consent
        ask_consent(window, window_engine, "Rose",
                    lambda given: window.enroll.enroll_files("Rose", rose, given))
        _consent(qtbot)
        qtbot.waitUntil(lambda: "Rose" in window.people.names(), timeout=WAIT)
        assert consent.of_person(window_engine.db, window_engine.gallery.person("Rose").id)
    finally:
        window.shutdown()


def test_encrypted_database_asks_for_the_key_at_start_up(tmp_path, qtbot):
    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QInputDialog, QLineEdit

    from desktop.engine.settings.file import load_settings
    from desktop.engine.storage.sqlite import Database
    from desktop.gui.app import ask_key
    settings = load_settings(tmp_path / "db")
    Database(settings.db_path, key="typed key").close()
    asked = []

    def answer() -> None:
        boxes = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QInputDialog) and w.isVisible()]
        if not boxes:
            QTimer.singleShot(50, answer)
            return
        asked.append(boxes[0].textEchoMode() == QLineEdit.Password)
        boxes[0].setTextValue("typed key")
        boxes[0].accept()
    QTimer.singleShot(50, answer)
    assert ask_key(settings) and settings.db_key == "typed key" and asked == [True]
    Database(settings.db_path, key=settings.db_key).close()  # the typed key opens it
    plain = load_settings(tmp_path / "plain")
    assert ask_key(plain) and plain.db_key is None  # nothing asked for a plain database
