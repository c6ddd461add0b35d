"""Use cases that several front ends offer, written once: enrolling photo files with a
report of what was skipped, and the date range of an attendance query."""
from __future__ import annotations

from pathlib import Path

from .attendance import day_range  # noqa: F401  (re-exported: front ends import it here)
from .consent import Consent
from .errors import ImageError, KioskError
from .images import load_image
from .recognizer import FaceEngine
from .results import EnrollReport


def enroll_files(engine: FaceEngine, name: str, paths: list[str] | list[Path], *,
                 force: bool = False, strict: bool = True, consent: Consent | None = None,
                 actor: str | None = None) -> EnrollReport:
    """Enroll the subject face of each photo file. Unreadable files and photos without one
    subject are skipped, each with its reason in ``report.skipped``; raises if none is
    usable (a FaceCountError or DuplicateFaceError from the engine, or a KioskError), or
    when consent is required and not given (ConsentRequiredError)."""
    images, unreadable = [], []
    for path in paths:
        try:
            images.append((str(path), load_image(path)))
        except ImageError as exc:
            unreadable.append((str(path), str(exc)))
    if not images:
        raise KioskError(f"no readable photo to enroll for {name}: "
                         + "; ".join(reason for _, reason in unreadable))
    report = engine.enroll(name, images, force=force, strict=strict, consent=consent,
                           actor=actor)
    report.skipped[:0] = unreadable
    return report
