"""Enrolling people from the window: from the live camera, from photo files, from a folder.

Embedding and saving run on the task runner; a face that already matches someone else
asks "register anyway?" and retries with ``force=True``.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt5 import sip
from PyQt5.QtCore import QObject, Qt, pyqtSignal
from PyQt5.QtWidgets import QProgressDialog, QWidget

from desktop.engine import (
    Consent,
    DuplicateFaceError,
    EnrollReport,
    FaceEngine,
    FolderSummary,
    enroll_files,
    enroll_folder,
)
from desktop.gui.dialogs import ask, inform, show_error
from desktop.gui.people.register_dialog import RegisterDialog
from desktop.gui.tasks import Cancelled, TaskRunner

log = logging.getLogger(__name__)


class EnrollFlow(QObject):
    changed = pyqtSignal(str)
    """The gallery changed; the text says how (for the status bar)."""

    def __init__(self, engine: FaceEngine, tasks: TaskRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self.engine = engine
        self.tasks = tasks
        self.window = parent
        self._cancels: list[threading.Event] = []

    def cancel_all(self) -> None:
        """Stop folder enrollments at their next photo (the window is closing)."""
        for cancel in self._cancels:
            cancel.set()

    # ---------------------------------------------------------------- shared
    def _run_enroll(self, name: str, job: Callable[[bool], object],
                    on_done: Callable[[object], None],
                    on_cancel: Callable[[str], None] | None = None,
                    force: bool = False) -> None:
        """Run ``job(force)``; on a duplicate face ask, then retry with force."""
        def failed(exc: BaseException) -> None:
            if isinstance(exc, DuplicateFaceError) and not force:
                ask(self.window, "Already registered?",
                    f"This face looks like {exc.other} (similarity {exc.similarity:.2f}), "
                    f"who is already registered.\n\nRegister it as {name} anyway?",
                    "Register anyway",
                    on_yes=lambda _checked: self._run_enroll(name, job, on_done, on_cancel,
                                                             force=True),
                    on_no=lambda: on_cancel and on_cancel(f"{name} was not registered."))
                return
            show_error(self.window, f"Could not register {name}", exc,
                       str(self.engine.settings.log_path))
            if on_cancel:
                on_cancel(str(exc))
        self.tasks.run(lambda: job(force), on_done, failed)

    # ---------------------------------------------------------------- camera
    def save_registration(self, dialog: RegisterDialog, crops: list, source: str) -> None:
        """Save the crops a RegisterDialog collected as samples of its name."""
        name = dialog.name
        sources = [f"{source} #{i + 1}" for i in range(len(crops))]

        def done(person) -> None:
            message = f"Registered {person.name} ({person.samples} pictures in total)"
            log.info("%s", message)
            if not sip.isdeleted(dialog):  # the user may have closed it while saving
                dialog.saved(message)
            self.changed.emit(message)

        def cancelled(message: str) -> None:
            if not sip.isdeleted(dialog):
                dialog.failed(message)
        given = dialog.consent
        collected = list(dialog.collector.stored)
        stored = collected if len(collected) == len(crops) else None
        self._run_enroll(name, lambda force: self.engine.enroll_crops(name, crops, sources,
                                                                      force=force, consent=given,
                                                                      stored=stored),
                         done, cancelled)

    # ---------------------------------------------------------------- photo files
    def enroll_files(self, name: str, paths: list[str], consent: Consent | None = None) -> None:
        def job(force: bool) -> EnrollReport:
            return enroll_files(self.engine, name, paths, force=force, consent=consent)

        def done(report: Any) -> None:
            assert report.person is not None  # enroll raises when nothing was enrolled
            message = (f"Enrolled {report.person.name} from {report.added} photo(s) "
                       f"({report.person.samples} pictures in total)")
            problems = [f"{Path(s).name}: {why}" for s, why in report.skipped]
            if problems:
                inform(self.window, "Enrolled, with some photos skipped",
                       f"{message}.\n{len(problems)} photo(s) were not used.",
                       details="\n".join(problems))
            self.changed.emit(message)
        self._run_enroll(name, job, done)

    # ---------------------------------------------------------------- folder
    def enroll_folder(self, folder: str) -> QProgressDialog:
        """Enroll FOLDER/<person>/<photos> with a progress dialog that can cancel."""
        root = Path(folder)
        dialog = QProgressDialog(f"Enrolling the photos in {root.name}...", "Cancel", 0, 0,
                                 self.window)
        dialog.setWindowTitle("Enroll from a folder")
        dialog.setWindowModality(Qt.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        cancel = threading.Event()
        self._cancels.append(cancel)
        dialog.canceled.connect(cancel.set)

        def progress(done: int, total: int) -> None:
            if cancel.is_set():
                raise Cancelled()
            self.tasks.on_main(lambda: _set_progress(dialog, done, total))

        def finished(summary: FolderSummary) -> None:
            self._cancels.remove(cancel)
            dialog.close()
            text = summary.describe()
            head, _, rest = text.partition("\n")
            inform(self.window, "Enrollment finished", head + ".", details=rest or None,
                   warning=not summary.people)
            if summary.people:
                self.changed.emit(head)

        def failed(exc: BaseException) -> None:
            self._cancels.remove(cancel)
            dialog.close()
            if isinstance(exc, Cancelled):
                self.changed.emit("Enrollment cancelled; nobody was added")
                return
            show_error(self.window, "Could not enroll the folder", exc,
                       str(self.engine.settings.log_path))

        self.tasks.run(lambda: enroll_folder(self.engine, root, progress=progress),
                       finished, failed)
        dialog.show()
        return dialog


def _set_progress(dialog: QProgressDialog, done: int, total: int) -> None:
    if dialog.isVisible():
        dialog.setMaximum(total)
        dialog.setValue(done)
        dialog.setLabelText(f"Reading photo {done} of {total}...")
