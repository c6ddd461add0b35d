"""Turn files and uploads of any common format into RGB uint8 arrays, or a clear error."""
from __future__ import annotations

import ctypes
import ctypes.util
import io
import math
import threading
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from desktop.engine.core.errors import ImageError

MAX_PIXELS = 40_000_000
"""Larger images are refused before decoding: detection downscales to ~1000 px anyway, and
a 10 MB upload could otherwise expand to half a gigabyte of pixels."""

MAX_DECODE_PIXELS = 8_000_000
"""Larger images are decoded downscaled to about this many pixels (JPEG at a reduced DCT
scale, other formats reduced as soon as decoded). Faces are detected at ~1000 px and
cropped to 160 px, so nothing is lost, and an upload waiting in a request holds at most
~24 MB instead of 108 MB for a 36 MP photo."""

DECODING = threading.BoundedSemaphore(1)
"""One large decode at a time in the process: a 36 MP PNG takes ~110 MB while it is
decoded, so concurrent requests queue here rather than multiply that."""

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".pbm", ".gif",
                  ".tif", ".tiff", ".webp"}


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def load_image(source: str | Path | bytes, name: str | None = None) -> np.ndarray:
    """Decode a path or bytes to an RGB array, honouring EXIF rotation.

    Raises ImageError naming the file for missing, empty, truncated or non-image input.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "upload")
    try:
        if isinstance(source, bytes):
            if not source:
                raise ImageError(f"{label}: empty upload, not an image")
            image = Image.open(io.BytesIO(source))
        else:
            path = Path(source)
            if not path.exists():
                raise ImageError(f"{label}: no such file")
            if path.is_dir():
                raise ImageError(f"{label}: is a folder, not an image")
            if path.stat().st_size == 0:
                raise ImageError(f"{label}: empty file (0 bytes), not an image")
            image = Image.open(path)
        if image.width * image.height > MAX_PIXELS:
            raise ImageError(f"{label}: {image.width}x{image.height} pixels is too large "
                             f"(at most {MAX_PIXELS // 1_000_000} megapixels)")
        if image.width * image.height <= MAX_DECODE_PIXELS:
            image.load()
            return to_rgb(ImageOps.exif_transpose(image))
        with DECODING:
            try:
                return to_rgb(ImageOps.exif_transpose(downscaled(image)))
            finally:
                release_memory()
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not an image format that can be read") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{label}: image too large ({exc})") from None
    except Exception as exc:  # Pillow's decoders raise many types on malformed data
        raise ImageError(f"{label}: damaged or truncated image "
                         f"({str(exc)[:200] or type(exc).__name__})") from None


def downscaled(image: Image.Image) -> Image.Image:
    """``image`` decoded at about MAX_DECODE_PIXELS, same aspect (``thumbnail`` asks the
    JPEG decoder for a reduced scale, and reduces other formats before resampling)."""
    scale = math.sqrt(MAX_DECODE_PIXELS / (image.width * image.height))
    image.thumbnail((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    return image


def release_memory() -> None:
    """Hand freed heap pages back to the system after a large decode (glibc keeps them
    otherwise, so the service would stay at its peak). No-op where there is no glibc."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def to_rgb(image: Image.Image) -> np.ndarray:
    """Any PIL mode (L, LA, P, RGBA, CMYK, 16-bit grey) to a contiguous RGB uint8 array."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return np.ascontiguousarray(np.stack([to_grey8(np.asarray(image))] * 3, axis=-1))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def to_grey8(array: np.ndarray) -> np.ndarray:
    """Integer or float samples to 0..255, stretched over their finite range (a float TIFF
    may hold NaN or infinity in some pixels; those become black instead of blanking all)."""
    values = np.asarray(array, dtype=np.float32)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, np.uint8)
    low = min(float(values[finite].min()), 0.0)
    top = float(values[finite].max())
    span = top - low if top > low else 1.0
    scaled = np.where(finite, (values - low) * (255.0 / span), 0.0)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def encode_jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageError("could not encode image as JPEG")
    return buf.tobytes()


def decode_jpeg(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageError("stored face crop is damaged")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
