"""Shared fixtures: the real models loaded once per session, real photos, temp databases.

Photos come from ../shared/faces (override with KIOSK_FACES); the CASIA-WebFace FaceNet
weights from ../shared/models (override with FACENET_WEIGHTS), Intel's reid model from
../shared/models/face-reidentification-retail-0095 (override with REID_WEIGHTS). Tests that
need them skip with the reason when they are absent.
"""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
# Tests live in tests/unit/<package>/, tests/integration/ and tests/gui/ and share a few
# helpers by module name (``from test_server import running``): every folder is importable.
for _folder in sorted({p.parent for p in Path(__file__).parent.rglob("test_*.py")}):
    if str(_folder) not in sys.path:
        sys.path.append(str(_folder))
FACES = Path(os.environ.get("KIOSK_FACES", ROOT.parent / "shared" / "faces"))
WEIGHTS = Path(os.environ.get("FACENET_WEIGHTS", ROOT.parent / "shared" / "models" /
                              "20180408-102900-casia-webface-features.pt"))
REID = Path(os.environ.get("REID_WEIGHTS", ROOT.parent / "shared" / "models" /
                           "face-reidentification-retail-0095"))
"""A folder laid out as --reid-weights expects (FP16/face-reidentification-retail-0095.*)."""
ANTISPOOF = Path(os.environ.get("ANTISPOOF_WEIGHTS", ROOT.parent / "shared" / "models" /
                                "anti_spoof"))

needs_faces = pytest.mark.skipif(not FACES.is_dir(),
                                 reason=f"face photos not found at {FACES} (set KIOSK_FACES)")


def kill_mid_write(script: str, after: int) -> int:
    """Run ``script`` (which prints a counter after each commit) in a child process and
    SIGKILL it once ``after`` commits are reported; returns the last reported counter."""
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    committed = -1
    for line in proc.stdout:
        committed = int(line)
        if committed >= after:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return committed


def person_photos(name: str) -> list[Path]:
    return sorted((FACES / "people" / name).iterdir())


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    if not FACES.is_dir():
        pytest.skip(f"face photos not found at {FACES} (set KIOSK_FACES)")
    return FACES


@pytest.fixture(scope="session")
def weights_path() -> Path:
    if not WEIGHTS.is_file():
        pytest.skip(f"FaceNet weights not found at {WEIGHTS} (set FACENET_WEIGHTS)")
    return WEIGHTS


@pytest.fixture(scope="session")
def models(weights_path):
    """MTCNN + FaceNet (CASIA-WebFace weights), loaded once for the whole run."""
    from desktop.engine.faces.networks import Models
    from desktop.engine.settings.config import Settings
    return Models(Settings(weights=str(weights_path), antispoof_weights=str(ANTISPOOF)))


@pytest.fixture(scope="session")
def reid_dir() -> Path:
    if not (REID / "FP16" / "face-reidentification-retail-0095.xml").is_file():
        pytest.skip(f"reid model files not found in {REID} (set REID_WEIGHTS)")
    return REID


@pytest.fixture(scope="session")
def reid_models(weights_path, reid_dir):
    """MTCNN + Intel's reid network through the engine's Models class (--model reid)."""
    from desktop.engine.faces.networks import Models
    from desktop.engine.settings.config import Settings
    return Models(Settings(model="reid", weights=str(weights_path), reid_weights=str(reid_dir)))


@pytest.fixture(scope="session")
def dlib_models(weights_path):
    """MTCNN + dlib through the same Models class the engine uses (--model dlib)."""
    from desktop.engine.faces.networks import Models
    from desktop.engine.settings.config import Settings
    return Models(Settings(model="dlib", weights=str(weights_path)))


@pytest.fixture
def settings(tmp_path, weights_path):
    from desktop.engine.settings.file import load_settings
    return load_settings(tmp_path / "db", weights=str(weights_path),
                         antispoof_weights=str(ANTISPOOF))


@pytest.fixture
def engine(settings, models):
    """A FaceEngine over a fresh SQLite database in a temp dir, sharing the session models."""
    from desktop.engine.facade.face_engine import FaceEngine
    eng = FaceEngine(settings, models)
    yield eng
    eng.close()


@pytest.fixture
def open_window(engine, qtbot):
    """Build MainWindows over the test engine; threads are stopped at teardown."""
    from desktop.gui.main_window import MainWindow
    windows: list = []

    def make(source: str):
        window = MainWindow(engine, source=source)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window
    yield make
    for window in windows:
        window.shutdown()


@pytest.fixture(autouse=True)
def gui_thread_gc():
    """The window's rule (desktop/gui/gc_guard.py): once Qt objects exist, cyclic garbage
    is freed on the GUI thread only. Here that is the test's thread, after every test."""
    yield
    if "PyQt5.QtWidgets" in sys.modules:
        from desktop.gui.gc_guard import install_gui_gc
        install_gui_gc()  # nothing without a QApplication
    if not gc.isenabled():
        gc.collect()


@pytest.fixture(scope="session")
def load():
    from desktop.engine.core.images import load_image

    def _load(path: Path) -> np.ndarray:
        return load_image(path)
    return _load


def checkpointed(db) -> None:
    """Wait until the WAL checkpoint completes (another process may still be reading)."""
    import time
    for _ in range(50):
        if db.checkpoint():
            return
        time.sleep(0.05)
    pytest.fail("the WAL checkpoint never completed")


@pytest.fixture
def synthetic(tmp_path):
    """The fast tier's engine: the real FaceEngine with the fake networks of synthetic.py,
    Ada (person 1) and Grace (person 2) enrolled."""
    from synthetic import enroll, synthetic_engine
    engine = synthetic_engine(tmp_path / "db")
    enroll(engine, "Ada", 1)
    enroll(engine, "Grace", 2)
    yield engine
    engine.close()


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test that needs the real weights (directly or through the ``models``,
    ``settings`` or ``engine`` fixtures) as ``model``: ``pytest -m "not model"`` is the
    fast tier, ``make test`` runs both."""
    for item in items:
        if {"models", "weights_path"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


from pg_support import pg_server, pg_url  # noqa: E402,F401  (PostgreSQL fixtures)
