"""Where the gallery lives: a folder, or a PostgreSQL URL; a mistyped URL is refused
before it can quietly become a local folder with an empty gallery."""
from __future__ import annotations

import re

from desktop.engine.core.errors import KioskError

URL_LIKE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
"""A scheme at the start (``postgresq:``, ``https:``); one letter is a Windows drive."""
POSTGRES_URL = re.compile(r"^postgres(ql)?://[^/?#]*(/[^/?#]*)?([?#].*)?$")


def is_postgres_url(target: str) -> bool:
    """postgresql://[user[:password]@][host][:port][/dbname][?options] (or postgres://)."""
    return POSTGRES_URL.match(target) is not None


def check_location(target: str) -> None:
    """KioskError for a database location that is neither a PostgreSQL URL nor a plain
    folder: a mistyped URL must not quietly become a local folder with an empty gallery."""
    scheme = URL_LIKE.match(target)
    if ("://" in target or scheme) and not is_postgres_url(target):
        what = f"{scheme.group(1)}:" if scheme else "a URL"
        raise KioskError(
            f"{target!r} looks like a URL ({what}) but is not a PostgreSQL one: a shared "
            f"store is postgresql://user@host:port/dbname, a local gallery a folder (start "
            f"it with ./ to mean a folder of that name)")
