"""The benchmark's sections, each runnable from desktop.bench.runner."""
