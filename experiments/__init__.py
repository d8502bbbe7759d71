"""Experiment scripts (``python -m experiments.NAME``): the only place where frameworks meet."""
