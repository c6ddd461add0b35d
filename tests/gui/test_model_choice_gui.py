"""The face-model choice in the settings dialog (real widgets, offscreen): it shows each
model's measured figures, and choosing dlib re-embeds the gallery after the user agrees."""
from __future__ import annotations

import json

from conftest import person_photos
from gui_helpers import WAIT, click, dialog
from PyQt5.QtWidgets import QMessageBox


def test_settings_dialog_lists_models_with_their_figures(settings, qtbot):
    from desktop.engine.decisions.figures import MODEL_FIGURES
    from desktop.gui.settings_dialog import SettingsDialog
    box = SettingsDialog(settings, 0.65)
    qtbot.addWidget(box)
    assert [box.model.itemData(i) for i in range(box.model.count())] == \
        [f.spec for f in MODEL_FIGURES]
    assert box.model.currentData() == "facenet"
    assert "LFW" in box.model_figures.text() and "re-embeds" not in box.model_figures.text()
    assert "model" not in box.changes()
    box.model.setCurrentIndex(box.model.findData("dlib"))
    assert "re-embeds every enrolled face" in box.model_figures.text()
    assert box.changes() == {"model": "dlib"}


def test_choosing_dlib_reembeds_after_asking(engine, models, open_window, faces_dir, qtbot, load,
                                             settings):
    for person in ("Adam_Sandler", "Alejandro_Toledo"):
        engine.enroll(person, [(p.name, load(p)) for p in person_photos(person)[:3]])
    samples = engine.gallery.sample_count
    probe = load(person_photos("Alejandro_Toledo")[3])  # not among the enrolled three
    facenet = models.embedder
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    try:
        box = window.open_settings()
        box.model.setCurrentIndex(box.model.findData("dlib"))
        box.buttons.button(box.buttons.Ok).click()
        question = dialog(qtbot, QMessageBox, "Change the face model")
        assert f"({samples} sample(s))" in question.text()
        click(question, "Yes")
        qtbot.waitUntil(lambda: engine.models.embedder.kind == "dlib", timeout=3 * WAIT)
        assert engine.gallery.dim == 128 and engine.gallery.sample_count == samples
        assert [f.match.name for f in engine.identify(probe)] == ["Alejandro_Toledo"]
        saved = settings.db_dir / "settings.json"
        qtbot.waitUntil(lambda: saved.is_file() and "model" in json.loads(saved.read_text()),
                        timeout=WAIT)
        assert json.loads(saved.read_text())["model"] == "dlib"
    finally:
        # a switch still running (a slow machine) would swap the shared models after us
        qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10 * WAIT)
        models.embedder = facenet  # the session's shared models stay FaceNet


def test_choosing_reid_is_one_step(engine, models, open_window, faces_dir, qtbot, load,
                                   reid_dir):
    """reid is in the list with its figures; choosing it re-embeds with Intel's files from
    the folder the settings name, and the gallery then names people with 256-d vectors."""
    from desktop.engine.decisions.figures import figures_for
    engine.settings.reid_weights = str(reid_dir)
    for person in ("Adam_Sandler", "Alejandro_Toledo"):
        engine.enroll(person, [(p.name, load(p)) for p in person_photos(person)[:3]])
    probe = load(person_photos("Alejandro_Toledo")[3])
    facenet = models.embedder
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    try:
        box = window.open_settings()
        box.model.setCurrentIndex(box.model.findData("reid"))
        figures = figures_for("reid")
        assert figures is not None and figures.summary() in box.model_figures.text()
        box.buttons.button(box.buttons.Ok).click()
        click(dialog(qtbot, QMessageBox, "Change the face model"), "Yes")
        qtbot.waitUntil(lambda: engine.models.embedder.kind == "reid", timeout=3 * WAIT)
        assert engine.gallery.dim == 256
        assert [f.match.name for f in engine.identify(probe)] == ["Alejandro_Toledo"]
    finally:
        qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10 * WAIT)
        models.embedder = facenet
