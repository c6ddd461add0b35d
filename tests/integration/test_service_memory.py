"""Memory of the deployed service (``python main.py serve`` in its own process) under
uploads that are small on the wire and huge once decoded: two concurrent enrollments of
ten flat 36-megapixel PNGs each. Memory is measured from outside, in /proc."""
from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import person_photos
from PIL import Image
from served import serving

SIDE = 6000                  # 36 MP
PHOTOS = 10
LIMIT_MB = 1500              # peak above idle


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for process {pid}")


def flat_png(face: Path) -> bytes:
    """A 36 MP grey canvas with the face photo, enlarged, in the middle: a real enrollment
    photo that PNG compresses to a few hundred KB."""
    canvas = Image.new("RGB", (SIDE, SIDE), (128, 128, 128))
    photo = Image.open(face).convert("RGB")
    photo = photo.resize((photo.width * 3, photo.height * 3), Image.Resampling.BILINEAR)
    canvas.paste(photo, ((SIDE - photo.width) // 2, (SIDE - photo.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def served(tmp_path_factory, weights_path) -> Iterator[tuple[str, int]]:
    """(base URL, pid) of ``serve`` over an empty gallery."""
    db = tmp_path_factory.mktemp("memory") / "db"
    with serving(str(db), str(weights_path)) as served:
        yield served.url, served.proc.pid


def test_two_concurrent_enrollments_of_ten_36mp_pngs_stay_bounded(served):
    url, pid = served
    kit, rose = person_photos("Kit_Harington")[0], person_photos("Rose_Leslie")[0]
    pngs = {"Memory_Kit": flat_png(kit), "Memory_Rose": flat_png(rose)}
    uploaded = sum(len(p) for p in pngs.values()) * PHOTOS
    with httpx.Client(base_url=url, timeout=600) as http:   # warm up: models run once
        assert http.post("/recognize", files=[("image", ("k.jpg", kit.read_bytes(),
                                                         "image/jpeg"))]).status_code == 200
    time.sleep(1)
    idle = rss_mb(pid)
    Path(f"/proc/{pid}/clear_refs").write_text("5")   # reset the peak (VmHWM) to now
    peak, stop = [idle], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak.append(rss_mb(pid))
            time.sleep(0.01)

    def enroll(name: str) -> httpx.Response:
        files = [("images", (f"{name}_{i}.png", pngs[name], "image/png"))
                 for i in range(PHOTOS)]
        return httpx.post(f"{url}/people/{name}/faces", params={"force": "true"},
                          files=files, timeout=600)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(enroll, pngs))
    finally:
        stop.set()
        sampler.join()
    top = max(max(peak), rss_mb(pid, "VmHWM"))
    time.sleep(1)
    after = rss_mb(pid)
    print(f"\nmemory: idle {idle:.0f} MB, peak {top:.0f} MB (+{top - idle:.0f} MB), "
          f"after {after:.0f} MB (+{after - idle:.0f} MB); uploaded "
          f"{uploaded / 1e6:.1f} MB in {2 * PHOTOS} PNGs of {SIDE}x{SIDE}; answers "
          f"{[a.status_code for a in answers]}")
    for answer in answers:
        assert answer.status_code == 201, answer.text
        assert answer.json()["added"] == PHOTOS
    assert top - idle < LIMIT_MB
