"""Passive liveness in the live loop: ``python -m desktop.bench.liveness_loop``.

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

from ..config import load_settings
from ..engine.names import NOT_LIVE
from ..engine.pipeline import PipelineListener
from ..engine.recognizer import FaceEngine, Models
from .play import play_pipeline, video_clip, warm_up
from .scoring import summarise

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    settings = load_settings(Path(tempfile.mkdtemp()) / "db", weights=args.weights,
                             antispoof_weights=args.antispoof_weights)
    if args.threshold is not None:
        settings.liveness_threshold = args.threshold
    engine = FaceEngine(settings, Models(settings))
    engine.models.run(engine.models.antispoof)
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
