"""Which attendance book a store gets: the local one on SQLite, the shared one (with this
kiosk's outbox behind it) on PostgreSQL; and the store's state for a status bar."""
from __future__ import annotations

from typing import Any

from desktop.engine.attendance.checkins import Attendance
from desktop.engine.settings.config import Settings
from desktop.engine.storage.store import (
    Store,
    StoreStatus,
    describe,
    is_shared,
    kiosk_name,
    store_online,
)


def open_attendance(db: Store, settings: Settings) -> Attendance:
    """Attendance over ``db``; on a shared store with the local outbox behind it."""
    options: dict[str, Any] = dict(cooldown_minutes=settings.cooldown_minutes,
                   retention_days=settings.retention_days,
                   store_checkin_snapshots=settings.store_checkin_snapshots,
                   store_visitor_snapshots=settings.store_visitor_snapshots,
                   kiosk_name=kiosk_name(settings))
    attendance: Attendance
    if is_shared(db):  # psycopg is imported only for a shared store
        from desktop.engine.attendance.outbox import Outbox
        from desktop.engine.attendance.shared import SharedAttendance
        attendance = SharedAttendance(db, Outbox(db.path.parent / "outbox.sqlite3"), **options)
    else:
        attendance = Attendance(db, **options)
    from desktop.engine.storage.visitors import open_gallery
    attendance.visitor_ids = open_gallery(db, settings)
    return attendance


def store_status(db: Store, attendance: Attendance) -> StoreStatus:
    return StoreStatus(is_shared(db), store_online(db), int(getattr(attendance, "queued", 0)),
                       describe(db))
