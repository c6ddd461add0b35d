"""numpy RGB arrays and JPEG bytes to Qt images, without surprises about memory."""
from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QSize, Qt
from PyQt5.QtGui import QImage, QPixmap


def qimage(rgb: np.ndarray) -> QImage:
    """A QImage sharing ``rgb``'s memory; the array is kept alive by the image wrapper."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, rgb.strides[0], QImage.Format_RGB888)
    image.keep_alive = rgb  # QImage does not own the buffer
    return image


def pixmap(rgb: np.ndarray, size: QSize | None = None) -> QPixmap:
    """A QPixmap copy of ``rgb``, optionally scaled to fit ``size``."""
    result = QPixmap.fromImage(qimage(rgb))
    if size is not None:
        result = result.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    return result


def pixmap_from_jpeg(data: bytes | None, size: QSize) -> QPixmap:
    """A thumbnail from stored JPEG bytes; a grey square if there are none."""
    result = QPixmap()
    if data and result.loadFromData(data, "JPG"):
        return result.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    result = QPixmap(size)
    result.fill(Qt.lightGray)
    return result
