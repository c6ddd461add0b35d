"""A person's pictures in the window, with the real model and photos: double-click opens
them, the photo of someone else is marked, and deleting it rebuilds the person.
KIOSK_SHOTS=docs/img also saves the screenshots of docs/gui.md."""
from __future__ import annotations

import os
from pathlib import Path

from conftest import person_photos
from gui_helpers import WAIT, click, dialog
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication, QMessageBox

from desktop.gui.people.faces_dialog import FacesDialog

SUBJECT = "Tom Cruise"


def shot(widget, name: str) -> None:
    folder = os.environ.get("KIOSK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / name))


def test_double_click_shows_the_pictures_and_one_can_be_deleted(engine, faces_dir, load,
                                                                open_window, qtbot):
    photos = [(p.name, load(p)) for p in person_photos("Tom_Cruise")[:4]]
    photos.append(("the wrong one.jpg", load(person_photos("Lucy_Liu")[0])))
    engine.enroll(SUBJECT, photos, force=True)
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    table = window.people.table
    index = table.model().index(0, 0)
    rect = table.visualRect(index)
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    pictures = dialog(qtbot, FacesDialog, f"Pictures of {SUBJECT}")
    assert pictures.list.count() == 5
    texts = [pictures.list.item(i).text() for i in range(5)]
    marked = [t for t in texts if "probably someone else" in t]
    assert len(marked) == 1 and "the wrong one.jpg" in marked[0]
    assert "1 marked in red" in pictures.summary.text()
    shot(pictures, "pictures.png")

    changed: list[str] = []
    window.gallery_changed.connect(changed.append)
    pictures.list.setCurrentRow(texts.index(marked[0]))
    pictures.delete_button.click()
    click(dialog(qtbot, QMessageBox, "Delete picture"), "Delete")
    qtbot.waitUntil(lambda: bool(changed), timeout=WAIT)
    assert changed[0] == f"Deleted a picture of {SUBJECT}; 4 left"
    assert pictures.list.count() == 4 and "marked in red" not in pictures.summary.text()
    assert engine.gallery.person(SUBJECT).samples == 4
    assert window.people.table.model().index(0, 1).data() == 4
    shot(window.statusBar(), "status-after-delete.png")
    pictures.close()
    assert not any(isinstance(w, FacesDialog) and w.isVisible()
                   for w in QApplication.topLevelWidgets())


def test_window_status_bar_and_export_dialog_read_in_full(faces_dir, open_window, qtbot,
                                                           tmp_path):
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    window.resize(1280, 760)
    qtbot.waitUntil(lambda: window.source.live_now, timeout=WAIT)
    export = window.export_attendance()
    export.path.setText(str(tmp_path / "Documents" / "attendance-2026-11-04_2026-12-04.csv"))
    shot(export, "export.png")
    assert export.where.text().startswith("Saves to /")
    out = Path(export.path.text())
    out.parent.mkdir()
    export.buttons.button(export.buttons.Save).click()
    qtbot.waitUntil(out.exists, timeout=WAIT)
    notes = window.status.notes
    qtbot.waitUntil(lambda: notes.text().startswith("Exported"), timeout=WAIT)
    assert notes.text().endswith(str(out)) and notes.label.toolTip() == notes.text()
    shot(window.statusBar(), "status-bar.png")
    panel = notes.show_history()
    assert str(out) in panel.item(0).text()
    shot(panel, "messages.png")
    panel.hide()
