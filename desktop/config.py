"""Every tunable of the kiosk, with its default, in one place.

Precedence, lowest to highest: these defaults, ``<db>/settings.json`` (written by the
settings dialog), environment variables, command-line flags. Engine classes take the
same values as constructor keywords whose defaults come from ``DEFAULTS`` below, so a
number is written down exactly once.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    # --- storage -------------------------------------------------------------------
    db_dir: Path = Path("faces_db")
    """Folder holding gallery.sqlite3, the derived Faiss index, settings and logs."""
    db_key: str | None = None
    """SQLCipher passphrase ($FACE_KIOSK_KEY, --key-file, or typed in the window); never saved."""
    key_file: str | None = None
    """File holding the passphrase; must not be readable by group or others (chmod 600)."""

    # --- models --------------------------------------------------------------------
    weights: str = "vggface2"
    """FaceNet weights: 'vggface2', 'casia-webface', or a path to a state_dict file."""
    device: str = "auto"
    """'auto' picks CUDA when present, else CPU; or 'cpu', 'cuda:0'."""
    torch_threads: int = 0
    """Intra-op threads for torch; 0 means one per CPU core."""

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
    """Enrollment warns if the new face matches another person this well; None = threshold."""

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

    extra: dict[str, Any] = field(default_factory=dict)
    """Unknown keys from settings.json, kept so a newer file is not truncated."""

    @property
    def db_path(self) -> Path:
        return self.db_dir / "gallery.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.db_dir / "kiosk.log"

    # ------------------------------------------------------------------------------
    def save(self) -> None:
        """Write the persistable fields of settings.json atomically."""
        data = {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.name not in ("db_dir", "extra", "api_token", "db_key")}
        data.update(self.extra)
        self.db_dir.mkdir(parents=True, exist_ok=True)
        path = self.db_dir / SETTINGS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(tmp, path)


DEFAULTS = Settings()

_ENV = {
    "FACE_KIOSK_DB": "db_dir",
    "FACENET_WEIGHTS": "weights",
    "FACE_KIOSK_DEVICE": "device",
    "FACE_KIOSK_SOURCE": "source",
    "FACE_KIOSK_TOKEN": "api_token",
    "FACE_KIOSK_KEY": "db_key",
    "FACE_KIOSK_KEY_FILE": "key_file",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _coerce(name: str, value: Any) -> Any:
    """Turn a JSON/env/CLI value into the type of the field's default."""
    default = getattr(DEFAULTS, name)
    if value is None:
        return None
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
    if isinstance(default, Path) or name == "db_dir":
        return Path(value)
    if isinstance(default, tuple):
        return tuple(float(v) for v in value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float) or name in ("threshold", "duplicate_threshold"):
        return float(value)
    return value


def load_settings(db_dir: str | Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, settings.json, the environment and ``overrides``.

    ``overrides`` with value None are ignored, so argparse namespaces can be passed as is.
    """
    env = {attr: os.environ[var] for var, attr in _ENV.items() if os.environ.get(var)}
    root = Path(db_dir) if db_dir else Path(env.get("db_dir", DEFAULTS.db_dir))
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    path = root / SETTINGS_FILE
    if path.is_file():
        try:
            stored = json.loads(path.read_text())
            if not isinstance(stored, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable %s: %s", path, exc)
            stored = {}
        known = {f.name for f in dataclasses.fields(Settings)} - {"db_dir", "extra"}
        for key, value in stored.items():
            if key not in known:
                extra[key] = value
                continue
            try:
                values[key] = _coerce(key, value)
            except (TypeError, ValueError):
                log.warning("Ignoring %s = %r in %s: not a valid value", key, value, path)
    values.update({k: _coerce(k, v) for k, v in env.items() if k != "db_dir"})
    values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
    settings = Settings(**values, db_dir=root)
    settings.extra = extra
    if settings.key_file and not overrides.get("db_key"):
        from .engine.crypto_db import read_key_file  # a key file beats $FACE_KIOSK_KEY
        settings.db_key = read_key_file(Path(settings.key_file))
    return settings
