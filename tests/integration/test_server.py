"""The HTTP service over real HTTP: uvicorn on a free loopback port, real models, real photos.

One engine and database serve the module (the models are shared with the session); each
server around it is started once per module. Tests that change the gallery use their
own person and undo what they did, so they do not depend on order.
"""
from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from desktop.engine.core.errors import KioskError


# ----------------------------------------------------------------------------- helpers
@contextmanager
def running(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def photo(path: Path, field: str = "image") -> tuple[str, tuple[str, bytes, str]]:
    return field, (path.name, path.read_bytes(), "image/jpeg")


def people_photos(faces_dir: Path, name: str) -> list[Path]:
    return sorted((faces_dir / "people" / name).iterdir())


def names(response: httpx.Response) -> list[str | None]:
    assert response.status_code == 200, response.text
    return [face["name"] for face in response.json()["faces"]]


def assert_error(response: httpx.Response, status: int, *words: str) -> str:
    """A 4xx with a JSON detail sentence containing ``words``."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    for word in words:
        assert word.lower() in detail.lower(), detail
    return detail


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def module_settings(tmp_path_factory, weights_path):
    from desktop.engine.settings.file import load_settings
    return load_settings(tmp_path_factory.mktemp("server") / "db", weights=str(weights_path))


@pytest.fixture(scope="module")
def server_engine(module_settings, models, faces_dir):
    """A gallery with Kit Harington (2 photos) and Rose Leslie (1 photo) enrolled."""
    from desktop.engine.core.images import load_image
    from desktop.engine.facade.face_engine import FaceEngine
    engine = FaceEngine(module_settings, models)
    for name, count in (("Kit_Harington", 2), ("Rose_Leslie", 1)):
        engine.enroll(name, [(str(p), load_image(p))
                             for p in people_photos(faces_dir, name)[:count]])
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def base_url(server_engine, module_settings) -> Iterator[str]:
    from desktop.server import create_app
    with running(create_app(server_engine, module_settings)) as url:
        yield url


@pytest.fixture
def client(base_url) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def token_url(server_engine, module_settings) -> Iterator[str]:
    from desktop.server import create_app
    # many deliberate refusals per minute here; the rate limit has its own test and server
    settings = dataclasses.replace(module_settings, api_token="s3cret-kiosk-token",
                                   auth_failures_per_minute=10_000)
    with running(create_app(server_engine, settings)) as url:
        yield url


@pytest.fixture(scope="module")
def small_url(server_engine, module_settings) -> Iterator[str]:
    """A server accepting photos of at most 40 KB."""
    from desktop.server import create_app
    settings = dataclasses.replace(module_settings, max_upload_mb=40 / 1024)
    with running(create_app(server_engine, settings)) as url:
        yield url


# ----------------------------------------------------------------------------- service
def test_health_and_openapi_need_no_token(token_url, models):
    with httpx.Client(base_url=token_url) as http:
        health = http.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok"
        assert body["people"] == 2
        assert body["model"] == models.embedder.info.name
        assert isinstance(body["threshold"], float) and isinstance(body["device"], str)
        spec = http.get("/openapi.json").json()
        for path in ("/recognize", "/verify", "/people", "/people/{name}/faces",
                     "/people/{name}", "/health", "/attendance", "/attendance/today",
                     "/attendance/visitors"):
            assert path in spec["paths"], path
        assert http.get("/docs").status_code == 200


def test_token_is_required_everywhere_else(token_url, faces_dir):
    probe = people_photos(faces_dir, "Kit_Harington")[2]
    with httpx.Client(base_url=token_url, timeout=60) as http:
        assert_error(http.get("/people"), 401, "token")
        assert_error(http.get("/people", headers={"Authorization": "Bearer wrong"}), 401)
        assert_error(http.get("/attendance/today",
                              headers={"Authorization": "Basic s3cret-kiosk-token"}), 401)
        assert_error(http.post("/recognize", files=[photo(probe)]), 401)
        assert_error(http.delete("/people/Kit_Harington"), 401)
        good = {"Authorization": "Bearer s3cret-kiosk-token"}
        assert http.get("/people", headers=good).status_code == 200
        assert names(http.post("/recognize", files=[photo(probe)], headers=good)) == \
            ["Kit_Harington"]


def test_serve_refuses_a_public_address_without_token(module_settings):
    from desktop.server import is_loopback, serve
    for host in ("0.0.0.0", "::", "192.168.1.20", "kiosk.example.org"):
        assert not is_loopback(host)
        with pytest.raises(KioskError, match="token"):
            serve(dataclasses.replace(module_settings, host=host, api_token=None))
        with pytest.raises(KioskError, match="token"):
            serve(dataclasses.replace(module_settings, host=host, api_token="  "))
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host)


def test_serve_reports_a_busy_port(module_settings, base_url):
    from desktop.server import serve
    port = int(base_url.rsplit(":", 1)[1])
    with pytest.raises(KioskError, match="--port"):
        serve(dataclasses.replace(module_settings, port=port))


# ----------------------------------------------------------------------------- recognition
def test_recognize_known_people_and_strangers(client, faces_dir):
    kit = people_photos(faces_dir, "Kit_Harington")[2]   # not one of the enrolled photos
    rose = people_photos(faces_dir, "Rose_Leslie")[1]
    assert names(client.post("/recognize", files=[photo(kit)])) == ["Kit_Harington"]
    assert names(client.post("/recognize", files=[photo(rose)])) == ["Rose_Leslie"]
    for stranger in sorted((faces_dir / "unknown").iterdir())[:2]:
        response = client.post("/recognize", files=[photo(stranger)])
        faces = response.json()["faces"]
        assert faces and all(face["name"] is None for face in faces)
        assert {"box", "candidate", "similarity", "det_prob"} <= set(faces[0])


def test_group_photo_gives_both_faces(client, faces_dir):
    group = faces_dir / "group" / "face_recognition_kit_with_rose.jpg"
    found = names(client.post("/recognize", files=[photo(group)]))
    assert sorted(found) == ["Kit_Harington", "Rose_Leslie"]


def test_photo_without_a_face(client, faces_dir):
    dog = faces_dir / "noface" / "dlib_dog.jpg"
    assert names(client.post("/recognize", files=[photo(dog)])) == []
    kit = people_photos(faces_dir, "Kit_Harington")[0]
    response = client.post("/verify", files=[photo(dog, "image_a"), photo(kit, "image_b")])
    assert_error(response, 422, "first image", "no face")


def test_verify_same_and_different_people(client, faces_dir):
    kit = people_photos(faces_dir, "Kit_Harington")
    rose = people_photos(faces_dir, "Rose_Leslie")
    same = client.post("/verify", files=[photo(kit[0], "image_a"), photo(kit[2], "image_b")])
    assert same.status_code == 200 and same.json()["same"] is True
    other = client.post("/verify", files=[photo(kit[0], "image_a"), photo(rose[0], "image_b")])
    assert other.status_code == 200
    assert other.json()["same"] is False
    assert other.json()["similarity"] < same.json()["similarity"]


def test_concurrent_recognize_requests_all_succeed(base_url, faces_dir):
    """Four clients at once, each answer about its own photo (no cross-talk)."""
    kit = people_photos(faces_dir, "Kit_Harington")[2]
    stranger = faces_dir / "unknown" / "Alan_Trammell_0001.jpg"
    expected = {kit: ["Kit_Harington"], stranger: [None]}
    jobs = [kit, stranger] * 4

    def one(path: Path) -> list[str | None]:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            return names(http.post("/recognize", files=[photo(path)]))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, jobs))
    assert results == [expected[path] for path in jobs]


# ----------------------------------------------------------------------------- gallery
def test_enroll_recognize_delete(client, faces_dir):
    tom = people_photos(faces_dir, "Tom_Cruise")
    dog = faces_dir / "noface" / "dlib_dog.jpg"
    enrolled = client.post("/people/Tom Cruise/faces",
                           files=[photo(p, "images") for p in (tom[0], dog, tom[1])])
    assert enrolled.status_code == 201, enrolled.text
    body = enrolled.json()
    assert body["added"] == 2
    assert [s["photo"] for s in body["skipped"]] == ["upload:dlib_dog.jpg"]
    assert "no face" in body["skipped"][0]["reason"]
    assert body["person"]["name"] == "Tom Cruise" and body["person"]["samples"] == 2
    try:
        assert names(client.post("/recognize", files=[photo(tom[2])])) == ["Tom Cruise"]
        listed = {p["name"]: p for p in client.get("/people").json()["people"]}
        assert listed["Tom Cruise"]["samples"] == 2
        assert {"Kit_Harington", "Rose_Leslie"} <= set(listed)
    finally:
        deleted = client.delete("/people/Tom Cruise")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["name"] == "Tom Cruise" and deleted.json()["samples"] == 2
    assert names(client.post("/recognize", files=[photo(tom[2])])) == [None]
    assert "Tom Cruise" not in {p["name"] for p in client.get("/people").json()["people"]}
    assert_error(client.delete("/people/Tom Cruise"), 404, "Tom Cruise")


def test_enrolling_a_known_face_under_another_name_warns_or_is_409_when_strict(client,
                                                                             faces_dir):
    kit = people_photos(faces_dir, "Kit_Harington")[2]
    refused = client.post("/people/Jon Snow/faces", params={"strict": "true"},
                          files=[photo(kit, "images")])
    assert_error(refused, 409, "Kit_Harington")
    assert refused.json()["other"] == "Kit_Harington"
    assert "Jon Snow" not in {p["name"] for p in client.get("/people").json()["people"]}
    forced = client.post("/people/Jon Snow/faces", params={"strict": "true", "force": "true"},
                         files=[photo(kit, "images")])
    assert forced.status_code == 201, forced.text
    assert client.delete("/people/Jon Snow").status_code == 200
    # without strict, the name given is trusted: enrolled, with the warning listed
    warned = client.post("/people/Jon Snow/faces", files=[photo(kit, "images")])
    assert warned.status_code == 201, warned.text
    assert any("Kit_Harington" in w for w in warned.json()["warnings"])
    assert client.delete("/people/Jon Snow").status_code == 200


def test_enroll_refuses_photos_without_one_subject_and_empty_names(client, faces_dir):
    dog = faces_dir / "noface" / "dlib_dog.jpg"
    group = faces_dir / "group" / "face_recognition_kit_with_rose.jpg"
    assert_error(client.post("/people/Rex/faces", files=[photo(dog, "images")]), 422,
                 "no face")
    assert_error(client.post("/people/Kit and Rose/faces", files=[photo(group, "images")]),
                 422, "one person")
    ben = people_photos(faces_dir, "Ben_Affleck")[0]
    assert_error(client.post("/people/ /faces", files=[photo(ben, "images")]), 400, "name")
    listed = {p["name"] for p in client.get("/people").json()["people"]}
    assert not listed & {"Rex", "Kit and Rose", " ", ""}


def test_window_and_service_share_the_database(client, module_settings, models, faces_dir,
                                               load):
    """Another FaceEngine on the same file stands in for the window's process."""
    from desktop.engine.facade.face_engine import FaceEngine
    ben = people_photos(faces_dir, "Ben_Affleck")
    window = FaceEngine(module_settings, models)
    try:
        window.enroll("Ben_Affleck", [(str(ben[0]), load(ben[0]))])
        assert names(client.post("/recognize", files=[photo(ben[1])])) == ["Ben_Affleck"]
        assert client.delete("/people/Ben_Affleck").status_code == 200
        assert [r.match.name for r in window.identify(load(ben[1]))] == [None]
    finally:
        window.close()


# ----------------------------------------------------------------------------- attendance
def test_attendance_queries(client, server_engine):
    from desktop.engine.attendance.checkins import day_of
    from desktop.engine.storage.store import kiosk_name
    today = day_of(time.time())
    server_engine.attendance.record_sighting("Rose_Leslie", 0.8)
    server_engine.attendance.record_visitor()
    rows = client.get("/attendance/today").json()["rows"]
    rose = [r for r in rows if r["name"] == "Rose_Leslie"]
    assert len(rose) == 1 and rose[0]["day"] == today and rose[0]["checkins"] >= 1
    assert set(rose[0]) == {"day", "name", "first_in", "last_seen", "checkins", "kiosks"}
    assert rose[0]["kiosks"] == kiosk_name(server_engine.settings)  # this machine
    between = client.get("/attendance", params={"from": today, "to": today}).json()
    assert between["rows"] == rows
    assert client.get("/attendance", params={"from": "2001-01-01", "to": "2001-01-31"}
                      ).json()["rows"] == []
    assert client.get("/attendance/visitors", params={"day": today}).json()["visitors"] >= 1
    assert client.get("/attendance/visitors", params={"day": "2001-01-01"}
                      ).json()["visitors"] == 0
    assert_error(client.get("/attendance", params={"from": "yesterday"}), 400, "YYYY-MM-DD")
    assert_error(client.get("/attendance", params={"from": today, "to": "2001-01-01"}), 400,
                 "after")
    assert_error(client.get("/attendance/visitors", params={"day": "2024-13-01"}), 400)


def test_traffic_over_http(client, server_engine):
    from desktop.engine.attendance.checkins import day_of
    today = day_of(time.time())
    before = client.get("/traffic").json()["days"][0]
    server_engine.attendance.record_visitor(visitor="v-http")
    server_engine.attendance.record_visitor(visitor="v-http")  # within the cool-down
    body = client.get("/traffic", params={"from": today, "to": today}).json()
    day = body["days"][0]
    assert body["from"] == body["to"] == day["day"] == today
    assert day["unknown"] == before["unknown"] + 1 and len(day["by_hour"]) == 24
    assert day["unique"] == day["known"] + day["unknown"]
    assert len(client.get("/traffic", params={"from": "2001-01-01", "to": "2001-01-31"}
                          ).json()["days"]) == 31
    assert_error(client.get("/traffic", params={"from": "2024-13-01"}), 400, "YYYY-MM-DD")
    assert_error(client.get("/traffic", params={"from": "2001-01-01", "to": "2999-01-01"}),
                 400, "ten years")


# ----------------------------------------------------------------------------- bad input
def test_bad_uploads_are_4xx_with_a_message(client, faces_dir):
    jpeg = people_photos(faces_dir, "Kit_Harington")[0].read_bytes()
    text = b"hello, I am not a photo\n"
    cases = [
        ({"files": [("image", ("notes.txt", text, "text/plain"))]}, 415, "text/plain"),
        ({"files": [("image", ("notes.jpg", text, "image/jpeg"))]}, 422, "not an image"),
        ({"files": [("image", ("empty.jpg", b"", "image/jpeg"))]}, 422, "empty"),
        ({"files": [("image", ("half.jpg", jpeg[:len(jpeg) // 2], "image/jpeg"))]}, 422,
         "truncated"),
        ({"content": jpeg, "headers": {"Content-Type": "image/jpeg"}}, 415, "multipart"),
        ({"json": {"image": "x"}}, 415, "multipart"),
        ({"files": [("photo", ("a.jpg", jpeg, "image/jpeg"))]}, 422, "image"),
        ({"data": {"image": "not a file"}, "files": [("other", ("a.jpg", b"x", "image/jpeg"))]},
         422, "image"),
    ]
    for kwargs, status, word in cases:
        assert_error(client.post("/recognize", **kwargs), status, word)
    assert_error(client.post("/verify", files=[photo(faces_dir / "noface" / "dlib_dog.jpg",
                                                     "image_a")]), 422, "image_b")
    assert_error(client.post("/people/Kit_Harington/faces",
                             files=[("images", ("a.txt", text, "text/plain"))]), 415)
    assert_error(client.delete("/people/Kit_Harington", params={"keep_attendance": "maybe"}),
                 422, "keep_attendance")
    assert client.get("/people").status_code == 200


def test_oversized_uploads_are_413(small_url, faces_dir):
    big = faces_dir / "group" / "face_recognition_kit_with_rose.jpg"      # 130 KB
    small = faces_dir / "unknown" / "Alan_Trammell_0001.jpg"               # 7 KB
    medium = people_photos(faces_dir, "Kit_Harington")[1]                  # 68 KB
    with httpx.Client(base_url=small_url, timeout=60) as http:
        # Content-Length over the cap: refused before the body is read
        assert_error(http.post("/recognize", files=[photo(big)]), 413, "too large")
        # no Content-Length (chunked): cut off while reading
        data = big.read_bytes()
        body = [b"--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.jpg\"\r\n"
                b"Content-Type: image/jpeg\r\n\r\n"] + \
            [data[i:i + 8192] for i in range(0, len(data), 8192)] + [b"\r\n--b--\r\n"]
        chunked = http.post("/recognize", content=iter(body),
                            headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert "content-length" not in chunked.request.headers
        assert_error(chunked, 413, "too large")
        # within the request cap of two photos, but one photo is over the per-photo limit
        assert_error(http.post("/verify", files=[photo(medium, "image_a"),
                                                 photo(small, "image_b")]), 413, "limit")
        # small photos still work on this server
        assert http.post("/recognize", files=[photo(small)]).status_code == 200


# ----------------------------------------------------------------------------- hardening
def test_names_with_a_slash_travel_in_urls(client, faces_dir):
    from urllib.parse import quote
    tom = people_photos(faces_dir, "Tom_Cruise")[0]
    url = f"/people/{quote('AC/DC Fan', safe='')}"
    enrolled = client.post(f"{url}/faces", params={"force": "true"},
                           files=[photo(tom, "images")])
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["person"]["name"] == "AC/DC Fan"
    deleted = client.delete(url)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["name"] == "AC/DC Fan"


def test_control_and_bidi_names_are_refused(client, faces_dir):
    from urllib.parse import quote
    tom = people_photos(faces_dir, "Tom_Cruise")[0]
    for name in ("Eve\x00", "\x1b[31mRed", "Mallory\u202eevil", "Unknown"):
        response = client.post(f"/people/{quote(name, safe='')}/faces",
                               files=[photo(tom, "images")])
        assert_error(response, 400, "name")
    assert {p["name"] for p in client.get("/people").json()["people"]} == \
        {"Kit_Harington", "Rose_Leslie"}


def test_cross_site_browser_requests_are_refused(base_url, faces_dir):
    tom = people_photos(faces_dir, "Tom_Cruise")[0]
    host = base_url.removeprefix("http://")
    with httpx.Client(base_url=base_url, timeout=60) as http:
        evil = http.post("/people/Mallory/faces", params={"force": "true"},
                         files=[photo(tom, "images")],
                         headers={"Origin": "http://evil.example"})
        assert_error(evil, 403, "cross-site")
        assert_error(http.delete("/people/Kit_Harington",
                                 headers={"Sec-Fetch-Site": "cross-site"}), 403)
        rebound = http.get("/people", headers={"Host": f"evil.example:{host.split(':')[1]}"})
        assert_error(rebound, 421, "this machine")
        # the service's own pages (/docs) are same-origin, and plain clients send no Origin
        assert http.get("/people", headers={"Origin": base_url}).status_code == 200
        assert http.get("/health", headers={"Host": f"localhost:{host.split(':')[1]}"}
                        ).status_code == 200
        assert "Mallory" not in {p["name"] for p in http.get("/people").json()["people"]}


def test_cors_is_off_unless_configured(server_engine, module_settings):
    from desktop.server import create_app
    preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "POST"}
    with running(create_app(server_engine, module_settings)) as url:
        answer = httpx.options(f"{url}/recognize", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
    allowed = dataclasses.replace(module_settings, cors_origins=("http://app.example",))
    with running(create_app(server_engine, allowed)) as url:
        answer = httpx.options(f"{url}/recognize", headers=preflight)
        assert answer.headers.get("access-control-allow-origin") == "http://app.example"
        assert httpx.get(f"{url}/people", headers={"Origin": "http://app.example"}
                         ).status_code == 200


def test_token_in_utf8_or_latin1_and_failures_are_rate_limited(server_engine,
                                                               module_settings):
    from desktop.server import create_app
    settings = dataclasses.replace(module_settings, api_token="clé-secrète",
                                   auth_failures_per_minute=3)
    with running(create_app(server_engine, settings)) as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        for encoding in ("utf-8", "latin-1"):
            header = b"Bearer " + "clé-secrète".encode(encoding)
            assert http.get("/people", headers={"Authorization": header}).status_code == 200
        for _ in range(3):
            assert_error(http.get("/people", headers={"Authorization": "Bearer guess"}), 401)
        limited = http.get("/people", headers={"Authorization": "Bearer guess"})
        assert_error(limited, 429, "too many")
        assert int(limited.headers["retry-after"]) >= 1
        # the lockout holds back failures only: the token's owner still gets in at once
        assert http.get("/people", headers={"Authorization": b"Bearer " + "clé-secrète".encode()}
                        ).status_code == 200
        assert_error(http.get("/people"), 429, "too many")


def test_a_flood_of_wrong_tokens_adds_a_bounded_number_of_audit_rows(server_engine,
                                                                      module_settings, caplog):
    """1,000 wrong tokens from one address: one audit row at once, the rest summed into one
    more at the flush; the right token passes right after the flood."""
    from desktop.engine.storage import audit
    from desktop.server import create_app
    settings = dataclasses.replace(module_settings, api_token="flood-token",
                                   auth_failures_per_minute=10)
    app = create_app(server_engine, settings)
    before = len(audit.entries(server_engine.db))
    caplog.set_level("INFO", logger="desktop.server")
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        codes = [http.get("/people", headers={"Authorization": f"Bearer guess-{i}"}
                          ).status_code for i in range(1000)]
        assert codes.count(401) == 10 and codes.count(429) == 990
        assert http.get("/people", headers={"Authorization": "Bearer flood-token"}
                        ).status_code == 200
    during = audit.entries(server_engine.db)[before:]
    assert [(e.action, e.detail["count"]) for e in during] == [("auth_refused", 1)]
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("desktop.server")]
    assert len(lines) <= 3, lines[:5]   # one refusal line, the 200's access line
    app.state.auth_limiter.tally.flush()
    rows = audit.entries(server_engine.db)[before:]
    assert len(rows) == 2 and sum(e.detail["count"] for e in rows) == 1000
    assert not audit.verify(server_engine.db)


def test_nothing_but_health_and_docs_without_the_token(token_url):
    """No endpoint hands out names, faces or embeddings to a caller without the token."""
    with httpx.Client(base_url=token_url, timeout=60) as http:
        spec = http.get("/openapi.json").json()
        for path, operations in spec["paths"].items():
            concrete = path.replace("{name}", "Kit_Harington")
            for method in operations:
                response = http.request(method.upper(), concrete)
                expected = 200 if path == "/health" else 401
                assert response.status_code == expected, (method, path, response.text)


def test_full_queue_is_503_and_gone_clients_cost_nothing(server_engine, module_settings,
                                                         models, faces_dir):
    """With the inference thread held, one request waits, the next is refused at once with
    Retry-After, and a waiting request whose client leaves is dropped unrun."""
    from desktop.server import create_app
    kit = people_photos(faces_dir, "Kit_Harington")[2]
    app = create_app(server_engine, dataclasses.replace(module_settings,
                                                        max_queued_requests=1))
    hold = threading.Event()
    blocker = models.submit(hold.wait, 120)
    try:
        with running(app) as url:
            with pytest.raises(httpx.ReadTimeout):   # a client that gives up after 2 s
                httpx.post(f"{url}/recognize", files=[photo(kit)], timeout=2)
            deadline = time.monotonic() + 30
            while app.state.inference.dropped < 1:
                # the disconnect cancels the queued job before the inference thread frees
                assert time.monotonic() < deadline, "queued work of a gone client was kept"
                time.sleep(0.05)
            assert app.state.inference.pending == 0
            with ThreadPoolExecutor(1) as pool:
                waiting = pool.submit(httpx.post, f"{url}/recognize", files=[photo(kit)],
                                      timeout=120)
                while app.state.inference.pending < 1:
                    time.sleep(0.05)
                refused = httpx.post(f"{url}/recognize", files=[photo(kit)], timeout=60)
                assert_error(refused, 503, "busy")
                assert int(refused.headers["retry-after"]) >= 1
                health = httpx.get(f"{url}/health", timeout=60)
                assert health.status_code == 200 and health.json()["queued"] == 1
                hold.set()
                assert names(waiting.result()) == ["Kit_Harington"]
    finally:
        hold.set()
        blocker.result()
