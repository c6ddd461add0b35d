"""Retention that runs: old attendance and (optionally) people not seen for a long time
are removed at start-up and then every ``retention_interval_hours`` while a long-running
front end (the window, the HTTP service) is open. Every removal is in the audit trail.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ACTOR = "retention"


@dataclass
class RetentionReport:
    attendance_rows: int = 0
    people: list[int] = field(default_factory=list)
    """Ids of the people deleted for inactivity."""
    visitor_templates: int = 0
    """Anonymous visitors' templates past the memory window (visitor ids)."""


def stale_people(db, days: int, now: float | None = None) -> list[tuple[int, str]]:
    """(id, name) of people neither enrolled nor seen in the last ``days`` days."""
    cutoff = (time.time() if now is None else now) - days * 86400.0
    # plain NOT EXISTS (no scalar MAX of four): the same SQL on SQLite and PostgreSQL
    return db.query(
        "SELECT p.id, p.name FROM people p WHERE p.created_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.person_id = p.id "
        "                AND s.created_at >= ?) "
        "AND NOT EXISTS (SELECT 1 FROM presence r WHERE r.person_id = p.id "
        "                AND r.last_seen >= ?) "
        "AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.person_id = p.id AND c.ts >= ?) "
        "ORDER BY p.id", (cutoff,) * 4)


def run_once(engine, now: float | None = None) -> RetentionReport:
    """Apply ``retention_days`` and ``retention_people_days`` of ``engine.settings`` now."""
    settings = engine.settings
    report = RetentionReport()
    if settings.retention_days > 0:
        report.attendance_rows = engine.attendance.purge_older_than(settings.retention_days,
                                                                    actor=ACTOR)
    from desktop.engine.storage.visitors import expire
    report.visitor_templates = expire(engine.db, settings, now)
    if settings.retention_people_days > 0:
        for pid, name in stale_people(engine.db, settings.retention_people_days, now):
            engine.delete(name, actor=ACTOR, reason=f"not seen for "
                                                    f"{settings.retention_people_days} days")
            report.people.append(pid)
    if report.attendance_rows or report.people:
        log.info("Retention removed %d attendance rows and people %s", report.attendance_rows,
                 ", ".join(f"#{p}" for p in report.people) or "none")
    return report


class RetentionTimer:
    """Runs ``job`` now and then every ``hours`` on a daemon thread until ``stop``."""

    def __init__(self, job: Callable[[], object], hours: float) -> None:
        self._job = job
        self._interval = max(hours, 0.001) * 3600.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self.runs = 0

    def start(self) -> RetentionTimer:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._job()
            except Exception:  # noqa: BLE001 - a failed run must not stop later ones
                log.exception("Retention run failed; retrying at the next interval")
            self.runs += 1
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
