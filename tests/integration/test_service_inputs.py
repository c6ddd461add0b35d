"""What the service takes from strangers, over real HTTP with the real model: names that
pass for someone else, who gave consent, and the API page's own assets."""
from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
import test_server
from test_server import assert_error, people_photos, photo

# the module-scoped server of test_server, started afresh for this module
module_settings = test_server.module_settings
server_engine = test_server.server_engine
base_url = test_server.base_url


@pytest.fixture
def http(base_url) -> httpx.Client:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("name,words", [
    ("Kit_Haringt\u043en", "looks the same as 'Kit_Harington'"),   # Cyrillic o
    ("Kit_Harington\u200c", "looks the same as 'Kit_Harington'"),  # zero-width non-joiner
    ("Unknown\u200c", "choose another name"),
    ("\uff35nknown", "choose another name"),                       # fullwidth U
    ("\u3164", "FILLER"),
    ("\u0301", "blank"),
])
def test_look_alike_and_blank_names_are_refused(http, faces_dir, server_engine,
                                                name, words):
    kit = people_photos(faces_dir, "Kit_Harington")[2]
    refused = http.post(f"/people/{quote(name, safe='')}/faces", params={"force": "true"},
                        files=[photo(kit, "images")])
    assert_error(refused, 400, *words)
    assert sorted(p["name"] for p in http.get("/people").json()["people"]) == [
        "Kit_Harington", "Rose_Leslie"]


@pytest.mark.parametrize("given_by,words", [
    ("x" * 10_000, "limited to 200"),
    ("Jane\u202eevil", "U+202E"),
    ("\u2800", "U+2800"),
])
def test_consent_by_is_one_short_visible_line(http, faces_dir, given_by, words):
    kit = people_photos(faces_dir, "Kit_Harington")[2]
    refused = http.post("/people/Consent_Tester/faces", files=[photo(kit, "images")],
                        params={"consent": "true", "consent_by": given_by})
    assert_error(refused, 400, "consent", *words)
    assert "Consent_Tester" not in {p["name"] for p in http.get("/people").json()["people"]}


def test_docs_page_uses_only_the_service_own_assets(http):
    page = http.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", page.text)
    assert len(urls) >= 4, page.text
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert http.get(url).status_code == 200, url
    assert "http://" not in page.text and "https://" not in page.text
    assert http.get("/redoc").status_code == 404   # its page would load a CDN script
