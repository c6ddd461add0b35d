"""Every tunable of the kiosk, with its default, in one place.

Precedence, lowest to highest: these defaults, ``<db>/settings.json`` (written by the
settings dialog, which saves only what the user changed there), environment variables,
command-line flags. Engine classes take the same values as constructor keywords whose
defaults come from ``DEFAULTS`` below, so a number is written down exactly once. Every
value is checked against ``LIMITS`` on the way in (``coerce``), with a message that says
which setting and what it accepts.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine.errors import KioskError

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    # --- storage -------------------------------------------------------------------
    db_dir: Path = Path("faces_db")
    """Folder holding gallery.sqlite3, the derived Faiss index, settings and logs. With a
    shared PostgreSQL store it keeps this kiosk's own files (settings, log, index cache,
    check-in outbox): $FACE_KIOSK_HOME, default faces_db/."""
    db_url: str | None = None
    """postgresql://user@host:port/dbname: the shared store of several kiosks (given as
    --db or $FACE_KIOSK_DB); None keeps the SQLite file in db_dir."""
    kiosk_name: str = ""
    """Recorded with each check-in and visitor; empty means this computer's host name."""
    store_poll_seconds: float = 1.0
    """Shared store: how often changes are looked for when no notification came."""
    db_key: str | None = None
    """SQLCipher passphrase of the SQLite file ($FACE_KIOSK_KEY, --key-file, or typed in
    the window); never saved."""
    key_file: str | None = None
    """File holding the passphrase; must not be readable by group or others (chmod 600)."""

    # --- models --------------------------------------------------------------------
    model: str = "facenet"
    """Face model: 'facenet', 'dlib', 'fusion' (both) or 'onnx:PATH' (desktop/engine/embedders);
    a gallery made with another model is switched by `reembed --model`."""
    dlib_alignment: str = "landmarks"
    """dlib's input: 'landmarks' (warp from MTCNN's points) or 'dlib' (its shape predictor)."""
    weights: str = "vggface2"
    """FaceNet weights: 'vggface2', 'casia-webface', or a path to a state_dict file."""
    facenet_backend: str = "onnxruntime"
    """'torch', or 'onnxruntime' (an ONNX copy exported once beside the weights; same
    vectors, about 2x faster per face on CPU under load, see README)."""
    device: str = "auto"
    """'auto' picks CUDA when present, else CPU; or 'cpu', 'cuda:0'."""
    torch_threads: int = 0
    """Intra-op threads for torch and onnxruntime; 0 means one per CPU core (with passive
    waiting the best measured, quiet and beside a busy process: README, Speed)."""
    omp_wait_policy: str = "passive"
    """How idle OpenMP workers of torch wait: 'passive' (sleep: other programs and the
    window keep the CPU), 'active' (spin), or 'default' (libgomp's own: spin a while).
    Read before torch is imported; $OMP_WAIT_POLICY, if set, wins (README, Speed)."""
    onnx_spinning: bool = False
    """Let onnxruntime's intra-op threads spin while waiting for work (its default: on)."""

    # --- liveness (presentation-attack detection; README "Liveness") -------------
    liveness: str = "off"
    """'off', 'passive' (MiniFASNet on the face), 'challenge' (turn the head), or 'both'."""
    liveness_threshold: float = 0.5
    """A face is live when the averaged MiniFASNet P(real) reaches this."""
    liveness_at_registration: bool = True
    liveness_at_checkin: bool = True
    antispoof_weights: str | None = None
    """Folder with the two MiniFASNet files; None downloads them once into torch's cache."""
    challenge_yaw: float = 0.35
    """Head-turn challenge: change of the nose offset (see challenge.py) to reach."""
    camera_mirrored: bool = False
    """The camera delivers a mirrored picture (some webcams do): flips the measured turn,
    so "turn to your left" keeps meaning the person's own left."""
    challenge_frames: int = 3
    """Frames that must hold the turned pose."""
    challenge_seconds: float = 6.0
    """Time to complete the turn."""

    # --- detection -----------------------------------------------------------------
    min_face_size: int = 40
    """Smallest face (pixels, after downscaling) MTCNN looks for; larger is faster."""
    det_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    """MTCNN P-, R-, O-net thresholds."""
    min_det_prob: float = 0.90
    """Faces below this detection probability are dropped (MTCNN's O-net emits some junk)."""
    detect_max_side: int = 1024
    """Photos larger than this are downscaled for detection; boxes are mapped back."""
    live_detect_max_side: int = 640
    """Same, for live frames (a desk camera: faces are large, frames must be fast)."""
    detector: str = "mtcnn"
    """Face detector for photos (enrollment, identify, evaluate): 'mtcnn', or 'yunet'
    (OpenCV's YuNet proposes, MTCNN's O-net confirms: engine/yunet.py)."""
    live_detector: str = "yunet"
    """Face detector for the live loop: 'yunet' (faster, same `evaluate` figures; MTCNN
    when the YuNet file is missing), 'mtcnn', or 'same' as ``detector``."""

    # --- crops ---------------------------------------------------------------------
    crop_size: int = 160
    crop_margin: int = 32
    """Margin in pixels of the 160x160 crop, as FaceNet was trained (Sandberg's MTCNN crops)."""

    # --- open-set decision ---------------------------------------------------------
    threshold: float | None = None
    """Cosine similarity needed for a match; None uses the value stored with the database."""
    match_margin: float = 0.03
    """A match must beat the best *other* person by this much, or it is 'unknown'."""
    duplicate_threshold: float | None = None
    """Enrollment warns (and ``strict`` refuses) when the new faces match another person's
    template this well; None uses the model's strict default (about 0.1% FPIR on LFW)."""
    match_rule: str = "template"
    """'template' scores each person by the normalised mean of their samples;
    'best_sample' by their single most similar sample (see README, Accuracy)."""
    outlier_threshold: float | None = None
    """A new sample less similar than this to the person's other samples is flagged as a
    probable wrong photo and kept out of the template; None = the model's default."""

    # --- quality gate -------------------------------------------------------------
    quality_min_face: int = 40
    """Faces whose shorter box side (pixels of the photo) is below this are 'unknown: low
    quality' and refused at enrollment; 0 disables this test."""
    quality_min_sharpness: float = 10.0
    """Same, for the variance of the Laplacian of the 160x160 crop; 0 disables it."""
    quality_min_det_prob: float = 0.95
    """Same, for MTCNN's probability; 0 disables it (min_det_prob still drops junk)."""

    # --- evaluation ------------------------------------------------------------------
    cache_dir: Path = Path("~/.cache/face-kiosk")
    """Where ``evaluate`` caches detections and embeddings (by file hash and model)."""

    subject_area_ratio: float = 2.0
    """A photo (or camera picture) is of one person if its largest face is at least this
    many times the area of the next: a small bystander is fine, two similar faces are not."""

    # --- gallery index -------------------------------------------------------------
    index_exact_below: int = 10_000
    """Below this many samples an exact flat index; above, HNSW (bench: scale table)."""
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 256
    """HNSW search breadth: recall@1 >= 0.997 up to 1M samples (bench: scale table)."""

    # --- registering from the camera -------------------------------------------------
    register_samples: int = 5
    register_min_face_px: float = 80.0
    """Face box width in frame pixels: smaller faces give blurry, upscaled crops."""
    register_min_sharpness: float = 15.0
    """Variance of the Laplacian of the 160x160 crop (camera faces: 20-400; blur: < 12)."""
    register_min_frontalness: float = 0.5
    register_min_interval: float = 0.4
    """Seconds between samples, so they are not all the same instant."""

    # --- live loop -----------------------------------------------------------------
    source: str = "0"
    """Camera index, video file, folder of images, or stream URL."""
    loop_video: bool = True
    slideshow_seconds: float = 1.5
    confirm_frames: int = 2
    """A name is shown (and attendance recorded) only after this many consistent frames."""
    recheck_seconds: float = 1.0
    """A tracked, already recognised face is re-embedded this often, not every frame."""
    track_iou: float = 0.3
    track_max_missed: int = 5
    reconnect_max_seconds: float = 10.0
    motion_gating: bool = True
    """Detect at full rate only while the picture changes or a face is tracked; otherwise
    ``idle_detect_fps`` frames a second (engine/motion.py)."""
    idle_detect_fps: float = 2.0
    motion_pixel_delta: float = 12.0
    """Grey levels a pixel of the 96 px thumbnail must move by to count as changed."""
    motion_min_area: float = 0.004
    """Share of the thumbnail that must change to count as motion (0.4%: ~28 pixels)."""
    motion_hold_seconds: float = 1.0
    """Full rate goes on this long after the last motion."""

    # --- attendance ----------------------------------------------------------------
    cooldown_minutes: float = 10.0
    retention_days: int = 0
    """Attendance older than this is removed; 0 keeps it for ever."""
    store_checkin_snapshots: bool = False
    store_visitor_snapshots: bool = False
    delete_attendance_with_person: bool = True
    retention_people_days: int = 0
    """People not seen (nor enrolled) for this many days are deleted; 0 keeps them."""
    retention_interval_hours: float = 6.0
    """While the window or the HTTP service runs, retention runs this often (and at start)."""

    # --- privacy -------------------------------------------------------------------
    require_consent: str = "window"
    """Refuse enrollment without recorded consent: 'always', 'window' (only in the kiosk
    window, where a person stands in front of it) or 'never'."""
    consent_text: str = ("I agree that this kiosk stores my face template and photos to "
                         "recognise me at reception and records when I check in. I can ask "
                         "for a copy or for their deletion at any time.")
    """What the person is shown and agrees to; stored with each consent."""
    keep_face_crops: bool = True
    """False keeps only embeddings (no face photos): smaller exposure, but `reembed` after a
    model change becomes impossible and those people must enroll again."""

    # --- HTTP service --------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    api_token: str | None = None
    max_upload_mb: float = 10.0
    max_queued_requests: int = 8
    """Photo requests waiting for or in model work; beyond this the service answers 503
    with Retry-After at once (a burst cannot build a queue of minutes)."""
    auth_failures_per_minute: int = 10
    """Failed token checks allowed per client address and minute; then 429."""
    cors_origins: tuple[str, ...] = ()
    """Web origins (https://host:port) allowed to call the service from a browser; none by
    default, and every other browser cross-site request is refused."""

    extra: dict[str, Any] = field(default_factory=dict)
    """Unknown keys from settings.json, kept so a newer file is not truncated."""

    @property
    def db_path(self) -> Path:
        return self.db_dir / "gallery.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.db_dir / "kiosk.log"

    # ------------------------------------------------------------------------------
    def save(self, changes: dict[str, Any] | None = None) -> None:
        """Write settings.json atomically.

        With ``changes`` (what a user changed in the settings dialog) only those keys are
        merged into the file, so one-off overrides (``--weights``, ``--source``,
        ``FACENET_WEIGHTS``) are never saved for ever. Without, every persistable field
        is written (a full snapshot, e.g. for a child process). Secrets (the API token,
        the database key) are never written.
        """
        path = self.db_dir / SETTINGS_FILE
        if changes is None:
            data = {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)
                    if f.name not in _NOT_SAVED}
            data.update(self.extra)
        else:
            data = _read_json(path) if path.is_file() else {}
            data.update({k: _jsonable(v) for k, v in changes.items() if k not in _NOT_SAVED})
        self.db_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(tmp, path)


DEFAULTS = Settings()
_NOT_SAVED = ("db_dir", "db_url", "extra", "api_token", "db_key")
_FIELDS = {f.name for f in dataclasses.fields(Settings)} - {"extra"}

LIMITS: dict[str, tuple[float, float]] = {
    "torch_threads": (0, 256), "min_face_size": (10, 2000), "min_det_prob": (0.0, 1.0),
    "detect_max_side": (64, 10000), "live_detect_max_side": (64, 10000),
    "crop_size": (32, 1024), "crop_margin": (0, 512), "threshold": (-1.0, 1.0),
    "match_margin": (0.0, 1.0), "duplicate_threshold": (-1.0, 1.0),
    "slideshow_seconds": (0.05, 3600.0), "confirm_frames": (1, 100),
    "recheck_seconds": (0.0, 3600.0), "track_iou": (0.0, 1.0), "track_max_missed": (0, 1000),
    "reconnect_max_seconds": (0.0, 3600.0), "cooldown_minutes": (0.0, 7 * 24 * 60.0),
    "retention_days": (0, 100_000), "port": (1, 65535), "max_upload_mb": (0.01, 10_000.0),
    "subject_area_ratio": (1.0, 100.0), "index_exact_below": (0, 10**9),
    "hnsw_m": (4, 256), "hnsw_ef_construction": (8, 4096), "hnsw_ef_search": (8, 4096),
    "register_samples": (1, 50), "register_min_face_px": (20.0, 4000.0),
    "register_min_sharpness": (0.0, 10_000.0), "register_min_frontalness": (0.0, 1.0),
    "register_min_interval": (0.0, 60.0), "outlier_threshold": (-1.0, 1.0),
    "quality_min_face": (0, 10000), "quality_min_sharpness": (0.0, 10_000.0),
    "quality_min_det_prob": (0.0, 1.0), "max_queued_requests": (1, 10_000),
    "auth_failures_per_minute": (1, 10_000), "retention_people_days": (0, 100_000),
    "retention_interval_hours": (0.01, 24 * 365.0),
    "liveness_threshold": (0.0, 1.0), "challenge_yaw": (0.05, 2.0),
    "challenge_frames": (1, 100), "challenge_seconds": (0.5, 600.0),
    "idle_detect_fps": (0.0, 1000.0), "motion_pixel_delta": (0.0, 255.0),
    "motion_min_area": (0.0, 1.0), "motion_hold_seconds": (0.0, 3600.0),
}
"""Accepted range (inclusive) of each numeric setting."""
CHOICES: dict[str, tuple[str, ...]] = {"liveness": ("off", "passive", "challenge", "both"),
                                       "require_consent": ("always", "window", "never"),
                                       "omp_wait_policy": ("passive", "active", "default"),
                                       "detector": ("mtcnn", "yunet"),
                                       "live_detector": ("same", "mtcnn", "yunet")}
"""Accepted values of settings that take one of a few words."""


class SettingsError(KioskError, ValueError):
    """A setting with a value it cannot take; the message names both."""

_ENV = {
    "FACE_KIOSK_DB": "db_dir",
    "FACE_KIOSK_MODEL": "model",
    "FACENET_WEIGHTS": "weights",
    "FACE_KIOSK_DEVICE": "device",
    "FACE_KIOSK_SOURCE": "source",
    "FACE_KIOSK_TOKEN": "api_token",
    "FACE_KIOSK_CACHE": "cache_dir",
    "FACE_KIOSK_KEY": "db_key",
    "FACE_KIOSK_KEY_FILE": "key_file",
    "FACE_KIOSK_DETECTOR": "detector",
    "FACE_KIOSK_LIVE_DETECTOR": "live_detector",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _read_json(path: Path) -> dict[str, Any]:
    stored = json.loads(path.read_text())
    if not isinstance(stored, dict):
        raise ValueError("not a JSON object")
    return stored


_NULLABLE = ("threshold", "duplicate_threshold", "outlier_threshold", "api_token", "db_key",
             "key_file")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def coerce(name: str, value: Any) -> Any:
    """``value`` (from JSON, the environment, a flag or a dialog) as the setting's type,
    or SettingsError saying what the setting accepts."""
    if name not in _FIELDS:
        raise SettingsError(f"unknown setting {name!r}")
    if name in CHOICES:
        value = str(value).strip().lower()
        if value not in CHOICES[name]:
            raise SettingsError(f"{name} = {value!r} is not one of: {', '.join(CHOICES[name])}")
        return value
    default = getattr(DEFAULTS, name)
    if value is None or (name in _NULLABLE and str(value).strip().lower() in ("", "none")):
        if name in _NULLABLE:
            return None
        raise SettingsError(f"{name} needs a value")
    try:
        if isinstance(default, bool):
            text = str(value).strip().lower()
            if isinstance(value, bool) or text in _TRUE + _FALSE:
                return value if isinstance(value, bool) else text in _TRUE
            raise ValueError
        if isinstance(default, Path) or name == "db_dir":
            return Path(value)
        if name == "cors_origins":
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(v).strip().rstrip("/") for v in items if str(v).strip())
        if isinstance(default, tuple):
            converted: Any = tuple(float(v) for v in value)
            if len(converted) != len(default):
                raise ValueError
        elif isinstance(default, int) or name in ("port",):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            converted = int(value)
        elif isinstance(default, float) or name in _NULLABLE[:3]:
            converted = float(value)
        else:
            return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} = {value!r} is not {_kind(default)}") from None
    low, high = LIMITS.get(name, (float("-inf"), float("inf")))
    for number in converted if isinstance(converted, tuple) else (converted,):
        if not low <= number <= high:
            raise SettingsError(f"{name} = {value!r} is out of range ({low:g} to {high:g})")
    return converted


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "yes/no (true, false, 1, 0)"
    if isinstance(default, tuple):
        return f"a list of {len(default)} numbers"
    return "a whole number" if isinstance(default, int) else "a number"


def load_settings(db_dir: str | Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, settings.json, the environment and ``overrides``.

    ``overrides`` with value None are ignored, so argparse namespaces can be passed as is.
    A bad value in settings.json is logged and skipped (the kiosk still starts); a bad
    environment variable or override raises SettingsError.
    """
    env = {attr: os.environ[var] for var, attr in _ENV.items() if os.environ.get(var)}
    target = str(db_dir) if db_dir else env.get("db_dir")
    db_url = None
    if target and target.startswith(("postgresql://", "postgres://")):
        db_url, target = target, os.environ.get("FACE_KIOSK_HOME")
    root = Path(target) if target else DEFAULTS.db_dir
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    path = root / SETTINGS_FILE
    if path.is_file():
        try:
            stored = _read_json(path)
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable %s: %s", path, exc)
            stored = {}
        known = {f.name for f in dataclasses.fields(Settings)} - {"db_dir", "db_url", "extra"}
        for key, value in stored.items():
            if key not in known:
                extra[key] = value
                continue
            try:
                values[key] = coerce(key, value)
            except SettingsError as exc:
                log.warning("Ignoring a setting in %s: %s", path, exc)
    values.update({k: coerce(k, v) for k, v in env.items() if k != "db_dir"})
    values.update({k: coerce(k, v) for k, v in overrides.items() if v is not None})
    settings = Settings(**values, db_dir=root, db_url=db_url)
    settings.extra = extra
    if settings.key_file and not overrides.get("db_key"):
        from .engine.crypto_db import read_key_file  # a key file beats $FACE_KIOSK_KEY
        settings.db_key = read_key_file(Path(settings.key_file))
    from .engine.threads import apply_wait_policy
    apply_wait_policy(settings)  # before any front end imports torch
    return settings
