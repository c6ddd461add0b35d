"""The Qt-free recognition engine: every front end (window, CLI, HTTP) calls into this."""
