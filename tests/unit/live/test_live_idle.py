"""Motion gating in the real pipeline (real models, real video files): an empty hallway
puts it to idle, a face walking in wakes it at once. Speed targets live in the bench."""
from __future__ import annotations

import threading

from conftest import person_photos

from desktop.bench.data import single_face_sequence
from desktop.bench.play import write_clip
from desktop.bench.sections.kiosk_load import hallway_clip
from desktop.engine.live.apply_settings import reconfigure
from desktop.engine.live.pipeline import LivePipeline, PipelineListener
from desktop.engine.video.motion import MotionGate


class Watch(PipelineListener):
    def __init__(self) -> None:
        self.source_id = 0
        self.index: dict[int, int] = {}
        self.frames = 0
        self.results: list[tuple[int, int, float]] = []
        """(frame index in the source, faces, time ready)."""
        self.activity: list[bool] = []
        self.changes: list[tuple[bool, int]] = []
        """(active, frames captured by then)."""
        self.ended = threading.Event()

    def on_source(self, spec, source_id) -> None:
        self.source_id, self.frames = source_id, 0
        self.results, self.activity, self.changes = [], [], []
        self.ended.clear()

    def on_frame(self, frame, source_id) -> None:
        if source_id == self.source_id:
            self.index[frame.seq] = self.frames
            self.frames += 1

    def on_status(self, status, source_id) -> None:
        if source_id == self.source_id and status.state.value in ("ended", "failed"):
            self.ended.set()

    def on_result(self, recognition) -> None:
        index = self.index.get(recognition.frame_seq)
        if index is not None:
            self.results.append((index, len(recognition.tracks), recognition.finished))

    def on_activity(self, active: bool) -> None:
        self.activity.append(active)
        self.changes.append((active, self.frames))


def test_an_empty_hallway_idles_and_a_face_wakes_the_pipeline(engine, faces_dir, tmp_path):
    reconfigure(engine, {"loop_video": False, "motion_gating": True, "idle_detect_fps": 2.0,
                         "motion_hold_seconds": 1.0})
    watch = Watch()
    pipeline = LivePipeline(engine, record_attendance=False)
    assert isinstance(pipeline.gate, MotionGate)
    pipeline.add_listener(watch)
    pipeline.start()
    try:
        hallway = hallway_clip(faces_dir, tmp_path, seconds=5.0)
        pipeline.set_source(str(hallway.path))
        assert watch.ended.wait(60)
        assert watch.activity and watch.activity[-1] is False, "never went idle"
        assert not pipeline.active
        assert all(faces == 0 for _, faces, _ in watch.results)
        # after the first second (start-up hold): about 2 recognitions a second
        idle = [i for i, _, _ in watch.results if i >= 45]
        seconds = (hallway.frames - 45) / hallway.fps
        assert len(idle) <= 3 * seconds + 1, (len(idle), seconds)
        assert len(idle) >= 1

        visitor = person_photos("Adam_Sandler")[-1]
        sequence = single_face_sequence(faces_dir, [("Adam Sandler", visitor)],
                                        show_seconds=2.0, gap_seconds=2.5)
        clip = write_clip(sequence, tmp_path / "face")
        appears = sequence.appearances[0].start
        pipeline.set_source(str(clip.path))
        assert watch.ended.wait(60)
        before = [i for i, _, _ in watch.results if 30 <= i < appears]
        assert len(before) < (appears - 30) / 3, "not idle before the face came"
        seen = [i for i, faces, _ in watch.results if faces]
        assert seen, "the face was never detected"
        assert True in watch.activity[watch.activity.index(False):], "never woke up"
        # woken on the frame the face appeared (or the next free one): not at the idle tick
        assert seen[0] - appears <= 6, (seen[0], appears)
        # and stays awake (every newest frame recognised) while the face is there
        gone = sequence.appearances[0].end
        assert not [n for active, n in watch.changes if not active and appears < n < gone]
    finally:
        pipeline.stop()


def test_yunet_regions_find_mtcnns_faces_and_a_missing_file_falls_back(engine, load,
                                                                        monkeypatch):
    from desktop.engine.core.geometry import iou
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.faces.networks import build_detector
    from desktop.engine.faces.yunet import YuNetDetector, yunet_path
    if not yunet_path().is_file():
        import pytest
        pytest.skip(f"no YuNet model at {yunet_path()}")
    photo = load(person_photos("Adam_Sandler")[0])
    mtcnn = engine.detector.detect(photo)
    yunet = engine.models.run(YuNetDetector, engine.detector).detect(photo)
    assert len(mtcnn) == len(yunet) >= 1
    assert iou(mtcnn[0].box, yunet[0].box) > 0.8
    assert abs(mtcnn[0].prob - yunet[0].prob) < 0.05

    monkeypatch.setenv("KIOSK_YUNET", "/no/such/yunet.onnx")
    assert isinstance(build_detector(engine.settings, live=False), type(engine.detector))
    engine.settings.live_detector = "yunet"
    other = FaceEngine(engine.settings, engine.models)
    try:
        assert other.live_detector is other.detector  # MTCNN, with a warning in the log
    finally:
        other.close()
