"""The benchmark runs end to end on real weights and photos, and prints every table.

Only that it runs and what it prints: timings on a shared 2-core machine are not asserted.
"""
from __future__ import annotations

import argparse
import json

import pytest

from desktop.bench import BenchOptions, run_bench
from desktop.bench.options import SECTIONS, default_video
from desktop.engine.core.errors import KioskError


def test_cli_flags_choose_the_quick_sizes():
    options = BenchOptions.from_args(argparse.Namespace(quick=True, video=None))
    assert options.quick and options.sizes == (1_000, 10_000)
    assert options.sections == SECTIONS
    full = BenchOptions.from_args(argparse.Namespace(quick=False, video=None))
    assert 1_000_000 in full.sizes


def test_cli_rejects_a_missing_video_and_unknown_sections(tmp_path):
    with pytest.raises(KioskError, match="no such file"):
        BenchOptions.from_args(argparse.Namespace(video=str(tmp_path / "nope.mp4")))
    with pytest.raises(KioskError, match="unknown bench section"):
        BenchOptions.from_args(argparse.Namespace(video=None, only="stages,gpu"))


def test_quick_bench_prints_every_table(faces_dir, settings, models, capsys, tmp_path):
    out_json = tmp_path / "bench.json"
    options = BenchOptions.quick_defaults().replace(
        video=default_video(), json_path=out_json, people=3, probes=6, appearances=1,
        show_seconds=1.0, gap_seconds=0.3, video_seconds=1.0, stage_runs=2,
        tuning=("baseline", "side 320"), sizes=(1_000,), queries=60, soak_seconds=2.0,
        idle_seconds=2.0)

    assert run_bench(settings, None, models=models, options=options) == 0

    out = capsys.readouterr().out
    for row in ("decode JPEG->RGB (PIL)", "detect (MTCNN)", "align/crop 160x160",
                "embed, batch 1", "embed, batch 8", "search + decide (1 face)",
                "identify() whole frame",
                "1 face (2 visitors, 640x480)", "7 faces (group photo)",
                "baseline", "side 320",
                "Flat (exact)", "HNSW M", "IVF-Flat",
                "models loaded (MTCNN + FaceNet)", "first frame processed (cold)",
                "RSS at start", "RSS at end", "every frame (before)", "motion gating",
                "1 busy process", "cores threads, passive, no onnx spinning (after)",
                "detect (YuNet, MTCNN on regions)"):
        assert row in out, f"missing row {row!r}"
    tables = json.loads(out_json.read_text())["tables"]
    assert set(tables) == set(SECTIONS)
    kinds = {row[1].split()[0] for row in tables["scale"]["rows"]}
    assert kinds == {"Flat", "HNSW", "IVF-Flat"}
    live = {row[0]: row for row in tables["live"]["rows"]}
    assert live["7 faces (group photo)"][8].endswith("/7")
    if default_video():
        assert any(name.startswith("crowd video") for name in live)


def test_shared_store_section_runs_only_when_named():
    import argparse

    from desktop.bench.options import SECTIONS, BenchOptions
    assert "shared_store" not in BenchOptions().sections == SECTIONS
    options = BenchOptions.from_args(argparse.Namespace(only="shared_store",
                                                        store_sizes="1000,10000"))
    assert options.sections == ("shared_store",) and options.store_sizes == (1_000, 10_000)


def test_models_flag_names_each_model_once_and_refuses_a_misspelt_one():
    options = BenchOptions.from_args(argparse.Namespace(models="facenet, dlib,facenet"))
    assert options.models == ("facenet", "dlib")
    assert BenchOptions.from_args(argparse.Namespace()).models == ()
    with pytest.raises(KioskError, match="unknown model 'facenett'"):
        BenchOptions.from_args(argparse.Namespace(models="facenet,facenett"))


def test_live_section_compares_label_times_per_model(faces_dir, settings, models, capsys):
    options = BenchOptions.quick_defaults().replace(
        sections=("live",), video=None, people=3, appearances=1, show_seconds=1.0,
        gap_seconds=0.3, models=("facenet", "dlib"))

    assert run_bench(settings, None, models=models, options=options) == 0

    out = capsys.readouterr().out
    assert "Label times per face model" in out
    table = out[out.index("Label times per face model"):]
    rows = [line for line in table.splitlines() if line.startswith(("facenet", "dlib"))]
    assert [row.split()[0] for row in rows] == ["facenet", "dlib"]
    for row in rows:
        cells = row.split()
        assert cells[3].endswith("/2")  # the 1-face clip: one visitor and one stranger
        assert cells[6].endswith("/7")  # the group clip's seven faces
