"""Applying changed settings to a running engine and live pipeline: one use case that
every front end calls, so none of them assigns engine internals itself."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from desktop.engine.core.errors import SettingsError
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.faces.networks import build_detector
from desktop.engine.live.pipeline import LivePipeline
from desktop.engine.settings.file import coerce

log = logging.getLogger(__name__)

DETECTOR = frozenset({"min_face_size", "det_thresholds", "min_det_prob", "detect_max_side",
                      "detector", "live_detector"})
DECISION = frozenset({"threshold", "match_margin", "duplicate_threshold", "subject_area_ratio",
                      "crop_size", "crop_margin"})
LIVE = frozenset({"confirm_frames", "instant_decisions", "recheck_seconds", "track_iou", "track_max_missed",
                  "live_detect_max_side", "motion_gating", "idle_detect_fps",
                  "motion_pixel_delta", "motion_min_area", "motion_hold_seconds",
                  "appearance_gap_seconds"})
LIVENESS = frozenset({"liveness", "liveness_threshold", "liveness_at_registration",
                       "liveness_at_checkin", "challenge_yaw", "challenge_frames",
                       "challenge_seconds", "camera_mirrored"})
"""Decided once per track: tracks are forgotten so every face is checked afresh."""
SOURCE = frozenset({"source", "loop_video", "slideshow_seconds", "reconnect_max_seconds"})
ATTENDANCE = frozenset({"cooldown_minutes", "retention_days", "store_checkin_snapshots",
                        "store_visitor_snapshots", "delete_attendance_with_person",
                        "visitor_ids", "visitor_memory_hours", "visitor_threshold"})
RESTART = frozenset({"db_dir", "weights", "device", "torch_threads", "omp_wait_policy",
                     "onnx_spinning", "host", "port",
                     "api_token", "max_upload_mb"})
"""Read once at start-up: changing them needs a restart."""


@dataclass(frozen=True)
class Applied:
    values: dict[str, Any]
    """The changes, validated and converted."""
    restart_needed: tuple[str, ...]
    """Changed settings that take effect at the next start."""
    reembed_needed: str | None = None
    """A new face model asked for: not applied (nor in ``values``) until the gallery is
    re-embedded with it (reembedding.switch_model), which the front end offers."""


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    """Every value checked and converted, or SettingsError for the first bad one."""
    return {key: coerce(key, value) for key, value in changes.items()}


def reconfigure(engine: FaceEngine, changes: dict[str, Any],
                pipeline: LivePipeline | None = None) -> Applied:
    """Apply ``changes`` (setting name -> value) to ``engine`` and ``pipeline``.

    All values are validated first, so a bad one changes nothing. Builds a new detector
    if detection settings changed (on the inference thread: it loads networks), and
    restarts only what the changed values need: the source, the tracks, nothing.
    """
    values = validate(changes)
    model = values.pop("model", None)
    if model is not None:
        from desktop.engine.faces.embedders import parse_model
        parse_model(model)  # a bad name is refused before anything changes
        if model == engine.settings.model:
            model = None
    unknown = set(values) - DETECTOR - DECISION - LIVE - LIVENESS - SOURCE - ATTENDANCE - RESTART
    if unknown:
        raise SettingsError(f"cannot change {', '.join(sorted(unknown))} while running")
    if not values:
        return Applied({}, (), model)
    log.info("Settings changed: %s", sorted(values))
    settings = engine.settings
    if values.get("liveness", "off") in ("passive", "both"):
        engine.models.run(engine.models.antispoof)  # load (or fail) before changing anything
    for key, value in values.items():
        setattr(settings, key, value)
    if values.keys() & DETECTOR:
        engine.detector = engine.models.run(build_detector, settings)
        engine.live_detector = engine.build_live_detector()
    if values.keys() & ATTENDANCE:
        attendance = engine.attendance
        attendance.cooldown = settings.cooldown_minutes * 60.0
        attendance.retention_days = settings.retention_days
        attendance.store_checkin_snapshots = settings.store_checkin_snapshots
        attendance.store_visitor_snapshots = settings.store_visitor_snapshots
        if values.keys() & {"visitor_ids", "visitor_memory_hours", "visitor_threshold"}:
            from desktop.engine.storage.visitors import open_gallery  # a new window: templates start afresh
            if attendance.visitor_ids is not None:
                attendance.visitor_ids.forget(now=float("inf"))
            attendance.visitor_ids = open_gallery(engine.db, settings)
    if pipeline is not None:
        if values.keys() & SOURCE:
            pipeline.set_source(settings.source)
        elif values.keys() & (DETECTOR | DECISION | LIVE | LIVENESS):
            pipeline.reset(rebuild=bool(values.keys() & (LIVE | LIVENESS)))
    return Applied(values, tuple(sorted(values.keys() & RESTART)), model)
