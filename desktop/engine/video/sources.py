"""Where frames come from: a camera, a video file, a folder of photos or a stream URL.

Qt-free so it can be tested on its own. ``open_source`` turns the user's text into a
``Source``; ``feed.Feed`` keeps one running on a thread.
"""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from desktop.engine.core.errors import ImageError, SourceError
from desktop.engine.core.images import is_image_file, load_image

log = logging.getLogger(__name__)

try:  # OpenCV prints a warning line per failed camera probe; we report it ourselves
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
except AttributeError:  # pragma: no cover - very old OpenCV
    pass

STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
STILL_FPS = 10.0
"""A folder slideshow repeats each photo at this rate, like a camera pointed at a print:
the live recogniser needs several frames of a face to confirm its name."""
STREAM_TIMEOUT_MS = 5000
"""Open and read time-out for stream URLs, so a dead stream cannot hang the capture thread."""


# ----------------------------------------------------------------------------- sources
class Source:
    """One opened frame source. ``read`` returns RGB uint8 frames, or None at the end."""

    kind = "source"
    live = False
    """Frames arrive in real time (camera, stream): never paced, and an end is a drop-out."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.fps: float | None = None
        self.loops = 0
        """How many times a looping video has restarted from the beginning."""

    def open(self) -> None:
        raise NotImplementedError

    def read(self) -> np.ndarray | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return self.spec


def _rgb(bgr: np.ndarray) -> np.ndarray:
    if bgr.ndim == 2:
        return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class _CaptureSource(Source):
    """Shared by camera, video and stream: a cv2.VideoCapture delivering BGR frames."""

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        self._cap: cv2.VideoCapture | None = None

    def _capture(self) -> cv2.VideoCapture:
        raise NotImplementedError

    def _unavailable(self) -> str:
        raise NotImplementedError

    def open(self) -> None:
        self.close()
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise SourceError(self._unavailable())
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 240.0 else None
        self._cap = cap

    def _read_bgr(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        return frame if ok and frame is not None and frame.size else None

    def read(self) -> np.ndarray | None:
        frame = self._read_bgr()
        return None if frame is None else _rgb(frame)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class CameraSource(_CaptureSource):
    kind = "camera"
    live = True

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        self.index = int(spec)

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.index)

    def _unavailable(self) -> str:
        return f"No camera found at index {self.index}"

    def describe(self) -> str:
        return f"camera {self.index}"


class StreamSource(_CaptureSource):
    kind = "stream"
    live = True

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.spec, cv2.CAP_FFMPEG,
                                [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
                                 cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])

    def _unavailable(self) -> str:
        return f"Cannot connect to the stream {self.spec}"

    def describe(self) -> str:
        return f"stream {self.spec}"


class VideoFileSource(_CaptureSource):
    kind = "video"

    def __init__(self, spec: str, loop: bool = True) -> None:
        super().__init__(spec)
        self.path = Path(spec)
        self.loop = loop

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(str(self.path))

    def _unavailable(self) -> str:
        if not self.path.is_file():
            return f"Cannot play {self.path.name}: the file is gone"
        return f"Cannot play {self.path.name}: not a video format that can be read"

    def open(self) -> None:
        super().open()
        self.fps = self.fps or 25.0

    def read(self) -> np.ndarray | None:
        frame = self._read_bgr()
        if frame is None and self.loop:
            # reopening is more reliable than seeking back for every container format
            super().open()
            frame = self._read_bgr()
            if frame is not None:
                self.loops += 1
                log.info("%s restarted from the beginning (loop %d)", self.path.name, self.loops)
        return None if frame is None else _rgb(frame)

    def describe(self) -> str:
        return f"video {self.path.name}"


class FolderSource(Source):
    """A slideshow of the photos in a folder (or one photo), looping for ever."""

    kind = "folder"

    def __init__(self, spec: str, seconds: float = 1.5, fps: float = STILL_FPS,
                 loop: bool = True) -> None:
        super().__init__(spec)
        self.path = Path(spec)
        self.loop = loop
        """False: end after the last photo (``watch`` of a folder)."""
        self.repeats = max(1, round(seconds * fps))
        self.fps = fps
        self.files: list[Path] = []
        self._position = -1
        self._shown = 0
        self._current: np.ndarray | None = None

    def open(self) -> None:
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.iterdir() if is_image_file(p))
        else:
            self.files = [self.path] if is_image_file(self.path) else []
        if not self.files:
            raise SourceError(f"No photos found in {self.path}")
        self._position, self._shown, self._current = -1, 0, None

    def _advance(self) -> np.ndarray | None:
        """Load the next readable photo; None when a whole round found none."""
        for _ in range(len(self.files)):
            if not self.loop and self._position + 1 >= len(self.files):
                return None
            self._position = (self._position + 1) % len(self.files)
            if self._position == 0 and self._current is not None:
                self.loops += 1
            try:
                return load_image(self.files[self._position])
            except ImageError as exc:
                log.warning("Slideshow skips %s", exc)
        return None

    def read(self) -> np.ndarray | None:
        if self._current is None or self._shown >= self.repeats:
            self._current = self._advance()
            self._shown = 0
            if self._current is None:
                return None
        self._shown += 1
        return self._current

    @property
    def current_file(self) -> Path | None:
        return self.files[self._position] if self._position >= 0 else None

    def describe(self) -> str:
        return f"photos in {self.path.name}" if self.path.is_dir() else f"photo {self.path.name}"


def source_kind(spec: str) -> str:
    """'camera', 'stream', 'folder' or 'video' for what the user typed; SourceError if none."""
    text = spec.strip()
    if text.isdigit():
        return "camera"
    if text.lower().startswith(STREAM_SCHEMES):
        return "stream"
    path = Path(text).expanduser()
    if path.is_dir() or is_image_file(path):
        return "folder"
    if path.is_file():
        return "video"
    raise SourceError(f"No such camera, file or folder: {text or '(empty)'}")


def open_source(spec: str, *, loop_video: bool = True, slideshow_seconds: float = 1.5,
                loop_photos: bool = True) -> Source:
    """An unopened Source for ``spec`` (camera index, video, folder, photo or URL)."""
    kind = source_kind(spec)
    text = spec.strip()
    if kind == "camera":
        return CameraSource(text)
    if kind == "stream":
        return StreamSource(text)
    path = str(Path(text).expanduser())
    if kind == "folder":
        return FolderSource(path, slideshow_seconds, loop=loop_photos)
    return VideoFileSource(path, loop=loop_video)
