"""Check-ins of recognised people and counts of unknown visitors, in the gallery database.

A check-in is recorded at most once per person per cool-down; every confirmed sighting
moves that day's ``last_seen``. Days are local calendar days (the desk's clock).
"""
from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.engine.core.errors import KioskError
from desktop.engine.settings.config import DEFAULTS
from desktop.engine.storage import audit

if TYPE_CHECKING:
    from desktop.engine.storage.store import Store
    from desktop.engine.storage.visitors import VisitorGallery

log = logging.getLogger(__name__)


def day_of(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise KioskError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def day_range(first: str | None, last: str | None, *, first_label: str = "from",
              last_label: str = "to") -> tuple[str, str]:
    """An attendance range: ``first`` defaults to today, ``last`` to ``first``; both must
    be YYYY-MM-DD and in order. The labels name the fields in the error message."""
    first = first or day_of(time.time())
    last = last or first
    if parse_day(first) > parse_day(last):
        raise KioskError(f"{first_label} {first} is after {last_label} {last}")
    return first, last


@dataclass(frozen=True)
class CheckIn:
    name: str
    ts: float
    similarity: float


@dataclass(frozen=True)
class DayRow:
    day: str
    name: str
    first_in: float
    last_seen: float
    checkins: int
    kiosks: str = ""
    """Where they checked in that day (the kiosk names, comma-separated, first first)."""


class Attendance:
    """Writes and reads attendance; one instance per database, shared by threads."""

    def __init__(self, db: Store, *, cooldown_minutes: float = DEFAULTS.cooldown_minutes,
                 retention_days: int = DEFAULTS.retention_days,
                 store_checkin_snapshots: bool = DEFAULTS.store_checkin_snapshots,
                 store_visitor_snapshots: bool = DEFAULTS.store_visitor_snapshots,
                 kiosk_name: str = "") -> None:
        self.db = db
        self.kiosk_name = kiosk_name or None
        self.cooldown = cooldown_minutes * 60.0
        self.retention_days = retention_days
        self.store_checkin_snapshots = store_checkin_snapshots
        self.store_visitor_snapshots = store_visitor_snapshots
        self.visitor_ids: VisitorGallery | None = None
        """Anonymous visitor ids (``visitor_ids`` setting), or None: off."""
        if retention_days > 0:
            self.purge_older_than(retention_days)

    def record_sighting(self, name: str, similarity: float, ts: float | None = None,
                        snapshot: bytes | None = None) -> CheckIn | None:
        """Note that ``name`` was seen; returns the CheckIn if this sighting opened one."""
        ts = time.time() if ts is None else ts
        day = day_of(ts)
        with self.db.transaction() as cur:
            row = cur.execute("SELECT id, name FROM people WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None  # deleted while the camera still saw them
            pid, name = row
            cur.execute("INSERT INTO presence(person_id, name, day, first_in, last_seen) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(person_id, day) DO UPDATE SET "
                        "last_seen = MAX(last_seen, excluded.last_seen), "
                        "first_in = MIN(first_in, excluded.first_in)",
                        (pid, name, day, ts, ts))
            # either side of ts: a sighting queued offline may arrive after a later one
            near = cur.execute("SELECT COUNT(*) FROM checkins WHERE person_id = ? "
                               "AND ts > ? AND ts < ?",
                               (pid, ts - self.cooldown, ts + self.cooldown)).fetchone()[0]
            if near:
                return None
            cur.execute("INSERT INTO checkins(person_id, name, ts, day, similarity, snapshot, "
                        "kiosk) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (pid, name, ts, day, similarity,
                         snapshot if self.store_checkin_snapshots else None, self.kiosk_name))
        log.info("Check-in: person #%d (similarity %.2f)", pid, similarity)
        return CheckIn(name, ts, similarity)

    def record_visitor(self, ts: float | None = None, snapshot: bytes | None = None,
                       visitor: str | None = None) -> bool:
        """Count an unknown visitor's appearance; True if it opened a visit. With an
        anonymous id, an appearance within the cool-down of that visitor's last one only
        moves its ``last_seen`` (the live loop calls this on every re-check)."""
        ts = time.time() if ts is None else ts
        with self.db.transaction() as cur:
            if visitor is not None:
                # either side of ts: an appearance queued offline may arrive late
                row = cur.execute("SELECT id FROM visitors WHERE visitor = ? AND last_seen > ? "
                                  "AND ts < ? ORDER BY last_seen DESC LIMIT 1",
                                  (visitor, ts - self.cooldown, ts + self.cooldown)).fetchone()
                if row is not None:
                    cur.execute("UPDATE visitors SET last_seen = MAX(last_seen, ?) WHERE id = ?",
                                (ts, row[0]))
                    return False
            cur.execute("INSERT INTO visitors(ts, day, snapshot, kiosk, visitor, last_seen) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (ts, day_of(ts), snapshot if self.store_visitor_snapshots else None,
                         self.kiosk_name, visitor, ts))
        return True

    def day(self, day: str | None = None) -> list[DayRow]:
        return self.between(day or day_of(time.time()), day or day_of(time.time()))

    def between(self, first: str, last: str) -> list[DayRow]:
        """Per day and person: first in, last seen, number of check-ins; by day, then arrival."""
        for text in (first, last):
            parse_day(text)
        rows = self.db.query(
            "SELECT p.day, p.name, p.first_in, p.last_seen, "
            "(SELECT COUNT(*) FROM checkins c WHERE c.day = p.day AND c.name = p.name "
            " AND (c.person_id IS p.person_id)), p.person_id "
            "FROM presence p WHERE p.day BETWEEN ? AND ? ORDER BY p.day, p.first_in",
            (first, last))
        kiosks: dict[tuple, list[str]] = {}
        for day, name, pid, kiosk in self.db.query(
                "SELECT day, name, person_id, kiosk FROM checkins WHERE day BETWEEN ? AND ? "
                "AND kiosk IS NOT NULL ORDER BY ts", (first, last)):
            seen = kiosks.setdefault((day, name, pid), [])
            if kiosk not in seen:
                seen.append(kiosk)
        return [DayRow(day, name, first_in, last_seen, count,
                       ", ".join(kiosks.get((day, name, pid), [])))
                for day, name, first_in, last_seen, count, pid in rows]

    def checkins(self, first: str, last: str) -> list[CheckIn]:
        rows = self.db.query("SELECT name, ts, similarity FROM checkins WHERE day BETWEEN ? AND ? "
                             "ORDER BY ts", (first, last))
        return [CheckIn(*row) for row in rows]

    def visitors(self, day: str | None = None) -> int:
        """Unknown visitors of a day: distinct anonymous ids (each appearance without one
        is its own visitor)."""
        return self.db.query("SELECT COUNT(DISTINCT COALESCE(visitor, '#' || CAST(id AS TEXT))) "
                             "FROM visitors WHERE day = ?", (day or day_of(time.time()),))[0][0]

    def export_csv(self, first: str, last: str, out: Path) -> int:
        """Write day,name,first_in,last_seen,checkins,kiosks rows (local ISO times)
        atomically."""
        rows = self.between(first, last)
        out = Path(out)
        tmp = out.with_name(out.name + ".tmp")
        try:
            with open(tmp, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["day", "name", "first_in", "last_seen", "checkins", "kiosks"])
                for row in rows:
                    writer.writerow([row.day, row.name, _clock(row.first_in),
                                     _clock(row.last_seen), row.checkins, row.kiosks])
            os.replace(tmp, out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise KioskError(f"cannot write {out}: {exc}") from None
        return len(rows)

    def close(self) -> None:
        """Release what this object holds beside the store (the shared store's outbox)."""

    def purge_older_than(self, days: int, actor: str = "retention") -> int:
        """Remove attendance before ``days`` ago; audited in the same transaction."""
        cutoff = (dt.date.today() - dt.timedelta(days=days)).isoformat()
        with self.db.transaction() as cur:
            removed = sum(cur.execute(f"DELETE FROM {table} WHERE day < ?", (cutoff,)).rowcount
                          for table in ("checkins", "presence", "visitors"))
            if removed:
                audit.append(cur, "retention", actor, kind="attendance", rows=removed,
                             before=cutoff, days=days)
        if removed:
            log.info("Retention: removed %d attendance rows before %s", removed, cutoff)
        return removed


def _clock(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).isoformat(timespec="seconds")


def detach_person(cur, person_id: int, keep: bool) -> tuple[int, int]:
    """Part of deleting a person: remove their attendance, or keep names and times only
    (snapshots are biometric data and always go). Returns (check-ins, presence days)."""
    checkins = cur.execute("SELECT COUNT(*) FROM checkins WHERE person_id = ?",
                           (person_id,)).fetchone()[0]
    days = cur.execute("SELECT COUNT(*) FROM presence WHERE person_id = ?",
                       (person_id,)).fetchone()[0]
    if keep:
        cur.execute("UPDATE checkins SET snapshot = NULL, person_id = NULL WHERE person_id = ?",
                    (person_id,))
        cur.execute("UPDATE presence SET person_id = NULL WHERE person_id = ?", (person_id,))
    else:
        cur.execute("DELETE FROM checkins WHERE person_id = ?", (person_id,))
        cur.execute("DELETE FROM presence WHERE person_id = ?", (person_id,))
    return checkins, days


def rename_person(cur, person_id: int, new_name: str) -> None:
    cur.execute("UPDATE checkins SET name = ? WHERE person_id = ?", (new_name, person_id))
    cur.execute("UPDATE presence SET name = ? WHERE person_id = ?", (new_name, person_id))
