"""The list of enrolled people: thumbnail, name, pictures, date enrolled; with search."""
from __future__ import annotations

import time

from PyQt5.QtCore import QSize, QSortFilterProxyModel, Qt, pyqtSignal
from PyQt5.QtGui import QIcon, QStandardItem, QStandardItemModel
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.engine import FaceEngine, Person, StoreOfflineError
from desktop.gui.video.qt_images import pixmap_from_jpeg

THUMB = QSize(48, 48)
COLUMNS = ("Name", "Pictures", "Enrolled")
NAME_ROLE = Qt.UserRole + 1
SORT_ROLE = Qt.UserRole + 2


class PeoplePanel(QWidget):
    register_requested = pyqtSignal()
    photos_requested = pyqtSignal()
    folder_requested = pyqtSignal()
    rename_requested = pyqtSignal(str)
    pictures_requested = pyqtSignal(str)
    delete_requested = pyqtSignal(str)

    def __init__(self, engine: FaceEngine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.people: list[Person] = []
        self._thumbs: dict[tuple[int, int], QIcon] = {}
        self.search = QLineEdit(placeholderText="Search people...", clearButtonEnabled=True)
        self.search.setObjectName("peopleSearch")
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(COLUMNS)
        self.proxy = QSortFilterProxyModel(self, filterCaseSensitivity=Qt.CaseInsensitive,
                                           filterKeyColumn=0, sortRole=SORT_ROLE,
                                           sortCaseSensitivity=Qt.CaseInsensitive)
        self.proxy.setSourceModel(self.model)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView(objectName="peopleTable")
        self.table.setModel(self.proxy)
        self.table.setIconSize(THUMB)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.AscendingOrder)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        self.table.doubleClicked.connect(lambda _index: self._emit_for_selected(
            self.pictures_requested))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.search.textChanged.connect(self._update_buttons)
        self.count = QLabel(objectName="peopleCount")
        self.register_button = QPushButton("Register from camera", objectName="primary",
                                           clicked=self.register_requested)
        self.photos_button = QPushButton("Add photos...", clicked=self.photos_requested)
        self.folder_button = QPushButton("Add folder...", clicked=self.folder_requested)
        self.pictures_button = QPushButton("Pictures...", objectName="peoplePictures",
                                           clicked=lambda: self._emit_for_selected(
                                               self.pictures_requested))
        self.rename_button = QPushButton("Rename...", clicked=lambda: self._emit_for_selected(
            self.rename_requested))
        self.delete_button = QPushButton("Delete...", objectName="danger",
                                         clicked=lambda: self._emit_for_selected(
                                             self.delete_requested))
        add_row = QHBoxLayout()
        for button in (self.photos_button, self.folder_button):
            add_row.addWidget(button)
        edit_row = QHBoxLayout()
        for button in (self.pictures_button, self.rename_button, self.delete_button):
            edit_row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.register_button)
        layout.addLayout(add_row)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addLayout(edit_row)
        self.refresh()

    def refresh(self) -> None:
        """Reload from the gallery, keeping the selection when the person is still there."""
        selected = self.selected_name()
        try:
            self.people = self.engine.gallery.people()
        except StoreOfflineError:  # the kiosk started without its store; retried when back
            self.count.setText("The shared store is offline: the list of people shows when "
                               "it returns (recognition goes on)")
            self.count.setWordWrap(True)
            return
        self.model.setRowCount(0)
        for person in self.people:
            name = QStandardItem(self._thumbnail(person), person.name)
            name.setData(person.name, NAME_ROLE)
            samples = QStandardItem()
            samples.setData(person.samples, Qt.DisplayRole)
            enrolled = QStandardItem(time.strftime("%Y-%m-%d", time.localtime(person.created_at)))
            enrolled.setToolTip(time.strftime("Enrolled %Y-%m-%d %H:%M",
                                              time.localtime(person.created_at)))
            # sort dates as dates, not as text
            enrolled.setData(person.created_at, SORT_ROLE)
            for item in (name, samples):
                item.setData(item.data(Qt.DisplayRole), SORT_ROLE)
            for item in (samples, enrolled):
                item.setData(person.name, NAME_ROLE)
            self.model.appendRow([name, samples, enrolled])
        count = len(self.people)
        self.count.setText(f"{count} {'person' if count == 1 else 'people'} enrolled" if count else
                           "Nobody is enrolled yet. Register someone from the camera, "
                           "or add photos.")
        self.count.setWordWrap(True)
        if selected:
            self.select(selected)
        self._update_buttons()

    def _thumbnail(self, person: Person) -> QIcon:
        key = (person.id, person.samples)
        if key not in self._thumbs:
            self._thumbs[key] = QIcon(pixmap_from_jpeg(self.engine.gallery.thumbnail(person.name),
                                                       THUMB))
        return self._thumbs[key]

    def names(self) -> list[str]:
        """Names currently listed (after the search filter), top to bottom."""
        return [self.proxy.index(row, 0).data(NAME_ROLE) for row in range(self.proxy.rowCount())]

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].data(NAME_ROLE) if rows else None

    def select(self, name: str) -> bool:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(NAME_ROLE) == name:
                self.table.selectRow(row)
                self.table.scrollTo(index)
                return True
        return False

    def _emit_for_selected(self, signal) -> None:
        name = self.selected_name()
        if name is None and self.proxy.rowCount() == 1:
            name = self.proxy.index(0, 0).data(NAME_ROLE)  # the only search hit
        if name:
            signal.emit(name)

    def _update_buttons(self, *_args) -> None:
        has = self.selected_name() is not None or self.proxy.rowCount() == 1
        self.rename_button.setEnabled(has)
        self.pictures_button.setEnabled(has)
        self.delete_button.setEnabled(has)
