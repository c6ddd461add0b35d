"""Small non-blocking question and message boxes.

They are opened with ``open()`` (window-modal, no nested event loop) and answer through
callbacks, so the preview keeps running while a question is on screen and tests can
answer them like a user would, by clicking their buttons.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QCheckBox, QInputDialog, QLineEdit, QMessageBox, QWidget

from desktop.engine import KioskError

log = logging.getLogger(__name__)


def _box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str,
         details: str | None = None) -> QMessageBox:
    box = QMessageBox(icon, title, text, QMessageBox.NoButton, parent)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setTextFormat(Qt.PlainText)
    if details:
        box.setDetailedText(details)
    return box


def inform(parent: QWidget | None, title: str, text: str, details: str | None = None,
           warning: bool = False) -> QMessageBox:
    box = _box(parent, QMessageBox.Warning if warning else QMessageBox.Information, title,
               text, details)
    box.addButton(QMessageBox.Ok)
    box.open()
    return box


def show_error(parent: QWidget | None, title: str, exc: BaseException,
               log_path: str | None = None) -> QMessageBox:
    """A user's mistake shows its message; anything else also points at the log file."""
    if isinstance(exc, KioskError):
        text = str(exc)
    else:
        log.error("%s", title, exc_info=exc)
        text = f"Something went wrong: {exc}"
        if log_path:
            text += f"\n\nDetails are in the log file {log_path}."
    return inform(parent, title, text, warning=True)


def ask(parent: QWidget | None, title: str, text: str, yes: str,
        on_yes: Callable[[bool], None], on_no: Callable[[], None] | None = None, *,
        checkbox: str | None = None, checked: bool = False,
        destructive: bool = False) -> QMessageBox:
    """Ask a yes/no question; ``on_yes(checked)`` gets the optional checkbox's state."""
    box = _box(parent, QMessageBox.Warning if destructive else QMessageBox.Question, title, text)
    yes_button = box.addButton(yes, QMessageBox.DestructiveRole if destructive
                               else QMessageBox.AcceptRole)
    no_button = box.addButton(QMessageBox.Cancel)
    box.setDefaultButton(no_button if destructive else yes_button)
    if checkbox:
        box.setCheckBox(QCheckBox(checkbox, box, checked=checked))  # parent: Qt owns it

    def answered() -> None:
        if box.clickedButton() is yes_button:
            on_yes(bool(box.checkBox() and box.checkBox().isChecked()))
        elif on_no is not None:
            on_no()
    box.finished.connect(lambda _result: answered())
    box.open()
    return box


def ask_text(parent: QWidget | None, title: str, label: str, on_ok: Callable[[str], None],
             text: str = "") -> QInputDialog:
    """Ask for one line of text; ``on_ok`` gets it stripped, never empty."""
    dialog = QInputDialog(parent)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextEchoMode(QLineEdit.Normal)
    dialog.setTextValue(text)
    dialog.setOkButtonText("OK")

    def accepted(value: str) -> None:
        value = value.strip()
        if value:
            on_ok(value)
    dialog.textValueSelected.connect(accepted)
    dialog.open()
    return dialog
