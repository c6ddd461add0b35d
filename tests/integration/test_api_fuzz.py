"""Schema-driven fuzz of the HTTP API: schemathesis generates requests for every operation
of the service's own OpenAPI description (odd names, missing and junk uploads, wrong
types) against a real server on 127.0.0.1; none may answer 500 or take the server down."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from conftest import person_photos
from hypothesis import HealthCheck, given, settings
from test_server import running

EXAMPLES_PER_OPERATION = 25
"""x 9 operations: the figure in docs/operations.md (reliability)."""


@pytest.fixture(scope="module")
def live_url(tmp_path_factory, models, weights_path, faces_dir) -> Iterator[str]:
    from desktop.engine.core.images import load_image
    from desktop.engine.facade.face_engine import FaceEngine
    from desktop.engine.settings.file import load_settings
    from desktop.server import create_app
    settings = load_settings(tmp_path_factory.mktemp("fuzz") / "db", weights=str(weights_path))
    engine = FaceEngine(settings, models)
    engine.enroll("Kit_Harington", [(str(p), load_image(p))
                                    for p in person_photos("Kit_Harington")[:1]])
    with running(create_app(engine, settings)) as url:
        yield url
    engine.close()


@pytest.fixture(scope="module")
def api_schema(live_url):
    return schemathesis.openapi.from_url(f"{live_url}/openapi.json")


def test_no_operation_answers_500(api_schema, live_url):
    """Each operation in turn (schemathesis' pytest plugin does not run on pytest 9, so the
    hypothesis strategy of each operation is driven directly)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    calls: dict[int, int] = {}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case) -> None:
            response = case.call(base_url=live_url, timeout=120)
            calls[response.status_code] = calls.get(response.status_code, 0) + 1
            assert response.status_code < 500 or response.status_code == 503, (
                f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}")
            if response.status_code >= 400 and response.status_code != 405:
                assert isinstance(response.json().get("detail"), str), response.text[:300]
        call()
    print(f"\nAPI fuzz: {sum(calls.values())} requests, status counts {sorted(calls.items())}")
    assert sum(calls.values()) >= 5 * len(operations)


def test_the_server_survived_the_fuzz(live_url):
    health = httpx.get(f"{live_url}/health", timeout=60)
    assert health.status_code == 200 and health.json()["people"] >= 0
