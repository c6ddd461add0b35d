"""The networks of one process (detector, face model, anti-spoofing) and the one thread
they run on."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from desktop.engine.decisions.liveness import check_mode
from desktop.engine.faces.detection import FaceDetector
from desktop.engine.faces.embedders import Embedder, load_embedder
from desktop.engine.settings.config import Settings

if TYPE_CHECKING:
    from desktop.engine.faces.antispoof import AntiSpoof

T = TypeVar("T")


class Models:
    """MTCNN and the face model (``Settings.model``), loaded once per process, run on one
    thread of their own.

    PyTorch's CPU kernels use libgomp, which gives every *calling* thread its own OpenMP
    team; on a 2-core machine a second calling thread made a small photo take ~120 ms
    instead of ~50 ms. So the networks are loaded on, and only ever run on, one thread;
    ``run`` hands work to it from any thread (window, HTTP pool, CLI) and waits.
    """

    def __init__(self, settings: Settings) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="inference")
        self._thread_id = self._thread.submit(threading.get_ident).result()
        started = time.perf_counter()
        self.detector, self.embedder = self.run(self._load, settings)
        self.load_seconds = time.perf_counter() - started
        self._settings = settings
        self._antispoof: AntiSpoof | None = None
        if check_mode(settings.liveness) != "off":
            self.run(self.antispoof)

    def antispoof(self) -> AntiSpoof:
        """The MiniFASNet pair, loaded on first use (call on the inference thread)."""
        if self._antispoof is None:
            from desktop.engine.faces.antispoof import AntiSpoof
            self._antispoof = AntiSpoof(self._settings.antispoof_weights, self._settings.device)
        return self._antispoof

    def liveness_scores(self, rgb: np.ndarray, boxes: list) -> np.ndarray:
        """P(real face) per box, computed on the inference thread."""
        return self.run(lambda: self.antispoof().score(rgb, boxes))

    @staticmethod
    def _load(settings: Settings) -> tuple[FaceDetector, Embedder]:
        embedder = load_embedder(settings)  # first: a wrong --model fails fast
        detector = build_detector(settings)
        return detector, embedder

    def run(self, func: Callable[..., T], *args: Any) -> T:
        """Call ``func`` on the inference thread; exceptions propagate to the caller."""
        if threading.get_ident() == self._thread_id:
            return func(*args)
        return self._thread.submit(func, *args).result()

    def submit(self, func: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``func`` for the inference thread without waiting (the HTTP service awaits
        the future, and cancels it if its client leaves before it starts)."""
        return self._thread.submit(func, *args)


def detector_kind(settings: Settings, live: bool = False) -> str:
    """'mtcnn' or 'yunet': the detector for photos, or with ``live`` for the live loop."""
    if live and settings.live_detector != "same":
        return settings.live_detector
    return settings.detector


def build_detector(settings: Settings, live: bool = False) -> FaceDetector:
    """The detector the settings describe (for the live loop with ``live``): the one place
    a detector is configured. A YuNet detector answers exactly as a FaceDetector does."""
    mtcnn = FaceDetector(min_face_size=settings.min_face_size,
                         thresholds=settings.det_thresholds, min_prob=settings.min_det_prob,
                         max_side=settings.detect_max_side, device=settings.device)
    if detector_kind(settings, live) == "yunet":
        from desktop.engine.faces.yunet import YuNetDetector
        return YuNetDetector(mtcnn,  # type: ignore[return-value]
                             refine=not (live and points_only(settings)))
    return mtcnn


def points_only(settings: Settings) -> bool:
    """Whether the live loop takes YuNet's own points (``Settings.yunet_points_only``):
    only for reid, whose crop needs only the five points, not MTCNN's box (measured:
    docs/models.md), and not with passive liveness, whose MiniFASNet crops were measured
    on MTCNN's boxes."""
    return settings.yunet_points_only and settings.model.strip().lower() == "reid" and \
        settings.liveness not in ("passive", "both")
