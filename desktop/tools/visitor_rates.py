"""Measure anonymous visitor ids on photos of people who are not enrolled.

    .venv/bin/python -m desktop.tools.visitor_rates --people 300 \\
        --lfw ../shared/lfw/images --strangers ../shared/faces/unknown

Takes every n-th LFW person with at least two photos (their first photo is a first visit,
their second a return) plus single photos of other strangers, and prints the keep and
merge rates per threshold (engine/visitor_eval.py). Faces come from the FaceCache, so a
second run takes seconds.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from desktop.cli_common import progress
from desktop.engine import Models, load_settings
from desktop.engine.core.images import is_image_file
from desktop.engine.decisions.matching import visitor_threshold
from desktop.engine.evaluation.accuracy import labelled_photos, probe_face
from desktop.engine.evaluation.facecache import FaceCache
from desktop.engine.evaluation.visitor_rates import replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=Path, default=Path("../shared/lfw/images"))
    parser.add_argument("--strangers", type=Path, default=Path("../shared/faces/unknown"))
    parser.add_argument("--exclude", type=Path, default=Path("../shared/faces/people"),
                        help="people enrolled in tests elsewhere: left out")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--weights", default="../shared/models/"
                        "20180408-102900-casia-webface-features.pt")
    parser.add_argument("--thresholds", default="0.45,0.5,0.55,0.6,0.65,0.7")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)

    settings = load_settings(Path("/tmp/visitor-rates-db"), weights=args.weights)
    excluded = {d.name for d in args.exclude.iterdir()} if args.exclude.is_dir() else set()
    people = {n: p for n, p in labelled_photos(args.lfw).items()
              if len(p) >= 2 and n not in excluded}
    names = sorted(people)
    names = names[::max(1, len(names) // args.people)][:args.people]
    singles = sorted(p for p in args.strangers.iterdir() if is_image_file(p))
    paths = [p for n in names for p in people[n][:2]] + singles
    models = Models(settings)
    cache = FaceCache(settings, models)
    records = cache.photos(paths, progress("faces", len(paths)))
    cache.close()

    def vector(path: Path) -> np.ndarray | None:
        face = probe_face(records[path])
        return None if face is None else face.vector

    first, again = [], []
    for n in names:
        a, b = vector(people[n][0]), vector(people[n][1])
        if a is not None:
            first.append(a)
            again.append(b)
    first += [v for v in map(vector, singles) if v is not None]
    again += [None] * (len(first) - len(again))
    model = models.embedder.info.name
    print(f"model {model}; {len(first)} strangers ({len(paths)} photos), "
          f"{sum(v is not None for v in again)} return with another photo; "
          f"default visitor threshold {visitor_threshold(model):.2f}")
    print(f"threshold  keep    merge   split  stolen   (mean of {args.seeds} arrival orders)")
    for text in args.thresholds.split(","):
        runs = [replay(first, again, float(text), seed=s) for s in range(args.seeds)]
        keep = np.mean([r.keep_rate for r in runs])
        merge = np.mean([r.merge_rate for r in runs])
        split = np.mean([r.split for r in runs])
        stolen = np.mean([r.stolen for r in runs])
        print(f"{float(text):9.2f}  {keep:6.1%}  {merge:6.2%}  {split:5.1f}  {stolen:6.1f}")
        lost = runs[0].lost_similarity
        if lost:
            print(f"           lost returns' similarity to their first photo: median "
                  f"{np.median(lost):.2f}, {sum(s < 0.3 for s in lost)} of {len(lost)} below 0.30")
    return 0


if __name__ == "__main__":
    sys.exit(main())
