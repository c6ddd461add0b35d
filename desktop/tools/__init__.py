"""Developer tools run with ``python -m desktop.tools.NAME``."""
