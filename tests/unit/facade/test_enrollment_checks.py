"""Enrollment on real photos with the real model: look-alikes are enrolled with a warning
(or refused when strict), a wrong photo is flagged and kept out of the template, and a
face too blurred to judge is reported as low quality."""
from __future__ import annotations

import cv2
import pytest
from conftest import person_photos

from desktop.engine.core.errors import DuplicateFaceError, FaceCountError
from desktop.engine.facade.enroll_photos import enroll_folder


def make_folder(root, people):
    for name, photos in people.items():
        (root / name).mkdir(parents=True)
        for photo in photos:
            (root / name / photo.name).symlink_to(photo)
    return root


@pytest.fixture
def look_alikes(tmp_path):
    """The closest look-alike there is: one man under two names, beside someone else."""
    tom = person_photos("Tom_Cruise")
    return make_folder(tmp_path / "people", {"Tom_Cruise": tom[:3], "Thomas_Mapother": tom[3:6],
                                             "Lucy_Liu": person_photos("Lucy_Liu")[:3]})


def test_bulk_enrollment_of_look_alikes_enrolls_everyone_and_warns(engine, look_alikes):
    summary = enroll_folder(engine, look_alikes)
    assert sorted(summary.people) == ["Lucy_Liu", "Thomas_Mapother", "Tom_Cruise"]
    assert summary.refused == [] and not any(c == "duplicate" for _, c, _ in summary.skipped)
    # enrolled in folder order, so the later name is the one warned about
    assert [p for p, w in summary.warnings if "Thomas_Mapother" in w] == ["Tom_Cruise"]
    assert "warning" in summary.describe() and "Thomas_Mapother" in summary.describe()
    assert len(engine.gallery.people()) == 3


def test_strict_bulk_enrollment_refuses_and_lists_the_duplicate(engine, look_alikes):
    summary = enroll_folder(engine, look_alikes, strict=True)
    assert sorted(summary.people) == ["Lucy_Liu", "Thomas_Mapother"]
    assert summary.refused == ["Tom_Cruise"]
    assert "NOT enrolled: 1 people: Tom_Cruise" in summary.describe()


def test_single_enrollment_warns_by_default_and_strict_refuses(engine, load):
    tom = [(str(p), load(p)) for p in person_photos("Tom_Cruise")]
    engine.enroll("Tom_Cruise", tom[:3])
    with pytest.raises(DuplicateFaceError) as info:
        engine.enroll("Thomas Mapother", tom[3:6], strict=True)
    assert info.value.other == "Tom_Cruise"
    report = engine.enroll("Thomas Mapother", tom[3:6], strict=False)
    assert report.person.name == "Thomas Mapother"
    assert any("Tom_Cruise" in w for w in report.warnings)


def test_a_wrong_photo_is_flagged_and_kept_out_of_the_template(engine, load):
    lucy = [(str(p), load(p)) for p in person_photos("Lucy_Liu")[:3]]
    roger = person_photos("Roger_Federer")[0]
    report = engine.enroll("Lucy_Liu", lucy + [(str(roger), load(roger))])
    assert report.outliers == [str(roger)]
    assert any("unlike the other photos" in w for w in report.warnings)
    _, in_template = engine.gallery.person_vectors("Lucy_Liu")
    assert in_template.tolist() == [True, True, True, False]
    probe = load(person_photos("Lucy_Liu")[4])
    assert engine.identify(probe)[0].match.name == "Lucy_Liu"


def test_a_blurred_face_is_low_quality_not_a_guess(engine, load):
    photos = person_photos("Kit_Harington")
    engine.enroll("Kit_Harington", [(str(p), load(p)) for p in photos[:2]])
    blurred = cv2.GaussianBlur(load(photos[2]), (25, 25), 0)
    [result] = engine.identify(blurred)
    assert result.match.name is None and "blurred" in result.match.quality
    assert result.to_json()["quality"] == result.match.quality
    sharp = engine.identify(load(photos[2]))[0]
    assert sharp.match.name == "Kit_Harington" and sharp.match.quality is None
    with pytest.raises(FaceCountError, match="low quality"):
        engine.enroll("Blurry", [("blurred", blurred)])
