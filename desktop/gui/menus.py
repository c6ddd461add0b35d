"""The window's actions, menus, toolbar and shortcuts, in one table-like place."""
from __future__ import annotations

from collections.abc import Callable

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QMainWindow, QToolBar

from desktop.gui.dialogs import inform

SHORTCUTS = ("Ctrl+R   Register the person in front of the camera\n"
             "Del      Delete the selected person\n"
             "F2       Rename the selected person\n"
             "Ctrl+P   Enroll from photos\n"
             "Ctrl+O   Open a video file\n"
             "Ctrl+E   Export attendance to CSV\n"
             "Ctrl+,   Settings\n"
             "F11      Full screen (kiosk mode); Esc leaves it\n"
             "Ctrl+Q   Quit")


def _action(window: QMainWindow, text: str, slot: Callable[[], object],
            shortcut: str | QKeySequence | None = None, tip: str | None = None) -> QAction:
    action = QAction(text, window, triggered=lambda _checked=False: slot())
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.WindowShortcut)
    if tip:
        action.setStatusTip(tip)
    window.addAction(action)  # shortcuts keep working with the menus hidden (kiosk mode)
    return action


def build_menus(w: QMainWindow) -> QToolBar:
    """Create the ``act_*`` actions on ``w`` (a ``main_window.MainWindow``, typed as its Qt
    base so this module does not import the window that imports it), its menus and
    toolbar; returns the toolbar."""
    a = _action
    w.act_register = a(w, "&Register from camera...", w.registration.register, "Ctrl+R",
                       "Register the person in front of the camera")
    w.act_photos = a(w, "Enroll from &photos...", w.people_actions.enroll_photos, "Ctrl+P")
    w.act_folder = a(w, "Enroll from a &folder...", w.people_actions.enroll_folder)
    w.act_rename = a(w, "Re&name...", w.people_actions.rename, "F2")
    w.act_delete = a(w, "&Delete...", w.people_actions.delete, QKeySequence.Delete)
    w.act_settings = a(w, "&Settings...", w.open_settings, "Ctrl+,")
    w.act_fullscreen = a(w, "&Full screen (kiosk)", lambda: w.kiosk.toggle(), "F11")
    w.act_quit = a(w, "&Quit", w.close, "Ctrl+Q")
    w.act_camera = a(w, "Use the &camera", w.source.use_camera)
    w.act_video = a(w, "Open a &video file...", w.source.choose_video, "Ctrl+O")
    w.act_images = a(w, "Open a folder of p&hotos...", w.source.choose_folder)
    w.act_stream = a(w, "Open a &stream address...", w.source.choose_stream)
    w.act_export = a(w, "&Export attendance...", w.export_attendance, "Ctrl+E")
    w.act_shortcuts = a(w, "&Keyboard shortcuts", lambda: inform(w, "Keyboard shortcuts",
                                                                  SHORTCUTS))
    menus = w.menuBar()
    file_menu = menus.addMenu("&File")
    for action in (w.act_camera, w.act_video, w.act_images, w.act_stream):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(w.act_export)
    file_menu.addSeparator()
    file_menu.addAction(w.act_quit)
    people_menu = menus.addMenu("&People")
    for action in (w.act_register, w.act_photos, w.act_folder):
        people_menu.addAction(action)
    people_menu.addSeparator()
    people_menu.addAction(w.act_rename)
    people_menu.addAction(w.act_delete)
    view_menu = menus.addMenu("&View")
    view_menu.addAction(w.act_fullscreen)
    view_menu.addAction(w.act_settings)
    menus.addMenu("&Help").addAction(w.act_shortcuts)

    toolbar = QToolBar("Main", objectName="mainToolbar", movable=False)
    toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
    for action in (w.act_register, w.act_photos, None, w.act_video, w.act_images, None,
                   w.act_settings, w.act_fullscreen):
        if action is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(action)
    w.addToolBar(toolbar)
    return toolbar
