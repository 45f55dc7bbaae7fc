"""faceedit-bench: train, compare and report AU-conditioned facial-expression editors."""

__version__ = "0.1.0"
