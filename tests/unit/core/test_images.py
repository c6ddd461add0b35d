"""Image decoding: every format and mode a user may hand in, and clear errors for junk."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from desktop.engine.core.errors import ImageError
from desktop.engine.core.images import load_image


@pytest.fixture(scope="module")
def portrait(faces_dir):
    return faces_dir / "people" / "Kit_Harington" / sorted(
        p.name for p in (faces_dir / "people" / "Kit_Harington").iterdir())[0]


@pytest.mark.parametrize("suffix,mode", [(".png", "L"), (".png", "RGBA"), (".bmp", "RGB"),
                                         (".pgm", "L"), (".png", "P"), (".png", "I;16")])
def test_modes_and_formats_become_rgb(tmp_path, portrait, suffix, mode):
    src = Image.open(portrait)
    converted = src.convert("L").convert("I;16") if mode == "I;16" else src.convert(mode)
    path = tmp_path / f"face{suffix}"
    converted.save(path)
    rgb = load_image(path)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.shape[:2] == (src.height, src.width)
    assert rgb.std() > 10  # a real picture, not a blank


def test_exif_rotation_is_applied(tmp_path, portrait):
    src = Image.open(portrait).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    src.save(path, exif=exif)
    rgb = load_image(path)
    assert rgb.shape[:2] == (src.width, src.height)


@pytest.mark.parametrize("content,expected", [
    (b"", "empty"),
    (b"this is a text file, not a photo\n", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged|not an image"),
])
def test_junk_files_give_clear_errors(tmp_path, content, expected):
    path = tmp_path / "junk.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=expected):
        load_image(path)


def test_truncated_jpeg(tmp_path, portrait):
    data = portrait.read_bytes()
    path = tmp_path / "truncated.jpg"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_bytes_upload(portrait):
    assert load_image(portrait.read_bytes()).shape[2] == 3
    with pytest.raises(ImageError, match="empty upload"):
        load_image(b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_huge_photos_are_decoded_downscaled_and_keep_their_rotation(fmt):
    """A 36 MP photo comes back at about MAX_DECODE_PIXELS, same aspect, EXIF rotation
    applied: what an upload holds in memory while its request waits."""
    import io

    from desktop.engine.core.images import MAX_DECODE_PIXELS
    image = Image.new("RGB", (7200, 5000), (90, 120, 150))
    image.paste((250, 20, 20), (0, 0, 3600, 5000))          # left half red
    exif = Image.Exif()
    exif[0x0112] = 6                                        # rotate 90 degrees clockwise
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif)
    rgb = load_image(buffer.getvalue())
    height, width = rgb.shape[:2]
    assert height * width <= MAX_DECODE_PIXELS
    assert height * width > MAX_DECODE_PIXELS * 0.9
    assert abs(height / width - 7200 / 5000) < 0.01         # portrait after the rotation
    assert rgb[5, width // 2, 0] > 200 and rgb[-5, width // 2, 0] < 120  # red on top
