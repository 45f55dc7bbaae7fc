"""Baseline editors (installed as ``faceedit_bench.baselines``)."""
