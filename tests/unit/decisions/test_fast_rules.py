"""Fast tier: the pure rules, on synthetic numbers (no model, no photos)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic import face, identity

from desktop.engine.core.errors import FaceCountError, SettingsError
from desktop.engine.decisions.matching import decide
from desktop.engine.evaluation.accuracy import threshold_for_fpir
from desktop.engine.faces.subject import subject_face
from desktop.engine.gallery.faiss_index import build_index, is_exact
from desktop.engine.live.apply_settings import validate
from desktop.engine.settings.config import DEFAULTS
from desktop.engine.settings.file import coerce, load_settings
from desktop.gui.people.sample_collector import NO_FACE, SEVERAL, subject


# ----------------------------------------------------------------------------- decision
def test_decide_accepts_only_above_threshold_and_clear_of_the_runner_up():
    assert decide([("Ada", 0.80), ("Grace", 0.40)], 0.55, 0.03).name == "Ada"
    low = decide([("Ada", 0.50), ("Grace", 0.20)], 0.55, 0.03)
    assert low.name is None and low.candidate == "Ada" and low.similarity == pytest.approx(0.5)
    close = decide([("Ada", 0.70), ("Grace", 0.69)], 0.55, 0.03)
    assert close.name is None and close.runner_up == pytest.approx(0.69)
    assert decide([("Ada", 0.60)], 0.55, 0.03).runner_up == -1.0
    empty = decide([], 0.55, 0.03)
    assert empty.name is None and empty.candidate is None and empty.similarity == -1.0


def test_threshold_for_fpir_lets_through_at_most_that_share_of_impostors():
    scores = np.linspace(0.0, 0.99, 100)
    for fpir in (0.01, 0.05, 0.10):
        t = threshold_for_fpir(scores, fpir)
        assert np.mean(scores >= t) <= fpir + 1e-9
        assert np.mean(scores >= t - 0.011) > fpir  # and not needlessly high


# ----------------------------------------------------------------------------- index
def test_small_galleries_get_an_exact_index_large_ones_hnsw():
    vectors = np.stack([identity(p) for p in range(1, 21)])
    ids = np.arange(20, dtype=np.int64)
    exact = build_index(vectors, ids)
    assert is_exact(exact) and exact.ntotal == 20
    approximate = build_index(vectors, ids, exact=False)
    assert not is_exact(approximate)
    _, found = approximate.search(vectors[:5], 1)
    assert list(found[:, 0]) == [0, 1, 2, 3, 4]


# ----------------------------------------------------------------------------- subject rule
def test_one_subject_rule_is_shared_by_photos_and_registration():
    big, small, similar = (face((0, 0, 100, 100), 1), face((200, 0, 260, 60), 2),
                           face((300, 0, 390, 90), 3))
    assert subject_face([small, big]) is big  # a small bystander is fine
    with pytest.raises(FaceCountError, match="similar size"):
        subject_face([big, similar])
    with pytest.raises(FaceCountError, match="no face"):
        subject_face([])
    assert subject([small, big]) == (big, None)
    assert subject([big, similar]) == (None, SEVERAL)
    assert subject([]) == (None, NO_FACE)
    assert subject_face([big, similar], ratio=1.1) is big  # the ratio is a setting


# ----------------------------------------------------------------------------- settings
def test_settings_values_are_converted_and_checked_with_clear_messages():
    assert coerce("min_face_size", "60") == 60
    assert coerce("loop_video", "off") is False
    assert coerce("threshold", "") is None and coerce("threshold", "0.6") == 0.6
    assert coerce("det_thresholds", [0.5, 0.6, 0.7]) == (0.5, 0.6, 0.7)
    for name, value, message in [
            ("min_face_size", 5, "out of range"), ("threshold", 1.5, "out of range"),
            ("confirm_frames", 1.5, "whole number"), ("loop_video", "maybe", "yes/no"),
            ("det_thresholds", [0.5], "3 numbers"), ("cooldown_minutes", "soon", "a number"),
            ("no_such_setting", 1, "unknown setting")]:
        with pytest.raises(SettingsError, match=message):
            coerce(name, value)
    with pytest.raises(SettingsError, match="port"):
        validate({"cooldown_minutes": 5, "port": 0})


def test_bad_values_in_settings_json_are_skipped_and_overrides_checked(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps(
        {"min_face_size": -3, "cooldown_minutes": 5, "future_option": 1}))
    settings = load_settings(tmp_path)
    assert settings.min_face_size == DEFAULTS.min_face_size and settings.cooldown_minutes == 5
    assert settings.extra == {"future_option": 1}
    with pytest.raises(SettingsError, match="recheck_seconds"):
        load_settings(tmp_path, recheck_seconds="-1")


def test_saving_changes_keeps_one_off_overrides_out_of_the_file(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"cooldown_minutes": 5, "x": 1}))
    settings = load_settings(tmp_path, weights="/tmp/one-off.pt", source="clip.mp4")
    settings.save({"min_face_size": 60})
    stored = json.loads((tmp_path / "settings.json").read_text())
    assert stored == {"cooldown_minutes": 5, "x": 1, "min_face_size": 60}
    again = load_settings(tmp_path)
    assert again.weights == DEFAULTS.weights and again.source == DEFAULTS.source
    assert again.min_face_size == 60


def test_a_decision_is_decisive_only_far_from_the_threshold_on_the_models_own_scale():
    from desktop.engine.core.types import ModelInfo
    from desktop.engine.decisions.matching import Match, decisive
    casia, dlib = "20180408-102900-casia-webface-features", "dlib_face_recognition_resnet_model_v1"
    assert decisive(Match("Ada", "Ada", 0.76, 0.1), casia, 0.65)  # FPIR 0.1% level
    assert not decisive(Match("Ada", "Ada", 0.70, 0.1), casia, 0.65)
    assert not decisive(Match("Ada", "Ada", 0.76, 0.1), casia, 0.80)  # a stricter site
    assert decisive(Match(None, "Ada", 0.40, 0.1), casia, 0.65)
    assert not decisive(Match(None, "Ada", 0.55, 0.1), casia, 0.65)
    assert not decisive(Match("Ada", "Ada", 0.95, 0.1), dlib, 0.954)  # dlib's scale
    assert decisive(Match(None, "Ada", 0.90, 0.1), dlib, 0.954)
    declared = ModelInfo("someones-arcface", "onnx:0", 512, threshold=0.3)
    assert not decisive(Match("Ada", "Ada", 0.99, 0.1), declared, 0.3)  # not measured here
    assert not decisive(Match(None, "Ada", -0.5, -0.6), declared, 0.3)
