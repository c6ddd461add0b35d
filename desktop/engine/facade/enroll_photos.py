"""Enrolling photo files: a list of files for one person (``enroll_files``), or a whole
DIR/<person>/<photos> (``enroll_folder``), with what was skipped and why."""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.engine.core.errors import (
    DuplicateFaceError,
    FaceCountError,
    ImageError,
    KioskError,
    LowQualityError,
)
from desktop.engine.core.images import IMAGE_SUFFIXES, load_image
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.faces.results import EnrollReport
from desktop.engine.storage.consent import Consent, ConsentRequiredError

log = logging.getLogger(__name__)


@dataclass
class FolderSummary:
    people: dict[str, int] = field(default_factory=dict)
    """Person -> samples added."""
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    """(file, category, detail); category is one of: unreadable, no face, several faces,
    low quality, duplicate (only when strict), no consent, not an image."""
    warnings: list[tuple[str, str]] = field(default_factory=list)
    """(person, warning): enrolled, but probably a duplicate or with a wrong photo."""
    refused: list[str] = field(default_factory=list)
    """People not enrolled at all (strict duplicates, or no usable photo)."""

    def describe(self) -> str:
        lines = [f"enrolled {sum(self.people.values())} photo(s) of {len(self.people)} people"]
        if self.refused:
            lines.append(f"NOT enrolled: {len(self.refused)} people: " + ", ".join(self.refused))
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s), enrolled anyway; please check:")
            lines += [f"  {person}: {warning}" for person, warning in self.warnings]
        counts = Counter(category for _, category, _ in self.skipped)
        if counts:
            lines.append("skipped " + ", ".join(f"{n} {c}" for c, n in counts.most_common()) + ":")
            lines += [f"  {path}: {detail}" for path, _, detail in self.skipped]
        return "\n".join(lines)


def _category(exc: KioskError) -> str:
    if isinstance(exc, ImageError):
        return "unreadable"
    if isinstance(exc, LowQualityError):
        return "low quality"
    if isinstance(exc, FaceCountError):
        return "no face" if "no face" in str(exc) else "several faces"
    return "duplicate" if isinstance(exc, DuplicateFaceError) else "error"


def enroll_folder(engine: FaceEngine, root: Path, *, force: bool = False, strict: bool = False,
                  consent: Consent | None = None,
                  progress: Callable[[int, int], None] | None = None) -> FolderSummary:
    """Enroll each sub-folder as one person; a bad photo never stops the run.

    The folder names say who is who, so a person who looks like someone enrolled is
    enrolled with a warning, unless ``strict`` (then refused and listed). ``consent``
    applies to every person (someone who agreed for all of them, e.g. a signed form)."""
    if not root.is_dir():
        raise KioskError(f"{root} is not a folder")
    folders = sorted(d for d in root.iterdir() if d.is_dir())
    if not folders:
        raise KioskError(f"{root} has no <person>/ sub-folders")
    jobs = [(d.name, f) for d in folders for f in sorted(d.iterdir()) if f.is_file()]
    summary = FolderSummary()
    crops: dict[str, list] = {}
    for done, (name, path) in enumerate(jobs, 1):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            summary.skipped.append((str(path), "not an image", "unsupported file type"))
        else:
            try:
                face = engine.subject(load_image(path))
                crops.setdefault(name, []).append((face.crop, str(path), face.stored()))
            except (ImageError, FaceCountError) as exc:
                summary.skipped.append((str(path), _category(exc), str(exc)))
        if progress:
            progress(done, len(jobs))
    for name, pairs in crops.items():
        try:
            report = engine.add_crops(name, [c for c, _, _ in pairs], [s for _, s, _ in pairs],
                                      force=force, strict=strict, consent=consent,
                                      stored=[f for *_, f in pairs])
            assert report.person is not None  # add_crops raises when nothing was added
            summary.people[report.person.name] = len(pairs)
            summary.warnings += [(report.person.name, w) for w in report.warnings]
        except DuplicateFaceError as exc:
            summary.skipped += [(source, "duplicate", str(exc)) for _, source, _ in pairs]
            summary.refused.append(name)
        except ConsentRequiredError as exc:
            summary.skipped += [(source, "no consent", str(exc)) for _, source, _ in pairs]
            summary.refused.append(name)
    summary.refused += sorted({d.name for d in folders} - set(crops) - set(summary.refused))
    return summary


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
