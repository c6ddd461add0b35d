"""Enroll, rename and delete people from the window's menus and People tab."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt5.QtWidgets import QFileDialog, QTabWidget, QWidget

from desktop.engine import FaceEngine
from desktop.gui.dialogs import ask, ask_text, show_error
from desktop.gui.people.consent_dialog import ask_consent
from desktop.gui.people.enroll_flow import EnrollFlow
from desktop.gui.people.faces_dialog import FacesDialog
from desktop.gui.people.people_panel import PeoplePanel
from desktop.gui.tasks import TaskRunner
from desktop.gui.video.status_panel import StatusPanel

IMAGE_FILTER = "Photos (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff *.gif *.pgm *.ppm)"


class PeopleActions:
    """Each action asks what it needs, runs the engine call off the GUI thread, and
    reports through ``changed`` (the window then resets labels and refreshes lists)."""

    def __init__(self, engine: FaceEngine, tasks: TaskRunner, enroll: EnrollFlow,
                 people: PeoplePanel, tabs: QTabWidget, status: StatusPanel,
                 changed: Callable[[str], None], parent: QWidget) -> None:
        self.engine, self.tasks, self.enroll = engine, tasks, enroll
        self.people, self.tabs, self.status = people, tabs, status
        self.changed = changed
        self.window = parent

    def enroll_photos(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Photos of one person", "",
                                                IMAGE_FILTER)
        if paths:
            ask_text(self.window, "Enroll from photos", f"Name of the person in these "
                     f"{len(paths)} photo(s):", lambda name: self._consent_then_enroll(name, paths),
                     text=Path(paths[0]).parent.name.replace("_", " "))

    def _consent_then_enroll(self, name: str, paths: list[str]) -> None:
        """Consent first (when required here): no photo is processed without it."""
        ask_consent(self.window, self.engine, name,
                    lambda given: self.enroll.enroll_files(name, paths, given))

    def enroll_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Folder with one sub-folder of photos per person")
        if folder:
            self.enroll.enroll_folder(folder)

    def _target(self, name: str | None) -> str | None:
        name = name or self.people.selected_name()
        if name is None:
            self.tabs.setCurrentWidget(self.people)
            self.status.message("Select a person in the People list first")
        return name

    def delete(self, name: str | None = None) -> None:
        """Del: ask, then remove the person and all of their face data."""
        name = self._target(name)
        if name is None:
            return
        ask(self.window, "Delete person",
            f"Delete {name} and all of their face pictures?\nThis cannot be undone.",
            "Delete", on_yes=lambda keep: self._delete(name, keep),
            checkbox="Keep their attendance history (names and times only)",
            checked=not self.engine.settings.delete_attendance_with_person, destructive=True)

    def _delete(self, name: str, keep_attendance: bool) -> None:
        def done(report) -> None:
            kept = "kept" if report.kept_attendance else "removed"
            self.changed(f"Deleted {report.name}: {report.samples} picture(s); "
                         f"attendance {kept}")
        self.tasks.run(lambda: self.engine.delete(name, keep_attendance=keep_attendance), done,
                       lambda exc: show_error(self.window, "Could not delete", exc,
                                              str(self.engine.settings.log_path)))

    def pictures(self, name: str | None = None) -> FacesDialog | None:
        """Double-click: the person's pictures, each of which can be deleted."""
        name = self._target(name)
        if name is None:
            return None
        dialog = FacesDialog(self.engine, name, self.tasks, self.changed, self.window)
        dialog.open()
        return dialog

    def rename(self, name: str | None = None) -> None:
        name = self._target(name)
        if name is None:
            return
        ask_text(self.window, "Rename", f"New name for {name}:",
                 lambda new: self._rename(name, new), text=name)

    def _rename(self, old: str, new: str) -> None:
        if new == old:
            return
        self.tasks.run(lambda: self.engine.rename(old, new),
                       lambda person: self.changed(f"Renamed {old} to {person.name}"),
                       lambda exc: show_error(self.window, "Could not rename", exc))
