"""Accuracy on labelled photos (LFW, ../shared/faces, a site's own), and calibration.

Open-set protocol (NIST FRVT 1:N): of every person in DIR/<person>/ with more than K
photos, the first K (sorted) are enrolled and the rest are genuine probes; every fifth such
person is held out, never enrolled, and joins the people with K photos or fewer and
``--strangers`` as impostors. Enrollment is replayed as ``enroll-folder`` does it, with the
engine's own checks (quality gate, strict duplicate vote, outlier flags) on the same
templates; nobody is refused, and the people it would warn about are counted.

Detections and embeddings come from the FaceCache (by file hash and model), so a second
run over LFW's 12,105 photos takes seconds instead of a quarter of an hour.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop.engine.core.errors import KioskError
from desktop.engine.core.images import is_image_file
from desktop.engine.decisions.checks import duplicate_vote, outlier_flags
from desktop.engine.decisions.matching import model_defaults, strict_threshold
from desktop.engine.decisions.openset import (
    RULES,
    GalleryScorer,
    OpenSetResult,
    score_open_set,
    threshold_for_fpir,
)
from desktop.engine.decisions.templates import Templates
from desktop.engine.evaluation.facecache import FaceCache, FaceRecord, PhotoRecord
from desktop.engine.evaluation.lfwpairs import PairsResult, read_pairs, ten_fold
from desktop.engine.faces.quality import quality_problem
from desktop.engine.faces.subject import subject_index
from desktop.engine.settings.config import Settings

log = logging.getLogger(__name__)

HOLDOUT_EVERY = 5


@dataclass
class Evaluation:
    model: str
    k: int
    enrolled_people: int
    enrolled_photos: int
    people_refused: list[str]
    """Labelled people enrollment could not enroll (no usable photo); never duplicates."""
    duplicate_warnings: int
    """People enrolled with a 'probable duplicate' warning (strict mode would refuse them)."""
    outliers_flagged: int
    """Enrollment photos kept out of a template as probably someone else."""
    no_face: int
    """Probe photos without a usable face (not counted as probes)."""
    low_quality: tuple[int, int]
    """Genuine and impostor probes the quality gate turned away (counted as 'unknown')."""
    results: dict[str, OpenSetResult]
    """Per scoring rule; ``rule`` is the one the engine uses."""
    rule: str
    pairs: PairsResult | None = None
    seconds: float = 0.0
    computed: int = 0
    """Photos detected and embedded in this run (the rest came from the cache)."""
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def main(self) -> OpenSetResult:
        return self.results[self.rule]

    def to_json(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in ("results", "pairs", "skipped")}
        data["results"] = {rule: r.to_json() for rule, r in self.results.items()}
        data["pairs"] = self.pairs.to_json() if self.pairs else None
        data["skipped"] = len(self.skipped)
        data.update({"genuine_probes": self.main.genuine, "impostor_probes": self.main.impostors,
                     "rank1": self.main.rank1.value, "threshold": self.main.threshold,
                     "fpir": self.main.fpir.value, "tpir": self.main.tpir.value})
        return data


def labelled_photos(root: Path) -> dict[str, list[Path]]:
    """DIR/<person>/<photo> as {person: sorted photos}."""
    if not root.is_dir():
        raise KioskError(f"{root} is not a folder of <person>/<photos> sub-folders")
    people = {d.name: sorted(p for p in d.iterdir() if is_image_file(p))
              for d in sorted(root.iterdir()) if d.is_dir()}
    people = {name: photos for name, photos in people.items() if photos}
    if not people:
        raise KioskError(f"{root} has no <person>/<photo> sub-folders with images")
    return people


def enrollment_face(record: PhotoRecord) -> FaceRecord | None:
    """The engine's subject rule (subject.subject_index) on cached faces."""
    index = subject_index([f.area for f in record.faces])
    return None if index is None else record.faces[index]


def probe_face(record: PhotoRecord) -> FaceRecord | None:
    """The labelled face of a probe photo: the subject, else the one nearest the centre
    (LFW photos are centred on their person; bystanders are not who the label names)."""
    face = enrollment_face(record)
    if face is not None or not record.faces:
        return face
    cx, cy = record.width / 2, record.height / 2
    return min(record.faces, key=lambda f: ((f.box[0] + f.box[2]) / 2 - cx) ** 2
               + ((f.box[1] + f.box[3]) / 2 - cy) ** 2)


def _gate(face: FaceRecord, settings: Settings) -> str | None:
    return quality_problem(face.size, face.sharpness, face.prob, settings)


def evaluate(models, settings: Settings, root: Path, *, k: int = 3,
             strangers: Path | None = None, threshold: float | None = None,
             pairs: Path | None = None, progress: Callable[[int, int], None] | None = None,
             fpir_targets: tuple[float, ...] = (0.01, 0.001), cache: FaceCache | None = None,
             rules: tuple[str, ...] = RULES) -> Evaluation:
    started = time.perf_counter()
    people = labelled_photos(Path(root))
    names = sorted(people)
    eligible = [n for n in names if len(people[n]) > k]
    held_out = set(eligible[HOLDOUT_EVERY - 1::HOLDOUT_EVERY])
    gallery_set = {n: people[n][:k] for n in eligible if n not in held_out}
    genuine = [(n, p) for n in gallery_set for p in people[n][k:]]
    impostor = [p for n in names if n not in gallery_set for p in people[n]]
    if strangers:
        if not Path(strangers).is_dir():
            raise KioskError(f"--strangers {strangers} is not a folder of photos")
        impostor += sorted(p for p in Path(strangers).iterdir() if is_image_file(p))
    pair_rows = read_pairs(Path(pairs)) if pairs else []

    own_cache = cache is None
    cache = cache or FaceCache(settings, models)
    misses_before = cache.misses
    paths = sorted({p for ps in people.values() for p in ps} | set(impostor)
                   | {p for a, b, _, _ in pair_rows for p in (a, b)})
    records = cache.photos(paths, progress)
    computed = cache.misses - misses_before
    if own_cache:
        cache.close()
    info = models.embedder.info  # a file's own levels (ONNX metadata or sidecar) count
    model = info.name
    defaults = model_defaults(info)
    rule = settings.match_rule
    threshold = threshold if threshold is not None else (
        settings.threshold if settings.threshold is not None else defaults.threshold)
    dup_threshold = settings.duplicate_threshold or strict_threshold(info, threshold)
    out_threshold = settings.outlier_threshold or defaults.outlier
    skipped: list[tuple[str, str]] = []

    # --- enrollment, replayed as enroll-folder does it (never refusing anyone)
    enrolled: dict[str, np.ndarray] = {}
    in_template: dict[str, np.ndarray] = {}
    refused: list[str] = []
    warnings = outliers = 0
    live, order = Templates(), list[str]()  # the gallery as enrollment grows it
    for name, photos in gallery_set.items():
        found: list[np.ndarray] = []
        for path in photos:
            record = records[path]
            face = enrollment_face(record)
            why = record.error or ("no face" if not record.faces else None) or \
                ("several faces" if face is None else _gate(face, settings))
            if why or face is None:
                skipped.append((str(path), why or "several faces"))
            else:
                found.append(face.vector)
        if not found:
            refused.append(name)
            continue
        vectors = np.array(found, np.float32)
        ranked = [[(order[pid], s) for pid, s in row] for row in live.search(vectors, 3)]
        if duplicate_vote(ranked, name, dup_threshold, settings.match_margin):
            warnings += 1
        flags = outlier_flags(vectors, np.zeros((0, vectors.shape[1])), out_threshold)
        outliers += int(flags.sum())
        enrolled[name], in_template[name] = vectors, ~flags
        live.add(len(order), vectors, ~flags)
        order.append(name)

    # --- probes
    def probe_vectors(paths: list[Path]) -> tuple[list[int], np.ndarray, np.ndarray]:
        kept, vectors, rejected = [], [], []
        for i, path in enumerate(paths):
            face = probe_face(records[path])
            if face is None:
                skipped.append((str(path), records[path].error or "no face"))
                continue
            kept.append(i)
            vectors.append(face.vector)
            rejected.append(_gate(face, settings) is not None)
        dim = next(iter(enrolled.values())).shape[1] if enrolled else 1
        return kept, np.array(vectors, np.float32).reshape(-1, dim), np.array(rejected, bool)

    g_kept, g_vectors, g_rejected = probe_vectors([p for _, p in genuine])
    i_kept, i_vectors, i_rejected = probe_vectors(impostor)
    truth = [genuine[i][0] for i in g_kept]
    results = {}
    if enrolled:
        for r in rules:
            scorer = GalleryScorer(enrolled, r, in_template)
            results[r] = score_open_set(scorer, g_vectors, truth, i_vectors, threshold=threshold,
                                        margin=settings.match_margin, fpir_targets=fpir_targets,
                                        rejected_genuine=g_rejected,
                                        rejected_impostor=i_rejected)
    if rule not in results:
        raise KioskError(f"{root}: nobody could be enrolled with {k} photo(s) each")

    pairs_result = None
    if pair_rows:
        faces = [(probe_face(records[a]), probe_face(records[b])) for a, b, _, _ in pair_rows]
        valid = np.array([fa is not None and fb is not None for fa, fb in faces], bool)
        sims = np.array([float(fa.vector @ fb.vector) if fa is not None and fb is not None
                         else 0.0 for fa, fb in faces])
        pairs_result = ten_fold(sims, np.array([r[2] for r in pair_rows]),
                                np.array([r[3] for r in pair_rows]), valid)

    no_face = len(genuine) - len(g_kept) + len(impostor) - len(i_kept)
    return Evaluation(model=model, k=k, enrolled_people=len(enrolled),
                      enrolled_photos=sum(len(v) for v in enrolled.values()),
                      people_refused=refused, duplicate_warnings=warnings,
                      outliers_flagged=outliers, no_face=no_face,
                      low_quality=(int(g_rejected.sum()), int(i_rejected.sum())),
                      results=results, rule=rule, pairs=pairs_result,
                      seconds=time.perf_counter() - started, computed=computed, skipped=skipped)


def calibrate(models, settings: Settings, root: Path, *, target_far: float = 0.01,
              k: int = 3, strangers: Path | None = None,
              progress: Callable[[int, int], None] | None = None) -> tuple[float, Evaluation]:
    """The threshold giving ``target_far`` false accepts (FPIR) on the user's photos."""
    result = evaluate(models, settings, root, k=k, strangers=strangers, progress=progress,
                      fpir_targets=(target_far,), rules=(settings.match_rule,))
    if not result.main.impostors:
        raise KioskError("no impostor photos to calibrate with: pass --strangers DIR")
    return result.main.fnir_at_fpir[target_far][1], result


__all__ = ["Evaluation", "evaluate", "calibrate", "labelled_photos", "threshold_for_fpir"]
