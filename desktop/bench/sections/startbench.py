"""The start-up and soak sections (the child process lives in startup.py)."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from desktop.bench.data import GROUP_PHOTO
from desktop.bench.options import REPO, BenchOptions, faces_root
from desktop.bench.play import Clip, play_pipeline
from desktop.bench.table import Column, Table
from desktop.bench.util import median, progress, rss_mb
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.live.pipeline import PipelineListener
from desktop.engine.settings.config import Settings

log = logging.getLogger(__name__)


def _child(settings: Settings, video: Path | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-start-") as tmp:
        dataclasses.replace(settings, db_dir=Path(tmp)).save()  # the child reads these
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        spawned = time.time()
        done = subprocess.run(
            [sys.executable, "-m", "desktop.bench.sections.startup", repr(spawned), tmp,
             str(video) if video else "-", str(faces_root() / GROUP_PHOTO)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"start-up child failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def bench_startup(settings: Settings, options: BenchOptions) -> Table:
    runs = [_child(settings, options.video)
            for _ in progress(range(options.startup_runs), desc="start-up", unit="process")]
    m = {key: median(r[key] for r in runs) for key in runs[0]}
    source = "first frame of the crowd video" if options.video else "the group frame"
    table = Table("startup", f"Start-up, fresh process to first recognised frame (median of "
                  f"{len(runs)} runs, {source})",
                  [Column("phase"), Column("at s", ".2f"), Column("takes s", ".2f")])
    table.add("interpreter up", m["python"], m["python"])
    table.add("first camera frame read", m["first_frame"], m["first_frame"] - m["python"])
    table.add("torch + engine imported", m["imports"], m["imports"] - m["first_frame"])
    table.add("models loaded (MTCNN + FaceNet)", m["models"], m["models_load_seconds"])
    table.add("database + live recogniser", m["engine"], m["engine"] - m["models"])
    table.add("first frame processed (cold)", m["first_result"], m["first_process_ms"] / 1000)
    table.add("second frame processed (warm)", float("nan"), m["second_process_ms"] / 1000)
    table.notes.append(f"total to the first recognised frame: {m['first_result']:.2f} s "
                       f"({m['faces']:.0f} faces in it); an empty gallery (the index load "
                       "time grows with it: see the scale table's build column).")
    return table


class _RssSampler(PipelineListener):
    """Samples resident memory once a second from the recognition thread."""

    def __init__(self, seconds: float) -> None:
        self.samples: list[tuple[float, float]] = []
        self.started = time.monotonic()
        self.bar = progress(total=int(seconds), desc="soak", unit="s")
        self.seconds = seconds

    def on_result(self, recognition) -> None:
        now = time.monotonic() - self.started
        if not self.samples or now - self.samples[-1][0] >= 1.0:
            self.samples.append((now, rss_mb()))
            self.bar.n = min(int(now), int(self.seconds))
            self.bar.refresh()


def bench_soak(engine: FaceEngine, clip: Clip, seconds: float) -> Table:
    """The live pipeline for ``seconds`` on a looped clip, RSS sampled once a second."""
    clip = clip.capped(seconds, f"{clip.name} (looped)")
    start_rss = rss_mb()
    sampler = _RssSampler(seconds)
    run = play_pipeline(engine, clip, loop=True, listener=sampler)
    sampler.bar.close()
    samples = sampler.samples
    end_rss = rss_mb()
    late = [(t, r) for t, r in samples if t >= min(10.0, seconds / 3)]
    slope = (np.polyfit([t for t, _ in late], [r for _, r in late], 1)[0] * 60
             if len(late) >= 3 else float("nan"))
    table = Table("soak", f"Resident memory over {run.seconds:.0f} s of the live loop "
                  f"({clip.name})", [Column("measure"), Column("value", ".1f"), Column("unit")])
    table.add("RSS at start", start_rss, "MiB")
    table.add("RSS after warm-up", late[0][1] if late else float("nan"), "MiB")
    table.add("RSS at end", end_rss, "MiB")
    table.add("RSS max (sampled)", max((r for _, r in samples), default=float("nan")), "MiB")
    table.add("RSS trend after warm-up", slope, "MiB/min")
    table.add("frames processed", float(run.processed), "frames")
    table.add("recognitions per second", run.recognitions_per_s, "1/s")
    table.add("preview fps", run.preview_fps, "1/s")
    table.notes.append("RSS from /proc/self/status (VmRSS), sampled once a second; the trend "
                       "is a least-squares slope after the first 10 s.")
    return table
