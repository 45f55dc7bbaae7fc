"""bench/gpu.sh runs end to end: its short CPU mode (compare on aurig-paper, a few training steps)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # two CLI runs (compare + train), a minute or two: run by .ci/run's slow-test step
def test_gpu_benchmark_short_mode_on_cpu_prints_both_rates(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu.sh"), "--device", "cpu", "--short", "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.strip().startswith("cpu "))
    images, steps = (float(x) for x in re.findall(r"([\d.]+) (?:images|steps)/s", line))
    assert images > 0 and steps > 0
    assert "(4 pairs x 2 editors" in line and "train ganimation (cpu-64)" in line
    assert (tmp_path / "compare-cpu" / "results.json").is_file()
