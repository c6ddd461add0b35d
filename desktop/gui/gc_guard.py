"""Cyclic garbage collection only on the GUI thread.

Python's cyclic collector runs on whichever thread happens to allocate when a generation
fills up: here often the capture, recognition or inference thread. If the cycle it frees
holds a Qt widget (a closed window or dialog whose slots capture it), the widget's C++
destructor then runs off the GUI thread, and Qt crashes with a segmentation fault at a
random later moment. So automatic collection is switched off while Qt objects exist, and
a timer on the GUI thread collects, generation by generation, as the counts fill up (the
approach Anki and Calibre take for the same reason). What exists when the collector is
installed (modules, loaded networks) is frozen out of every later collection, so a full
collection on the GUI thread stays short. A front end that goes on without an event loop
(the benchmark after its window sections) calls ``release_gui_gc`` to hand collection back.
"""
from __future__ import annotations

import gc

from PyQt5 import sip
from PyQt5.QtCore import QCoreApplication, QObject, QTimer

CHECK_MS = 500
"""How often the GUI thread looks at the collector's counts (cheap: three integers)."""


class GuiGarbageCollector(QObject):
    """Collects on the GUI thread when a generation is as full as the thresholds say."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        gc.freeze()
        self.timer = QTimer(self, interval=CHECK_MS, timeout=self.check)
        self.timer.start()

    def check(self) -> None:
        counts = gc.get_count()
        generation = -1
        for level in range(3):
            if counts[level] <= self.thresholds[level]:
                break
            generation = level
        if generation >= 0:
            gc.collect(generation)


def install_gui_gc() -> GuiGarbageCollector | None:
    """Install the collector on the running QApplication, once (window, tests, tools)."""
    app = QCoreApplication.instance()
    if app is None:
        return None
    existing = app.findChild(GuiGarbageCollector)
    return existing if existing is not None else GuiGarbageCollector(app)


def release_gui_gc(*closed: QObject) -> None:
    """For a program that goes on without an event loop (the benchmark between its window
    sections): delete the ``closed`` windows here, on the GUI thread, collect, and turn
    automatic collection back on. The next window installs the collector again."""
    app = QCoreApplication.instance()
    collector = app.findChild(GuiGarbageCollector) if app is not None else None
    if collector is not None:
        collector.timer.stop()
        collector.setParent(None)  # Python's now: freed when this function returns
    for widget in closed:
        if not sip.isdeleted(widget):
            sip.delete(widget)
    gc.collect()
    gc.unfreeze()
    gc.enable()
