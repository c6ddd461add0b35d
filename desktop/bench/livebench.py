"""Live-loop figures (1 face, 7 faces, crowd video) and the tuning sweep that sets defaults."""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine.detection import FaceDetector
from ..engine.live import LiveRecognizer
from ..engine.recognizer import FaceEngine
from .data import PersonPhotos, group_sequence, pick_visitors, single_face_sequence
from .loop import Feed, SequenceFeed, VideoFeed, run_live, summarise
from .options import BenchOptions
from .table import Column, Table
from .util import (cpu_snapshot, in_thread, inference_threads, others_share, progress,
                   torch_threads)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopConfig:
    """One point of the tuning sweep; None keeps the value from the settings."""
    name: str
    detect_max_side: int | None = None
    min_face_size: int | None = None
    threads: int | None = None
    recheck_seconds: float | None = None
    confirm_frames: int | None = None
    batched: bool = True
    search_on_inference: bool = False
    """Run the gallery search on the inference thread too (a proposed engine change)."""

    def overrides(self) -> dict:
        keys = ("detect_max_side", "recheck_seconds", "confirm_frames")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


CONFIGS = (
    LoopConfig("baseline"),
    LoopConfig("side 480", detect_max_side=480),
    LoopConfig("side 320", detect_max_side=320),
    LoopConfig("min face 20", min_face_size=20),
    LoopConfig("min face 60", min_face_size=60),
    LoopConfig("threads 1", threads=1),
    LoopConfig("no tracking", recheck_seconds=0.0),
    LoopConfig("no batching", batched=False),
    LoopConfig("confirm 2", confirm_frames=2),
    LoopConfig("search on inference", search_on_inference=True),
    LoopConfig("recommended", confirm_frames=2, search_on_inference=True),
)
"""'no tracking' re-embeds every visible face on every frame (recheck 0 s): the cost
tracking saves. 'search on inference' runs FaceEngine.match on the inference thread.
'recommended' is the proposal for the engine (see README)."""


class _Models:
    """A Models look-alike: another detector beside the shared embedder, run on the shared
    inference thread (one OpenMP team, as in the kiosk)."""

    def __init__(self, base, detector: FaceDetector) -> None:
        self.base, self.detector, self.embedder = base, detector, base.embedder
        self.load_seconds = 0.0

    def run(self, func, *args):
        return self.base.run(func, *args)


class _SearchOnInferenceEngine(FaceEngine):
    """FaceEngine.match on the inference thread: Faiss's OpenMP team then lives on the same
    thread as PyTorch's, instead of a second team on the recognition thread."""

    def match(self, vectors: np.ndarray):
        return self.models.run(FaceEngine.match, self, vectors)


class _UnbatchedEngine(FaceEngine):
    """Embeds one crop per forward pass: what batching saves."""

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        if len(crops) <= 1:
            return super().embed(crops)
        embed = super().embed
        return np.concatenate([embed([crop]) for crop in crops])


def engine_for(base: FaceEngine, config: LoopConfig) -> FaceEngine:
    """``base`` itself, or an engine over the same database with the config's detector."""
    if config.min_face_size is None and config.batched and not config.search_on_inference:
        return base
    s = dataclasses.replace(base.settings, **({"min_face_size": config.min_face_size}
                                              if config.min_face_size else {}))
    detector = base.models.detector
    if config.min_face_size:
        detector = base.models.run(lambda: FaceDetector(
            min_face_size=s.min_face_size, thresholds=s.det_thresholds,
            min_prob=s.min_det_prob, max_side=s.detect_max_side, device=s.device))
    cls = _UnbatchedEngine if not config.batched else \
        _SearchOnInferenceEngine if config.search_on_inference else FaceEngine
    return cls(s, _Models(base.models, detector))


@dataclass
class Scenarios:
    """The three feeds every configuration is played."""
    single: Feed
    group: Feed
    crowd: Feed | None

    def all(self) -> list[Feed]:
        return [f for f in (self.single, self.group, self.crowd) if f is not None]


def make_scenarios(root: Path, people: list[PersonPhotos], options: BenchOptions) -> Scenarios:
    visitors = pick_visitors(people, root, options.appearances)
    single = SequenceFeed(single_face_sequence(root, visitors, show_seconds=options.show_seconds,
                                               gap_seconds=options.gap_seconds))
    single.sequence.name = f"1 face ({len(visitors)} visitors, 640x480)"
    group = SequenceFeed(group_sequence(root, show_seconds=options.show_seconds))
    crowd = None
    if options.video:
        crowd = VideoFeed(options.video, seconds=options.video_seconds)
        crowd.name = f"crowd video {crowd.size[0]}x{crowd.size[1]}"
    return Scenarios(single, group, crowd)


def play(engine: FaceEngine, feed: Feed, config: LoopConfig, runs: int) -> dict[str, float]:
    """``runs`` real-time passes of ``feed`` under ``config``; medians over the passes."""
    variant = engine_for(engine, config)
    try:
        with torch_threads(engine.models, config.threads):
            # warm-up: the first forward passes of a new shape are slower
            first = next(iter(feed.frames()))
            warm = LiveRecognizer.from_settings(variant, record_attendance=False,
                                                **config.overrides())
            in_thread(warm.process, first)
            variant.embed([np.zeros((160, 160, 3), np.uint8)] * 2)
            results = [run_live(variant, feed, config.overrides()) for _ in range(runs)]
    finally:
        if variant is not engine:
            variant.close()
    return summarise(results)


def bench_live(engine: FaceEngine, scenarios: Scenarios, runs: int) -> Table:
    table = Table("live", f"Live loop, current settings (median of {runs} real-time runs)", [
        Column("scenario"), Column("preview fps", ".1f"), Column("recog/s", ".1f"),
        Column("faces", ".1f"), Column("embeds/frame", ".2f"), Column("frame ms", ".0f"),
        Column("label ms", ".0f"), Column("p90 ms", ".0f"), Column("labelled"),
        Column("wrong", "d"), Column("wrong votes")])
    for feed in progress(scenarios.all(), desc="live loop", unit="scenario"):
        f = play(engine, feed, LoopConfig("baseline"), runs)
        table.add(feed.name, f["preview_fps"], f["rec_per_s"], f["found"],
                  f["embeds_per_frame"], f["total_ms"], f["latency_ms"], f["latency_p90_ms"],
                  f"{f['labelled']}/{f['expected']}", f["wrong"],
                  f"{f['wrong_votes']}/{f['votes']}")
    s = engine.settings
    table.notes += [
        f"settings: live_detect_max_side {s.live_detect_max_side}, min_face_size "
        f"{s.min_face_size}, confirm_frames {s.confirm_frames}, recheck_seconds "
        f"{s.recheck_seconds}, torch threads {inference_threads(engine.models)}.",
        "preview fps: frames the capture thread delivered and drew (paced at the file's fps); "
        "recog/s: frames the recognition thread finished; faces: median faces tracked per "
        "processed frame while faces are on screen; frame ms: median process() time.",
        "label ms: from the capture of the frame where the face first appears to the end of "
        "the process() call that gave its first confirmed label (name or Unknown). For the "
        "crowd video the appearance is the first frame in which the face was detected.",
        "labelled: faces labelled / faces that appeared (synthetic clips: ground truth; crowd "
        "video: tracks, which break when detection flickers). wrong: labels with a wrong name "
        "(or any name for a stranger); wrong votes: such single-frame decisions / decisions.",
    ]
    return table


def bench_tuning(engine: FaceEngine, scenarios: Scenarios, options: BenchOptions) -> Table:
    wanted = [c for c in CONFIGS if not options.tuning or c.name in options.tuning]
    table = Table("tuning", "Tuning the loop: one change at a time from the settings "
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
        for feed in scenarios.all():
            figures.append(play(engine, feed, config, options.tuning_runs))
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
        "1f = the 1-face clip, 7f = the group photo clip (7 faces of 40-60 px), crowd = the "
        "video. min fps: lowest preview fps over the scenarios.",
        "1f ok: visitors whose label was right / visitors; 1f sim: median similarity of the "
        "right per-frame decisions (does a smaller detection hurt the crops?). 7f found: faces "
        "tracked per processed frame (of 7); 7f all ms: until the last of them was labelled. "
        "detect ms: median MTCNN time per crowd frame (1f frames without a video).",
        "wrong: wrong labels over all scenarios; wrong votes: wrong single-frame decisions / "
        "decisions (what confirm_frames filters). others %: CPU time other processes took "
        "while the row ran (a row above ~10 % is not comparable).",
        "no tracking = recheck_seconds 0 (every face re-embedded every frame); no batching = "
        "one FaceNet call per face; threads N = torch.set_num_threads(N) on the inference "
        "thread; search on inference = FaceEngine.match run via models.run.",
        "recommended = " + ", ".join(f"{k} {v}" for k, v in _describe(CONFIGS[-1]).items()),
    ]
    return table


def _describe(config: LoopConfig) -> dict:
    """The fields that differ from the settings (the defaults of LoopConfig)."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if f.name != "name" and getattr(config, f.name) != f.default}


