"""The kiosk window (PyQt5): a thin layer over the engine.

Threads: ``CaptureThread`` reads the source, ``RecognitionThread`` runs the live
recogniser on the newest frame, ``TaskRunner`` does one-off long work (enrolling,
deleting, loading models). The GUI thread only paints and asks questions.
"""
