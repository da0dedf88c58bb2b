"""python -m qa: the command line (serve, ask, bench, prepare)."""

import os
import sys

# OpenBLAS must be told before numpy/scipy load it: with its default thread pool, scipy's L-BFGS-B (the triage
# classifiers' solver, scipy >= 1.15) spends most of its time in thread handoffs on tiny vector operations — training
# the triage model took 7x the CPU time on a 2-core machine (BENCHMARKS.md, eighth session). Setting the threads at
# runtime (threadpoolctl) recovers only part of it. A value the user exported wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .cli import main  # noqa: E402 - after the environment above

sys.exit(main())
