"""The window's label times per face model (``bench --only live --models facenet,dlib``):
the same clips, the same gallery people, one model after the other, so that the cost of
a model shows where a visitor sees it, in the time until their name appears."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from desktop.bench.data import PersonPhotos, enroll_people
from desktop.bench.play import play_window, warm_up
from desktop.bench.scoring import summarise
from desktop.bench.sections.livebench import Scenarios
from desktop.bench.table import Column, Table
from desktop.bench.util import cpu_snapshot, in_thread, inference_threads, others_share, progress
from desktop.engine.facade.face_engine import FaceEngine
from desktop.engine.settings.config import Settings

log = logging.getLogger(__name__)


def model_engine(settings: Settings, spec: str, folder: Path) -> FaceEngine:
    """A fresh engine with ``spec``'s networks over its own database in ``folder``."""
    from desktop.engine.faces.networks import Models
    one = dataclasses.replace(settings, model=spec, db_dir=folder)
    return FaceEngine(one, Models(one))


def bench_live_models(base: FaceEngine, people: list[PersonPhotos], scenarios: Scenarios,
                      specs: tuple[str, ...], runs: int, folder: Path) -> Table:
    """One row per model: the 1-face and 7-face clips in the real window. The model the
    settings name reuses the bench's engine; every other is loaded, given the same people
    and closed before the next (one model's networks in memory at a time)."""
    table = Table("live_models", f"Label times per face model, the kiosk window offscreen "
                  f"(median of {runs} real-time run(s) per clip)", [
                      Column("model"), Column("1f label ms", ".0f"), Column("1f p90 ms", ".0f"),
                      Column("1f labelled"), Column("7f label ms", ".0f"),
                      Column("7f all ms", ".0f"), Column("7f labelled"),
                      Column("embed ms/frame", ".1f"), Column("wrong", "d"),
                      Column("wrong votes"), Column("others %", ".0f")])
    for index, spec in enumerate(progress(specs, desc="live per model", unit="model")):
        own = spec == base.settings.model
        engine = base if own else model_engine(base.settings, spec, folder / f"model-{index}")
        try:
            if not own:
                in_thread(enroll_people, engine, people)
            mark = cpu_snapshot()
            figures = []
            for clip in (scenarios.single, scenarios.group):
                warm_up(engine, clip)
                figures.append(summarise([play_window(engine, clip) for _ in range(runs)]))
            one, group = figures
            log.info("live model %s: %s", spec, figures)
            table.add(spec, one["latency_ms"], one["latency_p90_ms"],
                      f"{one['labelled']}/{one['expected']}", group["latency_ms"],
                      group["latency_max_ms"], f"{group['labelled']}/{group['expected']}",
                      group["embed_ms"], int(one["wrong"] + group["wrong"]),
                      f"{one['wrong_votes'] + group['wrong_votes']}/"
                      f"{one['votes'] + group['votes']}",
                      100 * others_share(mark, cpu_snapshot()))
        finally:
            if not own:
                engine.close()
    table.notes += [
        f"Each model enrolls the same {len(people)} people from the same photos into its "
        f"own database; the clips are those of the live table. torch threads "
        f"{inference_threads(base.models)}; live_detector {base.settings.live_detector}.",
        "1f: the 1-face clip (visitors and a stranger walking in); 7f: the group photo clip "
        "(7 faces of 40-60 px). label ms: median time from the frame where a face appears "
        "to its first confirmed label on the GUI thread; 7f all ms: until the last of the "
        "seven was labelled; embed ms/frame: the face model's median time per recognised "
        "7-face frame.",
        "wrong: labels with a wrong name (or any name for a stranger), both clips; wrong "
        "votes: such single-frame decisions / decisions. others %: CPU time other processes "
        "took while the row ran (a row above ~10 % is not comparable).",
    ]
    return table
