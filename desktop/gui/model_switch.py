"""Changing the face model from the settings dialog: the gallery must be re-embedded with
the new model first (nobody re-enrols), so the window asks, then runs it with a progress
dialog through the task runner (engine use case: reembedding.switch_model)."""
from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QMessageBox, QProgressDialog, QWidget

from desktop.engine import figures_for, switch_model
from desktop.gui.dialogs import show_error


def model_label(spec: str) -> str:
    figures = figures_for(spec)
    return figures.label if figures else spec


def offer_model_switch(window, spec: str) -> QMessageBox:
    """Ask whether to re-embed now; Yes starts ``switch_with_progress``."""
    count = window.engine.gallery.sample_count
    box = QMessageBox(QMessageBox.Question, "Change the face model",
                      f"{model_label(spec)} needs every enrolled face ({count} sample(s)) "
                      f"re-embedded from the stored faces; nobody has to enrol again. Until "
                      f"then the kiosk keeps its current model. Re-embed now?",
                      QMessageBox.Yes | QMessageBox.No, window)
    box.setObjectName("modelSwitchQuestion")
    box.setWindowModality(Qt.WindowModal)
    box.finished.connect(lambda result: result == QMessageBox.Yes
                         and switch_with_progress(window, spec))
    box.open()
    return box


def switch_with_progress(window, spec: str) -> QProgressDialog:
    """Re-embed with ``spec`` in the background; on success save it to settings.json."""
    dialog = QProgressDialog(f"Re-embedding with {model_label(spec)}...", None, 0, 0, window)
    dialog.setObjectName("modelSwitchProgress")
    dialog.setWindowTitle("Change the face model")
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumDuration(0)

    def progress(done: int, total: int) -> None:
        window.tasks.on_main(lambda: _set_progress(dialog, done, total))

    def finished(count: int) -> None:
        dialog.close()
        window.settings.save({"model": spec})
        window.live.pipeline.reset(rebuild=True)
        window.status.message(f"Face model is now {model_label(spec)}: {count} sample(s) "
                              f"re-embedded")

    def failed(exc: BaseException) -> None:
        dialog.close()
        show_error(window, "Could not change the face model", exc)

    window.tasks.run(lambda: switch_model(window.engine, spec, progress), finished, failed)
    dialog.show()
    return dialog


def _set_progress(dialog: QWidget, done: int, total: int) -> None:
    if dialog.isVisible():
        dialog.setMaximum(total)
        dialog.setValue(done)
