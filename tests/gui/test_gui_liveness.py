"""Liveness in the real window (offscreen Qt, real weights): photos held up are 'Not live'
and check nobody in; the head-turn prompt and ring are drawn over the preview and a still
photo times out; the settings dialog sets the mode, threshold and where it applies."""
from __future__ import annotations

import pytest
from gui_helpers import WAIT, Seen, slideshow

from desktop.engine.core.errors import SettingsError
from desktop.engine.core.names import NOT_LIVE
from desktop.engine.settings.file import coerce
from desktop.gui.video.video_view import FAKE

ATTACKS = ("minivision_image_F1.jpg", "minivision_image_F2.jpg")
REAL = "minivision_image_T1.jpg"


def test_photos_held_up_show_not_live_count_and_check_nobody_in(
        engine, faces_dir, open_window, qtbot, tmp_path, load):
    spoof = faces_dir / "spoof"
    engine.enroll("Sample Subject", [("T1", load(spoof / REAL))])
    engine.settings.liveness = "passive"
    engine.settings.slideshow_seconds = 3.0
    window = open_window(str(slideshow(tmp_path, *(spoof / a for a in ATTACKS))))
    seen = Seen(window)
    qtbot.waitUntil(lambda: NOT_LIVE in seen.labels, timeout=WAIT)
    qtbot.waitUntil(lambda: window.status.liveness.text().endswith("not live"), timeout=WAIT)
    assert "Sample Subject" not in seen.labels
    assert NOT_LIVE in seen.texts
    assert engine.attendance.day() == [] and window.attendance.names() == []
    assert window.video.banner.text() == "" or "Sample" not in window.video.banner.text()
    qtbot.waitUntil(lambda: any(t.label == NOT_LIVE for t in window.last_recognition.tracks),
                    timeout=WAIT)
    image = window.video.grab().toImage()
    assert not image.isNull()
    track = next(t for t in window.last_recognition.tracks if t.label == NOT_LIVE)
    target = window.video.image_rect()
    scale = target.width() / window.last_recognition.frame_size[0]
    x1, y1, x2, y2 = track.box
    edge = image.pixelColor(int(target.x() + x1 * scale), int(target.y() + (y1 + y2) / 2 * scale))
    assert abs(edge.red() - FAKE.red()) < 40 and abs(edge.green() - FAKE.green()) < 40


def test_registration_challenge_prompt_ring_and_a_still_photo_times_out(
        engine, faces_dir, open_window, qtbot):
    settings = engine.settings
    settings.liveness, settings.challenge_seconds = "challenge", 3.0
    photo = sorted((faces_dir / "people" / "Lucy_Liu").iterdir())[0]
    window = open_window(str(photo))
    qtbot.waitUntil(lambda: window.last_recognition is not None and
                    len(window.last_recognition.tracks) == 1, timeout=WAIT)
    dialog = window.registration.start("Lucy Liu")
    assert dialog.challenge is not None and dialog.advice.text().startswith("Turn your head to your")
    qtbot.waitUntil(lambda: window.video.challenge is not None and
                    window.video.challenge[1] is not None, timeout=WAIT)
    view, _ = window.video.challenge
    assert view.running and view.prompt in ("Turn your head to your left",
                                            "Turn your head to your right")
    with_ring = window.video.grab().toImage()
    saved = window.video.challenge
    window.video.show_challenge(None)
    without = window.video.grab().toImage()
    window.video.challenge = saved
    assert with_ring != without, "the prompt and ring are drawn over the preview"

    qtbot.waitUntil(lambda: dialog.try_again.isVisible(), timeout=WAIT)
    assert "No head turn seen in time" in dialog.advice.text()
    assert window.video.challenge[0].state == "timed out"
    assert dialog.crops == [] and engine.gallery.size == 0
    assert window.video.frame is not None and window.video.painted > 0  # preview kept going
    painted = window.video.painted
    dialog.try_again.click()
    assert window.video.challenge[0].running
    qtbot.waitUntil(lambda: window.video.painted > painted, timeout=WAIT)
    dialog.reject()
    assert window.video.challenge is None


def test_checkin_challenge_on_a_still_photo_times_out_as_not_live(
        engine, faces_dir, open_window, qtbot, load):
    photos = sorted((faces_dir / "people" / "Lucy_Liu").iterdir())
    engine.enroll("Lucy Liu", [(str(p), load(p)) for p in photos[:3]])
    settings = engine.settings
    settings.liveness, settings.challenge_seconds = "challenge", 2.0
    window = open_window(str(photos[0]))
    prompts = []
    window.recognized.connect(lambda r: prompts.extend(t.challenge for t in r.tracks
                                                       if t.challenge is not None))
    seen = Seen(window)
    qtbot.waitUntil(lambda: NOT_LIVE in seen.labels, timeout=WAIT)
    assert any(p.running for p in prompts) and prompts[-1].state == "timed out"
    assert "Lucy Liu" not in seen.labels and engine.attendance.day() == []
    assert window.status.liveness.text() == "1 not live"


def test_settings_dialog_sets_liveness_validated(engine, faces_dir, open_window, qtbot):
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    dialog = window.open_settings()
    assert not dialog.liveness_threshold.isEnabled()
    dialog.liveness.setCurrentIndex(dialog.liveness.findData("passive"))
    assert dialog.liveness_threshold.isEnabled()
    dialog.liveness_threshold.setValue(0.6)
    dialog.liveness_at_registration.setChecked(False)
    assert dialog.changes() == {"liveness": "passive", "liveness_threshold": 0.6,
                                "liveness_at_registration": False}
    applied = []
    window.settings_applied.connect(applied.append)
    dialog.accept()
    qtbot.waitUntil(lambda: bool(applied), timeout=WAIT)
    assert engine.settings.liveness == "passive" and engine.checkin_liveness == "passive"
    assert '"liveness": "passive"' in (engine.settings.db_dir / "settings.json").read_text()
    with pytest.raises(SettingsError, match="not one of"):
        coerce("liveness", "sometimes")
    with pytest.raises(SettingsError, match="out of range"):
        coerce("liveness_threshold", 1.5)
