"""Which live frames registration takes a sample from (Qt-free rules, real faces)."""
from __future__ import annotations

from desktop.gui.people.sample_collector import (
    BLURRY,
    NO_FACE,
    SEVERAL,
    TAKEN,
    TOO_SMALL,
    CaptureRules,
    SampleCollector,
)


def test_samples_need_one_big_sharp_face_and_time_between_them(engine, faces_dir, load):
    portrait = engine.faces(load(faces_dir / "people" / "Kit_Harington" /
                                 "face_recognition_john1.jpeg"))
    couple = engine.faces(load(faces_dir / "group" / "face_recognition_kit_with_rose.jpg"))
    small = engine.faces(load(faces_dir / "unknown" / "Razali_Ismail_0001.jpg"))
    collector = SampleCollector(CaptureRules(samples=2, min_interval=0.5))

    assert not collector.offer([], now=0.0) and collector.advice == NO_FACE
    assert not collector.offer(couple, now=0.1) and collector.advice == SEVERAL
    assert not collector.offer(small, now=0.2) and collector.advice == TOO_SMALL
    assert collector.offer(portrait, now=1.0) and collector.advice == TAKEN
    assert not collector.offer(portrait, now=1.2), "too soon after the last sample"
    assert collector.offer(portrait, now=1.6) and collector.done
    assert len(collector.crops) == 2 and collector.crops[0].shape == (160, 160, 3)


def test_a_blurred_face_is_not_taken(engine, faces_dir, load):
    import cv2
    face = engine.faces(load(faces_dir / "people" / "Kit_Harington" /
                             "face_recognition_john1.jpeg"))[0]
    face.crop = cv2.GaussianBlur(face.crop, (0, 0), 4)
    collector = SampleCollector()
    assert not collector.offer([face], now=0.0) and collector.advice == BLURRY
