"""The kiosk's main window: live preview with names, people, attendance, status.

It builds the widgets and wires the parts, each with one job: ``LiveBridge`` (the engine's
live pipeline as signals), ``SourceControl`` (which source, and what it says),
``Registration`` (Ctrl+R), ``PeopleActions`` (enroll, rename, delete), ``KioskMode``; the
engine does the work. Every question is a non-blocking dialog, so the preview never
stops while one is open.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QMainWindow, QSplitter, QTabWidget

from desktop.engine import (
    Applied,
    FaceEngine,
    PipelineListener,
    Recognition,
    SettingsError,
    note_settings,
    reconfigure,
)
from desktop.gui.attendance_panel import AttendancePanel
from desktop.gui.dialogs import show_error
from desktop.gui.export_dialog import ExportDialog
from desktop.gui.gc_guard import install_gui_gc
from desktop.gui.kiosk_mode import KioskMode
from desktop.gui.menus import build_menus
from desktop.gui.model_switch import offer_model_switch
from desktop.gui.people.enroll_flow import EnrollFlow
from desktop.gui.people.people_actions import PeopleActions
from desktop.gui.people.people_panel import PeoplePanel
from desktop.gui.people.registration import Registration
from desktop.gui.settings_dialog import SettingsDialog
from desktop.gui.style import stylesheet
from desktop.gui.tasks import TaskRunner
from desktop.gui.traffic_panel import TrafficPanel
from desktop.gui.video.live_bridge import LiveBridge
from desktop.gui.video.rate_meter import RateMeter
from desktop.gui.video.source_control import SourceControl
from desktop.gui.video.status_panel import StatusPanel
from desktop.gui.video.video_view import VideoView

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    recognized = pyqtSignal(object)
    """Every recognition result, after the window has shown it (for dialogs and tests)."""
    gallery_changed = pyqtSignal(str)
    settings_applied = pyqtSignal(object)
    """An ``Applied`` after the settings dialog's changes took effect and were saved."""

    def __init__(self, engine: FaceEngine, *, owns_engine: bool = False,
                 source: str | None = None,
                 listeners: Sequence[PipelineListener] = ()) -> None:
        """``listeners`` also observe the live pipeline from the first frame (the
        benchmark measures the window with one)."""
        super().__init__()
        install_gui_gc()  # this window's threads must never free its widgets
        self.engine = engine
        self.settings = engine.settings
        self.owns_engine = owns_engine
        self.setWindowTitle("Reception")
        self.setStyleSheet(stylesheet())
        self.resize(1280, 760)
        self.tasks = TaskRunner(self)
        self.last_recognition: Recognition | None = None
        self.recognition_rate = RateMeter()
        self._closed = False

        self.video = VideoView()
        self.people = PeoplePanel(engine)
        self._store_was_online = engine.store_status().online
        self.attendance = AttendancePanel(engine)
        self.tabs = QTabWidget(objectName="sideTabs")
        self.tabs.addTab(self.people, "People")
        self.tabs.addTab(self.attendance, "Attendance")
        self.traffic = TrafficPanel(engine.attendance)
        self.tabs.addTab(self.traffic, "Traffic")
        self.tabs.setMinimumWidth(360)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.video)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([860, 420])
        self.setCentralWidget(splitter)
        self.status = StatusPanel(self.statusBar())
        self.status.show_model(engine.models.embedder.info.name,
                               str(engine.models.embedder.device))
        self.status.show_people(engine.gallery.size)
        self.status.show_store(engine.store_status())

        self.live = LiveBridge(engine, self, listeners)
        self.source = SourceControl(self.live, self.settings, self.video, self.status, self)
        self.enroll = EnrollFlow(engine, self.tasks, self)
        self.enroll.changed.connect(self.on_gallery_changed)
        self.registration = Registration(engine, self.enroll, self.source,
                                         lambda: self.last_recognition, self)
        self.people_actions = PeopleActions(engine, self.tasks, self.enroll, self.people,
                                            self.tabs, self.status, self.on_gallery_changed,
                                            self)
        self.toolbar = build_menus(self)
        self.kiosk = KioskMode(self, [self.menuBar(), self.toolbar, self.tabs,
                                      self.statusBar()])
        self._connect_panels()

        self.live.source_changed.connect(self._forget_recognition)
        self.live.result_ready.connect(self._on_recognition)
        self.live.failed.connect(lambda text: self.status.message(text))
        self.live.activity_changed.connect(self.status.show_activity)
        self._stats = QTimer(self, interval=500, timeout=self._update_rates)
        self._stats.start()
        self.source.set_source(source or self.settings.source)

    def _connect_panels(self) -> None:
        actions = self.people_actions
        self.people.register_requested.connect(self.registration.register)
        self.people.photos_requested.connect(actions.enroll_photos)
        self.people.folder_requested.connect(actions.enroll_folder)
        self.people.rename_requested.connect(actions.rename)
        self.people.pictures_requested.connect(actions.pictures)
        self.people.delete_requested.connect(actions.delete)
        self.attendance.export_requested.connect(self.export_attendance)

    # ---------------------------------------------------------------- recognition
    def _on_recognition(self, recognition: Recognition) -> None:
        if self._closed:
            return
        self.last_recognition = recognition
        self.recognition_rate.tick()
        self.video.show_recognition(recognition)
        self.status.show_recognition(recognition)
        if recognition.checkins:
            self.video.banner.greet([c.name for c in recognition.checkins])
        if recognition.checkins or any(t.newly_labelled for t in recognition.tracks):
            self.attendance.refresh()  # a check-in, or a visitor counted
        self.registration.offer(recognition)
        self.recognized.emit(recognition)

    def _forget_recognition(self, _spec: str = "") -> None:
        self.last_recognition = None
        self.video.recognition = None

    def _update_rates(self) -> None:
        self.status.show_rates(self.video.preview_rate.rate(), self.recognition_rate.rate())
        store = self.engine.store_status()
        if store.online and not self._store_was_online:
            self.people.refresh()  # a kiosk that started offline has no list yet
        self._store_was_online = store.online
        self.status.show_store(store)

    # ---------------------------------------------------------------- people
    def on_gallery_changed(self, message: str) -> None:
        """After enroll, delete or rename: labels must be decided afresh."""
        self.live.pipeline.reset()
        self._forget_recognition()
        self.people.refresh()
        self.attendance.refresh()
        self.status.show_people(self.engine.gallery.size)
        self.status.message(message)
        self.gallery_changed.emit(message)

    # ---------------------------------------------------------------- attendance
    def export_attendance(self) -> ExportDialog:
        day = self.attendance.date.date()
        dialog = ExportDialog(day, day, parent=self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._export(
            *dialog.range(), Path(dialog.path.text()).expanduser().absolute()))
        dialog.open()
        return dialog

    def _export(self, first: str, last: str, path: Path) -> None:
        self.tasks.run(lambda: self.engine.attendance.export_csv(first, last, path),
                       lambda count: self.status.message(
                           f"Exported {count} row(s) for {first} to {last} to {path}"),
                       lambda exc: show_error(self, "Could not export", exc))

    # ---------------------------------------------------------------- settings
    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.engine.gallery.threshold, self,
                                model_name=self.engine.gallery.model.name)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.changes()))
        dialog.open()
        return dialog

    def apply_settings(self, changes: dict[str, Any]) -> None:
        """Apply (off the GUI thread: a new detector loads networks), then save only what
        the user changed."""
        if changes:
            self.tasks.run(lambda: reconfigure(self.engine, changes, self.live.pipeline),
                           self._settings_applied,
                           lambda exc: show_error(self, "Could not apply the settings", exc))

    def _settings_applied(self, applied: Applied) -> None:
        try:
            self.settings.save(applied.values)
            self.tasks.run(lambda: note_settings(self.engine, "window"), lambda _c: None,
                           lambda exc: log.warning("Settings change not audited: %s", exc))
            self.status.message(f"Settings saved to {self.settings.db_dir / 'settings.json'}")
        except (OSError, SettingsError) as exc:
            show_error(self, "Could not save the settings", exc)
        if applied.reembed_needed:
            offer_model_switch(self, applied.reembed_needed)
        self.settings_applied.emit(applied)

    # ---------------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Stop threads and the task worker; close the engine if this window owns it."""
        if self._closed:
            return
        self._closed = True
        self._stats.stop()
        self.attendance.stop()
        self.traffic.stop()
        self.live.stop()
        self.enroll.cancel_all()
        self.tasks.shutdown()
        if self.owns_engine:
            self.engine.close()
        log.info("Window closed")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's naming
        self.shutdown()
        super().closeEvent(event)
