"""Which face a photo is about: the rule enrollment, verification, search and evaluation
share."""
from __future__ import annotations

from desktop.engine.core.errors import FaceCountError
from desktop.engine.faces.results import Face
from desktop.engine.settings.config import DEFAULTS


def subject_face(faces: list[Face], ratio: float = DEFAULTS.subject_area_ratio) -> Face:
    """The one face a photo (or a camera picture, to register from) is about, or
    FaceCountError: the rule every front end uses.

    A photo with a small bystander is still a portrait; two similar faces are ambiguous.
    """
    index = subject_index([f.detection.area for f in faces], ratio)
    if index is None:
        raise FaceCountError("no face found" if not faces else
                             f"{len(faces)} faces of similar size; use a photo of one person")
    return faces[index]


def subject_index(areas: list[float], ratio: float = DEFAULTS.subject_area_ratio) -> int | None:
    """Index of the one face a photo is about (the largest, if it is ``ratio`` times the
    next), or None: no face, or two of similar size. Also used on cached faces."""
    if not areas:
        return None
    ordered = sorted(range(len(areas)), key=lambda i: areas[i], reverse=True)
    if len(ordered) > 1 and areas[ordered[0]] < ratio * areas[ordered[1]]:
        return None
    return ordered[0]
