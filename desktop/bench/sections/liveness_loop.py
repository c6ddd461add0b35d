"""Passive liveness in the live loop: ``python -m desktop.bench.sections.liveness_loop``.

Plays the test video (live people on a real camera, nobody enrolled) in real time through
the real ``LivePipeline``, alternately with liveness off and passive, and reports per mode
the tracks labelled, the live faces wrongly judged 'Not live' (false rejects: every face
in the video is a live person), time to label (first sight to label, wall clock) and
the milliseconds the check added to the frames where it ran.
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from statistics import median

from desktop.bench.options import REPO
from desktop.bench.play import play_pipeline, video_clip, warm_up
from desktop.bench.scoring import summarise
from desktop.engine.core.names import NOT_LIVE
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.faces.networks import Models
from desktop.engine.live.pipeline import PipelineListener
from desktop.engine.settings.file import load_settings

SHARED = REPO.parent / "shared"


class Watch(PipelineListener):
    """Tracks shown 'Not live', and the liveness milliseconds of frames that ran it."""

    def __init__(self) -> None:
        self.fake: set[int] = set()
        self.labelled: set[int] = set()
        self.check_ms: list[float] = []

    def on_result(self, recognition) -> None:
        for track in recognition.tracks:
            if track.label is not None:
                self.labelled.add(track.id)
            if track.label == NOT_LIVE:
                self.fake.add(track.id)
        if recognition.timings.get("liveness", 0.0) > 0:
            self.check_ms.append(recognition.timings["liveness"])


def direct(engine: FaceEngine, video: Path, rounds: int) -> None:
    """Every 3rd frame through one ``LiveRecognizer`` per mode, back to back, frame times
    from the video (not the wall clock): the check's cost without real-time pacing."""
    from desktop.engine.live.tracker import LiveRecognizer
    from desktop.engine.video.sources import open_source
    source = open_source(str(video), loop_video=False)
    source.open()
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    frames = frames[::3]
    for _ in range(rounds):
        for mode in ("off", "passive"):
            engine.settings.liveness = mode
            live = LiveRecognizer.from_settings(engine)
            totals, checked, labelled, fake = [], 0.0, set(), set()
            for index, frame in enumerate(frames):
                result = live.process(frame, now=index * 3 / 25)
                totals.append(result.timings["total"])
                checked += result.timings["liveness"] if mode != "off" else 0.0
                labelled |= {t.id for t in result.tracks if t.label is not None}
                fake |= {t.id for t in result.tracks if t.label == NOT_LIVE}
            scored = sum(t.liveness.verdict is not None for t in live.tracks)
            print(json.dumps({"liveness": mode, "frames": len(frames),
                              "tracks_labelled": len(labelled), "not_live": len(fake),
                              "checks": scored, "check_ms_total": round(checked),
                              "frame_ms_mean": round(sum(totals) / len(totals), 1)}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path,
                        default=SHARED / "faces" / "video" / "facenet-pytorch_video.mp4")
    parser.add_argument("--weights", default=str(
        SHARED / "models" / "20180408-102900-casia-webface-features.pt"))
    parser.add_argument("--antispoof-weights", default=str(SHARED / "models" / "anti_spoof"))
    parser.add_argument("--runs", type=int, default=5, help="passes per mode, alternating")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="seconds per pass (the 4 s video loops)")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--direct", action="store_true",
                        help="no real-time pacing: every 3rd frame, back to back per mode")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    settings = load_settings(Path(tempfile.mkdtemp()) / "db", weights=args.weights,
                             antispoof_weights=args.antispoof_weights,
                             torch_threads=args.threads)
    if args.threshold is not None:
        settings.liveness_threshold = args.threshold
    engine = FaceEngine(settings, Models(settings))
    engine.models.run(engine.models.antispoof)
    if args.direct:
        direct(engine, args.video, args.runs)
        engine.close()
        return 0
    clip = video_clip(args.video, "crowd video").capped(args.seconds)
    warm_up(engine, clip)
    runs: dict[str, list] = {"off": [], "passive": []}
    watches: dict[str, list[Watch]] = {"off": [], "passive": []}
    for _ in range(args.runs):
        for mode in runs:
            settings.liveness = mode
            watch = Watch()
            runs[mode].append(play_pipeline(engine, clip, loop=True, listener=watch))
            watches[mode].append(watch)
    for mode, played in runs.items():
        figures = summarise(played)
        tracks = sum(len(w.labelled) for w in watches[mode])
        fake = sum(len(w.fake) for w in watches[mode])
        checks = [ms for w in watches[mode] for ms in w.check_ms]
        print(json.dumps({
            "liveness": mode, "runs": len(played), "threshold": settings.liveness_threshold,
            "tracks_labelled": tracks, "not_live": fake,
            "false_reject_rate": round(fake / tracks, 4) if tracks else None,
            "label_ms_median": round(figures["latency_ms"], 1),
            "label_ms_p90": round(figures["latency_p90_ms"], 1),
            "frame_total_ms": round(figures["total_ms"], 1),
            "rec_per_s": round(figures["rec_per_s"], 2),
            "liveness_ms_per_checking_frame": round(median(checks), 1) if checks else 0.0,
        }), flush=True)
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
