"""Passive liveness with the real MiniFASNet weights and real pictures; CLI and HTTP output.

The weights come from ../shared/models/anti_spoof (override with ANTISPOOF_WEIGHTS).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import torch
from conftest import ANTISPOOF, ROOT

from desktop.engine.core.errors import KioskError, WeightsUnavailableError
from desktop.engine.faces.antispoof import MODEL_FILES, AntiSpoof, resolve_antispoof_weights
from desktop.engine.faces.minifasnet import MiniFASNet, load_minifasnet
from desktop.engine.faces.weights import download_once

pytestmark = pytest.mark.skipif(not ANTISPOOF.is_dir(),
                                reason=f"MiniFASNet weights not found at {ANTISPOOF}")
ATTACKS = ("minivision_image_F1.jpg", "minivision_image_F2.jpg")
REAL = "minivision_image_T1.jpg"


@pytest.fixture(scope="module")
def spoof_dir(faces_dir) -> Path:
    return faces_dir / "spoof"


# ----------------------------------------------------------------------------- weights
@pytest.mark.parametrize("spec", MODEL_FILES, ids=lambda s: s.variant)
def test_state_dicts_load_strictly(spec):
    state = torch.load(ANTISPOOF / spec.name, map_location="cpu", weights_only=True)
    model = load_minifasnet(spec.variant, state)  # strict=True: no missing or extra key
    assert len(model.state_dict()) == len(state)
    with torch.inference_mode():
        assert model(torch.zeros(1, 3, 80, 80)).shape == (1, 3)


def test_the_other_variant_does_not_load():
    state = torch.load(ANTISPOOF / MODEL_FILES[0].name, map_location="cpu", weights_only=True)
    with pytest.raises(RuntimeError):
        load_minifasnet(MODEL_FILES[1].variant, state)
    assert isinstance(MiniFASNet("MiniFASNetV2"), torch.nn.Module)


def test_missing_or_broken_weights_say_what_to_do(tmp_path):
    with pytest.raises(WeightsUnavailableError) as missing:
        resolve_antispoof_weights(str(tmp_path))
    assert MODEL_FILES[0].name in str(missing.value) and "--antispoof-weights" in str(missing.value)
    for spec in MODEL_FILES:
        (tmp_path / spec.name).write_bytes(b"not a state_dict")
    with pytest.raises(WeightsUnavailableError, match="not a usable MiniFASNetV2"):
        AntiSpoof(str(tmp_path), "cpu")


def test_download_once_copies_checks_and_explains_failure(tmp_path):
    spec = MODEL_FILES[0]
    target = tmp_path / "checkpoints" / spec.name
    got = download_once((ANTISPOOF / spec.name).as_uri(), target, what="test weights",
                        alternative="pass --antispoof-weights DIR", sha256=spec.sha256)
    assert got == target and target.read_bytes() == (ANTISPOOF / spec.name).read_bytes()
    missing = tmp_path / "elsewhere" / spec.name
    with pytest.raises(WeightsUnavailableError) as offline:
        download_once((tmp_path / "nowhere.pth").as_uri(), missing, what="anti-spoofing weights",
                      alternative="pass --antispoof-weights DIR")
    message = str(offline.value)
    assert spec.name in message and str(missing.parent) in message
    assert "--antispoof-weights" in message and not missing.exists()


# ----------------------------------------------------------------------------- scores
@pytest.fixture(scope="module")
def scorer(models):
    def score(rgb):
        faces = models.run(models.detector.detect, rgb, None)
        assert faces
        return float(models.liveness_scores(rgb, [faces[0].box])[0])
    return score


def test_upstream_samples_two_attacks_and_one_real_face(scorer, spoof_dir, load):
    from desktop.engine.settings.config import DEFAULTS
    threshold = DEFAULTS.liveness_threshold
    for name in ATTACKS:
        assert scorer(load(spoof_dir / name)) < threshold, name
    assert scorer(load(spoof_dir / REAL)) >= threshold


def test_identify_marks_fake_faces_and_takes_their_name(engine, spoof_dir, load):
    attack, real = load(spoof_dir / ATTACKS[0]), load(spoof_dir / REAL)
    engine.enroll("Sample Subject", [("T1", real)])  # the attacks show the same man
    plain = engine.identify(attack)[0]
    assert plain.match.name == "Sample Subject" and "live" not in plain.to_json()
    fake = engine.identify(attack, "passive")[0]
    assert fake.match.live is False and fake.match.name is None
    assert fake.match.candidate == "Sample Subject"
    assert fake.to_json()["live"] is False and fake.to_json()["name"] is None
    live = engine.identify(real, "passive")[0]
    assert live.match.live is True and live.match.name == "Sample Subject"
    assert 0.0 <= live.to_json()["liveness_score"] <= 1.0


def test_check_mode_refuses_a_challenge_on_a_photo():
    from desktop.engine.decisions.liveness import check_mode
    assert check_mode("passive", photo=True) == "passive"
    with pytest.raises(KioskError, match="needs a camera"):
        check_mode("challenge", photo=True)
    with pytest.raises(KioskError, match="one of"):
        check_mode("sometimes")


# ----------------------------------------------------------------------------- front ends
def test_cli_identify_json_carries_live(tmp_path, weights_path, spoof_dir):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "main.py", *args, "--db", str(tmp_path / "db"),
                               "--weights", str(weights_path), "--antispoof-weights",
                               str(ANTISPOOF)], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
    proc = run("identify", "--json", "--liveness", "passive", str(spoof_dir / ATTACKS[1]),
               str(spoof_dir / REAL))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["faces"][0]["live"] for r in records] == [False, True]
    assert all(0 <= r["faces"][0]["liveness_score"] <= 1 for r in records)
    plain = run("identify", "--json", str(spoof_dir / REAL))
    assert "live" not in json.loads(plain.stdout)["faces"][0]
    refused = run("identify", "--liveness", "challenge", str(spoof_dir / REAL))
    assert refused.returncode == 2 and "needs a camera" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_http_recognize_carries_live(engine, spoof_dir):
    from test_server import running

    from desktop.server import create_app
    with running(create_app(engine, engine.settings)) as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        files = {"image": ("F2.jpg", (spoof_dir / ATTACKS[1]).read_bytes(), "image/jpeg")}
        faces = http.post("/recognize", params={"liveness": "passive"}, files=files).json()["faces"]
        assert faces[0]["live"] is False and faces[0]["name"] is None
        assert "live" not in http.post("/recognize", files=files).json()["faces"][0]
        refused = http.post("/recognize", params={"liveness": "challenge"}, files=files)
        assert refused.status_code == 400 and "needs a camera" in refused.json()["detail"]
