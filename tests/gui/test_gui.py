"""The kiosk window on real sources, with the real model and a real database in tmp:
live labels, registration and people.

Dialogs are answered the way a user would: find the open box, click its button.
Set KIOSK_SCREENSHOT=docs/img/window.png to save the screenshot README.md shows.
"""
from __future__ import annotations

import os
import shutil

from gui_helpers import VIDEO, WAIT, Seen, answer_text, click, dialog, slideshow, video_crops
from PyQt5.QtWidgets import QMessageBox

from desktop.gui.people.register_dialog import RegisterDialog


# ----------------------------------------------------------------------------- live video
def test_video_labels_the_enrolled_person_greets_and_marks_strangers(
        engine, faces_dir, open_window, qtbot, tmp_path):
    video = faces_dir / VIDEO
    # the boy in the blue hoodie walks towards the camera for the whole clip
    engine.enroll_crops("Alex", video_crops(video, engine, (60, 100)), ["frame 60", "frame 100"])
    window = open_window(str(video))
    seen = Seen(window)
    qtbot.waitUntil(lambda: {"Alex", "Unknown"} <= seen.labels, timeout=WAIT)
    assert any(t.startswith("Alex 0.") for t in seen.texts), "known faces show name + similarity"

    # the check-in reached the banner and the attendance list
    qtbot.waitUntil(lambda: "Alex" in window.attendance.names(), timeout=WAIT)
    assert window.video.banner.text() == "Welcome, Alex!"
    assert "1 person checked in today" in window.attendance.summary.text()
    # a stranger is counted once two decisions agree (the label may show after one)
    qtbot.waitUntil(lambda: engine.attendance.visitors() >= 1, timeout=WAIT)

    # the status bar tells preview fps, recognition per stage, people and model
    qtbot.waitUntil(lambda: window.status.preview_fps > 0 and window.status.recognition_fps > 0,
                    timeout=WAIT)
    assert "detect" in window.status.recognition.text()
    assert window.status.people.text() == "1 person enrolled"
    assert "casia-webface" in window.status.model.text() and "cpu" in window.status.model.text()

    window.tabs.setCurrentWidget(window.attendance)
    qtbot.waitUntil(lambda: window.video.banner.isVisible() and any(
        t.label == "Alex" for t in (window.last_recognition.tracks
                                    if window.last_recognition else ())), timeout=WAIT)
    shot = window.grab()
    assert not shot.isNull() and shot.width() > 600
    target = os.environ.get("KIOSK_SCREENSHOT")
    shot.save(target if target else str(tmp_path / "screenshot.png"))


def test_folder_slideshow_names_the_enrolled_person_and_not_a_stranger(
        engine, settings, faces_dir, open_window, qtbot, tmp_path, load):
    kit = sorted((faces_dir / "people" / "Kit_Harington").iterdir())
    engine.enroll("Kit Harington", [(str(p), load(p)) for p in kit[:2]])
    settings.slideshow_seconds = 1.0
    folder = slideshow(tmp_path, kit[2], faces_dir / "unknown" / "Razali_Ismail_0001.jpg")
    window = open_window(str(folder))
    seen = Seen(window)
    qtbot.waitUntil(lambda: {"Kit Harington", "Unknown"} <= seen.labels, timeout=WAIT)
    assert seen.labels == {"Kit Harington", "Unknown"}
    assert window.people.names() == ["Kit Harington"]


# ----------------------------------------------------------------------------- people
def test_register_from_the_live_source_then_recognised_then_deleted(
        engine, settings, faces_dir, open_window, qtbot, tmp_path):
    settings.slideshow_seconds = 1.0
    settings.register_samples = 2  # two photos: two poses (a still repeats, and is skipped)
    kit = sorted((faces_dir / "people" / "Kit_Harington").iterdir())
    window = open_window(str(slideshow(tmp_path, *kit[:2])))
    seen = Seen(window)
    qtbot.waitUntil(lambda: window.registration.fresh_recognition() is not None and
                    len(window.registration.fresh_recognition().tracks) == 1, timeout=WAIT)

    window.act_register.trigger()
    answer_text(qtbot, "Register", "Kit")
    dialog(qtbot, RegisterDialog)
    saved = []
    window.gallery_changed.connect(saved.append)
    qtbot.waitUntil(lambda: bool(saved), timeout=WAIT)
    assert saved[0].startswith("Registered Kit (2 pictures")
    assert [p.name for p in engine.gallery.people()] == ["Kit"]
    assert window.people.names() == ["Kit"]
    seen.labels.clear()
    qtbot.waitUntil(lambda: "Kit" in seen.labels, timeout=WAIT)

    # the same face under another name: warned, and not saved when the user declines
    window.registration.start("Jon Snow")
    question = dialog(qtbot, QMessageBox, "Already registered?")
    assert "looks like Kit" in question.text()
    click(question, "Cancel")
    qtbot.waitUntil(lambda: window.registration.dialog is None, timeout=WAIT)
    assert [p.name for p in engine.gallery.people()] == ["Kit"]

    # Del asks, with "keep attendance" off by default, then removes everything
    window.people.select("Kit")
    window.act_delete.trigger()
    confirm = dialog(qtbot, QMessageBox, "Delete person")
    assert not confirm.checkBox().isChecked()
    click(confirm, "Delete")
    qtbot.waitUntil(lambda: window.people.names() == [], timeout=WAIT)
    assert engine.gallery.people() == [] and engine.gallery.size == 0
    assert engine.attendance.day() == []
    seen.labels.clear()
    qtbot.waitUntil(lambda: "Unknown" in seen.labels, timeout=WAIT)
    assert "Kit" not in seen.labels


def test_register_refuses_several_faces_and_no_face(faces_dir, open_window, qtbot):
    window = open_window(str(faces_dir / "group" / "face_recognition_kit_with_rose.jpg"))
    qtbot.waitUntil(lambda: window.registration.fresh_recognition() is not None and
                    len(window.registration.fresh_recognition().tracks) == 2, timeout=WAIT)
    window.registration.register()
    box = dialog(qtbot, QMessageBox, "Cannot register now")
    assert "more than one person" in box.text()
    click(box, "OK")

    window.source.set_source(str(faces_dir / "noface" / "skimage_rocket.jpg"))
    qtbot.waitUntil(lambda: window.registration.fresh_recognition() is not None, timeout=WAIT)
    window.registration.register()
    box = dialog(qtbot, QMessageBox, "Cannot register now")
    assert "Nobody is in front of the camera" in box.text()
    click(box, "OK")
    assert window.registration.dialog is None


def test_enroll_from_photo_files_and_from_a_folder(engine, faces_dir, open_window, qtbot,
                                                   tmp_path):
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    rose = sorted((faces_dir / "people" / "Rose_Leslie").iterdir())
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a photo")
    window.enroll.enroll_files("Rose Leslie", [str(p) for p in rose] + [str(bad)])
    box = dialog(qtbot, QMessageBox, "Enrolled, with some photos skipped")
    assert "Enrolled Rose Leslie from 2 photo(s)" in box.text()
    click(box, "OK")
    assert window.people.names() == ["Rose Leslie"]

    # the same face under another name: asked, and saved when the user insists
    window.enroll.enroll_files("Rose L.", [str(rose[0])])
    question = dialog(qtbot, QMessageBox, "Already registered?")
    assert "looks like Rose Leslie" in question.text()
    click(question, "Register anyway")
    qtbot.waitUntil(lambda: window.people.names() == ["Rose L.", "Rose Leslie"], timeout=WAIT)
    engine.delete("Rose L.")

    root = tmp_path / "staff"
    for name in ("Roger_Federer", "Lucy_Liu"):
        (root / name).mkdir(parents=True)
        for photo in sorted((faces_dir / "people" / name).iterdir())[:2]:
            shutil.copy(photo, root / name / photo.name)
    cancelled = []
    window.gallery_changed.connect(cancelled.append)
    click(window.enroll.enroll_folder(str(root)), "Cancel")  # stops at the next photo
    qtbot.waitUntil(lambda: bool(cancelled), timeout=WAIT)
    assert cancelled == ["Enrollment cancelled; nobody was added"]
    assert [p.name for p in engine.gallery.people()] == ["Rose Leslie"]

    progress = window.enroll.enroll_folder(str(root))
    box = dialog(qtbot, QMessageBox, "Enrollment finished")
    assert "enrolled 4 photo(s) of 2 people" in box.text()
    click(box, "OK")
    assert not progress.isVisible()
    assert window.people.names() == ["Lucy_Liu", "Roger_Federer", "Rose Leslie"]
    assert window.status.people.text() == "3 people enrolled"
    assert "Rose L." not in window.people.names()


def test_people_panel_search_and_rename(engine, faces_dir, open_window, qtbot, load):
    for name in ("Lucy_Liu", "Roger_Federer"):
        photo = sorted((faces_dir / "people" / name).iterdir())[0]
        engine.enroll(name.replace("_", " "), [(str(photo), load(photo))])
    window = open_window(str(faces_dir / "noface" / "skimage_grass.png"))
    window.people.refresh()
    assert window.people.names() == ["Lucy Liu", "Roger Federer"]
    assert window.people.model.item(0, 1).data(0) == 1  # pictures
    window.people.search.setText("ROG")
    assert window.people.names() == ["Roger Federer"]
    window.people.rename_button.click()  # the only hit needs no selection
    answer_text(qtbot, "Rename", "Roger F.")
    qtbot.waitUntil(lambda: window.people.names() == ["Roger F."], timeout=WAIT)
    window.people.search.clear()
    assert window.people.names() == ["Lucy Liu", "Roger F."]
