"""The house rules a newcomer relies on: small folders, short modules, one place per
module. (The import layers and the absence of cycles are checked by ``lint-imports`` in
``make lint``; the light commands by test_light_commands.py.)"""
from __future__ import annotations

from conftest import ROOT

MAX_MODULES = 15
MAX_LINES = 350


def test_no_folder_of_desktop_holds_more_than_15_modules():
    crowded = {str(d.relative_to(ROOT)): n for d in [ROOT / "desktop", *(ROOT / "desktop").rglob("*")]
               if d.is_dir() and (n := len(list(d.glob("*.py")))) > MAX_MODULES}
    assert not crowded


def test_no_source_file_passes_350_lines():
    long = {str(p.relative_to(ROOT)): n for p in [ROOT / "main.py", *(ROOT / "desktop").rglob("*.py")]
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long


def test_the_engine_root_holds_only_packages():
    loose = [p.name for p in (ROOT / "desktop" / "engine").glob("*.py") if p.name != "__init__.py"]
    assert not loose, "every engine module belongs to a layer package"


def test_tests_mirror_the_packages():
    assert not list((ROOT / "tests").glob("test_*.py")), \
        "tests live in tests/unit/<package>/, tests/integration/ or tests/gui/"
    engine = {p.name for p in (ROOT / "desktop" / "engine").iterdir() if (p / "__init__.py").is_file()}
    unit = {p.name for p in (ROOT / "tests" / "unit").iterdir() if p.is_dir()}
    assert unit <= engine, f"tests/unit/ folders without an engine package: {unit - engine}"
