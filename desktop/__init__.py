"""Face-recognition reception kiosk.

``desktop.engine`` is the Qt-free core (detection, crops, embedding, gallery,
attendance, live tracking); ``desktop.cli``, ``desktop.server`` and ``desktop.gui``
are thin front ends over it.
"""
