"""``--model reid`` (Intel's face-reidentification-retail-0095) on real photos, where its
files come from, and the same network and a real ArcFace file through ``onnx:`` with a
sidecar JSON. Models load once per session (conftest ``reid_models``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, person_photos
from test_embedders import _conforms
from test_model_switch import PEOPLE, _engine, _enroll, _recognised

SHARED = ROOT.parent / "shared" / "models"
ARCFACE = SHARED / "mobilefacenet-arcface" / "mobilefacenet_arcface_ms1m_y1.onnx"
INTEL_ONNX = SHARED / "face-reidentification-retail-0095" / "face_reid_retail_0095.onnx"
INTEL_POINTS = [0.31556875, 0.46157411, 0.68262292, 0.46157411, 0.50026250, 0.64050536,
                0.34947188, 0.82469196, 0.65343646, 0.82469196]
ARCFACE_LEVELS = {"threshold": 0.443, "duplicate": 0.52, "outlier": 0.38, "stranger": 0.45}
"""The research ArcFace file's levels (a test's sidecar only, never a product default)."""


@pytest.fixture(scope="session")
def reid_detections(reid_models, faces_dir, load):
    out = []
    for person in PEOPLE[:3]:
        for path in person_photos(person)[:2]:
            rgb = load(path)
            faces = reid_models.run(reid_models.detector.detect, rgb)
            out.append((person, rgb, faces[0]))
    return out


def _beside(tmp_path, model, sidecar: dict | str):
    """``model`` linked into tmp_path with a sidecar JSON beside it (the shared folder is
    read-only; the link keeps the model's bytes and digest)."""
    link = tmp_path / model.name
    link.symlink_to(model)
    text = sidecar if isinstance(sidecar, str) else json.dumps(sidecar)
    (tmp_path / (model.name + ".json")).write_text(text)
    return link


def test_reid_conforms(reid_models, reid_detections):
    embedder = reid_models.embedder
    assert (embedder.kind, embedder.name) == ("reid", "face-reidentification-retail-0095")
    _conforms(embedder, reid_detections, 256)
    assert embedder.crop(*reid_detections[0][1:]).shape == (128, 128, 3)


def test_reid_names_enrolled_people_and_not_strangers(tmp_path, weights_path, reid_dir,
                                                      reid_models, faces_dir, load):
    from desktop.engine.decisions.matching import model_defaults
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.settings.file import load_settings
    settings = load_settings(tmp_path / "db", model="reid", weights=str(weights_path),
                             reid_weights=str(reid_dir))
    engine = FaceEngine(settings, reid_models)
    try:
        defaults = model_defaults("face-reidentification-retail-0095")
        assert engine.threshold == pytest.approx(defaults.threshold)
        probes = _enroll(engine, load)
        right, total = _recognised(engine, probes, load)
        assert right == total, (right, total)
        strangers = sorted((faces_dir / "unknown").iterdir())[:20]
        named = [f.match.name for p in strangers for f in engine.identify(load(p)) if f.match.name]
        assert named == []
    finally:
        engine.close()


def test_reembed_facenet_to_reid_and_back(settings, models, reid_models, faces_dir, load):
    facenet = _engine(settings, models)
    probes = _enroll(facenet, load)
    before = _recognised(facenet, probes, load)
    samples = facenet.gallery.sample_count
    facenet.close()
    reid = _engine(settings, reid_models)
    assert reid.gallery.model_mismatch
    assert reid.reembed() == samples
    assert reid.gallery.dim == 256
    assert reid.threshold == pytest.approx(reid_models.embedder.default_threshold)
    right, total = _recognised(reid, probes, load)
    assert right == total, (right, total)
    reid.close()
    back = _engine(settings, models)
    back.reembed()
    assert back.gallery.dim == 512 and _recognised(back, probes, load) == before
    back.close()


def test_cli_evaluate_with_reid_from_the_environment(tmp_path, reid_dir, weights_path,
                                                     faces_dir):
    labelled = tmp_path / "labelled"
    for name in ("Tom_Cruise", "Lucy_Liu", "Roger_Federer", "Ari_Fleischer", "Bill_Frist"):
        (labelled / name).mkdir(parents=True)
        for photo in person_photos(name)[:5]:
            (labelled / name / photo.name).symlink_to(photo)
    env = dict(os.environ, FACE_KIOSK_MODEL="reid", FACE_KIOSK_REID_WEIGHTS=str(reid_dir),
               FACE_KIOSK_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "main.py", "evaluate", str(labelled), "--json",
                           "--strangers", str(faces_dir / "unknown"), "--db", str(tmp_path / "db"),
                           "--weights", str(weights_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["model"] == "face-reidentification-retail-0095"
    assert result["enrolled_people"] == 4 and result["rank1"] == 1.0
    assert result["fpir"] <= 0.01


def test_reid_offline_and_missing_files_say_which_files_where_and_which_flag(tmp_path):
    env = {"TORCH_HOME": str(tmp_path / "torch"), "PATH": "/usr/bin:/bin",
           "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    proc = subprocess.run([sys.executable, "main.py", "delete", "Nobody", "--db", str(tmp_path / "db"),
                           "--model", "reid"], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    folder = tmp_path / "torch" / "checkpoints" / "face-reidentification-retail-0095" / "FP16"
    assert "face-reidentification-retail-0095.xml" in proc.stderr
    assert str(folder) in proc.stderr and "--reid-weights" in proc.stderr
    assert not list(folder.glob("*")) if folder.exists() else True  # nothing half-written
    proc = subprocess.run([sys.executable, "main.py", "delete", "Nobody", "--db", str(tmp_path / "db"),
                           "--model", "reid", "--reid-weights", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "FP16/face-reidentification-retail-0095.bin" in proc.stderr
    assert str(tmp_path) in proc.stderr and "--reid-weights" in proc.stderr


def test_download_checks_the_published_sha384(tmp_path, reid_dir):
    """A download is kept only when its SHA-384 is the published one (file:// stands in for
    Intel's server: same code path, no network)."""
    from desktop.engine.core.errors import WeightsUnavailableError
    from desktop.engine.faces.embedders.reid import SHA384
    from desktop.engine.faces.weights import download_once
    source = reid_dir / "FP16" / "face-reidentification-retail-0095.xml"
    good = download_once(source.as_uri(), tmp_path / "ok" / source.name, what="reid xml",
                         alternative="pass --reid-weights DIR", sha384=SHA384[".xml"])
    assert good.read_bytes() == source.read_bytes()
    target = tmp_path / "bad" / source.name
    with pytest.raises(WeightsUnavailableError, match="SHA-384") as caught:
        download_once(source.as_uri(), target, what="reid xml",
                      alternative="pass --reid-weights DIR", sha384=SHA384[".bin"])
    assert "--reid-weights" in str(caught.value) and str(target.parent) in str(caught.value)
    assert list(target.parent.iterdir()) == []


def test_intel_onnx_through_onnx_with_its_template_matches_reid(tmp_path, reid_models,
                                                                reid_detections):
    from desktop.engine.faces.embedders.onnx_model import OnnxEmbedder
    link = _beside(tmp_path, INTEL_ONNX, {"face_kiosk.mean": 0, "std": 1, "channels": "BGR",
                                          "template": INTEL_POINTS})
    onnx = OnnxEmbedder(link)
    assert onnx.spec.size == 128 and onnx.spec.channels == "BGR"
    crops = [reid_models.embedder.crop(rgb, det) for _, rgb, det in reid_detections]
    assert all(np.array_equal(a, onnx.crop(rgb, det))
               for a, (_, rgb, det) in zip(crops, reid_detections))
    cosines = (onnx.embed(crops) * reid_models.embedder.embed(crops)).sum(1)
    assert cosines.min() >= 0.9999, cosines


def test_arcface_file_with_a_sidecar_runs_end_to_end(tmp_path, weights_path, faces_dir):
    """A plain ArcFace ONNX file (no metadata) with a sidecar: RGB, raw 0..255, its
    levels; enroll and identify through the CLI."""
    link = _beside(tmp_path, ARCFACE, {"mean": 0, "std": 1, "name": "arcface-test",
                                       **ARCFACE_LEVELS})
    db = tmp_path / "db"

    def cli(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "main.py", *args, "--db", str(db), "--model",
                               f"onnx:{link}", "--weights", str(weights_path)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        return proc
    for person in ("Tom_Cruise", "Lucy_Liu"):
        cli("enroll", person, *[str(p) for p in person_photos(person)[:3]])
    for person, other in (("Tom_Cruise", "Lucy_Liu"), ("Lucy_Liu", "Tom_Cruise")):
        out = cli("identify", str(person_photos(person)[4])).stdout
        assert person in out and other not in out, out


def test_arcface_sidecar_levels_become_the_model_defaults(tmp_path):
    from desktop.engine.decisions.matching import model_defaults
    from desktop.engine.faces.embedders.onnx_model import OnnxEmbedder
    plain = OnnxEmbedder(ARCFACE)
    link = _beside(tmp_path, ARCFACE, {"mean": 0, "std": 1, **ARCFACE_LEVELS})
    embedder = OnnxEmbedder(link)
    assert embedder.model_id != plain.model_id  # other input scaling: other vectors
    defaults = model_defaults(embedder.info)
    assert (defaults.threshold, defaults.duplicate, defaults.outlier, defaults.stranger) == \
        tuple(ARCFACE_LEVELS.values())


@pytest.mark.parametrize("sidecar, message", [
    ("{not json", "not readable JSON"),
    ("[1, 2]", "JSON object"),
    ('{"meen": 0}', "unknown key 'meen'"),
    ('{"template": [1, 2, 3]}', "10 numbers"),
    ('{"template": "0 0 1 1 2 2 3 3 4 900"}', "inside the"),
    ('{"channels": "GBR"}', "RGB or BGR"),
    ('{"threshold": 3}', "cosine"),
])
def test_a_bad_sidecar_is_a_clear_error(tmp_path, sidecar, message):
    from desktop.engine.core.errors import WeightsUnavailableError
    from desktop.engine.faces.embedders.onnx_model import OnnxEmbedder
    link = _beside(tmp_path, ARCFACE, sidecar)
    with pytest.raises(WeightsUnavailableError, match=message) as caught:
        OnnxEmbedder(link)
    assert "\n" not in str(caught.value)


def test_reid_is_a_model_name():
    from desktop.engine.faces.embedders import MODEL_HELP, parse_model
    assert parse_model("reid") == parse_model(" REID ") == ("reid", "")
    assert "reid" in MODEL_HELP


def test_live_loop_with_reid_takes_yunets_own_points(tmp_path, faces_dir, load):
    """With reid and yunet_points_only (no passive liveness) the live detector is YuNet
    alone: its points land where MTCNN's do, and its faces pass the quality gate on
    YuNet's own score. Off by default: MTCNN still refines."""
    from desktop.engine.faces.networks import build_detector
    from desktop.engine.faces.quality import quality_problem
    from desktop.engine.settings.file import load_settings
    assert build_detector(load_settings(tmp_path / "db", model="reid"), live=True).refine
    settings = load_settings(tmp_path / "db", model="reid", yunet_points_only=True)
    live, photos = build_detector(settings, live=True), build_detector(settings)
    assert live.refine is False
    assert build_detector(load_settings(tmp_path / "db", model="reid", liveness="passive",
                                        yunet_points_only=True), live=True).refine
    assert build_detector(load_settings(tmp_path / "db", yunet_points_only=True),
                          live=True).refine
    for path in person_photos("Tom_Cruise")[:4]:
        rgb = load(path)
        (face, *_), (reference, *_) = live.detect(rgb), photos.detect(rgb)
        assert face.detector == "yunet" and reference.detector == "mtcnn"
        eyes = np.linalg.norm(reference.landmarks[0] - reference.landmarks[1])
        assert np.abs(face.landmarks - reference.landmarks).max() < 0.25 * eyes
        assert quality_problem(min(face.width, face.height), 100.0, face.prob, settings,
                               face.detector) is None
    assert quality_problem(100, 100.0, 0.7, settings, "yunet") is not None


def test_bench_takes_the_reid_files_of_shared():
    from desktop.bench.options import with_shared_reid
    from desktop.engine.settings.config import Settings
    folder = SHARED / "face-reidentification-retail-0095"
    if not folder.is_dir():
        pytest.skip(f"no {folder}")
    assert with_shared_reid(Settings(model="reid")).reid_weights == str(folder)
    assert with_shared_reid(Settings(reid_weights="/mine")).reid_weights == "/mine"
