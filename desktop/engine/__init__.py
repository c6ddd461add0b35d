"""The Qt-free recognition engine: every front end (window, CLI, HTTP) calls into this.

Layers, each importing only those below it (checked by ``lint-imports``, pyproject.toml):

    live         tracking faces over frames, liveness on tracks, the pipeline threads
    facade       FaceEngine and the use cases front ends call (enroll photos, search)
    evaluation   accuracy on labelled photos, LFW pairs, calibration
    gallery      enrolled people and the Faiss index derived from them
    attendance   check-ins and visitor counts (local, or shared with an outbox)
    privacy      consent and audit hooks, retention, subject access export
    storage      SQLite/SQLCipher or PostgreSQL behind one Store protocol
    faces|video  the networks and their faces | cameras, files, streams, motion
    decisions    the open-set decision, templates, checks, liveness verdicts
    settings     Settings, their ranges and settings.json
    core         errors, names, images, threads, torch-free types and geometry

Front ends import the names below from here (``from desktop.engine import FaceEngine``).
Each is loaded on first use, so a command that only lists people never imports torch.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC: dict[str, str] = {
    # settings
    "Settings": "desktop.engine.settings.config",
    "DEFAULTS": "desktop.engine.settings.config",
    "load_settings": "desktop.engine.settings.file",
    "read_key_file": "desktop.engine.settings.file",
    "CHOICES": "desktop.engine.settings.file",
    # errors a user can cause and fix
    "KioskError": "desktop.engine.core.errors",
    "SettingsError": "desktop.engine.core.errors",
    "DatabaseError": "desktop.engine.core.errors",
    "DuplicateFaceError": "desktop.engine.core.errors",
    "FaceCountError": "desktop.engine.core.errors",
    "ImageError": "desktop.engine.core.errors",
    "ModelMismatchError": "desktop.engine.core.errors",
    "SourceError": "desktop.engine.core.errors",
    "StoreOfflineError": "desktop.engine.core.errors",
    "UnknownPersonError": "desktop.engine.core.errors",
    "UnknownFaceError": "desktop.engine.core.errors",
    "WeightsUnavailableError": "desktop.engine.core.errors",
    # plain data and small helpers
    "Person": "desktop.engine.core.types",
    "load_image": "desktop.engine.core.images",
    "normalize_name": "desktop.engine.core.names",
    "name_key": "desktop.engine.core.names",
    "NOT_LIVE": "desktop.engine.core.names",
    "check_mode": "desktop.engine.decisions.liveness",
    "uses_challenge": "desktop.engine.decisions.liveness",
    "uses_passive": "desktop.engine.decisions.liveness",
    "MODEL_FIGURES": "desktop.engine.decisions.figures",
    "figures_for": "desktop.engine.decisions.figures",
    "Face": "desktop.engine.faces.results",
    "EnrollReport": "desktop.engine.faces.results",
    "subject_face": "desktop.engine.faces.subject",
    "sharpness": "desktop.engine.faces.crops",
    "frontalness": "desktop.engine.faces.crops",
    "Models": "desktop.engine.faces.networks",
    # video sources
    "Frame": "desktop.engine.video.feed",
    "SourceState": "desktop.engine.video.feed",
    "SourceStatus": "desktop.engine.video.feed",
    "open_source": "desktop.engine.video.sources",
    "source_kind": "desktop.engine.video.sources",
    # the store, attendance, privacy
    "open_store": "desktop.engine.storage.store",
    "describe": "desktop.engine.storage.store",
    "StoreStatus": "desktop.engine.storage.store",
    "Consent": "desktop.engine.storage.consent",
    "copy_store": "desktop.engine.storage.copy",
    "is_encrypted": "desktop.engine.storage.sqlcipher",
    "open_attendance": "desktop.engine.attendance.opening",
    "DayRow": "desktop.engine.attendance.checkins",
    "day_of": "desktop.engine.attendance.checkins",
    "day_range": "desktop.engine.attendance.checkins",
    "parse_day": "desktop.engine.attendance.checkins",
    "note_settings": "desktop.engine.privacy.hooks",
    # the gallery and accuracy
    "list_people": "desktop.engine.gallery.roster",
    "site_threshold": "desktop.engine.gallery.roster",
    "store_model": "desktop.engine.gallery.roster",
    "switch_model": "desktop.engine.gallery.reembed",
    "evaluate": "desktop.engine.evaluation.accuracy",
    "calibrate": "desktop.engine.evaluation.accuracy",
    # the facade and its use cases
    "FaceEngine": "desktop.engine.facade.face_engine",
    "enroll_files": "desktop.engine.facade.enroll_photos",
    "enroll_folder": "desktop.engine.facade.enroll_photos",
    "FolderSummary": "desktop.engine.facade.enroll_photos",
    "save_search_plot": "desktop.engine.facade.plotting",
    # the live loop
    "LivePipeline": "desktop.engine.live.pipeline",
    "PipelineListener": "desktop.engine.live.pipeline",
    "Recognition": "desktop.engine.live.snapshot",
    "TrackView": "desktop.engine.live.snapshot",
    "ChallengeView": "desktop.engine.live.liveness_gate",
    "SubjectChallenge": "desktop.engine.live.liveness_gate",
    "reconfigure": "desktop.engine.live.apply_settings",
    "Applied": "desktop.engine.live.apply_settings",
}
"""Published name -> the module that defines it (the import rewriter reads this too)."""

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    """Import the module behind a published name on first use."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'desktop.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # the same names, for type checkers
    from desktop.engine.attendance.checkins import DayRow, day_of, day_range, parse_day
    from desktop.engine.attendance.opening import open_attendance
    from desktop.engine.core.errors import (
        DatabaseError,
        DuplicateFaceError,
        FaceCountError,
        ImageError,
        KioskError,
        ModelMismatchError,
        SettingsError,
        SourceError,
        StoreOfflineError,
        UnknownFaceError,
        UnknownPersonError,
        WeightsUnavailableError,
    )
    from desktop.engine.core.images import load_image
    from desktop.engine.core.names import NOT_LIVE, name_key, normalize_name
    from desktop.engine.core.types import Person
    from desktop.engine.decisions.figures import MODEL_FIGURES, figures_for
    from desktop.engine.decisions.liveness import check_mode, uses_challenge, uses_passive
    from desktop.engine.evaluation.accuracy import calibrate, evaluate
    from desktop.engine.facade.enroll_photos import FolderSummary, enroll_files, enroll_folder
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.facade.plotting import save_search_plot
    from desktop.engine.faces.crops import frontalness, sharpness
    from desktop.engine.faces.networks import Models
    from desktop.engine.faces.results import EnrollReport, Face
    from desktop.engine.faces.subject import subject_face
    from desktop.engine.gallery.reembed import switch_model
    from desktop.engine.gallery.roster import list_people, site_threshold, store_model
    from desktop.engine.live.apply_settings import Applied, reconfigure
    from desktop.engine.live.liveness_gate import ChallengeView, SubjectChallenge
    from desktop.engine.live.pipeline import LivePipeline, PipelineListener
    from desktop.engine.live.snapshot import Recognition, TrackView
    from desktop.engine.privacy.hooks import note_settings
    from desktop.engine.settings.config import DEFAULTS, Settings
    from desktop.engine.settings.file import CHOICES, load_settings, read_key_file
    from desktop.engine.storage.consent import Consent
    from desktop.engine.storage.copy import copy_store
    from desktop.engine.storage.sqlcipher import is_encrypted
    from desktop.engine.storage.store import StoreStatus, describe, open_store
    from desktop.engine.video.feed import Frame, SourceState, SourceStatus
    from desktop.engine.video.sources import open_source, source_kind
