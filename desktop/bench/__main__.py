"""`python -m desktop.bench --help`: the bench with all of its flags."""
import sys

from .runner import main

sys.exit(main())
