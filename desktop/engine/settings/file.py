"""settings.json, the environment and flags into ``Settings`` (settings/config.py), every value
checked on the way in: the ranges and choices each setting accepts, ``coerce``,
``load_settings`` and the writer behind ``Settings.save``."""
from __future__ import annotations

import dataclasses
import logging
import os
import stat
from pathlib import Path
from typing import Any

from desktop.engine.core.errors import KioskError, SettingsError
from desktop.engine.core.threads import apply_wait_policy
from desktop.engine.settings.config import DEFAULTS, Settings
from desktop.engine.settings.saved import SETTINGS_FILE, read_json

log = logging.getLogger(__name__)

_FIELDS = {f.name for f in dataclasses.fields(Settings)} - {"extra"}

LIMITS: dict[str, tuple[float, float]] = {
    "torch_threads": (0, 256), "min_face_size": (10, 2000), "min_det_prob": (0.0, 1.0),
    "detect_max_side": (64, 10000), "detect_pad": (0.0, 1.0),
    "live_detect_max_side": (64, 10000),
    "crop_size": (32, 1024), "crop_margin": (0, 512), "threshold": (-1.0, 1.0),
    "match_margin": (0.0, 1.0), "duplicate_threshold": (-1.0, 1.0),
    "slideshow_seconds": (0.05, 3600.0), "confirm_frames": (1, 100),
    "recheck_seconds": (0.0, 3600.0), "track_iou": (0.0, 1.0), "track_max_missed": (0, 1000),
    "track_min_appearance": (-1.0, 1.0),
    "reconnect_max_seconds": (0.0, 3600.0), "cooldown_minutes": (0.0, 7 * 24 * 60.0),
    "retention_days": (0, 100_000), "port": (1, 65535), "max_upload_mb": (0.01, 10_000.0),
    "subject_area_ratio": (1.0, 100.0), "index_exact_below": (0, 10**9),
    "hnsw_m": (4, 256), "hnsw_ef_construction": (8, 4096), "hnsw_ef_search": (8, 4096),
    "register_samples": (1, 50), "register_min_face_px": (20.0, 4000.0),
    "register_min_sharpness": (0.0, 10_000.0), "register_min_frontalness": (0.0, 1.0),
    "register_min_interval": (0.0, 60.0), "outlier_threshold": (-1.0, 1.0),
    "register_max_similarity": (-1.0, 1.0),
    "quality_min_face": (0, 10000), "quality_min_sharpness": (0.0, 10_000.0),
    "quality_min_det_prob": (0.0, 1.0), "max_queued_requests": (1, 10_000),
    "auth_failures_per_minute": (1, 10_000), "retention_people_days": (0, 100_000),
    "retention_interval_hours": (0.01, 24 * 365.0),
    "liveness_threshold": (0.0, 1.0), "challenge_yaw": (0.05, 2.0),
    "challenge_frames": (1, 100), "challenge_seconds": (0.5, 600.0),
    "idle_detect_fps": (0.0, 1000.0), "motion_pixel_delta": (0.0, 255.0),
    "motion_min_area": (0.0, 1.0), "motion_hold_seconds": (0.0, 3600.0),
    "visitor_memory_hours": (0.1, 24 * 7.0), "visitor_threshold": (-1.0, 1.0),
    "appearance_gap_seconds": (0.0, 600.0),
}
"""Accepted range (inclusive) of each numeric setting."""
CHOICES: dict[str, tuple[str, ...]] = {"liveness": ("off", "passive", "challenge", "both"),
                                       "require_consent": ("always", "window", "never"),
                                       "omp_wait_policy": ("passive", "active", "default"),
                                       "detector": ("mtcnn", "yunet"),
                                       "live_detector": ("same", "mtcnn", "yunet")}
"""Accepted values of settings that take one of a few words."""


_ENV = {
    "FACE_KIOSK_DB": "db_dir",
    "FACE_KIOSK_MODEL": "model",
    "FACENET_WEIGHTS": "weights",
    "FACE_KIOSK_REID_WEIGHTS": "reid_weights",
    "FACE_KIOSK_DEVICE": "device",
    "FACE_KIOSK_SOURCE": "source",
    "FACE_KIOSK_TOKEN": "api_token",
    "FACE_KIOSK_CACHE": "cache_dir",
    "FACE_KIOSK_KEY": "db_key",
    "FACE_KIOSK_KEY_FILE": "key_file",
    "FACE_KIOSK_DETECTOR": "detector",
    "FACE_KIOSK_LIVE_DETECTOR": "live_detector",
    "FACE_KIOSK_VISITOR_IDS": "visitor_ids",
}


_NULLABLE = ("threshold", "duplicate_threshold", "outlier_threshold", "visitor_threshold",
             "api_token", "db_key", "key_file", "register_max_similarity", "reid_weights")
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
        elif isinstance(default, float) or name in _NULLABLE[:4]:
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
    if target:
        from desktop.engine.settings.location import check_location, is_postgres_url
        check_location(target)  # a mistyped URL is refused, not made a folder
        if is_postgres_url(target):
            db_url, target = target, os.environ.get("FACE_KIOSK_HOME")
    root = Path(target) if target else DEFAULTS.db_dir
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    path = root / SETTINGS_FILE
    if path.is_file():
        try:
            stored = read_json(path)
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
    if settings.key_file and not overrides.get("db_key"):  # a key file beats $FACE_KIOSK_KEY
        settings.db_key = read_key_file(Path(settings.key_file))
    apply_wait_policy(settings)  # before any front end imports torch
    return settings


def read_key_file(path: Path) -> str:
    """The passphrase in ``path``; refuses a file other users could read."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()[:MAX_KEY_FILE + 1]
    except OSError as exc:
        raise KioskError(f"cannot read key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KioskError(f"key file {path} is readable by other users (mode "
                         f"{stat.S_IMODE(mode):04o}); run `chmod 600 {path}` and try again")
    if len(data) > MAX_KEY_FILE:
        raise KioskError(f"key file {path} is longer than {MAX_KEY_FILE} bytes: it holds one "
                         f"line, the passphrase (is it the right file?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KioskError(f"key file {path} is not text (byte 0x{data[exc.start]:02x} at "
                         f"offset {exc.start} is not UTF-8): it holds a passphrase; keep a "
                         f"random binary key as hex, e.g. `openssl rand -hex 32 > {path}`"
                         ) from None
    key = text.strip("\r\n")
    if not key:
        raise KioskError(f"key file {path} is empty")
    return check_key(key, f"key file {path}")


def check_key(key: str, where: str = "the key") -> str:
    """Refuse a NUL: the key goes into SQLCipher as a C string, so it could never open the
    database (other characters are kept: a key that worked before must keep working)."""
    if len(key) > MAX_KEY_FILE:
        raise KioskError(f"{where} is longer than {MAX_KEY_FILE} characters")
    if "\0" in key:
        raise KioskError(f"{where} holds a NUL byte: a key is one line of text; keep a "
                         f"binary key as hex")
    return key


MAX_KEY_FILE = 4096
"""Bytes read from a key file: a passphrase or a hex key is far shorter."""
