"""Reports built only from a run's result files: tables, figures, CI regression reports.

Submodules import pandas / matplotlib, so import them directly
(``faceedit_bench.reports.tables``, ``.figures``, ``.regression``).
"""
