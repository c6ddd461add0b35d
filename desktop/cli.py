"""Command line front end: argparse in, engine calls, text or JSON out.

Boot order for every command: settings -> logging -> storage -> engine -> command.
User mistakes (KioskError) print one line to stderr and exit 2; nothing else is caught.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import cli_privacy
from .config import Settings
from .engine.errors import DuplicateFaceError, KioskError
from .logging_setup import setup_logging
from .settings_file import load_settings

log = logging.getLogger("desktop.cli")


# ----------------------------------------------------------------------------- helpers
def _progress(desc: str, total: int) -> Callable[[int, int], None]:
    """A tqdm bar on stderr driven by (done, total) callbacks."""
    from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit="photo", file=sys.stderr, leave=False,
                disable=None)  # no bar when stderr is not a terminal

    def update(done: int, _total: int) -> None:
        bar.total = _total
        bar.n = done
        bar.refresh()
        if done >= _total:
            bar.close()
    return update


def _engine(settings: Settings, **kwargs):
    from .engine.recognizer import FaceEngine
    return FaceEngine(settings, frontend="cli", **kwargs)


def _models(settings: Settings):
    from .engine.models import Models
    return Models(settings)


def _images(paths: list[str]) -> Iterator[tuple[str, object]]:
    """(path, RGB array or the KioskError explaining why not) for each path."""
    from .engine.images import load_image
    for path in paths:
        try:
            yield path, load_image(path)
        except KioskError as exc:
            yield path, exc


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


# ----------------------------------------------------------------------------- commands
def cmd_enroll(settings: Settings, args: argparse.Namespace) -> int:
    from .engine.usecases import enroll_files
    report = enroll_files(_engine(settings), args.name, args.images, force=args.force,
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
    from .engine.enrollment import enroll_folder
    engine = _engine(settings)
    summary = enroll_folder(engine, Path(args.folder), force=args.force, strict=args.strict,
                            consent=cli_privacy.consent_from_args(settings, args),
                            progress=_progress("enrolling", 0))
    print(summary.describe())
    return 0 if summary.people else 1


def cmd_identify(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when at least one image was read (each unreadable one is reported), 2 if none."""
    from .engine.liveness import check_mode
    liveness = check_mode(args.liveness, photo=True) if args.liveness else None
    engine = _engine(settings)
    read = 0
    for path, image in _images(args.images):
        if isinstance(image, KioskError):
            if args.json:
                _print_json({"image": path, "error": str(image)})
            else:
                print(f"{path}: error: {image}")
            continue
        results = engine.identify(image, liveness)
        read += 1
        if args.json:
            _print_json({"image": path, "faces": [r.to_json() for r in results]})
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
    from .engine.images import load_image
    engine = _engine(settings)
    result = engine.verify(load_image(args.image_a), load_image(args.image_b))
    if args.json:
        _print_json(result.to_json())
    else:
        verdict = "same person" if result.same else "different people"
        print(f"similarity {result.similarity:.3f}  distance {result.distance:.3f}  "
              f"threshold {result.threshold:.3f}  -> {verdict}")
    return 0 if result.same else 1


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from .engine.images import load_image
    engine = _engine(settings)
    query, hits = engine.search(load_image(args.image), k=args.top_k)
    if not hits:
        print("the gallery is empty")
    for rank, hit in enumerate(hits, 1):
        print(f"{rank}. {hit.name}  similarity {hit.similarity:.3f}")
    if args.plot:
        from .engine.plotting import save_search_plot
        save_search_plot(Path(args.plot), query, hits, engine.threshold)
        print(f"wrote {args.plot}")
    return 0


def cmd_people(settings: Settings, args: argparse.Namespace) -> int:
    engine = _engine(settings)
    people = engine.gallery.people()
    consents = cli_privacy.consent_column(engine)
    for p in people:
        enrolled = time.strftime("%Y-%m-%d %H:%M", time.localtime(p.created_at))
        print(f"{p.name}\t{p.samples} sample(s)\tenrolled {enrolled}\t"
              f"{consents.get(p.id, 'no consent recorded')}")
    print(f"{len(people)} people, model {engine.gallery.model.name}, "
          f"threshold {engine.threshold:.3f}", file=sys.stderr)
    return 0


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    engine = _engine(settings)
    report = engine.delete(args.name, keep_attendance=args.keep_attendance or None)
    kept = "kept (names and times only)" if report.kept_attendance else "removed"
    print(f"deleted {report.name}: {report.samples} face sample(s) with their crops and index "
          f"entries; {report.checkins} check-in(s) and {report.presence_days} attendance "
          f"day(s) {kept}")
    return 0


def cmd_rename(settings: Settings, args: argparse.Namespace) -> int:
    person = _engine(settings).rename(args.old, args.new)
    print(f"renamed to {person.name}")
    return 0


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    from .engine.evaluation import evaluate
    from .engine.store import open_store
    threshold = settings.threshold
    if threshold is None and (settings.db_url or settings.db_path.exists()):
        store = open_store(settings)
        try:
            stored = store.get_meta("threshold")
        finally:
            store.close()  # a PostgreSQL store has a listener thread and a pool
        threshold = float(stored) if stored is not None else None
    models = _models(settings)
    result = evaluate(models, settings, Path(args.folder), k=args.k,
                      strangers=Path(args.strangers) if args.strangers else None,
                      pairs=Path(args.pairs) if args.pairs else None,
                      threshold=threshold, progress=_progress("evaluating", 0))
    if args.json:
        _print_json(result.to_json())
        return 0
    main = result.main
    print(f"model {result.model}; enrolled {result.enrolled_people} people from "
          f"{result.enrolled_photos} photos (K={args.k}); {main.genuine} genuine and "
          f"{main.impostors} impostor probes; {result.no_face} probe photo(s) without a face")
    print(f"people refused at enrollment: {len(result.people_refused)}"
          + (f" ({', '.join(result.people_refused)})" if result.people_refused else "")
          + f"; enrolled with a duplicate warning: {result.duplicate_warnings}; photos "
          f"flagged as outliers: {result.outliers_flagged}")
    print(f"quality gate turned away {result.low_quality[0]} genuine and "
          f"{result.low_quality[1]} impostor probe(s)")
    print("figures with 95% intervals (Wilson; bootstrap for FNIR at FPIR)")
    for rule, r in result.results.items():
        mark = "  <- used" if rule == result.rule else ""
        print(f"rule {rule}{mark}")
        print(f"  rank-1                 {r.rank1}")
        for fpir, (fnir, t) in r.fnir_at_fpir.items():
            print(f"  FNIR at FPIR {fpir:<6.2%}   {fnir}  (threshold {t:.3f})")
        print(f"  at threshold {r.threshold:.3f}, margin {settings.match_margin:.2f}:")
        print(f"    FPIR (strangers named)   {r.fpir}")
        print(f"    TPIR (right name)        {r.tpir}")
        print(f"    misidentified            {r.misidentified}")
    if result.pairs:
        p = result.pairs
        print(f"pairs: 10-fold accuracy {p.accuracy:.2%} +- {p.std:.2%} on {p.pairs} pairs "
              f"(threshold {p.threshold:.3f}; {p.missing} without a face)")
    print(f"{result.seconds:.0f} s; {result.computed} photo(s) embedded, the rest cached")
    return 0


def cmd_calibrate(settings: Settings, args: argparse.Namespace) -> int:
    from .engine.evaluation import calibrate
    engine = _engine(settings)
    threshold, result = calibrate(engine.models, settings, Path(args.folder),
                                  target_far=args.target_far, k=args.k,
                                  strangers=Path(args.strangers) if args.strangers else None,
                                  progress=_progress("calibrating", 0))
    fnir = result.main.fnir_at_fpir[args.target_far][0]
    print(f"threshold {threshold:.3f} gives {args.target_far:.1%} false accepts and "
          f"{fnir:.2%} false non-matches on {result.main.genuine} genuine / "
          f"{result.main.impostors} impostor probes")
    if args.dry_run:
        return 0
    engine.gallery.set_threshold(threshold)
    from .engine import audit
    from .engine.store import describe
    audit.record(engine.db, "threshold", "cli", value=round(threshold, 4))
    print(f"saved as the threshold of {describe(engine.db)}")
    return 0


def cmd_reembed(settings: Settings, args: argparse.Namespace) -> int:
    engine = _engine(settings, allow_model_mismatch=True)
    count = engine.reembed(progress=_progress("re-embedding", len(engine.gallery.crops())))
    settings.save({"model": settings.model})  # the next start loads the model just used
    print(f"re-embedded {count} sample(s) with {engine.gallery.model.name} (model "
          f"{settings.model!r}, saved in settings.json); threshold {engine.threshold:.3f}")
    return 0


def cmd_attendance(settings: Settings, args: argparse.Namespace) -> int:
    from .engine.attendance import day_of
    from .engine.store import open_attendance, open_store
    from .engine.usecases import day_range
    attendance = open_attendance(open_store(settings), settings)
    if args.action == "today":
        today = day_of(time.time())
        rows = attendance.day(today)
        for row in rows:
            print(f"{row.name}\tfirst in {time.strftime('%H:%M:%S', time.localtime(row.first_in))}"
                  f"\tlast seen {time.strftime('%H:%M:%S', time.localtime(row.last_seen))}")
        print(f"{today}: {len(rows)} people checked in, {attendance.visitors(today)} unknown "
              f"visitor(s)", file=sys.stderr)
        return 0
    first, last = day_range(args.date_from, args.date_to, first_label="--from",
                            last_label="--to")
    count = attendance.export_csv(first, last, Path(args.out))
    print(f"wrote {count} row(s) for {first}..{last} to {args.out}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from .server import serve
    serve(settings)
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from .bench import run_bench
    return run_bench(settings, args)


def cmd_window(settings: Settings, args: argparse.Namespace) -> int:
    import os
    if sys.platform.startswith("linux") and not any(
            os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        build_parser().print_help(sys.stderr)
        raise KioskError("no screen to open the kiosk window on (DISPLAY is not set); use the "
                         "commands above, or start it from a desktop session")
    from .gui.app import run_app
    return run_app(settings)


# ----------------------------------------------------------------------------- parser
def _common_options(suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command; after it they must not reset what
    was given before it, hence SUPPRESS defaults on the command's copy."""
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="DIR|URL", help="database folder (default faces_db/, "
                        "or $FACE_KIOSK_DB), or postgresql://user@host:port/dbname for a "
                        "store shared by several kiosks", **default)
    common.add_argument("--model", metavar="MODEL", help="face model: facenet (default), dlib, "
                        "or onnx:PATH, an ArcFace-style .onnx file ($FACE_KIOSK_MODEL)",
                        **default)
    common.add_argument("--weights", metavar="PATH|NAME",
                        help="FaceNet weights: vggface2 (default), casia-webface, or a "
                             "state_dict file ($FACENET_WEIGHTS)", **default)
    common.add_argument("--device", help="auto (default), cpu or cuda:N", **default)
    common.add_argument("--antispoof-weights", metavar="DIR", **default,
                        help="folder with the two MiniFASNet liveness files (default: "
                             "downloaded once into torch's cache)")
    common.add_argument("--threshold", type=float, **default,
                        help="cosine similarity needed for a match (default: the database's)")
    common.add_argument("--min-face-size", type=_positive, **default,
                        help="smallest face in pixels that detection looks for (default 40)")
    common.add_argument("--key-file", metavar="FILE", **default,
                        help="file with the database key, mode 0600 (or $FACE_KIOSK_KEY)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging", **default)
    return common


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(suppress=True)
    parser = argparse.ArgumentParser(
        prog="main.py", parents=[_common_options(suppress=False)],
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
    p.add_argument("--top-k", type=_positive, default=5)
    p.add_argument("--plot", metavar="OUT.jpg", help="save the query beside its matches")
    add("people", cmd_people, "list enrolled people")
    p = add("delete", cmd_delete, "delete a person and all of their biometric data")
    p.add_argument("name")
    p.add_argument("--keep-attendance", action="store_true",
                   help="keep their check-in names and times (default: remove them)")
    p = add("rename", cmd_rename, "rename an enrolled person")
    p.add_argument("old")
    p.add_argument("new")
    for name, func, help_ in (
            ("evaluate", cmd_evaluate, "accuracy on DIR/<person>/<photos>"),
            ("calibrate", cmd_calibrate, "pick the threshold for a target false-accept rate")):
        p = add(name, func, help_)
        p.add_argument("folder", metavar="DIR")
        p.add_argument("-k", type=_positive, default=3,
                       help="photos enrolled per person (default 3)")
        p.add_argument("--strangers", metavar="DIR",
                       help="extra photos of people not in DIR (impostor probes)")
        if name == "evaluate":
            p.add_argument("--json", action="store_true")
            p.add_argument("--pairs", metavar="PAIRS.csv", help="also 10-fold verification "
                           "accuracy on path_a,path_b,same,lfw_fold pairs (LFW View 2)")
        else:
            p.add_argument("--target-far", type=_fraction, default=0.01)
            p.add_argument("--dry-run", action="store_true", help="print, do not save")
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
    from .db_cli import add_parser as add_db_parser
    add_db_parser(add)  # copy, serve (shared store); encrypt, decrypt, rekey (cli_privacy)
    cli_privacy.add_commands(add)
    p = add("bench", cmd_bench, "print where the time goes (stages, live loop, index scale)")
    p.add_argument("--video", help="video file for the live-loop figures")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--only", metavar="SECTIONS",
                   help="comma-separated: stages,live,tuning,scale,startup,soak "
                   "(and shared_store: SQLite vs PostgreSQL, only when named)")
    p.add_argument("--store-sizes", help="samples in PostgreSQL for the shared_store "
                   "start-up figures (default 10000,100000)")
    p.add_argument("--runs", type=int, help="runs behind each live/start-up median")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func = getattr(args, "func", cmd_window)
    overrides = {key: getattr(args, key, None)
                 for key in ("model", "weights", "device", "antispoof_weights", "threshold",
                             "min_face_size", "source", "host", "port", "api_token",
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
