"""The jobs the CLI and the Python API run: ``compare``/``evaluate``, ``merge``, ``score``.

A job runs the harness and writes its reports, so it sits above both :mod:`faceedit_bench.harness`
and :mod:`faceedit_bench.reports`.
"""
