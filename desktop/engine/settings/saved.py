"""Writing settings.json: ``Settings.save`` merges a user's changes into the file, or
writes every persistable field, atomically and never with the secrets. Apart from
settings/config.py and file.py (which import ``Settings``) so that neither imports the other."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

SETTINGS_FILE = "settings.json"
NOT_SAVED = ("db_dir", "db_url", "extra", "api_token", "db_key")
"""Fields that are never written: where the store is, and the secrets."""


def jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def read_json(path: Path) -> dict[str, Any]:
    stored = json.loads(path.read_text())
    if not isinstance(stored, dict):
        raise ValueError("not a JSON object")
    return stored


def save_settings(settings: Any, changes: dict[str, Any] | None = None) -> None:
    """``Settings.save``: merge ``changes`` into settings.json (or write every persistable
    field), atomically, never the secrets. ``settings`` is a ``Settings`` (settings/config.py)."""
    path = settings.db_dir / SETTINGS_FILE
    if changes is None:
        data = {f.name: jsonable(getattr(settings, f.name)) for f in dataclasses.fields(settings)
                if f.name not in NOT_SAVED}
        data.update(settings.extra)
    else:
        data = read_json(path) if path.is_file() else {}
        data.update({k: jsonable(v) for k, v in changes.items() if k not in NOT_SAVED})
    settings.db_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)
