"""`python main.py bench`: where a recognition's time goes on this machine, measured with
the real weights, real photos and the real video (see runner.run_bench)."""
from __future__ import annotations

from desktop.bench.options import BenchOptions
from desktop.bench.runner import run_bench

__all__ = ["BenchOptions", "run_bench"]
