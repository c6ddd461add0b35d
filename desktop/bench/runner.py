"""Runs the bench sections in order and prints each table as soon as it is measured."""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from desktop.bench.options import MODELS_HELP, BenchOptions, faces_root, with_shared_reid
from desktop.bench.table import Table
from desktop.bench.util import cpu_snapshot, in_thread, others_share
from desktop.engine.core.errors import KioskError
from desktop.engine.settings.config import Settings

log = logging.getLogger(__name__)


def machine_line(settings: Settings) -> str:
    import cv2
    import faiss
    import torch
    return (f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), faiss {faiss.__version__}, OpenCV "
            f"{cv2.__version__}, weights {Path(settings.weights).name}, "
            f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.2f}")


def run_bench(settings: Settings, args: argparse.Namespace | None = None, *,
              models=None, options: BenchOptions | None = None) -> int:
    """Measure and print every section; returns the exit code (0).

    ``models`` lets tests share their loaded models; ``options`` overrides the sizes that
    ``args`` (``--quick``, ``--video`` ...) would choose.
    """
    options = options or BenchOptions.from_args(args or argparse.Namespace())
    if "shared_store" in options.sections:  # no model, no photos: before loading them
        from desktop.bench.sections.shared_store import main as bench_shared_store
        bench_shared_store(["--sizes", ",".join(str(n) for n in options.store_sizes)])
        options = options.replace(sections=tuple(s for s in options.sections
                                                 if s != "shared_store"))
        if not options.sections:
            return 0
    root = faces_root()
    if not root.is_dir():
        raise KioskError(f"the bench needs the developer photos at {root} (set KIOSK_FACES)")
    settings = with_shared_reid(settings)
    if models is None:
        from desktop.engine.faces.networks import Models
        models = Models(settings)
    tables: list[Table] = []
    header = machine_line(settings)
    print(f"kiosk bench{' --quick' if options.quick else ''}: {header}", flush=True)
    log.info("bench: %s; options %s", header, options)

    mark = [cpu_snapshot()]

    def emit(table: Table) -> None:
        now = cpu_snapshot()
        table.notes.append(f"other processes used {others_share(mark[0], now):.0%} of the "
                           "machine's CPU time while this section ran.")
        mark[0] = now
        tables.append(table)
        print("\n" + table.render(), flush=True)
        if options.json_path:
            _write_json(options.json_path, header, options, tables)

    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        _run_sections(dataclasses.replace(settings, db_dir=Path(tmp)), settings, models,
                      root, options, emit)
    if options.json_path:
        print(f"\nwrote {options.json_path}", flush=True)
    return 0


def _run_sections(bench_settings: Settings, settings: Settings, models, root: Path,
                  options: BenchOptions, emit) -> None:
    from desktop.bench import data
    from desktop.engine.facade.face_engine import FaceEngine
    wanted = set(options.sections)
    engine = FaceEngine(bench_settings, models)
    try:
        people = []
        if wanted & {"stages", "live", "tuning", "scale", "soak", "loaded"}:
            people = in_thread(data.enroll_people, engine,  # enrolling searches (Faiss)
                               data.split_people(root, options.people))
        if "stages" in wanted:
            from desktop.bench.sections.stages import bench_stages
            emit(bench_stages(engine, data.group_frame(root), options.stage_runs,
                              f"{data.GROUP_PHOTO} padded onto a desk scene, "
                              f"{data.GROUP_FACES} faces"))
        scenarios: Any = None
        if wanted & {"live", "tuning", "soak", "loaded"}:
            from desktop.bench.sections.livebench import make_scenarios
            scenarios = make_scenarios(root, people, options, bench_settings.db_dir / "clips")
        if "live" in wanted:
            from desktop.bench.sections.livebench import bench_live
            emit(bench_live(engine, scenarios, options.runs))
            if options.models:
                from desktop.bench.sections.livemodels import bench_live_models
                emit(bench_live_models(engine, people, scenarios, options.models,
                                       options.runs, bench_settings.db_dir))
        if "tuning" in wanted:
            from desktop.bench.sections.livebench import bench_tuning
            emit(bench_tuning(engine, scenarios, options))
        if wanted & {"idle", "loaded", "threads"}:
            from desktop.bench.sections.kiosk_load import run_sections
            run_sections(engine, scenarios, root, options, bench_settings.db_dir / "clips",
                         emit)
        if "startup" in wanted:
            from desktop.bench.sections.startbench import bench_startup
            emit(bench_startup(settings, options))
        if "soak" in wanted and options.soak_seconds > 0:
            from desktop.bench.sections.startbench import bench_soak
            emit(bench_soak(engine, scenarios.crowd or scenarios.single, options.soak_seconds))
        if "scale" in wanted:
            from desktop.bench.sections.scale import bench_scale
            probes = [p for person in people for p in person.probes]
            step = max(1, len(probes) // max(1, options.probes))
            emit(in_thread(bench_scale,
                data.stored_embeddings(engine),
                data.embed_photos(engine, probes[::step][:options.probes], "embedding probes"),
                data.embed_photos(engine, data.stranger_photos(root), "embedding strangers"),
                options.sizes, options.queries, options.kinds, engine.threshold))
    finally:
        engine.close()


def _write_json(path: Path, header: str, options: BenchOptions, tables: list[Table]) -> None:
    doc = {"machine": header, "quick": options.quick,
           "tables": {t.key: t.to_json() for t in tables}}
    path.write_text(json.dumps(doc, indent=2))


def main(argv: list[str] | None = None) -> int:
    """`python -m desktop.bench`: the CLI's bench plus the flags main.py does not have yet."""
    from desktop.engine.settings.file import load_settings
    from desktop.logging_setup import setup_logging
    parser = argparse.ArgumentParser(prog="python -m desktop.bench", description=__doc__)
    parser.add_argument("--db", help="settings folder (its settings.json tunes the engine)")
    parser.add_argument("--weights")
    parser.add_argument("--device")
    parser.add_argument("--video")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="FILE", help="also write the tables as JSON")
    parser.add_argument("--soak", type=float, metavar="SECONDS", help="length of the RSS soak")
    parser.add_argument("--only", metavar="SECTIONS",
                        help="comma-separated: stages,live,tuning,idle,loaded,threads,"
                             "scale,startup,soak (and shared_store, only when named)")
    parser.add_argument("--store-sizes", help="samples in PostgreSQL for the shared_store "
                        "start-up figures (default 10000,100000)")
    parser.add_argument("--sizes", help="gallery sizes for the scale section, e.g. 1000,10000")
    parser.add_argument("--kinds", help="index kinds for the scale section: flat,fp16,hnsw,ivf")
    parser.add_argument("--runs", type=int, help="runs behind each live/start-up median")
    parser.add_argument("--tuning", help="comma-separated tuning configs to run")
    parser.add_argument("--models", help=MODELS_HELP)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.db, weights=args.weights, device=args.device)
        setup_logging(args.verbose, None)
        return run_bench(settings, args)
    except KioskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
