"""Which kind of store an object is, for code below ``store.py`` (audit, schema checks)."""
from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:  # psycopg is imported only when a PostgreSQL URL is configured
    from desktop.engine.storage.postgres import PgDatabase


def is_shared(db: object) -> TypeGuard[PgDatabase]:
    return hasattr(db, "on_tick")
