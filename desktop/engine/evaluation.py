"""Accuracy on the user's own labelled photos, and the threshold calibrated from it.

Protocol (open-set identification, as in NIST FRVT): of every person in DIR/<person>/,
the first K photos (sorted by name) are enrolled into a throw-away gallery and the rest
are genuine probes; every fifth person (sorted) is held out, never enrolled, and their
photos join ``strangers`` as impostor probes. The same engine code enrolls and matches.
"""
from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Settings
from .errors import FaceCountError, ImageError, KioskError
from .images import is_image_file, load_image
from .recognizer import FaceEngine, Models, subject_face

log = logging.getLogger(__name__)

HOLDOUT_EVERY = 5


@dataclass
class Evaluation:
    enrolled_people: int
    enrolled_photos: int
    genuine_probes: int
    impostor_probes: int
    skipped: list[tuple[str, str]]
    threshold: float
    margin: float
    rank1: float
    false_accept_rate: float
    """Impostor probes that were given a name."""
    false_reject_rate: float
    """Genuine probes not given their own name (rejected or misidentified)."""
    misidentification_rate: float
    """Genuine probes given somebody else's name."""
    fnir_at_fpir: dict[float, tuple[float, float]]
    """FPIR target -> (FNIR, threshold that achieves it)."""

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["fnir_at_fpir"] = {f"{k:.2f}": {"fnir": v[0], "threshold": v[1]}
                                for k, v in self.fnir_at_fpir.items()}
        data["skipped"] = len(self.skipped)
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


def threshold_for_fpir(impostor_scores: np.ndarray, fpir: float) -> float:
    """Smallest threshold at which at most ``fpir`` of impostor top scores reach it."""
    if len(impostor_scores) == 0:
        raise KioskError("no impostor probes: add strangers or more people to calibrate")
    ordered = np.sort(impostor_scores)[::-1]
    allowed = int(np.floor(fpir * len(ordered)))
    return float(np.nextafter(ordered[allowed], np.float32(2))) if allowed < len(ordered) else -1.0


def evaluate(models: Models, settings: Settings, root: Path, *, k: int = 3,
             strangers: Path | None = None, threshold: float | None = None,
             progress: Callable[[int, int], None] | None = None,
             fpir_targets: tuple[float, ...] = (0.01, 0.05)) -> Evaluation:
    people = labelled_photos(Path(root))
    names = sorted(people)
    held_out = set(names[HOLDOUT_EVERY - 1::HOLDOUT_EVERY]) if len(names) >= HOLDOUT_EVERY else set()
    gallery_set = {n: people[n][:k] for n in names if n not in held_out}
    genuine = [(n, p) for n in gallery_set for p in people[n][k:]]
    impostor = [p for n in held_out for p in people[n]]
    if strangers:
        if not Path(strangers).is_dir():
            raise KioskError(f"--strangers {strangers} is not a folder of photos")
        impostor += sorted(p for p in Path(strangers).iterdir() if is_image_file(p))
    total = sum(len(v) for v in gallery_set.values()) + len(genuine) + len(impostor)
    done = 0
    skipped: list[tuple[str, str]] = []

    with tempfile.TemporaryDirectory(prefix="kiosk-eval-") as tmp:
        engine = FaceEngine(dataclasses.replace(settings, db_dir=Path(tmp), threshold=threshold),
                            models)

        def crop_of(path: Path) -> np.ndarray | None:
            nonlocal done
            done += 1
            if progress:
                progress(done, total)
            try:
                return subject_face(engine.faces(load_image(path))).crop
            except (ImageError, FaceCountError) as exc:
                skipped.append((str(path), str(exc)))
                return None

        enrolled_photos = 0
        for name, photos in gallery_set.items():
            pairs = [(c, str(p)) for p in photos if (c := crop_of(p)) is not None]
            if pairs:
                crops = [c for c, _ in pairs]
                engine.gallery.add_samples(name, engine.embed(crops), crops, [s for _, s in pairs])
                enrolled_photos += len(pairs)

        def probe(paths: list[Path]) -> tuple[list[int], np.ndarray]:
            kept, crops = [], []
            for i, path in enumerate(paths):
                crop = crop_of(path)
                if crop is not None:
                    kept.append(i)
                    crops.append(crop)
            return kept, engine.embed(crops)

        g_kept, g_vectors = probe([p for _, p in genuine])
        i_kept, i_vectors = probe(impostor)
        truth = [genuine[i][0] for i in g_kept]
        used_threshold = engine.threshold
        g_ranked = engine.search_gallery(g_vectors, 2)
        i_ranked = engine.search_gallery(i_vectors, 2)
        g_matches = engine.match(g_vectors)
        i_matches = engine.match(i_vectors)
        engine.close()

    top_name = [r[0][0] if r else None for r in g_ranked]
    g_top = np.array([r[0][1] if r else -1.0 for r in g_ranked])
    i_top = np.array([r[0][1] if r else -1.0 for r in i_ranked])
    correct = np.array([t == n for t, n in zip(truth, top_name)], bool)
    accepted_right = np.array([m.name == t for m, t in zip(g_matches, truth)], bool)
    accepted_wrong = np.array([m.name is not None and m.name != t
                               for m, t in zip(g_matches, truth)], bool)
    fnir = {}
    for target in fpir_targets:
        if len(i_top):
            t = threshold_for_fpir(i_top, target)
            fnir[target] = (float(np.mean(~(correct & (g_top >= t)))) if len(g_top) else 0.0, t)
    n_g, n_i = max(len(truth), 1), max(len(i_top), 1)
    return Evaluation(
        enrolled_people=len(gallery_set), enrolled_photos=enrolled_photos,
        genuine_probes=len(truth), impostor_probes=len(i_top), skipped=skipped,
        threshold=used_threshold, margin=settings.match_margin,
        rank1=float(correct.sum() / n_g),
        false_accept_rate=float(sum(m.name is not None for m in i_matches) / n_i),
        false_reject_rate=float((~accepted_right).sum() / n_g),
        misidentification_rate=float(accepted_wrong.sum() / n_g),
        fnir_at_fpir=fnir)


def calibrate(models: Models, settings: Settings, root: Path, *, target_far: float = 0.01,
              k: int = 3, strangers: Path | None = None,
              progress: Callable[[int, int], None] | None = None) -> tuple[float, Evaluation]:
    """The threshold giving ``target_far`` false accepts on the user's photos."""
    result = evaluate(models, settings, root, k=k, strangers=strangers, progress=progress,
                      fpir_targets=(target_far,))
    if target_far not in result.fnir_at_fpir:
        raise KioskError("no impostor photos to calibrate with: pass --strangers DIR")
    return result.fnir_at_fpir[target_far][1], result
