"""The package version (one place; ``faceedit_bench.__version__`` re-exports it)."""

__version__ = "0.1.0"
