"""Faces that fill the photo (ID and badge photos): MTCNN alone misses them, the padded
retry (``photo_faces``, ``Settings.detect_pad``) finds them, and they are named right.

The tight crops are cut from ../shared/faces photos at their own first detection's box,
shrunk by 5% on each side, so the face fills the frame; the photos named here are ones
MTCNN alone misses once cropped so (most such crops are still found without help), and
that are named right once the face model's crop is cut from the padded copy (13 of the 19
such crops of the first two photos of every person are; docs/tight-faces.md)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import person_photos

from desktop.engine.core.errors import SettingsError
from desktop.engine.core.geometry import iou
from desktop.engine.evaluation.facecache import detector_key
from desktop.engine.settings.config import Settings
from desktop.engine.settings.file import load_settings

TIGHT = [("ORL_s36", "orl_s36_1.png"), ("Yale_subject09", "yale_subject09_glasses.png"),
         ("Robert_Duvall", "Robert_Duvall_0001.jpg"), ("deepface_person_09", "deepface_img25.jpg")]
SHRINK = 0.05


def tight_crop(engine, rgb: np.ndarray) -> np.ndarray:
    x1, y1, x2, y2 = engine.detector.detect(rgb)[0].box
    dx, dy = SHRINK * (x2 - x1), SHRINK * (y2 - y1)
    return np.ascontiguousarray(rgb[int(y1 + dy):int(y2 - dy), int(x1 + dx):int(x2 - dx)])


def test_faces_that_fill_the_photo_are_found_and_named(engine, load):
    for person, photo in TIGHT:
        others = [p for p in person_photos(person) if p.name != photo][:3]
        engine.enroll(person, [(p.name, load(p)) for p in others], force=True)
    for person, photo in TIGHT:
        crop = tight_crop(engine, load(next(p for p in person_photos(person)
                                            if p.name == photo)))
        height, width = crop.shape[:2]
        engine.settings.detect_pad = 0.0
        assert engine.faces(crop) == [], f"{photo}: MTCNN alone now finds it"
        engine.settings.detect_pad = Settings().detect_pad
        assert engine.live_faces(crop) == []  # the live loop never pays for the retry
        faces = engine.faces(crop)
        assert len(faces) == 1, photo
        det = faces[0].detection
        x1, y1, x2, y2 = det.box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert iou(det.box, (0, 0, width, height)) > 0.6  # the face is the whole photo
        eyes = det.landmarks[:2]
        assert (eyes[:, 1] < height / 2).all() and eyes[0, 0] < eyes[1, 0]
        result = engine.identify(crop)
        assert [r.match.name for r in result] == [person], photo


def test_photos_without_a_face_stay_without(engine, faces_dir, load):
    photos = sorted((faces_dir / "noface").iterdir())
    assert photos
    for share in (Settings().detect_pad, 1.0):
        engine.settings.detect_pad = share
        for path in photos:
            assert engine.faces(load(path)) == [], f"{path.name} at pad {share}"


def test_pad_is_a_setting_with_a_range_and_part_of_the_cache_key(tmp_path):
    assert load_settings(tmp_path, detect_pad=0.0).detect_pad == 0.0
    with pytest.raises(SettingsError, match="detect_pad"):
        load_settings(tmp_path, detect_pad=3.0)
    assert detector_key(Settings(detect_pad=0.0)) != detector_key(Settings(detect_pad=0.4))


def test_a_large_tight_photo_is_searched_downscaled_and_mapped_back(engine, load):
    import cv2
    person, photo = TIGHT[1]
    crop = tight_crop(engine, load(next(p for p in person_photos(person) if p.name == photo)))
    large = cv2.resize(crop, (2400, round(2400 * crop.shape[0] / crop.shape[1])),
                       interpolation=cv2.INTER_CUBIC)  # beyond detect_max_side (1024)
    engine.settings.detect_pad = 0.0
    assert engine.faces(large) == []
    engine.settings.detect_pad = Settings().detect_pad
    faces = engine.faces(large)
    assert len(faces) == 1
    det = faces[0].detection
    height, width = large.shape[:2]
    assert iou(det.box, (0, 0, width, height)) > 0.6
    assert (det.landmarks[:, 0] > width * 0.1).all() and (det.landmarks[:, 0] < width * 0.9).all()
    assert faces[0].crop.shape[:2] == (160, 160)
