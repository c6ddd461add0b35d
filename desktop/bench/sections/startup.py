"""Start-up to the first recognised frame (in fresh processes), and RSS over a long loop.

The child process imports in the window's order, so each phase is what a user waits for:
interpreter + OpenCV -> first camera frame; torch + engine imports; model load; database;
the first (cold) and second (warm) processed frame.
"""
from __future__ import annotations

import json
import sys
import time


def child_main() -> None:
    """Entry of the measured process: argv = spawn time, db dir, video or '-', group photo."""
    spawned, db_dir, video, group = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    marks = {"python": time.time() - spawned}
    import cv2
    import numpy as np
    if video != "-":
        cap = cv2.VideoCapture(video)
        frames = [cv2.cvtColor(cap.read()[1], cv2.COLOR_BGR2RGB) for _ in range(2)]
        cap.release()
    else:
        photo = cv2.cvtColor(cv2.imread(group), cv2.COLOR_BGR2RGB)
        frame = np.zeros((480, 640, 3), np.uint8)
        h, w = photo.shape[:2]
        frame[(480 - h) // 2:(480 - h) // 2 + h, (640 - w) // 2:(640 - w) // 2 + w] = photo
        frames = [frame, frame.copy()]
    marks["first_frame"] = time.time() - spawned
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.faces.networks import Models
    from desktop.engine.live.tracker import LiveRecognizer
    from desktop.engine.settings.file import load_settings
    marks["imports"] = time.time() - spawned
    settings = load_settings(db_dir)
    models = Models(settings)
    marks["models"] = time.time() - spawned
    marks["models_load_seconds"] = models.load_seconds
    engine = FaceEngine(settings, models)
    live = LiveRecognizer.from_settings(engine)
    marks["engine"] = time.time() - spawned
    started = time.perf_counter()
    first = live.process(frames[0])
    marks["first_process_ms"] = (time.perf_counter() - started) * 1000
    marks["first_result"] = time.time() - spawned
    started = time.perf_counter()
    live.process(frames[1])
    marks["second_process_ms"] = (time.perf_counter() - started) * 1000
    marks["faces"] = len(first.tracks)
    engine.close()
    print(json.dumps(marks), flush=True)


if __name__ == "__main__":
    child_main()
