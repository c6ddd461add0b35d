"""Fast tier: ``watch`` on synthetic detections and vectors (tests/synthetic.py) over a
real gallery: every frame of a file on its own clock, or paced like a camera."""
from __future__ import annotations

import pytest
from synthetic import enroll, face, script, synthetic_engine
from test_sources import write_video

from desktop.cli import main
from desktop.engine.live.watch import Watcher, event_json, frame_json


@pytest.fixture
def synthetic(tmp_path):
    engine = synthetic_engine(tmp_path / "db", loop_video=False, motion_gating=False)
    enroll(engine, "Ada", 1)
    ada = [face((10, 10, 40, 40), 1)]
    script(engine).update({value: ada for value in (0, 255)})  # every frame of write_video
    yield engine
    engine.close()


def test_a_file_is_watched_frame_by_frame_on_its_own_clock(synthetic, tmp_path):
    clip = write_video(tmp_path / "clip.avi", frames=12, fps=30)
    seen, events, visitors = [], [], set()

    def show(watched) -> None:
        seen.append(frame_json(watched))
        events.extend(event_json(watched, visitors))

    last = Watcher(synthetic, str(clip)).run(show)
    assert last is not None and last.state.value == "ended"
    assert [f["frame"] for f in seen] == list(range(12))
    assert [f["t"] for f in seen] == [round(i / 30, 3) for i in range(12)]
    assert seen[0]["faces"][0]["name"] == "Ada"  # decisive: shown at once
    assert seen[0]["faces"][0]["box"] == [10, 10, 40, 40]
    assert [e["event"] for e in events] == ["checkin"] and events[0]["frame"] == 1
    assert [r.name for r in synthetic.attendance.day()] == ["Ada"]


def test_realtime_runs_the_windows_pipeline_and_ends_with_the_file(synthetic, tmp_path):
    clip = write_video(tmp_path / "clip.avi", frames=10, fps=50)
    seen = []
    watcher = Watcher(synthetic, str(clip), realtime=True, record_attendance=False)
    last = watcher.run(lambda watched: seen.append(frame_json(watched)))
    assert last is not None and last.state.value == "ended"
    frames = [f["frame"] for f in seen]
    assert frames and frames == sorted(set(frames)) and frames[-1] <= 9
    assert synthetic.attendance.day() == []  # not recorded


def test_a_typo_is_one_line_before_anything_loads(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "db"), "watch", str(tmp_path / "nope.mp4")]) == 2
    assert capsys.readouterr().err.strip() == \
        f"error: No such camera, file or folder: {tmp_path / 'nope.mp4'}"
