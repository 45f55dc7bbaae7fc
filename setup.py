"""Maps the top-level ``baselines/`` folder to ``faceedit_bench.baselines``.

pyproject.toml holds all metadata; this file only exists because setuptools' static
configuration cannot combine package discovery with a renamed folder.
"""

from setuptools import find_namespace_packages, find_packages, setup

# namespace discovery: the assets tree (faceedit_bench/assets/, no __init__.py) counts as
# packages, so package-data ships the weights, their records, logs and manifest
core = find_namespace_packages(include=["faceedit_bench", "faceedit_bench.*"], exclude=["*__pycache__"])
baselines = ["faceedit_bench.baselines"] + [
    f"faceedit_bench.baselines.{p}" for p in find_packages(where="baselines")
]
setup(
    packages=core + baselines,
    package_dir={"faceedit_bench.baselines": "baselines"},
)
