"""What a receptionist reads: status messages in full, the export path, name labels
inside the picture, and the warning before a threshold that names strangers (real Qt
widgets offscreen; the FPIR figures are the engine's measured LFW levels)."""
from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import click, dialog
from PyQt5.QtCore import QDate, QRect, QRectF, QStandardPaths
from PyQt5.QtWidgets import QLabel, QMessageBox, QStatusBar

from desktop.engine.decisions.fpir_estimate import fpir_at, lets_more_strangers_in, measured_points
from desktop.engine.decisions.matching import MODEL_DEFAULTS
from desktop.gui.export_dialog import ExportDialog, documents_folder
from desktop.gui.settings_dialog import SettingsDialog
from desktop.gui.video.status_panel import StatusPanel
from desktop.gui.video.video_view import label_rect

CASIA = "20180408-102900-casia-webface-features"
LONG = ("Exported 12 row(s) for 2026-11-04 to 2026-12-04 to /home/reception/Documents/"
        "attendance/attendance-2026-11-04_2026-12-04.csv")


def test_fpir_estimate_claims_only_what_was_measured():
    defaults = MODEL_DEFAULTS[CASIA]
    assert measured_points(CASIA) == [(defaults.threshold, 0.01), (defaults.duplicate, 0.001)]
    assert fpir_at(CASIA, defaults.threshold).value == pytest.approx(0.01)
    middle = fpir_at(CASIA, (defaults.threshold + defaults.duplicate) / 2)
    assert middle.bound == "about" and 0.001 < middle.value < 0.01
    assert fpir_at(CASIA, 0.10).describe().startswith("more than 1%")
    assert fpir_at(CASIA, 0.99).describe().startswith("under 0.1%")
    assert fpir_at("some-onnx-model", 0.5) is None
    assert lets_more_strangers_in(CASIA, 0.10, defaults.threshold)
    assert not lets_more_strangers_in(CASIA, 0.70, defaults.threshold)  # stricter
    assert lets_more_strangers_in(CASIA, defaults.threshold, defaults.duplicate)  # 10x
    assert lets_more_strangers_in("some-onnx-model", 0.3, 0.5)
    assert not lets_more_strangers_in("some-onnx-model", 0.48, 0.5)


def test_settings_ask_before_a_threshold_that_names_strangers(settings, qtbot):
    settings.threshold = None
    form = SettingsDialog(settings, 0.65, model_name=CASIA)
    qtbot.addWidget(form)
    form.show()
    form.use_database_threshold.setChecked(False)
    form.threshold.setValue(0.70)
    assert form.fpir.text().startswith("about 0.32%") and not form.fpir.styleSheet()
    form.threshold.setValue(0.10)
    assert form.fpir.text().startswith("more than 1%") and "c62828" in form.fpir.styleSheet()
    form.buttons.button(form.buttons.Ok).click()
    question = dialog(qtbot, QMessageBox, "Let more strangers in?")
    assert "0.10" in question.text() and "more than 1% of strangers" in question.text()
    assert "about 1% at the calibrated 0.65" in question.text()
    click(question, "Cancel")
    assert form.isVisible() and form.result() == 0  # nothing accepted
    form.buttons.button(form.buttons.Ok).click()
    click(dialog(qtbot, QMessageBox, "Let more strangers in?"), "Use 0.10")
    qtbot.waitUntil(lambda: not form.isVisible())
    assert form.result() == form.Accepted and form.changes()["threshold"] == 0.10


def test_status_message_elided_in_the_middle_with_tooltip_and_history(qtbot):
    bar = QStatusBar()
    qtbot.addWidget(bar)
    status = StatusPanel(bar)
    bar.resize(900, 30)
    bar.show()
    status.message("Settings saved")
    status.message(LONG)
    label = status.notes.label
    qtbot.waitUntil(lambda: label.width() > 0)
    shown = label.shown_text()
    assert label.toolTip() == LONG and status.notes.text() == LONG
    assert len(shown) < len(LONG) and shown.startswith("Exported") and shown.endswith(".csv")
    panel = status.notes.show_history()
    assert [panel.item(i).text()[10:] for i in range(panel.count())] == [LONG, "Settings saved"]
    assert status.notes.button.text() == "Messages (2)"
    panel.hide()


def test_export_suggests_the_documents_folder_and_shows_the_full_path(qtbot, monkeypatch,
                                                                     tmp_path):
    docs = tmp_path / "Documents"
    docs.mkdir()
    monkeypatch.setattr(QStandardPaths, "writableLocation", lambda _kind: str(docs))
    assert documents_folder() == docs
    day = QDate(2026, 12, 4)
    export = ExportDialog(day, day)
    qtbot.addWidget(export)
    export.show()
    expected = docs / "attendance-2026-12-04.csv"
    assert Path(export.path.text()) == expected
    assert export.where.text() == f"Saves to {expected}"
    assert export.path.toolTip() == str(expected)
    text_px = export.path.fontMetrics().horizontalAdvance(str(expected))
    assert export.path.width() >= min(text_px, 880)
    monkeypatch.setattr(QStandardPaths, "writableLocation", lambda _kind: str(docs / "gone"))
    assert documents_folder() == Path.home()


def test_a_label_at_the_edges_stays_inside_the_picture():
    picture = QRect(0, 0, 640, 360)
    label = QLabel().fontMetrics()  # any font: the rule is geometry
    width = label.horizontalAdvance("Lin-Manuel Miranda 0.91") + 10
    right = label_rect(QRectF(600, 100, 40, 50), width, 20, picture)
    assert right.right() <= picture.right() + 1 and right.width() == width
    assert right.bottom() <= 100  # still above the box
    corner = label_rect(QRectF(-10, 0, 60, 355), width, 20, picture)
    assert corner.left() >= 0 and corner.bottom() <= 361 and corner.top() >= 0
