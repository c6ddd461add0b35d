"""DET curves of open-set identification (FNIR against FPIR, log axes, as NIST FRVT 1:N
draws them) for one or several models on the same photos, each model's default threshold
marked: ``evaluate --plot FILE``.

matplotlib is imported here only, when a picture is asked for: the kiosk and the light
commands never load it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop.engine.core.errors import KioskError
from desktop.engine.decisions.openset import ProbeScores, det_curve

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


@dataclass(frozen=True)
class DetSeries:
    """One model's curve: its name, its probes' scores and the threshold it runs at."""
    label: str
    scores: ProbeScores
    threshold: float


def log_floor(count: int) -> float:
    """Where a rate of zero is drawn on a log axis (the left or bottom edge): half of one
    probe in ``count``."""
    return 0.5 / max(count, 1)


def check_plot_name(out: Path) -> None:
    """KioskError before any work when ``out`` cannot become a picture."""
    if Path(out).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise KioskError(f"--plot {out}: use a .png, .svg or .pdf name")
    if not Path(out).resolve().parent.is_dir():
        raise KioskError(f"--plot {out}: no folder {Path(out).resolve().parent}")


def plot_det(out: Path, series: list[DetSeries], title: str = "") -> None:
    """Write the DET picture of ``series`` to ``out`` (.png, .svg or .pdf)."""
    check_plot_name(out)
    if not series:
        raise KioskError("nothing to plot")
    import matplotlib
    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(7, 5.5), dpi=120)
    try:
        low_x = min(log_floor(len(s.scores.impostor)) for s in series)
        low_y = min(log_floor(len(s.scores.genuine)) for s in series)
        for colour, item in zip(COLOURS * 4, series):
            _, fpir, fnir = det_curve(item.scores)
            axes.plot(np.maximum(fpir, low_x), np.maximum(fnir, low_y), color=colour,
                      label=item.label)
            x, y = item.scores.rates(item.threshold)
            axes.plot(max(x, low_x), max(y, low_y), "o", color=colour, markersize=7,
                      markeredgecolor="black",
                      label=f"  default {item.threshold:.3f}: FPIR {x:.1%}, FNIR {y:.1%}")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlim(low_x * 0.8, 1.0)
        axes.set_ylim(low_y * 0.8, 1.0)
        for level in (0.01, 0.001):
            if level > low_x:
                axes.axvline(level, color="grey", linewidth=0.6, linestyle=":")
        axes.set_xlabel("FPIR: strangers given a name (log)")
        axes.set_ylabel("FNIR: enrolled people not named correctly (log)")
        axes.set_title(title or "DET, open-set identification")
        axes.grid(True, which="both", linewidth=0.3, alpha=0.5)
        axes.legend(loc="upper right", fontsize=8)
        figure.tight_layout()
        try:
            figure.savefig(out)
        except OSError as exc:
            raise KioskError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
