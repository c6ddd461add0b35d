"""DET curves (``evaluate --plot``): the points are the figures evaluate reports, on real
scores of real photos, and the picture is a real image with one curve per model."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, person_photos

from desktop.engine.decisions.openset import ProbeScores, det_curve, fnir_at
from desktop.engine.evaluation.detplot import COLOURS, DetSeries, plot_det

PEOPLE = ["Tom_Cruise", "Lucy_Liu", "Roger_Federer", "Ari_Fleischer", "Bill_Frist",
          "Adam_Sandler", "Angela_Bassett", "Ben_Affleck", "Alejandro_Toledo", "Amelia_Vega"]


def labelled_folder(root: Path, people: list[str], per_person: int = 6) -> Path:
    """DIR/<person>/<photo> as symlinks to ../shared/faces (no photo is copied)."""
    for name in people:
        (root / name).mkdir(parents=True)
        for photo in person_photos(name)[:per_person]:
            (root / name / photo.name).symlink_to(photo)
    return root


def colour_pixels(path: Path, hex_colour: str) -> int:
    from PIL import Image
    rgb = np.asarray(Image.open(path).convert("RGB"), np.int16)
    want = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], np.int16)
    return int((np.abs(rgb - want).sum(axis=2) < 40).sum())


def test_det_curve_points_are_the_rates_at_their_thresholds():
    rng = np.random.default_rng(3)
    scores = ProbeScores(rng.random(300) < 0.95, rng.normal(0.8, 0.1, 300),
                         rng.normal(0.4, 0.15, 200))
    thresholds, fpir, fnir = det_curve(scores)
    assert np.all(np.diff(thresholds) > 0)
    assert np.all(np.diff(fpir) <= 0) and np.all(np.diff(fnir) >= 0)
    for i in range(0, len(thresholds), 37):
        assert scores.rates(thresholds[i]) == pytest.approx((fpir[i], fnir[i]))
    fnir_1, t_1 = fnir_at(scores.correct, scores.genuine, scores.impostor, 0.01)
    assert scores.rates(t_1)[1] == pytest.approx(fnir_1) and scores.rates(t_1)[0] <= 0.01


def test_det_points_of_a_real_evaluation_are_its_reported_figures(models, settings, faces_dir,
                                                                  tmp_path):
    from desktop.engine.evaluation.accuracy import evaluate
    folder = labelled_folder(tmp_path / "labelled", PEOPLE)
    exact = replace(settings, match_margin=0.0, cache_dir=tmp_path / "cache")
    result = evaluate(models, exact, folder, k=3, strangers=faces_dir / "unknown").main
    scores = result.scores
    assert scores is not None
    assert (len(scores.genuine), len(scores.impostor)) == (result.genuine, result.impostors)
    assert result.genuine > 20 and result.impostors > 20
    # without the margin rule the default operating point is exactly the curve's
    fpir, fnir = scores.rates(result.threshold)
    assert fpir == pytest.approx(result.fpir.value)
    assert fnir == pytest.approx(1 - result.tpir.value)
    for target, (reported, threshold) in result.fnir_at_fpir.items():
        at = scores.rates(threshold)
        assert at[1] == pytest.approx(reported.value) and at[0] <= target
    # the engine's margin rule only names fewer people than the threshold alone
    kiosk = evaluate(models, replace(exact, match_margin=settings.match_margin), folder, k=3,
                     strangers=faces_dir / "unknown").main
    assert kiosk.fpir.value <= fpir and 1 - kiosk.tpir.value >= fnir

    out = tmp_path / "det.png"
    plot_det(out, [DetSeries("facenet", scores, result.threshold)], "test")
    from PIL import Image
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (840, 660)
    assert colour_pixels(out, COLOURS[0]) > 200


def test_cli_draws_every_model_on_one_picture(weights_path, faces_dir, tmp_path):
    folder = labelled_folder(tmp_path / "labelled", PEOPLE[:6], per_person=5)
    out = tmp_path / "det.svg"  # text, so each curve's colour can be counted
    proc = subprocess.run(
        [sys.executable, "main.py", "evaluate", str(folder), "--model", "facenet,dlib",
         "--strangers", str(faces_dir / "unknown"), "--plot", str(out), "--db",
         str(tmp_path / "db"), "--weights", str(weights_path)], cwd=ROOT, capture_output=True,
        text=True, timeout=900, env={**os.environ, "FACE_KIOSK_CACHE": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    models = [line.split(";")[0] for line in proc.stdout.splitlines()
              if line.startswith("model ")]
    assert len(models) == 2 and "dlib" in models[1]
    assert f"DET curves of 2 model(s) written to {out}" in proc.stdout
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    for colour in COLOURS[:2]:  # a curve, its legend line and its default-threshold dot
        assert svg.count(f"stroke: {colour}") + svg.count(f"fill: {colour}") >= 3, colour
    assert COLOURS[2] not in svg


def test_a_bad_plot_name_is_one_line_before_any_work(tmp_path):
    proc = subprocess.run([sys.executable, "main.py", "evaluate", str(tmp_path), "--plot",
                           str(tmp_path / "det.txt"), "--db", str(tmp_path / "db")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: --plot {tmp_path / 'det.txt'}: use a .png, .svg " \
                                  "or .pdf name"
    proc = subprocess.run([sys.executable, "main.py", "evaluate", str(tmp_path), "--model",
                           "facenet,facenett", "--db", str(tmp_path / "db")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: unknown model 'facenett'")


def test_light_commands_do_not_import_matplotlib():
    code = ("import sys, desktop.cli, desktop.engine.evaluation.accuracy, desktop.engine.evaluation.detplot; "
            "desktop.cli.build_parser(); print('matplotlib' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr
