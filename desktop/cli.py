"""Command line front end: argparse in, engine calls, text or JSON out.

Boot order for every command: settings -> logging -> storage -> engine -> command.
User mistakes (KioskError) print one line to stderr and exit 2; nothing else is caught.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from desktop import cli_accuracy, cli_privacy, cli_traffic, cli_watch
from desktop.cli_common import common_options, open_engine, positive, print_json, progress
from desktop.engine import DuplicateFaceError, KioskError, Settings, load_settings
from desktop.logging_setup import setup_logging

log = logging.getLogger("desktop.cli")


def _images(paths: list[str]) -> Iterator[tuple[str, object]]:
    """(path, RGB array or the KioskError explaining why not) for each path."""
    from desktop.engine import load_image
    for path in paths:
        try:
            yield path, load_image(path)
        except KioskError as exc:
            yield path, exc


# ----------------------------------------------------------------------------- commands
def cmd_enroll(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine import enroll_files
    report = enroll_files(open_engine(settings), args.name, args.images, force=args.force,
                          strict=args.strict,
                          consent=cli_privacy.consent_from_args(settings, args))
    for source, reason in report.skipped:
        print(f"skipped {source}: {reason}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    person = report.person
    assert person is not None  # enroll raises when nothing was enrolled
    print(f"enrolled {person.name}: {report.added} new sample(s), {person.samples} in total")
    return 0


def cmd_enroll_folder(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine import enroll_folder
    engine = open_engine(settings)
    summary = enroll_folder(engine, Path(args.folder), force=args.force, strict=args.strict,
                            consent=cli_privacy.consent_from_args(settings, args),
                            progress=progress("enrolling", 0))
    print(summary.describe())
    return 0 if summary.people else 1


def cmd_identify(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when at least one image was read (each unreadable one is reported), 2 if none."""
    from desktop.engine import check_mode
    liveness = check_mode(args.liveness, photo=True) if args.liveness else None
    engine = open_engine(settings)
    read = 0
    for path, image in _images(args.images):
        if isinstance(image, KioskError):
            if args.json:
                print_json({"image": path, "error": str(image)})
            else:
                print(f"{path}: error: {image}")
            continue
        results = engine.identify(image, liveness)
        read += 1
        if args.json:
            print_json({"image": path, "faces": [r.to_json() for r in results]})
            continue
        print(f"{path}: {len(results)} face(s)")
        for r in results:
            box = ", ".join(f"{v:.0f}" for v in r.box)
            who = r.match.name or "Unknown"
            hint = f" (closest: {r.match.candidate})" if not r.match.name and r.match.candidate else ""
            live = "" if r.match.live is None else (
                f", {'live' if r.match.live else 'NOT LIVE'} {r.match.live_score:.2f}")
            print(f"  [{box}] {who}{hint} similarity {r.match.similarity:.3f}{live}")
    if not read:
        raise KioskError(f"none of the {len(args.images)} image(s) could be read")
    return 0


def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine import load_image
    engine = open_engine(settings)
    result = engine.verify(load_image(args.image_a), load_image(args.image_b))
    if args.json:
        print_json(result.to_json())
    else:
        verdict = "same person" if result.same else "different people"
        print(f"similarity {result.similarity:.3f}  distance {result.distance:.3f}  "
              f"threshold {result.threshold:.3f}  -> {verdict}")
    return 0 if result.same else 1


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine import load_image
    engine = open_engine(settings)
    query, hits = engine.search(load_image(args.image), k=args.top_k)
    if not hits:
        print("the gallery is empty")
    for rank, hit in enumerate(hits, 1):
        print(f"{rank}. {hit.name}  similarity {hit.similarity:.3f}")
    if args.plot:
        from desktop.engine import save_search_plot
        save_search_plot(Path(args.plot), query, hits, engine.threshold)
        print(f"wrote {args.plot}")
    return 0


def cmd_people(settings: Settings, args: argparse.Namespace) -> int:
    """Read straight from the store: no face model, no index (gallery/roster.py)."""
    from desktop.engine import list_people, open_store, site_threshold, store_model
    db = open_store(settings)
    try:
        people = list_people(db)
        consents = cli_privacy.consent_column(db)
        for p in people:
            enrolled = time.strftime("%Y-%m-%d %H:%M", time.localtime(p.created_at))
            print(f"{p.name}\t{p.samples} sample(s)\tenrolled {enrolled}\t"
                  f"{consents.get(p.id, 'no consent recorded')}")
        print(f"{len(people)} people, model {store_model(db) or settings.model}, "
              f"threshold {site_threshold(db, settings):.3f}", file=sys.stderr)
    finally:
        db.close()
    return 0


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_engine(settings)
    report = engine.delete(args.name, keep_attendance=args.keep_attendance or None)
    kept = "kept (names and times only)" if report.kept_attendance else "removed"
    print(f"deleted {report.name}: {report.samples} face sample(s) with their crops and index "
          f"entries; {report.checkins} check-in(s) and {report.presence_days} attendance "
          f"day(s) {kept}")
    return 0


def cmd_rename(settings: Settings, args: argparse.Namespace) -> int:
    person = open_engine(settings).rename(args.old, args.new)
    print(f"renamed to {person.name}")
    return 0


def cmd_reembed(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_engine(settings, allow_model_mismatch=True)
    count = engine.reembed(progress=progress("re-embedding", len(engine.gallery.crops())))
    settings.save({"model": settings.model})  # the next start loads the model just used
    print(f"re-embedded {count} sample(s) with {engine.gallery.model.name} (model "
          f"{settings.model!r}, saved in settings.json); threshold {engine.threshold:.3f}")
    return 0


def cmd_attendance(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine import day_of, day_range, open_attendance, open_store
    attendance = open_attendance(open_store(settings), settings)
    if args.action == "today":
        today = day_of(time.time())
        rows = attendance.day(today)
        for row in rows:
            print(f"{row.name}\tfirst in {time.strftime('%H:%M:%S', time.localtime(row.first_in))}"
                  f"\tlast seen {time.strftime('%H:%M:%S', time.localtime(row.last_seen))}"
                  + (f"\tat {row.kiosks}" if row.kiosks else ""))
        print(f"{today}: {len(rows)} people checked in, {attendance.visitors(today)} unknown "
              f"visitor(s)", file=sys.stderr)
        return 0
    first, last = day_range(args.date_from, args.date_to, first_label="--from",
                            last_label="--to")
    count = attendance.export_csv(first, last, Path(args.out))
    print(f"wrote {count} row(s) for {first}..{last} to {args.out}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.server import serve
    serve(settings)
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.bench import run_bench
    return run_bench(settings, args)


def cmd_window(settings: Settings, args: argparse.Namespace) -> int:
    import os
    if sys.platform.startswith("linux") and not any(
            os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        build_parser().print_help(sys.stderr)
        raise KioskError("no screen to open the kiosk window on (DISPLAY is not set); use the "
                         "commands above, or start it from a desktop session")
    from desktop.gui.app import run_app
    return run_app(settings)


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    common = common_options(suppress=True)
    parser = argparse.ArgumentParser(
        prog="face-kiosk" if Path(sys.argv[0]).name == "face-kiosk" else "main.py",
        parents=[common_options(suppress=False)],
        description="Face-recognition reception kiosk. Without a command, opens the window.")
    parser.add_argument("--source", help="camera index, video file, image folder or stream URL")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    p = add("run", cmd_window, "open the kiosk window (the default)")
    p.add_argument("--source", help="camera index, video file, image folder or stream URL",
                   default=argparse.SUPPRESS)
    p = add("enroll", cmd_enroll, "enroll a person from one or more photos")
    p.add_argument("name")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--force", action="store_true", help="enroll even if the face matches "
                   "someone else, and keep odd-looking photos in the person's template")
    p.add_argument("--strict", action="store_true", help="refuse (exit 3) when the face "
                   "already matches someone else; by default enroll and warn")
    cli_privacy.add_consent_options(p)
    p = add("enroll-folder", cmd_enroll_folder, "enroll DIR/<person>/<photos> with progress")
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--force", action="store_true", help="keep odd-looking photos in templates")
    p.add_argument("--strict", action="store_true", help="refuse people who already match "
                   "someone else; by default enroll them and warn")
    cli_privacy.add_consent_options(p)
    p = add("identify", cmd_identify, "name every face in every image")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="one JSON object per image and line")
    p.add_argument("--liveness", choices=("off", "passive", "challenge", "both"),
                   help="passive: score each face "
                   "with the anti-spoofing check; a fake face gets no name (default: the "
                   "liveness setting)")
    p = add("verify", cmd_verify, "1:1: are two photos the same person? (exit 0 if so)")
    p.add_argument("image_a", metavar="IMAGE_A")
    p.add_argument("image_b", metavar="IMAGE_B")
    p.add_argument("--json", action="store_true")
    p = add("search", cmd_search, "top-k most similar enrolled people")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--top-k", type=positive, default=5)
    p.add_argument("--plot", metavar="OUT.jpg", help="save the query beside its matches")
    add("people", cmd_people, "list enrolled people")
    p = add("delete", cmd_delete, "delete a person and all of their biometric data")
    p.add_argument("name")
    p.add_argument("--keep-attendance", action="store_true",
                   help="keep their check-in names and times (default: remove them)")
    p = add("rename", cmd_rename, "rename an enrolled person")
    p.add_argument("old")
    p.add_argument("new")
    cli_accuracy.add_commands(add)  # evaluate, calibrate
    cli_watch.add_commands(add)  # watch
    add("reembed", cmd_reembed, "re-embed stored faces with the loaded model (--model X: switch)")
    p = add("attendance", cmd_attendance, "attendance: today's list, or a CSV export")
    p.add_argument("action", choices=("today", "export"))
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    p.add_argument("--out", metavar="FILE.csv", default="attendance.csv")
    p = add("serve", cmd_serve, "HTTP recognition service over the same database")
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--token", dest="api_token", help="bearer token (or $FACE_KIOSK_TOKEN)")
    from desktop.cli_db import add_parser as add_db_parser
    add_db_parser(add)  # copy, serve (shared store); encrypt, decrypt, rekey (cli_privacy)
    cli_privacy.add_commands(add)
    cli_traffic.add_commands(add)
    p = add("bench", cmd_bench, "print where the time goes (stages, live loop, index scale)")
    p.add_argument("--video", help="video file for the live-loop figures")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--only", metavar="SECTIONS",
                   help="comma-separated: stages,live,tuning,scale,startup,soak "
                   "(and shared_store: SQLite vs PostgreSQL, only when named)")
    p.add_argument("--store-sizes", help="samples in PostgreSQL for the shared_store "
                   "start-up figures (default 10000,100000)")
    p.add_argument("--runs", type=int, help="runs behind each live/start-up median")
    p.add_argument("--models", metavar="A,B", help="comma-separated face models (e.g. "
                   "facenet,dlib): the live section adds a table of the window's label "
                   "times with each, on the same clips and people")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func = getattr(args, "func", cmd_window)
    overrides = {key: getattr(args, key, None)
                 for key in ("model", "weights", "reid_weights", "device", "antispoof_weights",
                             "threshold", "min_face_size", "source", "host", "port", "api_token",
                             "key_file")}
    try:
        settings = load_settings(args.db, **overrides)
        setup_logging(args.verbose, settings.log_path)
        log.debug("command %s, settings %s", getattr(args, "command", None), settings)
        return func(settings, args)
    except DuplicateFaceError as exc:
        print(f"error: {exc} Use --force to enroll anyway.", file=sys.stderr)
        return 3
    except KioskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
