"""Metrics: one module per registered metric, pure maths in :mod:`faceedit_bench.metrics.functional`."""
