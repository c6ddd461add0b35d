"""Fast tier: motion gating on synthetic frames (no model): idle rate on a still, noisy
scene, full rate at once on motion or a tracked face, slow motion adds up."""
from __future__ import annotations

import numpy as np
import pytest

from desktop.engine.core.errors import SettingsError
from desktop.engine.live.pipeline import EveryFrame, gate_from_settings
from desktop.engine.settings.file import coerce, load_settings
from desktop.engine.video.feed import Frame
from desktop.engine.video.motion import MotionGate, changed_share, thumbnail

FPS = 30.0
RNG = np.random.default_rng(13)
SCENE = RNG.integers(40, 200, (480, 640, 3), dtype=np.uint8)


def noisy(scene: np.ndarray = SCENE, sigma: float = 3.0) -> np.ndarray:
    """The scene as a camera sees it: a little sensor noise on every frame."""
    noise = RNG.normal(0, sigma, scene.shape)
    return np.clip(scene.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def with_square(x: int, side: int = 60, level: int = 250) -> np.ndarray:
    out = SCENE.copy()
    out[100:100 + side, x:x + side] = level
    return out


def play(gate: MotionGate, frames, start: int = 0, tracks=()) -> list[bool]:
    return [gate.wants(Frame(rgb, start + i + 1, (start + i) / FPS), tracks)
            for i, rgb in enumerate(frames)]


def test_thumbnail_is_small_grey_and_noise_barely_changes_it():
    a, b = thumbnail(noisy()), thumbnail(noisy())
    assert a.shape == (72, 96) and a.dtype == np.int16
    assert changed_share(a, b, 12.0) < 0.001
    assert changed_share(a, thumbnail(with_square(300)), 12.0) > 0.01
    assert changed_share(a, a[:10], 12.0) == 1.0  # another frame size: all new


def test_still_noisy_scene_goes_idle_at_about_the_idle_rate():
    gate = MotionGate(idle_fps=2.0, hold_seconds=1.0)
    wanted = play(gate, [noisy() for _ in range(int(5 * FPS))])
    assert wanted[0] and gate.active is False
    # the first second is the hold after start-up; then about 2 frames a second
    idle = wanted[int(1.2 * FPS):]
    rate = sum(idle) / (len(idle) / FPS)
    assert 1.5 <= rate <= 2.5, rate


def test_motion_wakes_the_gate_on_that_very_frame():
    gate = MotionGate(idle_fps=2.0, hold_seconds=0.5)
    play(gate, [noisy() for _ in range(60)])
    assert not gate.active
    moved = play(gate, [noisy(with_square(200))], start=60)
    assert moved == [True] and gate.active
    # full rate while it moves
    assert all(play(gate, [noisy(with_square(200 + 8 * i)) for i in range(1, 20)], start=61))


def test_a_tracked_face_keeps_full_rate_without_motion():
    gate = MotionGate(idle_fps=2.0, hold_seconds=0.0)
    wanted = play(gate, [noisy() for _ in range(30)], tracks=["a track"])
    assert all(wanted) and gate.active
    play(gate, [noisy() for _ in range(30)], start=30)
    assert not gate.active


def test_slow_motion_adds_up_against_the_last_recognised_frame():
    gate = MotionGate(idle_fps=0.5, hold_seconds=0.0, min_area=0.004)
    play(gate, [noisy() for _ in range(10)])
    # a dark band creeping in by 1 px a frame: below the threshold from one frame to the
    # next, but it adds up against the reference picture
    frames = [noisy(_creeping(i)) for i in range(1, 40)]
    wanted = play(gate, frames, start=10)
    assert any(wanted[:20]), "slow motion never woke the gate"


def _creeping(pixels: int) -> np.ndarray:
    out = SCENE.copy()
    out[100:200, :pixels] = 0
    return out


def test_reset_recognises_the_next_frame():
    gate = MotionGate(idle_fps=0.1, hold_seconds=0.0)
    play(gate, [noisy() for _ in range(10)])
    assert play(gate, [noisy()], start=10) == [False]
    gate.reset()
    assert play(gate, [noisy()], start=11) == [True]


def test_settings_choose_the_gate_and_check_values(tmp_path):
    settings = load_settings(tmp_path)
    assert isinstance(gate_from_settings(settings), MotionGate)
    settings.motion_gating = False
    assert isinstance(gate_from_settings(settings), EveryFrame)
    assert coerce("idle_detect_fps", "5") == 5.0
    with pytest.raises(SettingsError, match="out of range"):
        coerce("motion_min_area", 2)
    with pytest.raises(SettingsError, match="passive, active, default"):
        coerce("omp_wait_policy", "spin")
