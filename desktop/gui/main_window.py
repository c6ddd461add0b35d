"""The kiosk's main window: live preview with names, people, attendance, status.

It wires the threads to the widgets and turns menu actions into engine calls; the
engine does the work. Every question is a non-blocking dialog, so the preview never
stops while one is open.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (QAction, QFileDialog, QMainWindow, QShortcut, QSplitter,
                             QTabWidget, QToolBar, QWidget)

from ..engine.detection import FaceDetector
from ..engine.consent import Consent
from ..engine.errors import SourceError
from ..engine.privacy import note_settings
from ..engine.recognizer import FaceEngine
from ..engine.sources import LatestFrame, SourceState, SourceStatus, open_source, source_kind
from .attendance_panel import AttendancePanel
from .capture import CaptureThread
from .consent_dialog import ask_consent
from .dialogs import ask, ask_text, inform, show_error
from .enroll_flow import EnrollFlow
from .export_dialog import ExportDialog
from .people_panel import PeoplePanel
from .rate_meter import RateMeter
from .recognition import Recognition, RecognitionThread
from .register_dialog import RegisterDialog
from .sample_collector import SEVERAL, subject
from .settings_dialog import VIDEO_FILTER, SettingsDialog
from .status_panel import StatusPanel
from .style import stylesheet
from .tasks import TaskRunner
from .video_view import VideoView

log = logging.getLogger(__name__)

FRESH_SECONDS = 2.0
"""A recognition result older than this does not describe who is in front of the camera."""
IMAGE_FILTER = "Photos (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff *.gif *.pgm *.ppm)"


class MainWindow(QMainWindow):
    recognized = pyqtSignal(object)
    """Every recognition result, after the window has shown it (for dialogs and tests)."""
    gallery_changed = pyqtSignal(str)

    def __init__(self, engine: FaceEngine, *, owns_engine: bool = False,
                 source: str | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.settings = engine.settings
        self.owns_engine = owns_engine
        self.setWindowTitle("Reception")
        self.setStyleSheet(stylesheet())
        self.resize(1280, 760)
        self.tasks = TaskRunner(self)
        self.slot = LatestFrame()
        self.capture: CaptureThread | None = None
        self.source_spec = ""
        self.source_status: SourceStatus | None = None
        self.last_recognition: Recognition | None = None
        self.register_dialog: RegisterDialog | None = None
        self.recognition_rate = RateMeter()
        self._ignore_before_seq = 0
        self._closed = False

        self.video = VideoView()
        self.people = PeoplePanel(engine)
        self.attendance = AttendancePanel(engine)
        self.tabs = QTabWidget(objectName="sideTabs")
        self.tabs.addTab(self.people, "People")
        self.tabs.addTab(self.attendance, "Attendance")
        self.tabs.setMinimumWidth(360)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.video)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([860, 420])
        self.setCentralWidget(self.splitter)
        self.status = StatusPanel(self.statusBar())
        self.status.show_model(engine.models.embedder.info.name,
                               str(engine.models.embedder.device))
        self.status.show_people(engine.gallery.size)
        self.enroll = EnrollFlow(engine, self.tasks, self)
        self.enroll.changed.connect(self.on_gallery_changed)
        self._build_actions()
        self._connect_panels()

        self.recognition = RecognitionThread(engine, self.slot, self)
        self.recognition.result_ready.connect(self._on_recognition)
        self.recognition.failed.connect(lambda text: self.status.message(text))
        self.recognition.start()
        self._stats = QTimer(self, interval=500, timeout=self._update_rates)
        self._stats.start()
        self.set_source(source or self.settings.source)

    # ---------------------------------------------------------------- actions
    def _action(self, text: str, slot, shortcut: str | QKeySequence | None = None,
                tip: str | None = None) -> QAction:
        action = QAction(text, self, triggered=lambda _checked=False: slot())
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        self.addAction(action)  # shortcuts keep working with the menus hidden (kiosk mode)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.act_register = a("&Register from camera...", self.register, "Ctrl+R",
                              "Register the person in front of the camera")
        self.act_photos = a("Enroll from &photos...", self.enroll_photos, "Ctrl+P")
        self.act_folder = a("Enroll from a &folder...", self.enroll_folder)
        self.act_rename = a("Re&name...", lambda: self.rename_person(), "F2")
        self.act_delete = a("&Delete...", lambda: self.delete_person(), QKeySequence.Delete)
        self.act_settings = a("&Settings...", self.open_settings, "Ctrl+,")
        self.act_fullscreen = a("&Full screen (kiosk)", self.toggle_fullscreen, "F11")
        self.act_quit = a("&Quit", self.close, "Ctrl+Q")
        self.act_camera = a("Use the &camera", lambda: self.set_source(self.camera_spec()))
        self.act_video = a("Open a &video file...", self.choose_video, "Ctrl+O")
        self.act_images = a("Open a folder of p&hotos...", self.choose_folder)
        self.act_stream = a("Open a &stream address...", self.choose_stream)
        self.act_export = a("&Export attendance...", self.export_attendance, "Ctrl+E")
        self.act_shortcuts = a("&Keyboard shortcuts", self.show_shortcuts)
        QShortcut(QKeySequence(Qt.Key_Escape), self, activated=self.leave_fullscreen)

        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        for action in (self.act_camera, self.act_video, self.act_images, self.act_stream):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.act_export)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        people_menu = menus.addMenu("&People")
        for action in (self.act_register, self.act_photos, self.act_folder):
            people_menu.addAction(action)
        people_menu.addSeparator()
        people_menu.addAction(self.act_rename)
        people_menu.addAction(self.act_delete)
        view_menu = menus.addMenu("&View")
        view_menu.addAction(self.act_fullscreen)
        view_menu.addAction(self.act_settings)
        menus.addMenu("&Help").addAction(self.act_shortcuts)

        self.toolbar = QToolBar("Main", objectName="mainToolbar", movable=False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.toolbar.addAction(self.act_register)
        self.toolbar.addAction(self.act_photos)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.act_video)
        self.toolbar.addAction(self.act_images)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.act_settings)
        self.toolbar.addAction(self.act_fullscreen)
        self.addToolBar(self.toolbar)

    def _connect_panels(self) -> None:
        self.people.register_requested.connect(self.register)
        self.people.photos_requested.connect(self.enroll_photos)
        self.people.folder_requested.connect(self.enroll_folder)
        self.people.rename_requested.connect(self.rename_person)
        self.people.delete_requested.connect(self.delete_person)
        self.attendance.export_requested.connect(self.export_attendance)
        message = self.video.message
        message.open_file.connect(self.choose_video)
        message.open_folder.connect(self.choose_folder)
        message.use_camera.connect(lambda: self.set_source(self.camera_spec()))
        message.retry.connect(lambda: self.set_source(self.source_spec))

    # ---------------------------------------------------------------- source
    def camera_spec(self) -> str:
        spec = self.settings.source.strip()
        return spec if spec.isdigit() else "0"

    @property
    def source_kind(self) -> str:
        try:
            return source_kind(self.source_spec)
        except SourceError:
            return "source"

    @property
    def source_description(self) -> str:
        try:
            return open_source(self.source_spec).describe()
        except SourceError:
            return self.source_spec

    @property
    def source_live(self) -> bool:
        return self.source_status is not None and self.source_status.state is SourceState.LIVE

    def set_source(self, spec: str) -> None:
        """Show ``spec`` (camera index, video, folder or URL) instead of the current source."""
        self._stop_capture()
        self.source_spec = spec.strip()
        self.source_status = None
        self._ignore_before_seq = self.slot.seq
        self.slot.clear()
        self.video.clear()
        self.recognition.request_reset()
        self.last_recognition = None
        self.status.reset()
        log.info("Source: %s", self.source_spec)
        capture = CaptureThread(self.source_spec, self.settings, self.slot, self)
        capture.frame_ready.connect(lambda c=capture: self._on_frame_ready(c))
        capture.status_changed.connect(lambda s, c=capture: self._on_source_status(c, s))
        self.capture = capture
        capture.start()

    def _stop_capture(self) -> None:
        if self.capture is not None:
            self.capture.stop()
            self.capture = None

    def _on_frame_ready(self, capture: CaptureThread) -> None:
        if capture is not self.capture:
            return
        capture.frame_taken()
        frame = self.slot.latest()
        if frame is not None:
            self.video.show_frame(frame)

    def _on_source_status(self, capture: CaptureThread, status: SourceStatus) -> None:
        if capture is not self.capture:
            return
        self.source_status = status
        self.video.message.show_status(status, self.source_kind)
        self.status.show_source(self.source_description, status)
        if status.state in (SourceState.RETRYING, SourceState.ENDED, SourceState.FAILED):
            self.video.clear()
        if status.loops and self.source_kind == "video":
            self.status.message(status.message, 3000)

    def choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a video file", "", VIDEO_FILTER)
        if path:
            self.set_source(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of photos")
        if path:
            self.set_source(path)

    def choose_stream(self) -> None:
        ask_text(self, "Open a stream", "Stream address (rtsp://... or http://...):",
                 self.set_source, text="rtsp://")

    # ---------------------------------------------------------------- recognition
    def _on_recognition(self, recognition: Recognition) -> None:
        if recognition.frame_seq <= self._ignore_before_seq or self._closed:
            return  # a frame of the previous source
        self.last_recognition = recognition
        self.recognition_rate.tick()
        self.video.show_recognition(recognition)
        self.status.show_recognition(recognition)
        if recognition.checkins:
            self.video.banner.greet([c.name for c in recognition.checkins])
        if recognition.checkins or any(t.newly_labelled for t in recognition.tracks):
            self.attendance.refresh()  # a check-in, or a visitor counted
        if self.register_dialog is not None:
            self.register_dialog.offer(recognition)
        self.recognized.emit(recognition)

    def _update_rates(self) -> None:
        self.status.show_rates(self.video.preview_rate.rate(), self.recognition_rate.rate())

    def fresh_recognition(self) -> Recognition | None:
        rec = self.last_recognition
        if rec is None or time.monotonic() - rec.finished > FRESH_SECONDS:
            return None
        return rec

    # ---------------------------------------------------------------- people
    def on_gallery_changed(self, message: str) -> None:
        """After enroll, delete or rename: labels must be decided afresh."""
        self._ignore_before_seq = self.slot.seq  # results in flight carry old labels
        self.recognition.request_reset()
        self.video.recognition = None
        self.people.refresh()
        self.attendance.refresh()
        self.status.show_people(self.engine.gallery.size)
        self.status.message(message)
        self.gallery_changed.emit(message)

    def register(self) -> None:
        """Ctrl+R: check there is exactly one person in view, ask the name, capture."""
        if self.register_dialog is not None:
            self.register_dialog.raise_()
            return
        recognition = self.fresh_recognition()
        if not self.source_live or recognition is None:
            inform(self, "No camera picture",
                   "Registering needs a live picture of the person. Connect a camera, or "
                   "open a video or a folder of photos, then press Register again.",
                   warning=True)
            return
        face, problem = subject([t.face for t in recognition.tracks])
        if face is None:
            text = ("There is more than one person in front of the camera. Registering "
                    "needs one person alone in the picture." if problem == SEVERAL else
                    "Nobody is in front of the camera. Ask the person to stand in front of "
                    "it and look at it, then press Register again.")
            inform(self, "Cannot register now", text, warning=True)
            return
        ask_text(self, "Register", "Name of the person in front of the camera:",
                 self.confirm_register)

    def confirm_register(self, name: str) -> None:
        existing = next((p.name for p in self.engine.gallery.people()
                         if p.name.casefold() == name.casefold()), None)
        if existing:
            ask(self, "Already registered", f"{existing} is already registered. Add new "
                f"pictures to {existing}?", "Add pictures",
                on_yes=lambda _checked: self.start_register(existing))
        else:  # consent first: no picture is taken of someone who did not agree
            ask_consent(self, self.engine, name, lambda given: self.start_register(name, given))

    def start_register(self, name: str, consent: Consent | None = None) -> RegisterDialog:
        """Open the capture dialog for ``name``; it takes crops from the live results."""
        dialog = RegisterDialog(name, parent=self)
        dialog.consent = consent
        dialog.captured.connect(lambda crops: self.enroll.save_registration(
            dialog, crops, f"camera: {self.source_description}"))
        dialog.finished.connect(lambda _result: self._register_closed(dialog))
        self.register_dialog = dialog
        dialog.open()
        return dialog

    def _register_closed(self, dialog: RegisterDialog) -> None:
        if self.register_dialog is dialog:
            self.register_dialog = None

    def enroll_photos(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Photos of one person", "", IMAGE_FILTER)
        if paths:
            ask_text(self, "Enroll from photos", f"Name of the person in these "
                     f"{len(paths)} photo(s):", lambda name: ask_consent(
                         self, self.engine, name,
                         lambda given: self.enroll.enroll_files(name, paths, given)),
                     text=Path(paths[0]).parent.name.replace("_", " "))

    def enroll_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Folder with one sub-folder of photos per person")
        if folder:
            self.enroll.enroll_folder(folder)

    def _target(self, name: str | None) -> str | None:
        name = name or self.people.selected_name()
        if name is None:
            self.tabs.setCurrentWidget(self.people)
            self.status.message("Select a person in the People list first")
        return name

    def delete_person(self, name: str | None = None) -> None:
        """Del: ask, then remove the person and all of their face data."""
        name = self._target(name)
        if name is None:
            return
        ask(self, "Delete person",
            f"Delete {name} and all of their face pictures?\nThis cannot be undone.",
            "Delete", on_yes=lambda keep: self._delete(name, keep),
            checkbox="Keep their attendance history (names and times only)",
            checked=not self.settings.delete_attendance_with_person, destructive=True)

    def _delete(self, name: str, keep_attendance: bool) -> None:
        def done(report) -> None:
            kept = "kept" if report.kept_attendance else "removed"
            self.on_gallery_changed(f"Deleted {report.name}: {report.samples} picture(s); "
                                    f"attendance {kept}")
        self.tasks.run(lambda: self.engine.delete(name, keep_attendance=keep_attendance), done,
                       lambda exc: show_error(self, "Could not delete", exc,
                                              str(self.settings.log_path)))

    def rename_person(self, name: str | None = None) -> None:
        name = self._target(name)
        if name is None:
            return
        ask_text(self, "Rename", f"New name for {name}:",
                 lambda new: self._rename(name, new), text=name)

    def _rename(self, old: str, new: str) -> None:
        if new == old:
            return
        self.tasks.run(lambda: self.engine.rename(old, new),
                       lambda person: self.on_gallery_changed(f"Renamed {old} to {person.name}"),
                       lambda exc: show_error(self, "Could not rename", exc))

    # ---------------------------------------------------------------- attendance
    def export_attendance(self) -> ExportDialog:
        day = self.attendance.date.date()
        dialog = ExportDialog(day, day, Path.home(), self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._export(*dialog.range(), Path(dialog.path.text())))
        dialog.open()
        return dialog

    def _export(self, first: str, last: str, path: Path) -> None:
        self.tasks.run(lambda: self.engine.attendance.export_csv(first, last, path),
                       lambda count: self.status.message(
                           f"Exported {count} row(s) for {first} to {last} to {path}"),
                       lambda exc: show_error(self, "Could not export", exc))

    # ---------------------------------------------------------------- settings
    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.engine.gallery.threshold, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.changes()))
        dialog.open()
        return dialog

    def apply_settings(self, changes: dict[str, Any]) -> None:
        """Apply, save, and restart only what the changed values need."""
        if not changes:
            return
        log.info("Settings changed: %s", changes)
        for key, value in changes.items():
            setattr(self.settings, key, value)
        if "cooldown_minutes" in changes:
            self.engine.attendance.cooldown = self.settings.cooldown_minutes * 60.0
        if "min_face_size" in changes:
            self.tasks.run(self._new_detector, lambda _none: self.recognition.request_reset(),
                           lambda exc: show_error(self, "Could not apply the face size", exc))
        if "threshold" in changes:
            self.recognition.request_reset()
        if {"source", "loop_video"} & changes.keys():
            self.set_source(self.settings.source)
        try:
            self.settings.save()
            self.tasks.run(lambda: note_settings(self.engine, "window"), lambda _c: None,
                           lambda exc: log.warning("Settings change not audited: %s", exc))
            self.status.message(f"Settings saved to {self.settings.db_dir / 'settings.json'}")
        except OSError as exc:
            show_error(self, "Could not save the settings", exc)

    def _new_detector(self) -> None:
        """MTCNN with the new smallest face size, built on the models' inference thread."""
        s = self.settings
        models = self.engine.models
        models.detector = models.run(lambda: FaceDetector(
            min_face_size=s.min_face_size, thresholds=s.det_thresholds,
            min_prob=s.min_det_prob, max_side=s.detect_max_side, device=s.device))

    # ---------------------------------------------------------------- view
    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.leave_fullscreen()
            return
        for widget in self._chrome():
            widget.hide()
        self.showFullScreen()

    def leave_fullscreen(self) -> None:
        if not self.isFullScreen():
            return
        self.showNormal()
        for widget in self._chrome():
            widget.show()

    def _chrome(self) -> list[QWidget]:
        """Everything but the video: hidden in kiosk (full screen) mode."""
        return [self.menuBar(), self.toolbar, self.tabs, self.statusBar()]

    def show_shortcuts(self) -> None:
        inform(self, "Keyboard shortcuts",
               "Ctrl+R   Register the person in front of the camera\n"
               "Del      Delete the selected person\n"
               "F2       Rename the selected person\n"
               "Ctrl+P   Enroll from photos\n"
               "Ctrl+O   Open a video file\n"
               "Ctrl+E   Export attendance to CSV\n"
               "Ctrl+,   Settings\n"
               "F11      Full screen (kiosk mode); Esc leaves it\n"
               "Ctrl+Q   Quit")

    # ---------------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Stop threads and the task worker; close the engine if this window owns it."""
        if self._closed:
            return
        self._closed = True
        self._stats.stop()
        self.attendance.stop()
        self._stop_capture()
        self.recognition.stop()
        self.enroll.cancel_all()
        self.tasks.shutdown()
        if self.owns_engine:
            self.engine.close()
        log.info("Window closed")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's naming
        self.shutdown()
        super().closeEvent(event)
