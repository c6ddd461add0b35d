"""Qt objects in reference cycles are freed on the GUI thread, never on a worker thread
(desktop/gui/gc_guard.py): a worker that allocates a lot no longer runs the collector."""
from __future__ import annotations

import gc
import threading
import weakref

from PyQt5.QtWidgets import QWidget


def test_a_widget_in_a_cycle_is_freed_on_the_gui_thread(qtbot):
    from desktop.gui.gc_guard import install_gui_gc
    assert install_gui_gc() is install_gui_gc()  # once per application
    assert not gc.isenabled()
    freed_on: list[str] = []

    class Holder:
        pass

    def make_cycle() -> None:
        holder = Holder()
        holder.widget = QWidget()
        holder.widget.holder = holder  # holder -> widget wrapper -> holder
        weakref.finalize(holder, lambda: freed_on.append(threading.current_thread().name))
    make_cycle()

    def allocate() -> None:  # far past generation 0's threshold: would trigger a collection
        junk = []
        for _ in range(50_000):
            pair: list = []
            pair.append(pair)
            junk.append(pair)
    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert freed_on == []  # the worker did not collect
    qtbot.waitUntil(lambda: bool(freed_on), timeout=10_000)  # the GUI timer did
    assert freed_on == ["MainThread"]


def test_release_deletes_closed_windows_here_and_hands_collection_back(qtbot):
    from PyQt5 import sip

    from desktop.gui.gc_guard import install_gui_gc, release_gui_gc
    install_gui_gc()
    window = QWidget()
    window.show()
    window.close()
    release_gui_gc(window)  # the benchmark, before sections without an event loop
    assert sip.isdeleted(window) and gc.isenabled()
    install_gui_gc()  # the next window installs the collector again
    assert not gc.isenabled()
