"""The accuracy commands of the command line: ``evaluate`` a labelled folder and
``calibrate`` the threshold for a target false-accept rate."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from desktop.cli_common import fraction, load_models, open_engine, positive, print_json, progress
from desktop.engine import Settings


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine import evaluate, open_store
    threshold = settings.threshold
    if threshold is None and (settings.db_url or settings.db_path.exists()):
        store = open_store(settings)
        try:
            stored = store.get_meta("threshold")
        finally:
            store.close()  # a PostgreSQL store has a listener thread and a pool
        threshold = float(stored) if stored is not None else None
    models = load_models(settings)
    result = evaluate(models, settings, Path(args.folder), k=args.k,
                      strangers=Path(args.strangers) if args.strangers else None,
                      pairs=Path(args.pairs) if args.pairs else None,
                      threshold=threshold, progress=progress("evaluating", 0))
    if args.json:
        print_json(result.to_json())
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
    from desktop.engine import calibrate
    engine = open_engine(settings)
    threshold, result = calibrate(engine.models, settings, Path(args.folder),
                                  target_far=args.target_far, k=args.k,
                                  strangers=Path(args.strangers) if args.strangers else None,
                                  progress=progress("calibrating", 0))
    fnir = result.main.fnir_at_fpir[args.target_far][0]
    print(f"threshold {threshold:.3f} gives {args.target_far:.1%} false accepts and "
          f"{fnir:.2%} false non-matches on {result.main.genuine} genuine / "
          f"{result.main.impostors} impostor probes")
    if args.dry_run:
        return 0
    engine.gallery.set_threshold(threshold)
    from desktop.engine import describe
    from desktop.engine.storage import audit
    audit.record(engine.db, "threshold", "cli", value=round(threshold, 4))
    print(f"saved as the threshold of {describe(engine.db)}")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register evaluate and calibrate with cli.py's ``add(name, func, help)``."""
    for name, func, help_ in (
            ("evaluate", cmd_evaluate, "accuracy on DIR/<person>/<photos>"),
            ("calibrate", cmd_calibrate, "pick the threshold for a target false-accept rate")):
        p = add(name, func, help_)
        p.add_argument("folder", metavar="DIR")
        p.add_argument("-k", type=positive, default=3,
                       help="photos enrolled per person (default 3)")
        p.add_argument("--strangers", metavar="DIR",
                       help="extra photos of people not in DIR (impostor probes)")
        if name == "evaluate":
            p.add_argument("--json", action="store_true")
            p.add_argument("--pairs", metavar="PAIRS.csv", help="also 10-fold verification "
                           "accuracy on path_a,path_b,same,lfw_fold pairs (LFW View 2)")
        else:
            p.add_argument("--target-far", type=fraction, default=0.01)
            p.add_argument("--dry-run", action="store_true", help="print, do not save")
