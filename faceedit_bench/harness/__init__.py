"""The evaluation harness: one pass over pairs, all editors, all metrics."""
