"""The `traffic` command: visits and unique visitors per day and hour, as a table, JSON
or CSV, and deleting a day's visitor traffic. Light: it opens the store, no model."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from desktop.engine import KioskError, Settings

ACTOR = "cli"


def cmd_traffic(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine import day_range, open_attendance, open_store
    from desktop.engine.attendance import traffic
    if args.day and (args.date_from or args.date_to):
        raise KioskError("give --day, or --from and --to, not both")
    first, last = day_range(args.day or args.date_from, args.day or args.date_to,
                            first_label="--from", last_label="--to")
    db = open_store(settings)
    try:
        if args.delete:
            if first != last:
                raise KioskError("--delete removes one day: give it with --day")
            removed = traffic.delete_day(open_attendance(db, settings), first, ACTOR)
            print(f"deleted {removed} visitor row(s) of {first} and their visitor templates")
            return 0
        days = traffic.traffic(db, first, last)
        if args.csv:
            rows = traffic.export_csv(days, Path(args.csv))
            print(f"wrote {rows} row(s) for {first}..{last} to {args.csv}", file=sys.stderr)
        if args.json:
            for day in days:
                print(json.dumps(day.to_json()), flush=True)
        elif not args.csv:
            print("day         visits  unique  known  unknown")
            for day in days:
                print(f"{day.day}  {day.visits:6d}  {day.unique:6d}  {day.known:5d}  "
                      f"{day.unknown:7d}")
        return 0
    finally:
        db.close()


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `traffic` with cli.py's ``add(name, func, help)``."""
    p = add("traffic", cmd_traffic, "foot traffic: visits and unique visitors per day and hour")
    p.add_argument("--day", metavar="YYYY-MM-DD", help="one day (default today)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    p.add_argument("--json", action="store_true", help="one JSON object per day and line "
                   "(day, visits, unique, known, unknown, by_hour)")
    p.add_argument("--csv", metavar="FILE.csv", help="write day,hour,visits,... rows")
    p.add_argument("--delete", action="store_true",
                   help="delete the day's unknown-visitor rows and their visitor templates")
