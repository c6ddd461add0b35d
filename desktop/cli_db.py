"""``python main.py db copy SRC DST`` and ``python main.py db serve DIR``: moving a
gallery between backends, and a private PostgreSQL server for trying several kiosks on
one machine. SRC and DST are database folders (SQLite) or postgresql:// URLs.
``db encrypt|decrypt|rekey`` (the SQLite file's SQLCipher key) are in cli_privacy."""
from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from desktop.engine import KioskError, Settings


def _open(target: str, settings: Settings, *, must_exist: bool):
    from desktop.engine import open_store
    if target.startswith(("postgresql://", "postgres://")):
        return open_store(Settings(db_dir=settings.db_dir, db_url=target))
    folder = Path(target)
    local = Settings(db_dir=folder)
    if must_exist and not local.db_path.is_file():
        raise KioskError(f"no gallery database in {folder} ({local.db_path} is missing)")
    return open_store(local)


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    if args.action in ("encrypt", "decrypt", "rekey"):
        from desktop.cli_privacy import cmd_db_key
        if args.targets:
            raise KioskError(f"usage: main.py db {args.action} [--db DIR] (no other arguments)")
        return cmd_db_key(settings, args)
    if args.action == "copy":
        if len(args.targets) != 2:
            raise KioskError("usage: main.py db copy SRC DST (folders or postgresql:// URLs)")
        from desktop.engine import copy_store
        src = _open(args.targets[0], settings, must_exist=True)
        dst = _open(args.targets[1], settings, must_exist=False)
        try:
            report = copy_store(src, dst)
        finally:
            src.close()
            dst.close()
        print("\n".join(report.lines()))
        print("copy verified: counts and checksums match")
        return 0
    if len(args.targets) != 1:
        raise KioskError("usage: main.py db serve DIR [--port N]")
    from desktop.pgserver import LocalPostgres
    server = LocalPostgres(Path(args.targets[0]).resolve(), port=args.port)
    server.start()
    print(f"PostgreSQL serving {server.data} at {server.url}  (Ctrl+C stops it)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def add_parser(add) -> None:
    """Register ``db`` with cli.build_parser's ``add`` helper."""
    p = add("db", cmd_db, "copy a gallery between SQLite and PostgreSQL, serve a private "
            "PostgreSQL for several kiosks on this machine, or encrypt, decrypt or re-key "
            "the SQLite file (stop the kiosk first)")
    p.add_argument("action", choices=("copy", "serve", "encrypt", "decrypt", "rekey"))
    p.add_argument("targets", nargs="*", metavar="SRC DST | DIR")
    p.add_argument("--port", type=int, help="serve: port (default: a free one)")
    p.add_argument("--new-key-file", metavar="FILE",
                   help="rekey: the new key (or $FACE_KIOSK_NEW_KEY)")
