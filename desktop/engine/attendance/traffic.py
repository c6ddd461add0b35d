"""Foot traffic: visits and unique visitors per hour and per day, from the attendance
tables of any store (SQLite or the shared PostgreSQL, all kiosks together).

A visit is an appearance separated from that person's previous one by at least the
cool-down: for enrolled people, a check-in (``checkins``: one per person per cool-down);
for strangers, a ``visitors`` row (one per appearance, or with anonymous visitor ids one
per visitor per cool-down, its ``last_seen`` moved while they stay). Unique visitors are
the known people (by person) plus the unknown visitors (by anonymous id; an appearance
without an id counts as its own visitor, since nothing says who it was).
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop.engine.attendance.checkins import Attendance, parse_day
from desktop.engine.core.errors import KioskError
from desktop.engine.storage import audit


@dataclass
class Counts:
    """Visits and unique visitors of one hour or one day."""
    visits: int = 0
    unique: int = 0
    known: int = 0
    """Enrolled people seen (each once)."""
    unknown: int = 0
    """Unique anonymous visitors (strangers)."""
    known_visits: int = 0
    unknown_visits: int = 0


@dataclass
class DayTraffic(Counts):
    day: str = ""
    by_hour: list[Counts] = field(default_factory=list)
    """24 entries, local hours 0 to 23."""

    def to_json(self) -> dict:
        out = {"day": self.day, **_counts(self)}
        out["by_hour"] = [{"hour": h, **_counts(c)} for h, c in enumerate(self.by_hour)]
        return out


def _counts(c: Counts) -> dict:
    return {f.name: getattr(c, f.name) for f in dataclasses.fields(Counts)}


def days_between(first: str, last: str) -> list[str]:
    start, end = parse_day(first), parse_day(last)
    if start > end:
        raise KioskError(f"{first} is after {last}")
    if (end - start).days > 3660:
        raise KioskError("at most ten years of traffic at once")
    return [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def traffic(db, first: str, last: str) -> list[DayTraffic]:
    """Every day from ``first`` to ``last`` (YYYY-MM-DD), days without anyone included."""
    days = days_between(first, last)
    known = db.query("SELECT day, ts, COALESCE(CAST(person_id AS TEXT), name) FROM checkins "
                     "WHERE day BETWEEN ? AND ?", (first, last))
    unknown = db.query("SELECT day, ts, COALESCE(visitor, '#' || CAST(id AS TEXT)) "
                       "FROM visitors WHERE day BETWEEN ? AND ?", (first, last))
    seen: dict[tuple[str, int | None, bool], set[str]] = {}
    visits: dict[tuple[str, int | None, bool], int] = {}
    for rows, is_known in ((known, True), (unknown, False)):
        for day, ts, who in rows:
            hour = time.localtime(ts).tm_hour
            for key in ((day, None, is_known), (day, hour, is_known)):
                seen.setdefault(key, set()).add(str(who))
                visits[key] = visits.get(key, 0) + 1

    def counts(day: str, hour: int | None) -> Counts:
        k, u = (len(seen.get((day, hour, flag), ())) for flag in (True, False))
        kv, uv = (visits.get((day, hour, flag), 0) for flag in (True, False))
        return Counts(kv + uv, k + u, k, u, kv, uv)

    out = []
    for day in days:
        total = counts(day, None)
        out.append(DayTraffic(**dataclasses.asdict(total), day=day,
                              by_hour=[counts(day, h) for h in range(24)]))
    return out


def export_csv(days: list[DayTraffic], out: Path) -> int:
    """day,hour,visits,unique,known,unknown rows (hour 'all' is the day) written
    atomically; returns the number of rows."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    rows = 0
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["day", "hour", "visits", "unique", "known", "unknown",
                             "known_visits", "unknown_visits"])
            for day in days:
                for hour, c in [("all", day)] + list(enumerate(day.by_hour)):
                    writer.writerow([day.day, hour, c.visits, c.unique, c.known, c.unknown,
                                     c.known_visits, c.unknown_visits])
                    rows += 1
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KioskError(f"cannot write {out}: {exc}") from None
    return rows


def delete_day(attendance: Attendance, day: str, actor: str) -> int:
    """Remove a day's unknown-visitor rows (and their snapshots) and forget the templates
    of the visitors seen that day; audited in the same transaction. Returns rows removed.
    Check-ins of enrolled people are attendance, removed with the person or by retention."""
    parse_day(day)
    with attendance.db.transaction() as cur:
        ids = {row[0] for row in cur.execute(
            "SELECT DISTINCT visitor FROM visitors WHERE day = ? AND visitor IS NOT NULL",
            (day,)).fetchall()}
        removed = cur.execute("DELETE FROM visitors WHERE day = ?", (day,)).rowcount
        templates = sum(cur.execute("DELETE FROM visitor_templates WHERE visitor = ?",
                                    (vid,)).rowcount for vid in ids)
        audit.append(cur, "traffic_deleted", actor, day=day, rows=removed,
                     templates=templates)
    gallery = attendance.visitor_ids
    if gallery is not None and ids:
        gallery.forget(ids)  # the ones kept in this process's memory
    checkpoint = getattr(attendance.db, "checkpoint", None)
    if checkpoint is not None:
        checkpoint()  # no copy of the removed rows stays in the WAL
    return removed
