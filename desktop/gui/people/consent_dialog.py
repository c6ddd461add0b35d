"""Asking for consent before a person is registered: the configured text and a checkbox;
OK only once ticked. The engine refuses enrollment without it when it is required."""
from __future__ import annotations

from collections.abc import Callable

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop.engine import Consent
from desktop.engine.storage import consent


class ConsentDialog(QDialog):
    def __init__(self, name: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consentDialog")
        self.setWindowTitle("Consent")
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.text = text
        shown = QLabel(text, wordWrap=True, objectName="consentText")
        shown.setTextFormat(Qt.PlainText)
        self.box = QCheckBox(f"{name} has read this and agrees", self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel,
                                        accepted=self.accept, rejected=self.reject)
        self.ok = self.buttons.button(QDialogButtonBox.Ok)
        self.ok.setEnabled(False)
        self.box.toggled.connect(self.ok.setEnabled)
        layout = QVBoxLayout(self)
        layout.addWidget(shown)
        layout.addWidget(self.box)
        layout.addWidget(self.buttons)


def ask_consent(parent: QWidget, engine, name: str,
                on_given: Callable[[Consent | None], None]) -> ConsentDialog | None:
    """Call ``on_given(Consent)`` once the box is ticked, or ``on_given(None)`` at once
    when consent is not required here or ``name`` consented before."""
    settings = engine.settings
    if (not consent.required(settings.require_consent, engine.frontend)
            or consent.has_consent_by_name(engine.db, name)):
        on_given(None)
        return None
    dialog = ConsentDialog(name, settings.consent_text, parent)
    dialog.accepted.connect(lambda: on_given(Consent(dialog.text)))
    dialog.open()
    return dialog
