"""The kiosk beside other work: at rest (idle), beside a busy process (loaded), and the
thread settings that decide how recognition shares the CPU (threads).

idle: the real window plays an empty-hallway video (a real desk scene with sensor noise,
written here, 640x480 at 30 fps) and the CPU time of this process, which is the window's,
is divided by the wall time. loaded: the window's live figures quiet, then with one busy
process beside it. threads: each configuration in a child process (``threadprobe``).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from desktop.bench import data
from desktop.bench.options import REPO, BenchOptions
from desktop.bench.play import Clip, play_window, warm_up
from desktop.bench.scoring import summarise
from desktop.bench.table import Column, Table
from desktop.bench.util import (
    busy_process,
    cpu_snapshot,
    inference_threads,
    others_share,
    process_cpu_seconds,
)
from desktop.engine.core.threads import wait_policy
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.live.apply_settings import reconfigure
from desktop.engine.live.pipeline import PipelineListener
from desktop.engine.live.snapshot import Recognition

log = logging.getLogger(__name__)

HALLWAY_FPS = 30.0
NOISE_SIGMA = 2.5
"""Grey levels of per-pixel sensor noise on every hallway frame (a webcam's is 1-4)."""


def hallway_clip(root: Path, folder: Path, seconds: float = 20.0) -> Clip:
    """An empty hallway: the real face-free desk scene, fresh sensor noise every frame,
    written as a 640x480, 30 fps MJPG video into ``folder`` (a temporary folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "empty-hallway.avi"
    scene = data.background(root).astype(np.float32)
    frames = round(seconds * HALLWAY_FPS)
    height, width = scene.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), HALLWAY_FPS,
                             (width, height))
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
    rng = np.random.default_rng(0)
    for _ in range(frames):
        noisy = np.clip(scene + rng.normal(0, NOISE_SIGMA, scene.shape), 0, 255)
        writer.write(cv2.cvtColor(noisy.astype(np.uint8), cv2.COLOR_RGB2BGR))
    writer.release()
    return Clip(f"empty hallway {width}x{height} {HALLWAY_FPS:.0f} fps", path, HALLWAY_FPS,
                frames, [])


class _Count(PipelineListener):
    def __init__(self) -> None:
        self.results = 0
        self.activity: list[bool] = []

    def on_result(self, recognition: Recognition) -> None:
        self.results += 1

    def on_activity(self, active: bool) -> None:
        self.activity.append(active)


def window_at_rest(engine: FaceEngine, clip: Clip, seconds: float,
                   settle: float = 4.0) -> dict[str, float | str]:
    """The real window (offscreen) looping ``clip``: cores this process used over
    ``seconds`` after ``settle`` seconds, recognitions/s, frames painted/s, idle state."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QEventLoop, QTimer
    from PyQt5.QtWidgets import QApplication

    from desktop.gui.gc_guard import release_gui_gc
    from desktop.gui.main_window import MainWindow
    app = QApplication.instance() or QApplication([])
    saved_loop = engine.settings.loop_video
    reconfigure(engine, {"loop_video": True})
    count = _Count()
    window = MainWindow(engine, source=str(clip.path), listeners=[count])
    window.show()

    def spin(duration: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(round(duration * 1000), loop.quit)
        loop.exec_()
    try:
        spin(settle)
        cpu, wall, results = process_cpu_seconds(), time.monotonic(), count.results
        painted, mark = window.video.painted, cpu_snapshot()
        spin(seconds)
        elapsed = time.monotonic() - wall
        figures: dict[str, float | str] = {
            "cores": (process_cpu_seconds() - cpu) / elapsed,
            "rec_per_s": (count.results - results) / elapsed,
            "painted_fps": (window.video.painted - painted) / elapsed,
            "state": window.status.activity.text(),
            "others": others_share(mark, cpu_snapshot())}
    finally:
        window.shutdown()
        window.close()
        app.processEvents()
        release_gui_gc(window)  # the sections after this one run without an event loop
        reconfigure(engine, {"loop_video": saved_loop})
    return figures


def bench_idle(engine: FaceEngine, clip: Clip, seconds: float) -> Table:
    table = Table("idle", f"At rest: the window on an empty hallway for {seconds:.0f} s "
                  "(cores used by the window's process)", [
                      Column("gate"), Column("cores", ".2f"), Column("recog/s", ".1f"),
                      Column("painted fps", ".1f"), Column("status"), Column("others %", ".0f")])
    s = engine.settings
    saved = {"motion_gating": s.motion_gating, "idle_detect_fps": s.idle_detect_fps}
    rows = (("every frame (before)", {"motion_gating": False}),
            ("motion gating", {"motion_gating": True}),
            ("no recognition at rest (capture + paint)",
             {"motion_gating": True, "idle_detect_fps": 0.0}))
    try:
        for name, changes in rows:
            reconfigure(engine, {**saved, **changes})
            f = window_at_rest(engine, clip, seconds)
            table.add(name, f["cores"], f["rec_per_s"], f["painted_fps"], f["state"],
                      100 * f["others"])
    finally:
        reconfigure(engine, saved)
    table.notes += [
        f"{clip.name}: a real face-free desk scene with Gaussian sensor noise (sigma "
        f"{NOISE_SIGMA}) on every frame, looped. cores: CPU seconds of this process (the "
        "window: capture, painting, recognition) per wall second, after 4 s to settle. "
        "Target <= 0.25. The last row recognises nothing at rest (idle_detect_fps 0): what "
        "capture, the gate and painting cost alone.",
        f"idle_detect_fps {s.idle_detect_fps}, motion_pixel_delta {s.motion_pixel_delta}, "
        f"motion_min_area {s.motion_min_area}; torch threads "
        f"{inference_threads(engine.models)}, OMP_WAIT_POLICY {wait_policy()}.",
    ]
    return table


def bench_loaded(engine: FaceEngine, clips: list[Clip], runs: int) -> Table:
    table = Table("loaded", "The window's live figures quiet, then with one busy process "
                  f"beside it (about half of 2 cores; median of {runs} real-time runs)", [
                      Column("scenario"), Column("beside"), Column("label ms", ".0f"),
                      Column("p90 ms", ".0f"), Column("all ms", ".0f"),
                      Column("detect ms", ".0f"), Column("recog/s", ".1f"),
                      Column("labelled"), Column("wrong", "d"), Column("others %", ".0f")])
    ratios = []
    for clip in clips:
        quiet: dict[str, float] = {}
        for beside in ("nothing", "1 busy process"):
            warm_up(engine, clip)
            mark = cpu_snapshot()
            if beside == "nothing":
                f = summarise([play_window(engine, clip) for _ in range(runs)])
                quiet = f
            else:
                with busy_process():
                    f = summarise([play_window(engine, clip) for _ in range(runs)])
            table.add(clip.name, beside, f["latency_ms"], f["latency_p90_ms"],
                      f["latency_max_ms"], f["detect_ms"], f["rec_per_s"],
                      f"{f['labelled']}/{f['expected']}", f["wrong"],
                      100 * others_share(mark, cpu_snapshot()))
        ratios.append(f"{clip.name}: label {f['latency_ms'] / quiet['latency_ms']:.2f}x, "
                      f"detect {f['detect_ms'] / quiet['detect_ms']:.2f}x")
    table.notes += [
        "loaded / quiet: " + "; ".join(ratios) + " (target: <= 2x).",
        "label ms: capture of a face's first frame to its label on the GUI thread (median "
        "over faces); all ms: the slowest face (the 7-face clip: all seven labelled); others "
        "%: CPU share of every other process, the busy one included.",
        f"torch threads {inference_threads(engine.models)}, OMP_WAIT_POLICY {wait_policy()}.",
    ]
    return table


THREAD_CONFIGS = (
    ("cores threads, libgomp default wait, onnx spinning (before)", 0, "default", True),
    ("cores threads, passive, no onnx spinning (after)", 0, "passive", False),
    ("cores-1 threads, libgomp default wait, onnx spinning", -1, "default", True),
    ("cores-1 threads, passive, no onnx spinning", -1, "passive", False),
)
"""(name, threads: 0 = one per core, -1 = one per core but one, wait policy, spinning)."""


def bench_threads(weights: str, runs: int) -> Table:
    cores = os.cpu_count() or 1
    table = Table("threads", "Thread settings: MTCNN on the 7-face 640x480 frame and FaceNet "
                  f"(1 face, onnxruntime), quiet and beside one busy process (median of {runs})",
                  [Column("config"), Column("threads", "d"), Column("detect ms", ".0f"),
                   Column("loaded", ".0f"), Column("x", ".2f"), Column("embed ms", ".1f"),
                   Column("loaded", ".1f"), Column("x", ".2f"), Column("others %", ".0f")])
    for name, threads, policy, spinning in THREAD_CONFIGS:
        count = cores if threads == 0 else max(1, cores - 1)
        command = [sys.executable, "-m", "desktop.bench.sections.threadprobe", "--threads", str(count),
                   "--policy", policy, "--weights", weights, "--runs", str(runs)]
        mark = cpu_snapshot()
        done = subprocess.run(command + (["--spinning"] if spinning else []), cwd=REPO,
                              capture_output=True, text=True, timeout=900, check=False)
        share = others_share(mark, cpu_snapshot())
        if done.returncode != 0:
            log.warning("threadprobe failed: %s", done.stderr[-2000:])
            table.add(name, count, *[float("nan")] * 6, 100 * share)
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        table.add(name, count, r["detect_quiet"], r["detect_loaded"],
                  r["detect_loaded"] / r["detect_quiet"], r["embed_quiet"], r["embed_loaded"],
                  r["embed_loaded"] / r["embed_quiet"], 100 * share)
    table.notes += [
        "Each row is a child process (libgomp reads OMP_WAIT_POLICY when torch loads); it "
        "measures quiet, then starts one busy process (a Python spin loop) and measures "
        "again. x: loaded / quiet (target for MTCNN: <= 1.3). others %: CPU share of other "
        "processes during the row, the child's own busy process included (the child's own "
        "time is not this process's: it counts as 'other' too).",
    ]
    return table


def run_sections(engine: FaceEngine, scenarios, root: Path, options: BenchOptions,
                 folder: Path, emit) -> None:
    """The idle, loaded and threads sections the options ask for."""
    wanted = set(options.sections)
    if "idle" in wanted:
        clip = hallway_clip(root, folder, options.idle_seconds)
        emit(bench_idle(engine, clip, options.idle_seconds))
    if "loaded" in wanted and scenarios is not None:
        emit(bench_loaded(engine, [scenarios.single, scenarios.group], options.runs))
    if "threads" in wanted:
        emit(bench_threads(str(engine.settings.weights), options.stage_runs))
