"""dlib's ResNet face model (128-d, the one face_recognition uses), CC0 weights from the
``face-recognition-models`` package; dlib itself from ``dlib-bin``.

Input: a 150x150 chip aligned the way dlib.get_face_chip does it (padding 0.25). Two
ways to get it from an MTCNN detection, chosen by ``alignment``:
- 'landmarks': a similarity warp of MTCNN's five points onto ``align.DLIB_150``;
- 'dlib': dlib's own 5-point shape predictor run inside the MTCNN box, then get_face_chip.
"""
from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np

from desktop.engine.core.errors import WeightsUnavailableError
from desktop.engine.core.types import Detection, ModelInfo
from desktop.engine.decisions.matching import model_defaults
from desktop.engine.faces.embedders import alignment as align
from desktop.engine.faces.embedders.base import Embedder, normalise
from desktop.engine.faces.embedders.inception import file_digest

log = logging.getLogger(__name__)

CHIP_SIZE = 150
CHIP_PADDING = 0.25
DLIB_DISTANCE = 0.6
"""dlib's own same-person threshold on Euclidean distance: cosine 0.82, far too loose for
an open-set kiosk (two different actors scored 0.84 in the tests)."""
ALIGNMENTS = ("landmarks", "dlib")
INSTALL_HINT = ("The dlib model needs the packages dlib-bin and face-recognition-models: "
                "run `pip install -r requirements.txt` (or `make run`, which does).")


def weights_dir() -> Path:
    """The folder of face_recognition_models' .dat files, found without importing the
    package (its __init__ needs pkg_resources, which new setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(INSTALL_HINT)
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    if not (folder / "dlib_face_recognition_resnet_model_v1.dat").is_file():
        raise WeightsUnavailableError(f"{folder} lacks dlib's weights. {INSTALL_HINT}")
    return folder


def import_dlib():
    try:
        import dlib
    except ImportError:
        raise WeightsUnavailableError(INSTALL_HINT) from None
    return dlib


def chip_to_image(details) -> np.ndarray:
    """2x3 affine taking chip pixels to image pixels for a dlib chip_details (checked
    against dlib.get_face_chip: mean absolute pixel difference about 1 grey level)."""
    rect, angle = details.rect, details.angle
    centre = np.array([(rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2])
    scale = (rect.right() - rect.left()) / details.cols
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * scale
    shift = centre - rot @ np.array([(details.cols - 1) / 2, (details.rows - 1) / 2])
    return np.hstack([rot, shift[:, None]])


class DlibEmbedder(Embedder):
    kind = "dlib"

    def __init__(self, alignment: str = "landmarks") -> None:
        if alignment not in ALIGNMENTS:
            raise WeightsUnavailableError(f"dlib alignment must be one of {ALIGNMENTS}, "
                                          f"not {alignment!r}")
        self._dlib = import_dlib()
        folder = weights_dir()
        net = folder / "dlib_face_recognition_resnet_model_v1.dat"
        self.alignment = alignment
        self._net = self._dlib.face_recognition_model_v1(str(net))
        self._predictor = self._dlib.shape_predictor(
            str(folder / "shape_predictor_5_face_landmarks.dat"))
        self.info = ModelInfo(name=net.name.removesuffix(".dat"),
                              model_id="dlib:" + file_digest(net)[:16], dim=128,
                              threshold=model_defaults(net.name.removesuffix(".dat")).threshold)
        log.info("dlib ResNet (%s), alignment from %s", self.info.model_id, alignment)

    def shape(self, rgb: np.ndarray, detection: Detection):
        """dlib's five landmarks (eye corners, nose) predicted inside the MTCNN box."""
        x1, y1, x2, y2 = detection.box
        rect = self._dlib.rectangle(int(round(x1)), int(round(y1)), int(round(x2)),
                                    int(round(y2)))
        return self._predictor(np.ascontiguousarray(rgb), rect)

    def crop(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        if self.alignment == "dlib":
            return self._dlib.get_face_chip(np.ascontiguousarray(rgb),
                                            self.shape(rgb, detection), CHIP_SIZE, CHIP_PADDING)
        return align.warp_to_template(rgb, detection.landmarks, align.DLIB_150, CHIP_SIZE)

    def embed(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return self.empty()
        chips = [np.ascontiguousarray(c, np.uint8) for c in crops]
        return normalise(np.array(self._net.compute_face_descriptor(chips)))
