"""The kiosk window when the video it plays is deleted mid-play and later restored: it
says so and retries (never "live" without frames), then plays again by itself."""
from __future__ import annotations

import shutil

from gui_helpers import WAIT, states

from desktop.engine.video.feed import SourceState


def test_a_deleted_video_is_retried_never_live_and_recovers(settings, faces_dir, open_window,
                                                            qtbot, tmp_path):
    settings.reconnect_max_seconds = 0.5
    original = next((faces_dir / "video").glob("*.mp4"))
    clip = tmp_path / "desk.mp4"
    shutil.copy(original, clip)
    window = open_window(str(clip))
    record: list = []
    states(window, record)
    message = window.video.message
    qtbot.waitUntil(lambda: window.source.live_now and window.video.frame is not None,
                    timeout=WAIT)
    clip.unlink()  # the open file plays on; the reopen at its loop fails
    qtbot.waitUntil(lambda: record.count(SourceState.RETRYING) >= 2, timeout=60_000)
    assert not window.source.live_now
    assert window.status.source.text().endswith("reconnecting")
    assert "live" not in window.status.source.text()
    assert message.isVisible() and message.title.text() == "No picture"
    assert "desk.mp4 can no longer be read" in message.detail.text()
    assert window.video.frame is None  # the last picture and its boxes are gone
    assert SourceState.FAILED not in record

    shutil.copy(original, clip)
    qtbot.waitUntil(lambda: window.source.live_now and not message.isVisible(),
                    timeout=WAIT)
    qtbot.waitUntil(lambda: window.video.frame is not None, timeout=WAIT)
