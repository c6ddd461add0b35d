"""Use cases that several front ends offer, written once: enrolling photo files with a
report of what was skipped, and the date range of an attendance query."""
from __future__ import annotations

import time
from pathlib import Path

from desktop.engine.attendance.checkins import day_of, parse_day
from desktop.engine.core.errors import ImageError, KioskError
from desktop.engine.core.images import load_image
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.faces.results import EnrollReport
from desktop.engine.storage.consent import Consent


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


def day_range(first: str | None, last: str | None, *, first_label: str = "from",
              last_label: str = "to") -> tuple[str, str]:
    """An attendance range: ``first`` defaults to today, ``last`` to ``first``; both must
    be YYYY-MM-DD and in order. The labels name the fields in the error message."""
    first = first or day_of(time.time())
    last = last or first
    if parse_day(first) > parse_day(last):
        raise KioskError(f"{first_label} {first} is after {last_label} {last}")
    return first, last
