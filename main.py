#!/usr/bin/env python3
"""Face-recognition kiosk. `python main.py` opens the window; `python main.py --help` lists
the commands (enroll, identify, verify, search, evaluate, serve, attendance, bench, ...)."""
import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
