"""Settings (every tunable, its default and range) and settings.json; knows nothing of the
rest of the engine."""
