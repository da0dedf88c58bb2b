"""python -m qa: the command line (serve, ask, bench, prepare)."""

import sys

from .cli import main

sys.exit(main())
