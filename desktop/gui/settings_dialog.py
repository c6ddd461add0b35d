"""The settings a receptionist may change; saved to <db>/settings.json by the window."""
from __future__ import annotations

from typing import Any

from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.engine import CHOICES, MODEL_FIGURES, Settings
from desktop.engine.decisions.fpir_estimate import fpir_at, lets_more_strangers_in
from desktop.gui.dialogs import ask

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v);;All files (*)"
LIVENESS_MODES = {
    "off": "Off",
    "passive": "Passive (photo and screen check)",
    "challenge": "Head-turn challenge",
    "both": "Both",
}


VISITOR_NOTICE = (
    "On: every unknown face gets a random id (such as v-7f3a) and a face template of it is "
    "kept, never with a name, so a stranger who returns is counted once. Templates stay in "
    "memory (or in the encrypted store) and are forgotten the set number of hours after the "
    "visitor was first seen; no photo is kept unless visitor snapshots are on. This is "
    "processing of strangers' biometric data: your site may need to post a notice at the "
    "entrance before turning it on.")
"""What the foot-traffic switch keeps, for how long, and what a site may owe visitors."""

class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, database_threshold: float,
                 parent: QWidget | None = None, model_name: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.database_threshold = database_threshold
        self.model_name = model_name
        """The loaded model's name (ModelInfo.name): its measured FPIR levels."""
        self.confirmed_threshold: float | None = None
        """A threshold the user agreed to after the warning (not asked twice)."""

        self.source = QLineEdit(settings.source, objectName="settingsSource")
        self.source.setMinimumWidth(380)
        self.source.setToolTip("A camera number (0 is the first camera), a video file, a "
                               "folder of photos, or a stream address (rtsp://, http://)")
        camera = QPushButton("Camera", clicked=lambda: self.source.setText("0"))
        video = QPushButton("Video...", clicked=self._pick_video)
        folder = QPushButton("Folder...", clicked=self._pick_folder)
        pickers = QHBoxLayout()
        for button in (camera, video, folder):
            pickers.addWidget(button)
        pickers.addStretch(1)
        source_row = QVBoxLayout()
        source_row.addWidget(self.source)
        source_row.addLayout(pickers)
        self.loop_video = QCheckBox("Play video files in a loop", checked=settings.loop_video)

        self.use_database_threshold = QCheckBox(
            f"Use the database's calibrated value ({database_threshold:.2f})",
            checked=settings.threshold is None)
        self.threshold = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.01)
        self.threshold.setValue(settings.threshold if settings.threshold is not None
                                else database_threshold)
        self.threshold.setToolTip("How similar a face must be to an enrolled person to be "
                                  "named. Higher: fewer mistaken names, more 'Unknown'.")
        self.fpir = QLabel(objectName="settingsFpir", wordWrap=True)
        self.threshold.valueChanged.connect(self._show_fpir)
        self.use_database_threshold.toggled.connect(self._threshold_mode)
        self.use_database_threshold.toggled.connect(self._show_fpir)
        self._threshold_mode(self.use_database_threshold.isChecked())
        self._show_fpir()

        self.min_face_size = QSpinBox(minimum=20, maximum=400, suffix=" px",
                                      value=settings.min_face_size)
        self.min_face_size.setToolTip("Smaller faces are ignored; larger values are faster.")
        self.cooldown = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=24 * 60.0,
                                       suffix=" min", value=settings.cooldown_minutes)
        self.cooldown.setToolTip("A person is checked in again only after this long.")

        self.liveness = QComboBox(objectName="settingsLiveness")
        for mode in CHOICES["liveness"]:
            self.liveness.addItem(LIVENESS_MODES[mode], mode)
        self.liveness.setCurrentIndex(max(0, self.liveness.findData(settings.liveness)))
        self.liveness.setToolTip("Refuse photos and screens held up to the camera (see the "
                                 "docs/liveness.md for what each mode stops and what not).")
        self.liveness_threshold = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0,
                                                 singleStep=0.05,
                                                 value=settings.liveness_threshold)
        self.liveness_threshold.setToolTip("Passive check: a face is live when its score "
                                           "reaches this. Higher: more photos stopped, more "
                                           "live people asked to step out and back in.")
        self.liveness_at_checkin = QCheckBox("at check-in", checked=settings.liveness_at_checkin)
        self.liveness_at_registration = QCheckBox(
            "at registration", checked=settings.liveness_at_registration)
        where = QHBoxLayout()
        where.addWidget(self.liveness_at_checkin)
        where.addWidget(self.liveness_at_registration)
        where.addStretch(1)
        self.liveness.currentIndexChanged.connect(self._liveness_mode)
        self._liveness_mode()

        self.model = QComboBox(objectName="settingsModel")
        specs = [f.spec for f in MODEL_FIGURES]
        for figures in MODEL_FIGURES:
            self.model.addItem(figures.choice(), figures.spec)
        if settings.model not in specs:  # an ONNX file given with --model onnx:PATH
            self.model.addItem(settings.model, settings.model)
        self.model.setCurrentIndex(self.model.findData(settings.model))
        self.model_figures = QLabel(objectName="settingsModelFigures", wordWrap=True)
        self.model.currentIndexChanged.connect(self._show_figures)
        self._show_figures()

        self.visitor_ids = QCheckBox("Anonymous visitor ids (count unique strangers)",
                                     objectName="settingsVisitorIds",
                                     checked=settings.visitor_ids)
        self.visitor_memory = QDoubleSpinBox(decimals=1, minimum=0.1, maximum=24 * 7.0,
                                             suffix=" h", value=settings.visitor_memory_hours)
        self.visitor_notice = QLabel(VISITOR_NOTICE, objectName="hint", wordWrap=True)
        self.visitor_ids.toggled.connect(self.visitor_memory.setEnabled)
        self.visitor_memory.setEnabled(settings.visitor_ids)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow("Video source", source_row)
        form.addRow("", self.loop_video)
        form.addRow("Match threshold", self.threshold)
        form.addRow("", self.fpir)
        form.addRow("", self.use_database_threshold)
        form.addRow("Smallest face", self.min_face_size)
        form.addRow("Check-in cool-down", self.cooldown)
        form.addRow("Liveness", self.liveness)
        form.addRow("Liveness threshold", self.liveness_threshold)
        form.addRow("Liveness applies", where)
        form.addRow("Foot traffic", self.visitor_ids)
        form.addRow("Forget visitors after", self.visitor_memory)
        form.addRow("", self.visitor_notice)
        form.addRow("Face model", self.model)
        form.addRow("", self.model_figures)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel,
                                        accepted=self.accept, rejected=self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(f"Saved in {settings.db_dir / 'settings.json'}",
                                objectName="hint", wordWrap=True))
        layout.addWidget(self.buttons)

    def _show_figures(self) -> None:
        spec = self.model.currentData()
        figures = next((f for f in MODEL_FIGURES if f.spec == spec), None)
        text = figures.summary() if figures else "An ONNX model (--model); not measured here."
        if spec != self.settings.model:
            text += ("\nChanging the model re-embeds every enrolled face (offered after OK; "
                     "nobody has to enrol again).")
        self.model_figures.setText(text)

    def _show_fpir(self, _value: float = 0.0) -> None:
        estimate = fpir_at(self.model_name, self.threshold.value())
        self.fpir.setText(estimate.describe() if estimate else
                          "No stranger figures were measured for this model.")
        warn = self._risky()
        self.fpir.setStyleSheet("color: #c62828; font-weight: bold" if warn else "")

    def _risky(self) -> bool:
        value = round(self.threshold.value(), 2)
        return (not self.use_database_threshold.isChecked()
                and value != self.confirmed_threshold
                and lets_more_strangers_in(self.model_name, value, self.database_threshold))

    def accept(self) -> None:  # noqa: D102 - QDialog's; asks first about a lax threshold
        if not self._risky():
            super().accept()
            return
        value = round(self.threshold.value(), 2)
        new = fpir_at(self.model_name, value)
        old = fpir_at(self.model_name, self.database_threshold)
        implied = (f"{new.describe()}, against {old.share()} at the calibrated "
                   f"{self.database_threshold:.2f}" if new and old else
                   f"it is well below the usual {self.database_threshold:.2f}")
        ask(self, "Let more strangers in?",
            f"A match threshold of {value:.2f} names more people who are not enrolled: "
            f"{implied}. Unknown visitors may be checked in as someone else.\n\n"
            f"Use {value:.2f} anyway?", f"Use {value:.2f}",
            on_yes=lambda _checked: self._confirm(value), destructive=True)

    def _confirm(self, value: float) -> None:
        self.confirmed_threshold = value
        self._show_fpir()
        super().accept()

    def _threshold_mode(self, use_database: bool) -> None:
        self.threshold.setEnabled(not use_database)
        if use_database:
            self.threshold.setValue(self.database_threshold)

    def _liveness_mode(self, _index: int = 0) -> None:
        mode = self.liveness.currentData()
        self.liveness_threshold.setEnabled(mode in ("passive", "both"))
        for box in (self.liveness_at_checkin, self.liveness_at_registration):
            box.setEnabled(mode != "off")

    def _pick_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a video file", "", VIDEO_FILTER)
        if path:
            self.source.setText(path)

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a folder of photos")
        if path:
            self.source.setText(path)

    def values(self) -> dict[str, Any]:
        """The chosen values, by Settings field name."""
        return {
            "source": self.source.text().strip() or "0",
            "loop_video": self.loop_video.isChecked(),
            "threshold": None if self.use_database_threshold.isChecked()
            else round(self.threshold.value(), 2),
            "min_face_size": self.min_face_size.value(),
            "cooldown_minutes": self.cooldown.value(),
            "liveness": self.liveness.currentData(),
            "liveness_threshold": round(self.liveness_threshold.value(), 2),
            "liveness_at_checkin": self.liveness_at_checkin.isChecked(),
            "liveness_at_registration": self.liveness_at_registration.isChecked(),
            "model": self.model.currentData(),
            "visitor_ids": self.visitor_ids.isChecked(),
            "visitor_memory_hours": round(self.visitor_memory.value(), 1),
        }

    def changes(self) -> dict[str, Any]:
        """Only the values that differ from the current settings."""
        return {k: v for k, v in self.values().items() if getattr(self.settings, k) != v}
