"""The head-turn challenge: the yaw rule on real photos (LFW faces turned and frontal, checked
by eye), and the challenge fed real MTCNN detections of still, moved and turned faces.

A fast tier on hand-made landmark sets checks the geometry without any model.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import ROOT

from desktop.engine.core.types import Detection
from desktop.engine.decisions.challenge import (
    LEFT,
    RIGHT,
    ChallengeState,
    HeadTurnChallenge,
    parallax,
    yaw_offset,
)
from desktop.engine.settings.config import DEFAULTS

LFW = ROOT.parent / "shared" / "lfw" / "images"
# Looked at one by one: heads clearly turned to the person's left (nose towards the image's
# right), to their right, and faces looking straight at the camera.
TURNED_LEFT = ["Andre_Agassi/Andre_Agassi_0003.jpg", "Angelina_Jolie/Angelina_Jolie_0011.jpg",
               "Amelia_Vega/Amelia_Vega_0003.jpg", "Ana_Palacio/Ana_Palacio_0003.jpg"]
TURNED_RIGHT = ["Adrien_Brody/Adrien_Brody_0012.jpg", "Abdullah_Gul/Abdullah_Gul_0015.jpg",
                "Andre_Agassi/Andre_Agassi_0031.jpg", "Angelina_Jolie/Angelina_Jolie_0009.jpg"]
FRONTAL = ["Andre_Agassi/Andre_Agassi_0010.jpg", "Alejandro_Toledo/Alejandro_Toledo_0001.jpg",
           "Angelina_Jolie/Angelina_Jolie_0005.jpg", "Al_Sharpton/Al_Sharpton_0006.jpg"]

needs_lfw = pytest.mark.skipif(not LFW.is_dir(), reason=f"LFW photos not found at {LFW}")

# A frontal face: eyes, nose, mouth corners (pixels).
FRONT = np.array([[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], np.float64)


def det(landmarks: np.ndarray) -> Detection:
    x1, y1 = landmarks.min(0) - 20
    x2, y2 = landmarks.max(0) + 20
    return Detection((float(x1), float(y1), float(x2), float(y2)), 0.99,
                     np.asarray(landmarks, np.float32))


def warp(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(points[None].astype(np.float64), matrix)[0]


def tilted_sheet(degrees: float, roll: float = 0.0, centre=(60.0, 70.0)) -> np.ndarray:
    """The homography of a flat sheet rolled in its plane, then tilted about a vertical axis
    (a pinhole camera 300 px away): how a photo moves when it is turned in front of a camera."""
    a, r = np.radians(degrees), np.radians(roll)
    cx, cy = centre
    f = 300.0
    to_centre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    rolled = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    # plane point (x, y, 0) rotated about the y axis, at depth f, projected with focal f
    tilt = np.array([[f * np.cos(a), 0, 0], [0, f, 0], [-np.sin(a), 0, f]])
    back = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]])
    return back @ tilt @ rolled @ to_centre


# ----------------------------------------------------------------------------- geometry
def test_yaw_is_zero_for_a_frontal_face_and_ignores_roll():
    assert yaw_offset(FRONT) == pytest.approx(0.0)
    rolled = warp(FRONT, tilted_sheet(0, roll=25))
    assert yaw_offset(rolled) == pytest.approx(0.0, abs=1e-9)
    turned = FRONT.copy()
    turned[2, 0] += 10  # nose towards the image's right: the person's left
    assert yaw_offset(turned) == pytest.approx(0.5)


@pytest.mark.parametrize("degrees,roll", [(0, 0), (40, 0), (55, 20), (-50, -15), (30, 35)])
def test_a_flat_picture_moved_in_front_of_the_camera_shows_no_parallax(degrees, roll):
    moved = warp(FRONT, tilted_sheet(degrees, roll))
    assert abs(parallax(FRONT, moved)) < 1e-6


def test_a_rolled_and_tilted_photo_fakes_the_yaw_offset_but_not_the_parallax():
    """Why the challenge needs both: the nose of a sheared flat face leaves the midline."""
    moved = warp(FRONT, tilted_sheet(60, roll=20))
    assert abs(yaw_offset(moved)) > DEFAULTS.challenge_yaw
    challenge = HeadTurnChallenge(direction=LEFT if yaw_offset(moved) > 0 else RIGHT)
    steps = [FRONT] + [warp(FRONT, tilted_sheet(60 * k / 5, roll=20 * k / 5)) for k in range(6)]
    steps += [moved] * 5
    for t, points in enumerate(steps):
        challenge.feed(det(points), now=t * 0.1)
    assert challenge.state is ChallengeState.RUNNING and challenge.progress < 0.2


def test_challenge_states_from_synthetic_landmarks():
    still = HeadTurnChallenge(direction=LEFT, seconds=2.0)
    for t in range(30):
        still.feed(det(FRONT), now=t * 0.1)
    assert still.state is ChallengeState.TIMED_OUT and still.progress == 0.0

    wrong = HeadTurnChallenge(direction=RIGHT)
    wrong.feed(det(FRONT), now=0)
    nose_left = FRONT.copy()
    nose_left[2, 0] += 10
    assert wrong.feed(det(nose_left), now=0.1) is ChallengeState.FAILED

    lost = HeadTurnChallenge(direction=LEFT)
    lost.feed(det(FRONT), now=0)
    assert lost.feed(None, now=0.1) is ChallengeState.RUNNING


# ----------------------------------------------------------------------------- real photos
@pytest.fixture(scope="module")
def subject(models):
    from desktop.engine.core.images import load_image

    def detect(rgb_or_path) -> Detection:
        rgb = load_image(LFW / rgb_or_path) if isinstance(rgb_or_path, str) else rgb_or_path
        faces = models.run(models.detector.detect, rgb, None)
        assert faces, rgb_or_path
        return faces[0]
    return detect


@needs_lfw
def test_yaw_rule_on_real_turned_and_frontal_photos(subject):
    required = DEFAULTS.challenge_yaw
    for name in TURNED_LEFT:
        assert yaw_offset(subject(name).landmarks) >= required, name
    for name in TURNED_RIGHT:
        assert yaw_offset(subject(name).landmarks) <= -required, name
    for name in FRONTAL:
        assert abs(yaw_offset(subject(name).landmarks)) < 0.1, name


@needs_lfw
def test_a_still_photo_repeated_over_frames_fails(subject):
    from desktop.engine.core.images import load_image
    rgb = load_image(LFW / FRONTAL[0])
    for direction in (LEFT, RIGHT):
        challenge = HeadTurnChallenge(direction=direction)
        t = 0.0
        while challenge.state is ChallengeState.RUNNING:
            challenge.feed(subject(rgb), now=t)
            t += 0.2
        assert challenge.state is ChallengeState.TIMED_OUT
        assert challenge.progress < 0.3


@needs_lfw
def test_a_photo_turned_and_rolled_in_front_of_the_camera_fails(subject):
    """The photo is re-detected after each warp: MTCNN's own landmarks, no hand-made ones."""
    from desktop.engine.core.images import load_image
    rgb = load_image(LFW / FRONTAL[0])
    h, w = rgb.shape[:2]
    frames = [rgb] + [cv2.warpPerspective(rgb, tilted_sheet(a, r, (w / 2, h / 2)), (w, h))
                      for a, r in ((20, 5), (35, 10), (45, 15), (50, 20), (50, 20), (50, 20),
                                   (-20, -5), (-35, -10), (-45, -15), (-50, -20), (-50, -20))]
    for direction in (LEFT, RIGHT):
        challenge = HeadTurnChallenge(direction=direction)
        for t, frame in enumerate(frames):
            challenge.feed(subject(frame), now=t * 0.2)
        assert challenge.state is not ChallengeState.PASSED, (direction, challenge.progress)


@needs_lfw
@pytest.mark.parametrize("turned,direction", [(TURNED_LEFT[0], LEFT), (TURNED_RIGHT[2], RIGHT)])
def test_a_real_head_turn_passes(subject, turned, direction):
    """Two real photos of one person, frontal then turned: the geometry of a head turn (and
    what a video replay or a quick swap of two photos can show, see challenge.py)."""
    challenge = HeadTurnChallenge(direction=direction)
    challenge.feed(subject(FRONTAL[0]), now=0.0)
    turned_face = subject(turned)
    for k in range(DEFAULTS.challenge_frames):
        challenge.feed(turned_face, now=0.2 * (k + 1))
    assert challenge.state is ChallengeState.PASSED
    assert challenge.progress == 1.0
