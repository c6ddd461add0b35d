"""The window's look: style.qss beside this module (installed with the package), applied
to the main window and its dialogs."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The stylesheet text, or '' (Qt's default look) when the file is missing."""
    path = RESOURCES / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("No stylesheet (%s); using the default look", exc)
        return ""
