"""Storing one person's new samples with the checks enrollment makes: does the face
already belong to someone else, and is one of the photos probably of somebody else?
(``FaceEngine.add_crops``; the vector checks themselves are in checks.py.)"""
from __future__ import annotations

import logging
from typing import Any, Protocol

import numpy as np

from desktop.engine.core.errors import DuplicateFaceError
from desktop.engine.core.names import normalize_name
from desktop.engine.core.stored_crop import StoredCrop
from desktop.engine.decisions.checks import duplicate_vote, outlier_flags
from desktop.engine.faces.results import EnrollReport
from desktop.engine.gallery.people import Gallery
from desktop.engine.privacy import hooks as privacy
from desktop.engine.settings.config import Settings
from desktop.engine.storage.consent import Consent

log = logging.getLogger(__name__)


class Enroller(Protocol):
    """What enrolling needs of the engine; ``FaceEngine`` provides it (a protocol, so this
    helper does not import the facade that calls it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def gallery(self) -> Gallery: ...
    @property
    def frontend(self) -> str: ...
    @property
    def db(self) -> Any: ...
    @property
    def duplicate_threshold(self) -> float: ...
    @property
    def outlier_threshold(self) -> float: ...
    def embed(self, crops: list[np.ndarray]) -> np.ndarray: ...
    def rank(self, vectors: np.ndarray, k: int = 2) -> list[list[tuple[str, float]]]: ...


def add_crops(engine: Enroller, name: str, crops: list[np.ndarray], sources: list[str], *,
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


def check_duplicate(engine: Enroller, name: str, vectors: np.ndarray, *,
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
