"""One person's pictures: thumbnails with date, source and similarity to their template,
probable wrong photos marked, and deleting one picture (engine/person_faces.py)."""
from __future__ import annotations

import time
from collections.abc import Callable

from PyQt5.QtCore import QSize, Qt
from PyQt5.QtGui import QBrush, QColor, QIcon
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engine import FaceEngine, KioskError
from desktop.engine.facade.person_faces import FacePicture, delete_face, person_faces
from desktop.gui.dialogs import ask, show_error
from desktop.gui.tasks import TaskRunner
from desktop.gui.video.qt_images import pixmap_from_jpeg

THUMB = QSize(112, 112)
ID_ROLE = Qt.UserRole + 1
OUTLIER_COLOUR = QColor("#ffe0e0")


def caption(pic: FacePicture) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(pic.created_at))
    mark = "\nprobably someone else" if pic.outlier else ""
    return f"{when}\n{pic.source}\nsimilarity {pic.similarity:.2f}{mark}"


class FacesDialog(QDialog):
    """Lists the pictures when opened; Delete asks, erases one on the task runner, then
    reloads and tells ``changed`` (the window resets its labels)."""

    def __init__(self, engine: FaceEngine, name: str, tasks: TaskRunner,
                 changed: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine, self.name, self.tasks, self.changed = engine, name, tasks, changed
        self.setObjectName("facesDialog")
        self.setWindowTitle(f"Pictures of {name}")
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.summary = QLabel(objectName="facesSummary", wordWrap=True)
        self.list = QListWidget(objectName="facesList", viewMode=QListView.IconMode,
                                iconSize=THUMB, resizeMode=QListView.Adjust,
                                movement=QListView.Static, wordWrap=True, spacing=6)
        self.list.setGridSize(QSize(THUMB.width() + 90, THUMB.height() + 124))
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.delete_button = QPushButton("Delete picture...", objectName="danger",
                                         clicked=self.delete_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, rejected=self.reject)
        buttons.addButton(self.delete_button, QDialogButtonBox.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(820, 680)
        self.pictures: list[FacePicture] = []
        self.reload()

    def reload(self) -> None:
        try:
            self.pictures = person_faces(self.engine, self.name)
        except KioskError as exc:  # deleted or renamed meanwhile
            self.pictures = []
            self.summary.setText(str(exc))
        self.list.clear()
        for pic in self.pictures:
            item = QListWidgetItem(QIcon(pixmap_from_jpeg(pic.crop or None, THUMB)),
                                   caption(pic))
            item.setData(ID_ROLE, pic.id)
            item.setToolTip(f"Picture {pic.id}: {caption(pic)}".replace("\n", " · "))
            if pic.outlier:
                item.setBackground(QBrush(OUTLIER_COLOUR))
            self.list.addItem(item)
        odd = sum(p.outlier for p in self.pictures)
        if self.pictures:
            self.summary.setText(
                f"{len(self.pictures)} picture(s) of {self.name}. Similarity is to the "
                f"person's template (the mean of their pictures)."
                + (f" {odd} marked in red look like someone else: check and delete them."
                   if odd else ""))
        self._update_buttons()

    def selected_id(self) -> int | None:
        items = self.list.selectedItems()
        return int(items[0].data(ID_ROLE)) if items else None

    def _update_buttons(self) -> None:
        self.delete_button.setEnabled(self.selected_id() is not None)

    def delete_selected(self) -> None:
        face_id = self.selected_id()
        if face_id is None:
            return
        ask(self, "Delete picture", f"Delete this picture of {self.name}?\nIts face data is "
            f"erased and their template is rebuilt from the other pictures. This cannot be "
            f"undone.", "Delete", on_yes=lambda _checked: self.delete(face_id),
            destructive=True)

    def delete(self, face_id: int) -> None:
        def done(result) -> None:
            self.reload()
            self.changed(f"Deleted a picture of {result.name}; {result.remaining} left")
        self.tasks.run(lambda: delete_face(self.engine, self.name, face_id, actor="window"),
                       done, lambda exc: show_error(self, "Could not delete the picture", exc))
