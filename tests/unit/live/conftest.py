"""The live tests' shared set-up: the real FaceEngine with the fake networks, two people
enrolled (Ada = person 1, Grace = person 2)."""
from __future__ import annotations

import pytest
from synthetic import enroll, synthetic_engine


@pytest.fixture
def synthetic(tmp_path):
    engine = synthetic_engine(tmp_path / "db")
    enroll(engine, "Ada", 1)
    enroll(engine, "Grace", 2)
    yield engine
    engine.close()
