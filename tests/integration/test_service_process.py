"""The service as it is deployed: ``python main.py serve`` in its own process on 127.0.0.1,
driven from outside like a hostile tester: a burst of 100 requests, and a look
at what its log file keeps of a deleted person."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from conftest import ROOT, person_photos
from served import serving

BURST = 100
ENROLLS_IN_BURST = 10
HEALTH_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def service(tmp_path_factory, models, weights_path, faces_dir) -> Iterator[tuple[str, Path]]:
    """(base URL, database folder) of a served gallery with Kit Harington enrolled."""
    from desktop.engine.core.images import load_image
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.settings.file import load_settings
    db = tmp_path_factory.mktemp("served") / "db"
    engine = FaceEngine(load_settings(db, weights=str(weights_path)), models)
    engine.enroll("Kit_Harington", [(str(p), load_image(p))
                                    for p in person_photos("Kit_Harington")[:2]])
    engine.close()
    with serving(str(db), str(weights_path)) as served:
        yield served.url, db


POLLER = """
import sys, time, httpx
url = sys.argv[1]
with httpx.Client(timeout=60) as http:
    print("ready", flush=True)
    while sys.stdin.readline().strip() != "stop":
        started = time.perf_counter()
        assert http.get(url + "/health").status_code == 200
        print(time.perf_counter() - started, flush=True)
"""
"""Polls /health from a process of its own, so the latency measured is the service's, not
this client's event loop busy sending the burst. Polls once per line on stdin."""


async def _poll_health(url: str, done: asyncio.Event) -> list[float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", POLLER, url, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    assert proc.stdin and proc.stdout
    assert (await proc.stdout.readline()).strip() == b"ready"
    latencies = []
    while not done.is_set() or not latencies:
        proc.stdin.write(b"poll\n")
        await proc.stdin.drain()
        latencies.append(float(await proc.stdout.readline()))
        await asyncio.sleep(0.1)
    proc.stdin.write(b"stop\n")
    await proc.stdin.drain()
    await proc.wait()
    return latencies


async def _burst(url: str, photo: bytes, enroll_photos: list[bytes]
                 ) -> tuple[list[httpx.Response], list[float]]:
    """BURST concurrent photo requests; /health polled all along. Returns the answers and
    every /health latency in seconds."""
    limits = httpx.Limits(max_connections=BURST + 10)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as http:
        done = asyncio.Event()

        def request(i: int):
            if i % (BURST // ENROLLS_IN_BURST) == 1:   # enrollments spread over the burst
                photo_ = enroll_photos[i // (BURST // ENROLLS_IN_BURST)]
                return http.post(f"/people/Burst {i}/faces", params={"force": "true"},
                                 files=[("images", ("p.jpg", photo_, "image/jpeg"))])
            return http.post("/recognize", files=[("image", ("k.jpg", photo, "image/jpeg"))])

        poller = asyncio.create_task(_poll_health(url, done))
        await asyncio.sleep(2)   # the poller is up and polling before the burst starts
        answers = await asyncio.gather(*(request(i) for i in range(BURST)))
        done.set()
        return list(answers), await poller


def test_burst_of_100_requests_while_health_stays_fast(service, faces_dir, models):
    url, db = service
    kit = person_photos("Kit_Harington")[1].read_bytes()       # 630 x 374
    lfw = [folder / f"{folder.name}_0001.jpg" for folder in sorted((faces_dir / "people")
                                                                   .iterdir())]
    enroll_photos = [p.read_bytes() for p in lfw if p.is_file()][:ENROLLS_IN_BURST]
    assert len(enroll_photos) == ENROLLS_IN_BURST
    answers, latencies = asyncio.run(_burst(url, kit, enroll_photos))

    codes = [a.status_code for a in answers]
    assert set(codes) <= {200, 201, 503}, [a.text for a in answers
                                           if a.status_code not in (200, 201, 503)][:3]
    for answer in answers:
        if answer.status_code == 503:
            assert int(answer.headers["retry-after"]) >= 1
        elif answer.status_code == 200:
            assert [f["name"] for f in answer.json()["faces"]] == ["Kit_Harington"]
    assert codes.count(200) >= 1
    print(f"\nburst: {codes.count(200)} recognised, {codes.count(201)} enrolled, "
          f"{codes.count(503)} refused busy; /health max {max(latencies) * 1000:.0f} ms over "
          f"{len(latencies)} polls")
    assert latencies and max(latencies) < HEALTH_LIMIT_S, sorted(latencies)[-5:]

    # consistent: exactly the acknowledged enrollments, and the index agrees with SQLite
    enrolled = {a.json()["person"]["name"] for a in answers if a.status_code == 201}
    listed = {p["name"] for p in httpx.get(f"{url}/people", timeout=60).json()["people"]}
    assert listed == {"Kit_Harington"} | enrolled
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.settings.file import load_settings
    engine = FaceEngine(load_settings(db, weights=str(models.embedder.info.name)), models)
    try:
        assert engine.db.query("PRAGMA integrity_check")[0][0] == "ok"
        assert engine.gallery.sample_count == sum(p.samples for p in engine.gallery.people())
    finally:
        engine.close()
    for name in enrolled:
        assert httpx.delete(f"{url}/people/{quote(name)}", timeout=60).status_code == 200


def test_the_log_keeps_no_name_of_a_deleted_person(service, faces_dir):
    url, db = service
    tom = person_photos("Tom_Cruise")[0]
    path = f"/people/{quote('Quokka Zyxwvut')}"
    with httpx.Client(base_url=url, timeout=300) as http:
        enrolled = http.post(f"{path}/faces", params={"force": "true"},
                             files=[("images", ("quokka_zyxwvut.jpg", tom.read_bytes(),
                                                "image/jpeg"))])
        assert enrolled.status_code == 201, enrolled.text
        dog = faces_dir / "noface" / "dlib_dog.jpg"
        assert http.post(f"{path}/faces", files=[("images", ("quokka.jpg", dog.read_bytes(),
                                                             "image/jpeg"))]
                         ).status_code == 422
        assert http.delete(path).status_code == 200
        assert http.delete(path).status_code == 404
        assert http.get("/health").status_code == 200
    log = (db / "kiosk.log").read_text(encoding="utf-8")
    assert "/people/{name" in log          # the requests were logged, by route
    for word in ("Quokka", "Zyxwvut", "quokka"):
        assert word not in log


def test_refusing_a_public_address_does_not_load_the_models(tmp_path):
    script = ("import sys; from desktop.cli import main; "
              f"code = main(['serve', '--host', '0.0.0.0', '--db', {str(tmp_path)!r}]); "
              "print('torch loaded' if 'torch' in sys.modules else 'no torch'); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    assert "token" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout.strip() == "no torch"
