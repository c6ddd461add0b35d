"""Property tests: any decodable image gets an answer (faces or none), anything else a clear
ImageError. Hypothesis generates images of every size, mode and format; the sizes that once
once crashed the detector are pinned as explicit examples.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import FACES
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from desktop.engine.core.errors import ImageError
from desktop.engine.core.images import load_image

MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "I", "F", "I;16"]
FORMATS = ["PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM"]
ISSUE_SIZES = [(1, 1), (12, 12), (39, 39), (39, 500), (2000, 40), (2, 20000), (20000, 2)]
"""(height, width): every size once reported crashing."""

# examples run in this module, reported in docs/operations.md (reliability)
DECODE_EXAMPLES = 300
DETECT_EXAMPLES = 60
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])

sizes = st.one_of(
    st.tuples(st.integers(1, 64), st.integers(1, 64)),                      # tiny
    st.tuples(st.integers(1, 4), st.integers(100, 20000)),                  # thin strips
    st.tuples(st.integers(100, 20000), st.integers(1, 4)),
    st.tuples(st.integers(30, 120), st.integers(200, 6000)),                # banners
    st.tuples(st.integers(40, 1400), st.integers(40, 1400)),                # photos
)
contents = st.sampled_from(["noise", "flat", "gradient", "face"])


def _portrait() -> Image.Image | None:
    path = FACES / "people" / "Tom_Cruise" / "Tom_Cruise_0001.jpg"   # 150 x 150, one face
    return Image.open(path).convert("RGB") if path.is_file() else None


PORTRAIT = _portrait()


def make_image(height: int, width: int, content: str, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if content == "face" and PORTRAIT is not None:
        return PORTRAIT.resize((width, height))
    if content == "noise":
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    elif content == "flat":
        pixels = np.full((height, width, 3), rng.integers(0, 256, 3, dtype=np.uint8))
    else:
        ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
        pixels = np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels))


def encode(image: Image.Image, mode: str, fmt: str) -> bytes | None:
    """The image in ``mode`` saved as ``fmt``; None when Pillow cannot write that pair."""
    converted = image.convert("L").convert(mode) if mode == "I;16" else image.convert(mode)
    buffer = io.BytesIO()
    try:
        converted.save(buffer, fmt)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return buffer.getvalue()


def check_rgb(rgb: np.ndarray) -> None:
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.shape[0] >= 1 and rgb.shape[1] >= 1 and rgb.flags.c_contiguous


@settings(FUZZ, max_examples=DECODE_EXAMPLES)
@given(size=st.tuples(st.integers(1, 300), st.integers(1, 300)), content=contents,
       mode=st.sampled_from(MODES), fmt=st.sampled_from(FORMATS),
       damage=st.sampled_from(["none", "truncate", "flip", "prefix"]),
       seed=st.integers(0, 2**16), where=st.floats(0, 1))
def test_any_bytes_decode_to_rgb_or_a_clear_error(size, content, mode, fmt, damage, seed,
                                                  where):
    data = encode(make_image(*size, content, seed), mode, fmt)
    if data is None:
        return
    cut = int(len(data) * where)
    if damage == "truncate":
        data = data[:cut]
    elif damage == "flip" and data:
        data = data[:cut] + bytes([data[min(cut, len(data) - 1)] ^ 0xFF]) + data[cut + 1:]
    elif damage == "prefix":
        data = b"\x00" * (seed % 7) + data
    try:
        rgb = load_image(data, name="fuzz")
    except ImageError as exc:
        assert str(exc).startswith("fuzz: ")
        return
    check_rgb(rgb)
    if damage == "none" and fmt not in ("GIF",):
        assert rgb.shape[:2] == size


def test_float_tiff_with_nan_keeps_the_picture(tmp_path):
    grey = np.tile(np.linspace(0, 1000, 64, dtype=np.float32), (48, 1))
    grey[10, 10] = np.nan
    grey[11, 11] = np.inf
    path = tmp_path / "float.tif"
    Image.fromarray(grey, mode="F").save(path)
    rgb = load_image(path)
    assert rgb[:, :, 0].std() > 50           # still a gradient, not blanked by one NaN
    assert rgb[10, 10, 0] == 0 and rgb[0, -1, 0] == 255


@pytest.fixture(scope="module")
def detector(models):
    return models.detector


@settings(FUZZ, max_examples=DETECT_EXAMPLES)
@given(size=sizes, content=contents, mode=st.sampled_from(MODES),
       fmt=st.sampled_from(["PNG", "JPEG", "TIFF", "BMP"]), seed=st.integers(0, 2**16))
@example(size=(12, 12), content="noise", mode="RGB", fmt="PNG", seed=0)
@example(size=(2, 20000), content="gradient", mode="RGB", fmt="PNG", seed=0)
@example(size=(20000, 2), content="noise", mode="L", fmt="PNG", seed=0)
@example(size=(39, 500), content="face", mode="RGB", fmt="JPEG", seed=0)
@example(size=(2000, 40), content="face", mode="RGB", fmt="PNG", seed=0)
@example(size=(1, 1), content="flat", mode="P", fmt="PNG", seed=0)
@example(size=(39, 39), content="face", mode="RGBA", fmt="PNG", seed=0)
@example(size=(48, 64), content="gradient", mode="F", fmt="TIFF", seed=0)
def test_detection_answers_every_decodable_image(detector, size, content, mode, fmt, seed):
    data = encode(make_image(*size, content, seed), mode, fmt)
    if data is None:
        return
    rgb = load_image(data, name="fuzz")
    check_rgb(rgb)
    height, width = rgb.shape[:2]
    for face in detector.detect(rgb):
        x1, y1, x2, y2 = face.box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert 0 <= face.prob <= 1 and face.landmarks.shape == (5, 2)
        assert np.isfinite(face.landmarks).all()


@pytest.mark.parametrize("height,width", ISSUE_SIZES)
def test_issue_sizes_give_no_faces_not_a_crash(detector, height, width):
    rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    assert detector.detect(rgb) == []


@pytest.mark.skipif(PORTRAIT is None, reason="face photos not found")
@pytest.mark.parametrize("pad", [(4000, 0), (0, 6000)])
def test_a_face_in_a_thin_panorama_is_still_found(detector, pad):
    """A panorama is not shrunk by its long side alone: the face keeps enough pixels."""
    face = np.asarray(PORTRAIT.resize((300, 300)))
    rgb = np.pad(face, ((pad[0] // 2, pad[0] // 2), (pad[1] // 2, pad[1] // 2), (0, 0)))
    assert len(detector.detect(rgb)) == 1
