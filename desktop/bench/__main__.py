"""`python -m desktop.bench --help`: the bench with all of its flags."""
import sys

from desktop.bench.runner import main

sys.exit(main())
