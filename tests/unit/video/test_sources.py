"""Frame sources without Qt: kinds, pacing, looping, slideshow, reconnect with back-off."""
from __future__ import annotations

import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop.engine.core.errors import SourceError
from desktop.engine.video.feed import Backoff, Feed, LatestFrame, SourceState
from desktop.engine.video.sources import FolderSource, StreamSource, VideoFileSource, open_source, source_kind

COLOURS_BGR = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def write_video(path: Path, frames: int = 6, fps: float = 30.0) -> Path:
    """A tiny MJPEG .avi whose frames cycle through blue, green, red (BGR order)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((48, 64, 3), COLOURS_BGR[i % 3], np.uint8))
    writer.release()
    return path


class Recorder:
    """Collects what a Feed reports, from the feed's thread."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.statuses = []
        self.stop = threading.Event()

    def states(self) -> list[SourceState]:
        return [s.state for s in self.statuses]

    def run(self, feed: Feed) -> threading.Thread:
        thread = threading.Thread(target=feed.run, args=(self.stop, self.frames.append,
                                                         self.statuses.append), daemon=True)
        thread.start()
        return thread


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# ----------------------------------------------------------------------------- kinds
def test_source_kind_from_what_the_user_typed(tmp_path):
    video = write_video(tmp_path / "clip.avi")
    photo = tmp_path / "me.jpg"
    cv2.imwrite(str(photo), np.zeros((8, 8, 3), np.uint8))
    assert source_kind("0") == "camera"
    assert source_kind(" 2 ") == "camera"
    assert source_kind("rtsp://10.0.0.5/live") == "stream"
    assert source_kind("http://cam.local/video.mjpg") == "stream"
    assert source_kind(str(tmp_path)) == "folder"
    assert source_kind(str(photo)) == "folder"
    assert source_kind(str(video)) == "video"
    with pytest.raises(SourceError, match="No such camera, file or folder"):
        source_kind(str(tmp_path / "missing.mp4"))
    assert isinstance(open_source(str(video), loop_video=False), VideoFileSource)
    assert isinstance(open_source("rtsp://10.0.0.5/live"), StreamSource)


def test_backoff_doubles_up_to_the_cap_and_resets():
    backoff = Backoff(cap=10.0, first=0.5)
    assert [backoff.next() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert backoff.next() == 0.5
    assert Backoff(cap=0.2, first=0.5).next() == 0.2


# ----------------------------------------------------------------------------- sources
def test_video_file_gives_rgb_frames_and_loops(tmp_path):
    source = VideoFileSource(str(write_video(tmp_path / "clip.avi", frames=6)), loop=True)
    source.open()
    assert source.fps == pytest.approx(30.0)
    frames = [source.read() for _ in range(8)]
    source.close()
    assert all(f.dtype == np.uint8 and f.shape == (48, 64, 3) for f in frames)
    first = frames[0][24, 32]
    assert first[2] > 200 and first[0] < 60, "BGR blue must arrive as RGB blue"
    assert source.loops == 1
    np.testing.assert_allclose(frames[6].astype(int), frames[0].astype(int), atol=8)


def test_video_file_without_loop_ends(tmp_path):
    source = VideoFileSource(str(write_video(tmp_path / "clip.avi", frames=3)), loop=False)
    source.open()
    assert [source.read() is not None for _ in range(4)] == [True, True, True, False]


def test_real_video_frames_are_full_size_rgb(faces_dir):
    source = open_source(str(faces_dir / "video" / "facenet-pytorch_video.mp4"))
    source.open()
    frame = source.read()
    source.close()
    assert frame.shape == (1080, 1920, 3) and frame.dtype == np.uint8
    assert source.fps == pytest.approx(25.0)


def test_folder_slideshow_repeats_each_photo_then_moves_on(tmp_path, faces_dir):
    photos = sorted((faces_dir / "people" / "Rose_Leslie").iterdir())[:2]
    for photo in photos:
        shutil.copy(photo, tmp_path / photo.name)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    source = FolderSource(str(tmp_path), seconds=0.3, fps=10)
    source.open()
    assert source.repeats == 3
    shown = []
    for _ in range(9):
        frame = source.read()
        assert frame is not None and frame.dtype == np.uint8 and frame.ndim == 3
        shown.append(source.current_file.name)
    # broken.jpg sorts first and is skipped with a warning; the slideshow loops
    assert shown == [photos[0].name] * 3 + [photos[1].name] * 3 + [photos[0].name] * 3
    assert source.loops == 1


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="No photos found"):
        FolderSource(str(tmp_path)).open()


# ----------------------------------------------------------------------------- feed
def test_feed_retries_a_missing_camera_with_backoff_and_stops_promptly():
    index = next(i for i in range(7, 64) if not Path(f"/dev/video{i}").exists())
    feed = Feed(str(index), reconnect_max_seconds=0.2, first_retry_seconds=0.05)
    rec = Recorder()
    thread = rec.run(feed)
    wait_for(lambda: rec.states().count(SourceState.RETRYING) >= 4)
    rec.stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert rec.frames == []
    retries = [s for s in rec.statuses if s.state is SourceState.RETRYING]
    assert f"No camera found at index {index}" in retries[0].message
    assert [s.retry_in for s in retries[:4]] == [0.05, 0.1, 0.2, 0.2]


def test_feed_paces_a_video_and_reports_its_end(tmp_path):
    feed = Feed(str(write_video(tmp_path / "clip.avi", frames=6, fps=20)), loop_video=False)
    rec = Recorder()
    started = time.monotonic()
    rec.run(feed).join(timeout=10)
    elapsed = time.monotonic() - started
    assert len(rec.frames) == 6
    assert rec.states()[-1] is SourceState.ENDED
    assert SourceState.LIVE in rec.states()
    assert elapsed >= 4 / 20, "frames of a file are paced at its frame rate"


def test_feed_loops_a_video(tmp_path):
    feed = Feed(str(write_video(tmp_path / "clip.avi", frames=4, fps=100)), loop_video=True)
    rec = Recorder()
    thread = rec.run(feed)
    wait_for(lambda: len(rec.frames) >= 10)
    rec.stop.set()
    thread.join(timeout=5)
    assert any(s.loops >= 1 for s in rec.statuses)
    assert SourceState.ENDED not in rec.states()


def test_feed_fails_once_for_a_missing_file(tmp_path):
    rec = Recorder()
    rec.run(Feed(str(tmp_path / "nope.mp4"))).join(timeout=5)
    assert rec.states()[-1] is SourceState.FAILED
    assert "No such camera, file or folder" in rec.statuses[-1].message


class _MjpegHandler(BaseHTTPRequestHandler):
    """An IP camera that hangs up after a few frames on every connection."""
    frames_per_connection = 5

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.connections += 1
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        for i in range(self.frames_per_connection):
            ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 40 * i, np.uint8))
            self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                             % len(jpeg) + jpeg.tobytes() + b"\r\n")
            time.sleep(0.02)

    def log_message(self, *args) -> None:
        pass


def test_feed_reconnects_a_stream_that_drops_out():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MjpegHandler)
    server.connections = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        feed = Feed(f"http://127.0.0.1:{server.server_port}/video.mjpg",
                    reconnect_max_seconds=0.2, first_retry_seconds=0.05)
        rec = Recorder()
        thread = rec.run(feed)
        wait_for(lambda: server.connections >= 2 and len(rec.frames) > 5, timeout=30)
        rec.stop.set()
        thread.join(timeout=10)
    finally:
        server.shutdown()
    states = rec.states()
    first_drop = states.index(SourceState.RETRYING)
    assert SourceState.LIVE in states[:first_drop] and SourceState.LIVE in states[first_drop:]
    assert "stopped sending pictures" in rec.statuses[first_drop].message
    assert rec.frames[0].shape == (48, 64, 3)


# ----------------------------------------------------------------------------- hand-over
def test_latest_frame_hands_over_only_the_newest():
    slot = LatestFrame()
    assert slot.wait_newer(0, timeout=0.01) is None
    slot.put(np.zeros((2, 2, 3), np.uint8))
    second = slot.put(np.ones((2, 2, 3), np.uint8))
    got = slot.wait_newer(0, timeout=1)
    assert got is second and got.seq == 2
    assert slot.wait_newer(got.seq, timeout=0.01) is None
    waiter: list = []
    thread = threading.Thread(target=lambda: waiter.append(slot.wait_newer(2, timeout=5)))
    thread.start()
    third = slot.put(np.ones((2, 2, 3), np.uint8))
    thread.join(timeout=5)
    assert waiter == [third]


def test_a_video_that_vanishes_mid_play_is_retried_and_recovers(tmp_path, faces_dir):
    """The real clip, deleted while it plays: the reopen at its loop is a drop-out to
    retry (never a crash, never 'live' without frames), and the restored file plays."""
    original = next((faces_dir / "video").glob("*.mp4"))
    clip = tmp_path / "desk.mp4"
    shutil.copy(original, clip)
    statuses, frames, stop = [], [], threading.Event()
    feed = Feed(str(clip), loop_video=True, paced=False, reconnect_max_seconds=0.2,
                first_retry_seconds=0.05)
    thread = threading.Thread(target=feed.run, args=(stop, lambda rgb: frames.append(1),
                                                     statuses.append), daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(frames) >= 5)
        clip.unlink()  # mid-play: the open handle reads on, the reopen to loop fails
        wait_for(lambda: any(s.state is SourceState.RETRYING for s in statuses), timeout=60)
        seen = len(frames)
        first = next(s for s in statuses if s.state is SourceState.RETRYING)
        assert "desk.mp4" in first.message and "can no longer be read" in first.message
        wait_for(lambda: sum(s.state is SourceState.RETRYING for s in statuses) >= 3)
        assert len(frames) == seen and statuses[-1].state is not SourceState.LIVE
        assert SourceState.FAILED not in [s.state for s in statuses]  # it keeps trying
        shutil.copy(original, clip)
        wait_for(lambda: len(frames) > seen + 5, timeout=60)
    finally:
        stop.set()
        thread.join(timeout=10)
    states = [s.state for s in statuses]
    drop = states.index(SourceState.RETRYING)
    assert SourceState.LIVE in states[drop:]  # recovered: live again, with frames
    assert not thread.is_alive()


def test_a_folder_without_loop_ends_after_its_last_photo(tmp_path, faces_dir):
    for photo in sorted((faces_dir / "unknown").glob("*.jpg"))[:2]:
        shutil.copy(photo, tmp_path / photo.name)
    source = open_source(str(tmp_path), slideshow_seconds=0.2, loop_photos=False)
    source.open()
    shown = 0
    while source.read() is not None:
        shown += 1
        assert shown < 100, "a folder without loop must end"
    assert shown == 2 * 2  # two photos, 0.2 s each at 10 frames a second
