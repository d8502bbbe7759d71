"""Lifting tests run tiny models, so XLA compile time dominates: compile with less optimisation.

Only applies when the user has not set ``XLA_FLAGS`` and before JAX initialises its backend;
results are unchanged (optimisation level does not change float semantics on CPU), compile
time roughly halves.
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
