"""What a bench run measures and how much: one place for the full and the --quick sizes."""
from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from desktop.engine.core.errors import KioskError
from desktop.engine.settings.config import Settings

SECTIONS = ("stages", "live", "tuning", "idle", "loaded", "threads", "scale", "startup",
            "soak")
"""What a plain ``bench`` runs."""
OPTIONAL = ("shared_store",)
"""Run only when named with --only: starts a private PostgreSQL server, no model needed."""
REPO = Path(__file__).resolve().parents[2]
MODELS_HELP = ("comma-separated face models (e.g. facenet,dlib): the live section adds a "
               "table of the window's label times with each, on the same clips and people")


def faces_root() -> Path:
    """The developer photo set (../shared/faces beside the repository, or $KIOSK_FACES)."""
    return Path(os.environ.get("KIOSK_FACES", REPO.parent / "shared" / "faces"))


def with_shared_reid(settings: Settings) -> Settings:
    """``settings`` with the reid model's folder of ../shared/models when none is given
    (the bench measures on the developer machine's files, never downloads)."""
    folder = REPO.parent / "shared" / "models" / "face-reidentification-retail-0095"
    if settings.reid_weights or not folder.is_dir():
        return settings
    return dataclasses.replace(settings, reid_weights=str(folder))


def default_video() -> Path | None:
    path = faces_root() / "video" / "facenet-pytorch_video.mp4"
    return path if path.is_file() else None


@dataclass
class BenchOptions:
    quick: bool = False
    sections: tuple[str, ...] = SECTIONS
    video: Path | None = None
    """The crowd video for the live loop; None skips the crowd-video rows."""
    json_path: Path | None = None
    runs: int = 3
    """Repetitions behind every median of the live loop and start-up."""
    stage_runs: int = 15
    """Repetitions behind every per-stage median (cheap, so more)."""
    people: int = 0
    """People enrolled in the bench gallery (0 = every person with >= 4 photos)."""
    probes: int = 150
    """Held-out real photos embedded as search queries for the scale section."""
    appearances: int = 5
    """Known people walking into the 1-face sequence (plus one stranger)."""
    show_seconds: float = 2.0
    gap_seconds: float = 0.6
    video_seconds: float = 0.0
    """Cap on the crowd video per live run (0 = the whole file)."""
    tuning: tuple[str, ...] = ()
    """Names of tuning configurations to run (empty = all of them)."""
    models: tuple[str, ...] = ()
    """Face models whose window label times the live section compares, one row each
    (``--models facenet,dlib``; empty = only the settings' model, in the live table)."""
    tuning_runs: int = 2
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
    queries: int = 1000
    """Search queries per gallery size (70 % enrolled, 30 % strangers)."""
    kinds: tuple[str, ...] = ()
    """Index kinds for the scale section (flat, fp16, hnsw, ivf; empty = all)."""
    startup_runs: int = 3
    store_sizes: tuple[int, ...] = (10_000, 100_000)
    """Samples in PostgreSQL for the shared_store section's start-up figures."""
    soak_seconds: float = 180.0
    idle_seconds: float = 20.0
    """Length of the empty-hallway measurement (after a few seconds to settle)."""

    @classmethod
    def quick_defaults(cls) -> BenchOptions:
        return cls(quick=True, runs=1, stage_runs=5, people=12, probes=30, appearances=2,
                   show_seconds=1.6, gap_seconds=0.5, tuning_runs=1, sizes=(1_000, 10_000),
                   queries=200, startup_runs=1, soak_seconds=20.0, store_sizes=(1_000,),
                   tuning=("baseline", "side 480", "side 320", "threads 1", "no tracking"))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchOptions:
        """Options from the CLI namespace; flags the parser does not define keep defaults."""
        options = cls.quick_defaults() if getattr(args, "quick", False) else cls()
        video = getattr(args, "video", None)
        if video:
            options.video = Path(video)
            if not options.video.is_file():
                raise KioskError(f"--video {video}: no such file")
        else:
            options.video = default_video()
        if getattr(args, "json", None):
            options.json_path = Path(args.json)
        if getattr(args, "soak", None) is not None:
            options.soak_seconds = float(args.soak)
        if getattr(args, "runs", None):
            options.runs = options.tuning_runs = options.startup_runs = int(args.runs)
        if getattr(args, "sizes", None):
            options.sizes = tuple(int(float(s)) for s in str(args.sizes).split(",") if s)
        if getattr(args, "only", None):
            wanted = tuple(s.strip() for s in str(args.only).split(",") if s.strip())
            unknown = set(wanted) - set(SECTIONS + OPTIONAL)
            if unknown:
                raise KioskError(f"unknown bench section(s) {', '.join(sorted(unknown))}; "
                                 f"choose from {', '.join(SECTIONS + OPTIONAL)}")
            options.sections = wanted
        if getattr(args, "store_sizes", None):
            options.store_sizes = tuple(int(float(s)) for s in str(args.store_sizes).split(",")
                                        if s)
        if getattr(args, "kinds", None):
            options.kinds = tuple(s.strip() for s in str(args.kinds).split(",") if s.strip())
        if getattr(args, "models", None):
            options.models = tuple(dict.fromkeys(
                m.strip() for m in str(args.models).split(",") if m.strip()))
            from desktop.engine.faces.embedders import parse_model
            for spec in options.models:
                parse_model(spec)  # a misspelt model fails now, not after the first rows
        if getattr(args, "tuning", None):
            options.tuning = tuple(s.strip() for s in str(args.tuning).split(",") if s.strip())
        return options

    def replace(self, **changes) -> BenchOptions:
        return dataclasses.replace(self, **changes)
