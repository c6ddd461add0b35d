"""Storing one person's new samples with the checks enrollment makes: does the face
already belong to someone else, and is one of the photos probably of somebody else?
(``FaceEngine.add_crops``; the vector checks themselves are in checks.py.)"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from . import privacy
from .checks import duplicate_vote, outlier_flags
from .consent import Consent
from .embedders.stored import StoredCrop
from .errors import DuplicateFaceError
from .names import normalize_name
from .results import EnrollReport

if TYPE_CHECKING:
    from .recognizer import FaceEngine

log = logging.getLogger(__name__)


def add_crops(engine: FaceEngine, name: str, crops: list[np.ndarray], sources: list[str], *,
              force: bool, strict: bool, consent: Consent | None, actor: str | None,
              stored: list[StoredCrop | None] | None,
              duplicate_level: float | None = None) -> EnrollReport:
    """``FaceEngine.add_crops``: embed, check, store, record consent and audit."""
    name = normalize_name(name)
    privacy.check_consent(engine, name, consent)
    vectors = engine.embed(crops)
    report = EnrollReport(None, len(crops))
    duplicate = check_duplicate(engine, name, vectors, force=force or not strict,
                                level=duplicate_level)
    if duplicate:
        report.warnings.append(duplicate)
    existing, _ = engine.gallery.person_vectors(name)
    flags = outlier_flags(vectors, existing, engine.outlier_threshold)
    for source in (s for s, f in zip(sources, flags) if f):
        report.outliers.append(source)
        report.warnings.append(
            f"{source} looks unlike the other photos of {name!r}: probably someone else"
            + ("; enrolled anyway (forced)" if force else "; kept out of the template"))
    in_template = [True] * len(vectors) if force else [not f for f in flags]
    report.person = engine.gallery.add_samples(name, vectors, crops, sources, in_template,
                                               stored,
                                               keep_crops=engine.settings.keep_face_crops)
    privacy.after_enroll(engine, report.person, len(crops), consent, actor,
                         forced=force)
    return report


def check_duplicate(engine: FaceEngine, name: str, vectors: np.ndarray, *,
                    force: bool = False, level: float | None = None) -> str | None:
    """The warning when most of the faces match one *other* person, or None.

    Per face, as recognition would decide, at the strict duplicate threshold (bulk
    folders: a labelled photo says who it is) or at ``level`` (camera registration asks
    at the recognition threshold: the person in front of the camera may be enrolled
    already); a majority is needed so that one odd photo among many does not count.
    Raises DuplicateFaceError unless ``force``.
    """
    vote = duplicate_vote(engine.rank(vectors, 3), name,
                          engine.duplicate_threshold if level is None else level,
                          engine.settings.match_margin)
    if vote is None:
        return None
    message = (f"{vote.votes} of {vote.faces} face(s) already match {vote.other} "
               f"(similarity {vote.similarity:.2f}); is {name!r} the same person?")
    if not force:
        raise DuplicateFaceError(message, vote.other, vote.similarity)
    log.warning("Enrolling despite a probable duplicate (similarity %.2f)", vote.similarity)
    return message
