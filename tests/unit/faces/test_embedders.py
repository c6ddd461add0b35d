"""Every face model behind the Embedder interface, on real photos with the real weights.

Models load once per session: MTCNN + FaceNet (the shared ``models`` fixture), dlib, and
FaceNet exported to ONNX by desktop.tools.export_onnx into a temp folder.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, person_photos

PEOPLE = ("Kit_Harington", "Rose_Leslie", "Ethan_Hawke")


@pytest.fixture(scope="session")
def detections(models, faces_dir, load):
    """(person, rgb, subject detection) for two photos of each of PEOPLE."""
    out = []
    for person in PEOPLE:
        for path in person_photos(person)[:2]:
            rgb = load(path)
            faces = models.run(models.detector.detect, rgb)
            assert faces, path
            out.append((person, rgb, faces[0]))
    return out


@pytest.fixture(scope="session")
def dlib_native():
    from desktop.engine.faces.embedders.dlib_resnet import DlibEmbedder
    return DlibEmbedder("dlib")


@pytest.fixture(scope="session")
def onnx_file(tmp_path_factory, weights_path):
    from desktop.tools.export_onnx import main
    out = tmp_path_factory.mktemp("onnx") / "facenet-casia.onnx"
    assert main(["--weights", str(weights_path), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def onnx_embedder(onnx_file):
    from desktop.engine.faces.embedders.onnx_model import OnnxEmbedder
    return OnnxEmbedder(onnx_file)


def _conforms(embedder, detections, dim: int) -> None:
    crops = [embedder.crop(rgb, det) for _, rgb, det in detections]
    assert len({c.shape for c in crops}) == 1 and crops[0].dtype == np.uint8
    vectors = embedder.embed(crops)
    assert vectors.shape == (len(crops), dim) == (len(crops), embedder.dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.embed([]).shape == (0, dim)
    sims = vectors @ vectors.T
    names = [p for p, _, _ in detections]
    for i, person in enumerate(names):
        genuine = max(sims[i, j] for j in range(len(names)) if j != i and names[j] == person)
        impostor = max(sims[i, j] for j in range(len(names)) if names[j] != person)
        assert genuine > impostor, (embedder.name, person, genuine, impostor)
    assert embedder.model_id.startswith(embedder.kind + ":")
    assert -1.0 < embedder.default_threshold < 1.0


def test_facenet_conforms(models, detections):
    assert models.embedder.kind == "facenet"
    _conforms(models.embedder, detections, 512)


def test_facenet_onnxruntime_backend_matches_torch(models, detections):
    """The default backend runs FaceNet's ONNX copy; same vectors, same model id."""
    from desktop.engine.faces.embedders.facenet import onnx_copy_path
    embedder = models.embedder
    assert embedder.backend == "onnxruntime" and onnx_copy_path(embedder.info).is_file()
    assert embedder.model_id.startswith("facenet:")
    crops = [embedder.crop(rgb, det) for _, rgb, det in detections]
    fast, reference = models.run(embedder.embed, crops), models.run(embedder.embed_torch, crops)
    assert (fast * reference).sum(1).min() >= 0.9999


def test_facenet_crop_is_unchanged(models, detections):
    from desktop.engine.faces.crops import crop_face
    from desktop.engine.settings.config import DEFAULTS
    _, rgb, det = detections[0]
    expected = crop_face(rgb, det.box, DEFAULTS.crop_size, DEFAULTS.crop_margin)
    assert np.array_equal(models.embedder.crop(rgb, det), expected)


def test_dlib_conforms_with_both_alignments(dlib_models, dlib_native, detections):
    embedder = dlib_models.embedder
    assert (embedder.kind, embedder.alignment) == ("dlib", "landmarks")
    _conforms(embedder, detections, 128)
    _conforms(dlib_native, detections, 128)
    assert embedder.crop(*detections[0][1:]).shape == (150, 150, 3)


def test_onnx_export_matches_pytorch(models, onnx_embedder, detections):
    assert onnx_embedder.spec.crop == "box" and onnx_embedder.spec.size == 160
    assert onnx_embedder.info.name == models.embedder.info.name
    crops = [models.embedder.crop(rgb, det) for _, rgb, det in detections]
    assert all(np.array_equal(a, onnx_embedder.crop(rgb, det))
               for a, (_, rgb, det) in zip(crops, detections))
    torch_vectors = models.run(models.embedder.embed_torch, crops)
    for batch in (crops, crops[:1]):
        onnx_vectors = onnx_embedder.embed(batch)
        cosines = (onnx_vectors * torch_vectors[:len(batch)]).sum(1)
        assert cosines.min() >= 0.9999, cosines
    _conforms(onnx_embedder, detections, 512)


def test_onnx_default_is_arcface_alignment(onnx_file, tmp_path, detections):
    """Without face_kiosk.* metadata a model gets the ArcFace 5-point warp and
    (x - 127.5) / 127.5, at its static input size."""
    import onnx

    from desktop.engine.faces.embedders.onnx_model import OnnxEmbedder
    model = onnx.load(str(onnx_file))
    del model.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(model, str(bare))
    embedder = OnnxEmbedder(bare)
    assert (embedder.spec.crop, embedder.spec.size, embedder.spec.std) == ("arcface", 160, 127.5)
    assert embedder.info.name == "bare"
    crop = embedder.crop(*detections[0][1:])
    assert crop.shape == (160, 160, 3)
    vectors = embedder.embed([crop, crop])
    assert vectors.shape == (2, 512) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)


def test_missing_or_invalid_onnx_is_a_clear_error(tmp_path):
    from desktop.engine.core.errors import KioskError
    from desktop.engine.faces.embedders.onnx_model import OnnxEmbedder
    with pytest.raises(KioskError, match="ONNX model file not found"):
        OnnxEmbedder(tmp_path / "nope.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(KioskError, match="not a usable ONNX face model"):
        OnnxEmbedder(junk)


def test_model_names_are_parsed():
    from desktop.engine.core.errors import KioskError
    from desktop.engine.faces.embedders import parse_model
    assert parse_model("facenet") == ("facenet", "")
    assert parse_model("DLIB") == ("dlib", "")
    assert parse_model("onnx:/m/arc face.onnx") == ("onnx", "/m/arc face.onnx")
    for bad, message in (("onnx", "needs a file"),
                         ("arcface", "unknown model")):
        with pytest.raises(KioskError, match=message):
            parse_model(bad)


def test_model_selection_env_and_flag(tmp_path, monkeypatch):
    from desktop.engine.settings.file import load_settings
    assert load_settings(tmp_path).model == "facenet"
    monkeypatch.setenv("FACE_KIOSK_MODEL", "dlib")
    assert load_settings(tmp_path).model == "dlib"
    assert load_settings(tmp_path, model="onnx:x.onnx").model == "onnx:x.onnx"


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def test_cli_model_option_and_env_give_clear_errors(tmp_path):
    # delete opens the engine, which loads the model (people reads the store alone)
    proc = _cli("--model", f"onnx:{tmp_path / 'missing.onnx'}", "delete", "Nobody", "--db",
                str(tmp_path / "db"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "ONNX model file not found" in proc.stderr
    proc = _cli("delete", "Nobody", "--db", str(tmp_path / "db"),
                env={"FACE_KIOSK_MODEL": "arcface"})
    assert proc.returncode == 2 and "unknown model 'arcface'" in proc.stderr


def test_missing_dlib_install_is_a_clear_error():
    """dlib made unimportable in a child process, as on a machine without dlib-bin."""
    script = ("import sys; sys.modules['dlib'] = None\n"
              "from desktop.engine.faces.embedders.dlib_resnet import DlibEmbedder\n"
              "from desktop.engine.core.errors import KioskError\n"
              "try:\n    DlibEmbedder()\nexcept KioskError as exc:\n    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert "dlib-bin and face-recognition-models" in proc.stdout, proc.stderr


def test_engine_uses_the_loaded_models_crop_and_threshold(dlib_models, tmp_path, faces_dir,
                                                          load, weights_path):
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.settings.file import load_settings
    engine = FaceEngine(load_settings(tmp_path / "db", model="dlib",
                                      weights=str(weights_path)), dlib_models)
    try:
        kit = [load(p) for p in person_photos("Kit_Harington")[:2]]
        rose = load(person_photos("Rose_Leslie")[0])
        faces = engine.faces(kit[0])
        assert faces and faces[0].crop.shape == (150, 150, 3)
        assert engine.threshold == pytest.approx(dlib_models.embedder.default_threshold)
        same, other = engine.verify(kit[0], kit[1]), engine.verify(kit[0], rose)
        assert same.same and same.similarity > other.similarity
        engine.enroll("Kit", [("a", kit[0])])  # a dlib gallery: 128-d vectors
        assert engine.gallery.sample_count == 1 and engine.gallery.dim == 128
        assert [f.match.name for f in engine.identify(kit[1])] == ["Kit"]
    finally:
        engine.close()


def test_stored_crop_serves_every_model(models, dlib_models, onnx_embedder, detections):
    """Phase B's model-neutral stored crop (JPEG as in the database): each model's input
    made from it embeds like the input made from the photo itself."""
    from desktop.engine.core.images import decode_jpeg, encode_jpeg
    from desktop.engine.core.stored_crop import STORED_BOX_SIDE, STORED_CONTEXT, stored_crop
    stored = [stored_crop(rgb, det) for _, rgb, det in detections]
    for s in stored:
        assert max(s.image.shape[:2]) <= STORED_CONTEXT * STORED_BOX_SIDE + 2
        box = s.detection.box
        assert 0 <= box[0] < box[2] <= s.image.shape[1] and 0 <= box[1] < box[3] <= s.image.shape[0]
    for embedder, floor in ((models.embedder, 0.98), (dlib_models.embedder, 0.98),
                            (onnx_embedder, 0.98)):
        direct = embedder.embed([embedder.crop(rgb, det) for _, rgb, det in detections])
        again = embedder.embed([embedder.crop(decode_jpeg(encode_jpeg(s.image)), s.detection)
                                for s in stored])
        cosines = (direct * again).sum(1)
        assert cosines.min() >= floor, (embedder.name, cosines)
