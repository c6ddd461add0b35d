"""The accuracy commands of the command line: ``evaluate`` a labelled folder and
``calibrate`` the threshold for a target false-accept rate."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cli_common import fraction, load_models, open_engine, positive, print_json, progress
from desktop.engine import KioskError, Settings

if TYPE_CHECKING:
    from desktop.engine.evaluation.accuracy import Evaluation


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    """Evaluate each model of ``--model A,B`` on the same photos, one after the other
    (one model's networks in memory at a time); ``--plot`` draws all their DET curves."""
    from desktop.engine import evaluate
    from desktop.engine.evaluation.detplot import DetSeries, check_plot_name, plot_det
    specs = list(dict.fromkeys(m.strip() for m in settings.model.split(",") if m.strip()))
    if not specs:
        raise KioskError("--model names no model")
    from desktop.engine.faces.embedders import parse_model
    for spec in specs:
        parse_model(spec)  # a misspelt second model fails now, not after the first's run
    if args.plot:
        check_plot_name(Path(args.plot))
    # the database's calibrated threshold belongs to its one model
    threshold = stored_threshold(settings) if len(specs) == 1 else settings.threshold
    series = []
    for spec in specs:
        one = replace(settings, model=spec)
        result = evaluate(load_models(one), one, Path(args.folder), k=args.k,
                          strangers=Path(args.strangers) if args.strangers else None,
                          pairs=Path(args.pairs) if args.pairs else None,
                          threshold=threshold, progress=progress(f"evaluating {spec}", 0))
        if args.json:
            print_json(result.to_json())
        else:
            print_evaluation(result, args.k, one.match_margin)
        scores = result.main.scores
        if scores is not None:
            label = result.model if spec.startswith("onnx:") else spec
            series.append(DetSeries(label, scores, result.main.threshold))
    if args.plot:
        plot_det(Path(args.plot), series, f"DET on {args.folder}, "
                 f"K={args.k}: {series[0].scores.genuine.size} genuine, "
                 f"{series[0].scores.impostor.size} stranger probes")
        print(f"DET curves of {len(series)} model(s) written to {args.plot}",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def stored_threshold(settings: Settings) -> float | None:
    """``--threshold``, else the threshold calibrated into the database, if any."""
    from desktop.engine import open_store
    if settings.threshold is None and (settings.db_url or settings.db_path.exists()):
        store = open_store(settings)
        try:
            stored = store.get_meta("threshold")
        finally:
            store.close()  # a PostgreSQL store has a listener thread and a pool
        return float(stored) if stored is not None else None
    return settings.threshold


def print_evaluation(result: Evaluation, k: int, margin: float) -> None:
    main = result.main
    print(f"model {result.model}; enrolled {result.enrolled_people} people from "
          f"{result.enrolled_photos} photos (K={k}); {main.genuine} genuine and "
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
        print(f"  at threshold {r.threshold:.3f}, margin {margin:.2f}:")
        print(f"    FPIR (strangers named)   {r.fpir}")
        print(f"    TPIR (right name)        {r.tpir}")
        print(f"    misidentified            {r.misidentified}")
    if result.pairs:
        p = result.pairs
        print(f"pairs: 10-fold accuracy {p.accuracy:.2%} +- {p.std:.2%} on {p.pairs} pairs "
              f"(threshold {p.threshold:.3f}; {p.missing} without a face)")
    print(f"{result.seconds:.0f} s; {result.computed} photo(s) embedded, the rest cached")


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
            p.add_argument("--json", action="store_true",
                           help="one JSON line per model")
            p.add_argument("--plot", metavar="FILE", help="draw DET curves (FNIR against "
                           "FPIR, log axes) to FILE (.png, .svg or .pdf), each model's default "
                           "threshold marked; with --model facenet,dlib (a comma-separated "
                           "list) every model is evaluated on the same photos and drawn on "
                           "one picture")
            p.add_argument("--pairs", metavar="PAIRS.csv", help="also 10-fold verification "
                           "accuracy on path_a,path_b,same,lfw_fold pairs (LFW View 2)")
        else:
            p.add_argument("--target-far", type=fraction, default=0.01)
            p.add_argument("--dry-run", action="store_true", help="print, do not save")
