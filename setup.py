"""Maps the top-level ``baselines/`` folder to ``faceedit_bench.baselines``.

pyproject.toml holds all metadata; this file only exists because setuptools' static
configuration cannot combine package discovery with a renamed folder.
"""

from setuptools import find_packages, setup

core = find_packages(include=["faceedit_bench", "faceedit_bench.*"])
baselines = ["faceedit_bench.baselines"] + [
    f"faceedit_bench.baselines.{p}" for p in find_packages(where="baselines")
]
setup(
    packages=core + baselines,
    package_dir={"faceedit_bench.baselines": "baselines"},
)
