"""How an ONNX face model wants its input, read from its metadata or a sidecar JSON file.

A model may declare its input in its ONNX ``metadata_props`` (all optional), or, since a
user cannot always edit those, in a sidecar ``FILE.json`` beside ``FILE`` (e.g.
``model.onnx.json``; ``model.json`` is read too) with the same keys, the ``face_kiosk.``
prefix optional. The sidecar wins over the metadata key by key.

| key | values | default |
|---|---|---|
| face_kiosk.crop | ``arcface`` (5-point warp) or ``box`` (box + margin, as FaceNet) | arcface |
| face_kiosk.size | input side in pixels | the model's static input size, else 112 |
| face_kiosk.margin | margin in pixels for ``box`` crops | 32 |
| face_kiosk.mean / face_kiosk.std | pixel scaling (x - mean) / std | 127.5 / 127.5 |
| face_kiosk.channels | RGB or BGR | RGB |
| face_kiosk.template | 10 numbers: the five points' x, y (see below) | ArcFace's |
| face_kiosk.name | a display name | the file's stem |
| face_kiosk.threshold | default cosine threshold (recognition) | 0.65 |
| face_kiosk.duplicate / .outlier / .stranger | the other levels of ``matching.ModelDefaults`` | derived |

The template gives where the five landmarks go (left eye, right eye, nose tip, left and
right mouth corner, image left first), in pixels of the input, or all within [0, 1].
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop.engine.faces.embedders import alignment as align

PREFIX = "face_kiosk."
CROPS = ("arcface", "box")
KEYS = ("crop", "size", "margin", "mean", "std", "channels", "template", "name", "threshold",
        "duplicate", "outlier", "stranger")


@dataclass(frozen=True)
class OnnxInput:
    """How to make the model's input from a photo and a detection, and its levels."""
    crop: str = "arcface"
    size: int = 112
    margin: int = 32
    mean: float = 127.5
    std: float = 127.5
    channels: str = "RGB"
    name: str | None = None
    threshold: float | None = None
    template: tuple[float, ...] | None = None
    """Ten numbers in pixels of ``size``; None: ArcFace's template scaled to ``size``."""
    duplicate: float | None = None
    outlier: float | None = None
    stranger: float | None = None

    def landmarks_template(self) -> np.ndarray:
        if self.template is None:
            return align.scaled_template(align.ARCFACE_112, 112, self.size)
        return np.asarray(self.template, np.float32).reshape(5, 2)

    def vectors_key(self) -> str:
        """What changes the vectors (not the name nor the levels), for the model id."""
        return json.dumps([self.crop, self.size, self.margin, self.mean, self.std,
                           self.channels, self.template])

    def to_metadata(self) -> dict[str, str]:
        """metadata_props for an exported model (the inverse of ``from_metadata``)."""
        out = {"crop": self.crop, "size": str(self.size), "margin": str(self.margin),
               "mean": repr(self.mean), "std": repr(self.std), "channels": self.channels}
        if self.name:
            out["name"] = self.name
        for key in ("threshold", "duplicate", "outlier", "stranger"):
            if getattr(self, key) is not None:
                out[key] = repr(getattr(self, key))
        if self.template is not None:
            out["template"] = ",".join(repr(v) for v in self.template)
        return {PREFIX + k: v for k, v in out.items()}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any], static_size: int | None) -> OnnxInput:
        """The spec from ``face_kiosk.*`` keys (values as strings, numbers or, for the
        template, a list); ValueError saying which key is wrong."""
        values = {k.removeprefix(PREFIX): v for k, v in meta.items() if k.startswith(PREFIX)}
        try:
            size = int(values.get("size", static_size or 112))
            spec = cls(crop=str(values.get("crop", "arcface")).lower(), size=size,
                       margin=int(values.get("margin", 32)),
                       mean=float(values.get("mean", 127.5)),
                       std=float(values.get("std", 127.5)),
                       channels=str(values.get("channels", "RGB")).upper(),
                       name=str(values["name"]) if "name" in values else None,
                       template=_template(values.get("template"), size),
                       **{k: _level(values, k)
                          for k in ("threshold", "duplicate", "outlier", "stranger")})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad {PREFIX}* value: {exc}") from None
        if spec.crop not in CROPS:
            raise ValueError(f"{PREFIX}crop must be one of {', '.join(CROPS)}, not {spec.crop!r}")
        if spec.channels not in ("RGB", "BGR"):
            raise ValueError(f"{PREFIX}channels must be RGB or BGR, not {spec.channels!r}")
        if spec.size < 16 or spec.std == 0:
            raise ValueError(f"{PREFIX}size must be at least 16 and {PREFIX}std not 0")
        return spec


def _level(values: dict[str, Any], key: str) -> float | None:
    if key not in values:
        return None
    level = float(values[key])
    if not -1.0 <= level <= 1.0:
        raise ValueError(f"{key} {level} is not a cosine similarity (-1 to 1)")
    return level


def _template(value: Any, size: int) -> tuple[float, ...] | None:
    """Ten numbers (a list, or a string of numbers separated by commas or spaces) in
    pixels of the input, or all within [0, 1] (then scaled by ``size``)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    numbers = [float(v) for v in np.asarray(value, dtype=object).ravel()]
    if len(numbers) != 10:
        raise ValueError(f"template needs 10 numbers (five x, y points), got {len(numbers)}")
    if all(0.0 <= v <= 1.0 for v in numbers):
        numbers = [v * size for v in numbers]
    if not all(0.0 <= v <= size for v in numbers):
        raise ValueError(f"template points must lie inside the {size} px input")
    return tuple(numbers)


def sidecar_path(model: Path) -> Path | None:
    """``model.onnx.json`` or ``model.json`` beside the model, if either exists."""
    for candidate in (model.with_name(model.name + ".json"), model.with_suffix(".json")):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar's keys with the ``face_kiosk.`` prefix; ValueError for a file that is
    not a JSON object of known keys."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"sidecar {path} is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"sidecar {path} must hold a JSON object of {PREFIX}* keys")
    out = {}
    for key, value in data.items():
        bare = str(key).removeprefix(PREFIX)
        if bare not in KEYS:
            raise ValueError(f"sidecar {path}: unknown key {key!r} (known: {', '.join(KEYS)})")
        out[PREFIX + bare] = value
    return out
