"""Live figures from the real pipeline: in the real window (1 face, 7 faces, crowd video)
and the tuning sweep (the same ``LivePipeline`` without a window, one setting changed)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from desktop.bench.data import PersonPhotos, group_sequence, pick_visitors, single_face_sequence
from desktop.bench.options import BenchOptions
from desktop.bench.play import Clip, play_pipeline, play_window, video_clip, warm_up, write_clip
from desktop.bench.scoring import summarise
from desktop.bench.table import Column, Table
from desktop.bench.util import cpu_snapshot, inference_threads, others_share, progress, torch_threads
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.live.apply_settings import reconfigure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopConfig:
    """One point of the tuning sweep; None keeps the value from the settings."""
    name: str
    live_detect_max_side: int | None = None
    min_face_size: int | None = None
    threads: int | None = None
    recheck_seconds: float | None = None
    confirm_frames: int | None = None

    def live_options(self) -> dict:
        keys = ("live_detect_max_side", "recheck_seconds", "confirm_frames")
        return {k.replace("live_", ""): getattr(self, k) for k in keys
                if getattr(self, k) is not None}


CONFIGS = (
    LoopConfig("baseline"),
    LoopConfig("side 480", live_detect_max_side=480),
    LoopConfig("side 320", live_detect_max_side=320),
    LoopConfig("min face 20", min_face_size=20),
    LoopConfig("min face 60", min_face_size=60),
    LoopConfig("threads 1", threads=1),
    LoopConfig("no tracking", recheck_seconds=0.0),
    LoopConfig("confirm 3", confirm_frames=3),
)
"""'no tracking' re-embeds every visible face on every frame (recheck 0 s): the cost
tracking saves."""


@dataclass
class Scenarios:
    """The clips every configuration is played."""
    single: Clip
    group: Clip
    crowd: Clip | None

    def all(self) -> list[Clip]:
        return [c for c in (self.single, self.group, self.crowd) if c is not None]


def make_scenarios(root: Path, people: list[PersonPhotos], options: BenchOptions,
                   folder: Path) -> Scenarios:
    """The synthetic clips written as videos into ``folder``, and the crowd video."""
    visitors = pick_visitors(people, root, options.appearances)
    single = single_face_sequence(root, visitors, show_seconds=options.show_seconds,
                                  gap_seconds=options.gap_seconds)
    single.name = f"1 face ({len(visitors)} visitors, 640x480)"
    group = group_sequence(root, show_seconds=options.show_seconds)
    crowd = video_clip(options.video, "crowd video", options.video_seconds) \
        if options.video else None
    return Scenarios(write_clip(single, folder), write_clip(group, folder), crowd)


def play(engine: FaceEngine, clip: Clip, config: LoopConfig, runs: int) -> dict[str, float]:
    """``runs`` real-time passes of ``clip`` through the pipeline under ``config``."""
    old_min_face = engine.settings.min_face_size
    if config.min_face_size:
        reconfigure(engine, {"min_face_size": config.min_face_size})
    try:
        with torch_threads(engine.models, config.threads):
            warm_up(engine, clip)
            results = [play_pipeline(engine, clip, **config.live_options())
                       for _ in range(runs)]
    finally:
        if config.min_face_size:
            reconfigure(engine, {"min_face_size": old_min_face})
    return summarise(results)


def bench_live(engine: FaceEngine, scenarios: Scenarios, runs: int) -> Table:
    table = Table("live", f"The kiosk window, offscreen, current settings (median of {runs} "
                  "real-time runs)", [
                      Column("scenario"), Column("preview fps", ".1f"), Column("recog/s", ".1f"),
                      Column("faces", ".1f"), Column("embeds/frame", ".2f"),
                      Column("frame ms", ".0f"), Column("label ms", ".0f"),
                      Column("p90 ms", ".0f"), Column("labelled"), Column("wrong", "d"),
                      Column("wrong votes")])
    for clip in progress(scenarios.all(), desc="live window", unit="scenario"):
        warm_up(engine, clip)
        f = summarise([play_window(engine, clip) for _ in range(runs)])
        table.add(clip.name, f["preview_fps"], f["rec_per_s"], f["found"],
                  f["embeds_per_frame"], f["total_ms"], f["latency_ms"], f["latency_p90_ms"],
                  f"{f['labelled']}/{f['expected']}", f["wrong"],
                  f"{f['wrong_votes']}/{f['votes']}")
    s = engine.settings
    table.notes += [
        f"settings: live_detect_max_side {s.live_detect_max_side}, min_face_size "
        f"{s.min_face_size}, confirm_frames {s.confirm_frames}, recheck_seconds "
        f"{s.recheck_seconds}, torch threads {inference_threads(engine.models)}.",
        "The real MainWindow (offscreen) plays each clip as a video file through its live "
        "pipeline. preview fps: distinct frames the window painted per second of video; "
        "recog/s: frames recognised; faces: median faces tracked per recognised frame while "
        "faces are on screen; frame ms: median recognition time per frame.",
        "label ms: from the capture of the frame where the face first appears to the GUI "
        "thread receiving the first confirmed label (name or Unknown). For the crowd video "
        "the appearance is the first frame in which the face was detected.",
        "labelled: faces labelled / faces that appeared (synthetic clips: ground truth; crowd "
        "video: tracks, which break when detection flickers). wrong: labels with a wrong name "
        "(or any name for a stranger); wrong votes: such single-frame decisions / decisions.",
    ]
    return table


def bench_tuning(engine: FaceEngine, scenarios: Scenarios, options: BenchOptions) -> Table:
    wanted = [c for c in CONFIGS if not options.tuning or c.name in options.tuning]
    table = Table("tuning", "Tuning the pipeline: one change at a time from the settings "
                  f"(median of {options.tuning_runs} real-time runs per scenario)", [
                      Column("config"), Column("min fps", ".1f"), Column("1f recog/s", ".1f"),
                      Column("1f label ms", ".0f"), Column("1f ok"), Column("1f sim", ".3f"),
                      Column("7f found", ".1f"), Column("7f all ms", ".0f"),
                      Column("crowd recog/s", ".1f"), Column("crowd faces", ".1f"),
                      Column("crowd emb/fr", ".2f"), Column("detect ms", ".0f"),
                      Column("wrong"), Column("wrong votes"), Column("others %", ".0f")])
    bar = progress(total=len(wanted) * len(scenarios.all()), desc="tuning", unit="run")
    for config in wanted:
        figures, mark = [], cpu_snapshot()
        for clip in scenarios.all():
            figures.append(play(engine, clip, config, options.tuning_runs))
            bar.update(1)
        log.info("tuning %s: %s", config.name, figures)
        one, grp = figures[0], figures[1]
        crowd = figures[2] if scenarios.crowd else {}
        nan = float("nan")
        table.add(config.name, min(f["preview_fps"] for f in figures),
                  one["rec_per_s"], one["latency_ms"], f"{one['correct']}/{one['expected']}",
                  one["similarity"], grp["found"], grp["latency_max_ms"],
                  crowd.get("rec_per_s", nan), crowd.get("faces_per_frame", nan),
                  crowd.get("embeds_per_frame", nan), (crowd or one)["detect_ms"],
                  str(sum(f["wrong"] for f in figures)),
                  f"{sum(f['wrong_votes'] for f in figures)}/{sum(f['votes'] for f in figures)}",
                  100 * others_share(mark, cpu_snapshot()))
    bar.close()
    table.notes += [
        "The window's LivePipeline without the window. 1f = the 1-face clip, 7f = the group "
        "photo clip (7 faces of 40-60 px), crowd = the video. min fps: lowest capture rate.",
        "1f ok: visitors whose label was right / visitors; 1f sim: median similarity of the "
        "right per-frame decisions. 7f found: faces tracked per recognised frame (of 7); 7f "
        "all ms: until the last of them was labelled. detect ms: median MTCNN time per crowd "
        "frame (1f frames without a video).",
        "wrong: wrong labels over all scenarios; wrong votes: wrong single-frame decisions / "
        "decisions (what confirm_frames filters). others %: CPU time other processes took "
        "while the row ran (a row above ~10 % is not comparable).",
        "no tracking = recheck_seconds 0 (every face re-embedded every frame); threads N = "
        "torch.set_num_threads(N) on the inference thread; min face N = the settings' "
        "min_face_size applied with reconfigure().",
    ]
    return table

