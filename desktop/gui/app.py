"""Boot the window: settings (given) -> logging (done by the CLI) -> engine -> window.

Models load on the task runner behind a small splash, so the desktop does not think the
program hung; a startup failure the user can fix (missing weights, damaged database,
another model's embeddings) is shown in a message box, not as a traceback.
"""
from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

from PyQt5 import sip
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QColor, QFont, QPainter, QPixmap
from PyQt5.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox, QSplashScreen

from desktop.engine import FaceEngine, KioskError, Models, Settings, is_encrypted
from desktop.gui.gc_guard import install_gui_gc
from desktop.gui.main_window import MainWindow
from desktop.gui.tasks import TaskRunner

log = logging.getLogger(__name__)

APP_NAME = "Reception kiosk"


def application() -> QApplication:
    """The QApplication (created once)."""
    app = QApplication.instance()
    if app is None:
        QApplication.setAttribute(Qt.AA_EnableHighDpiScaling, True)
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    install_gui_gc()
    return app


def splash_screen(text: str) -> QSplashScreen:
    picture = QPixmap(460, 150)
    picture.fill(QColor("#1f2a36"))
    painter = QPainter(picture)
    painter.setPen(QColor("white"))
    font = QFont()
    font.setPixelSize(26)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(picture.rect().adjusted(0, 28, 0, 0), Qt.AlignHCenter | Qt.AlignTop,
                     APP_NAME)
    painter.end()
    splash = QSplashScreen(picture)
    splash.showMessage(text, Qt.AlignHCenter | Qt.AlignBottom, QColor("#c9d4df"))
    return splash


def startup_error(exc: BaseException, settings: Settings) -> QMessageBox:
    """A message box explaining why the kiosk cannot start (not yet shown)."""
    if isinstance(exc, KioskError):
        text = str(exc)
    else:
        text = (f"Unexpected error: {exc}\n\nDetails are in the log file "
                f"{settings.log_path}.")
    box = QMessageBox(QMessageBox.Critical, "The kiosk cannot start", text, QMessageBox.Ok)
    box.setTextFormat(Qt.PlainText)
    box.setAttribute(Qt.WA_DeleteOnClose)
    return box


def ask_key(settings: Settings) -> bool:
    """An encrypted database and no key from $FACE_KIOSK_KEY or --key-file: ask for it.
    False if the user cancels. A wrong key is reported by the engine like any start-up
    problem (one message, nothing changed)."""
    if settings.db_key or not is_encrypted(settings.db_path):
        return True
    key, ok = QInputDialog.getText(None, APP_NAME, f"{settings.db_path} is encrypted.\n"
                                   "Key:", QLineEdit.Password)
    if ok and key:
        settings.db_key = key
    return bool(ok and key)


def _log_uncaught(kind, value, tb) -> None:
    """PyQt aborts on an exception escaping a slot; log it and keep the kiosk running."""
    log.error("Uncaught exception:\n%s", "".join(traceback.format_exception(kind, value, tb)))


def run_app(settings: Settings, *, engine: FaceEngine | None = None,
            models: Models | None = None) -> int:
    """Open the kiosk window and run until it is closed; returns the exit code.

    With ``engine`` (tests, embedding) the window uses it and leaves it open afterwards;
    otherwise the engine is built here from ``settings`` (and ``models``, if given).
    """
    app = application()
    if sys.excepthook is sys.__excepthook__:  # leave test harnesses' hooks alone
        sys.excepthook = _log_uncaught
    if engine is not None:
        window = MainWindow(engine, owns_engine=False)
        window.setAttribute(Qt.WA_DeleteOnClose)
        window.show()
        return app.exec_()

    if not ask_key(settings):
        return 1
    state: dict[str, object] = {}
    splash = splash_screen("Loading the face models...")
    splash.show()
    loader = TaskRunner()

    def loaded(new_engine: FaceEngine) -> None:
        log.info("Engine ready: %d people, model %s on %s (models loaded in %.1f s)",
                 new_engine.gallery.size, new_engine.models.embedder.info.name,
                 new_engine.models.embedder.device, new_engine.models.load_seconds)
        new_engine.start_retention()  # now and every retention_interval_hours
        window = MainWindow(new_engine, owns_engine=True)
        window.setAttribute(Qt.WA_DeleteOnClose)
        state["window"] = window
        window.show()  # before the splash closes, or the last window closing quits
        splash.finish(window)

    def failed(exc: BaseException) -> None:
        log.error("Cannot start: %s", exc, exc_info=not isinstance(exc, KioskError))
        box = startup_error(exc, settings)
        state["error"] = box
        # queued: closing the last window also posts a quit; exiting before it is handled
        # would leave that quit pending, and it would stop every later event loop at once
        box.finished.connect(lambda _r: QTimer.singleShot(0, lambda: app.exit(1)))
        box.show()
        splash.close()

    loader.run(lambda: FaceEngine(settings, models, frontend="window"), loaded, failed)
    code = app.exec_()
    loader.shutdown()
    last: Any = state.get("window")
    if isinstance(last, MainWindow) and not sip.isdeleted(last):
        last.shutdown()
    return code
