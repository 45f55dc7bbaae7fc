"""Human-readable metric labels and number formatting shared by tables and figures.

Labels are derived from the metric key's words (no hard-coded metric list): known
abbreviations are upper-cased, the arrow gives the better direction and the backend
goes in brackets, e.g. ``au_mae@aurig-ref`` -> ``AU MAE ↓ [aurig-ref]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from faceedit_bench.reports.results import MetricId

_WORDS = {
    "au": "AU", "mae": "MAE", "mse": "MSE", "rmse": "RMSE", "fid": "FID", "kid": "KID",
    "lpips": "LPIPS", "psnr": "PSNR", "ssim": "SSIM", "epe": "EPE", "id": "ID", "cos": "cos",
    "l1": "L1", "l2": "L2", "icc": "ICC", "pcc": "PCC",
}  # fmt: skip
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}",  # OT1 text fonts print ¡ and ¿ for a bare < and >
}  # fmt: skip


def key_label(key: str) -> str:
    """``lpips_target`` -> ``LPIPS target``; AU names stay as they are."""
    words = []
    for word in key.split("_"):
        if word.upper().startswith("AU") and word[2:].isdigit():
            words.append(word.upper())
        else:
            words.append(_WORDS.get(word.lower(), word))
    return " ".join(words)


def arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


def metric_label(mid: MetricId, higher_is_better: bool, backend: bool = True) -> str:
    """``AU MAE ↓ [aurig-ref]`` (backend omitted when ``backend`` is False)."""
    label = key_label(mid.key)
    if mid.backend.startswith("stlpips"):  # shift-tolerant LPIPS: another number than LPIPS
        label = label.replace("LPIPS", "ST-LPIPS")
    text = f"{label} {arrow(higher_is_better)}"
    return f"{text} [{mid.backend}]" if backend else text


def subset_note(protocol: dict[str, Any]) -> str | None:
    """``subset: N of TOTAL pairs`` when a run evaluated only part of its protocol (``--n-pairs``)."""
    subset = protocol.get("subset")
    if not isinstance(subset, dict):
        return None
    return f"subset: {subset.get('n', '?')} of {subset.get('of', '?')} pairs"


def protocol_heading(protocol: dict[str, Any]) -> str:
    """``name vN`` of a results file's protocol block, with ``(subset: N of TOTAL pairs)`` when one."""
    note = subset_note(protocol)
    heading = f"{protocol['name']} v{protocol['version']}"
    return f"{heading} ({note})" if note else heading


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters; arrows become math arrows."""
    out = "".join(_LATEX_SPECIAL.get(c, c) for c in text)
    return (
        out.replace("↑", r"$\uparrow$")
        .replace("↓", r"$\downarrow$")
        .replace("±", r"$\pm$")
        .replace("–", "--")
    )


def decimals_for(values: Iterable[float], half_widths: Iterable[float]) -> int:
    """Decimals for one column: 2 significant digits of the typical CI half-width,
    else 3 significant digits of the typical value; clipped to 0..4."""
    halves = sorted(h for h in half_widths if math.isfinite(h) and h > 0)
    if halves:
        ref = halves[len(halves) // 2]
        return int(min(4, max(0, 1 - math.floor(math.log10(ref)))))
    vals = sorted(abs(v) for v in values if math.isfinite(v) and v != 0)
    if not vals:
        return 3
    ref = vals[len(vals) // 2]
    return int(min(4, max(0, 2 - math.floor(math.log10(ref)))))


def format_cell(value: float, half_ci: float, decimals: int, pm: str = "±") -> str:
    """``0.412 ± 0.031``; ``0.412`` without a CI; ``–`` when the value is missing."""
    if not math.isfinite(value):
        return "–"
    text = f"{value:.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")  # no "-0.0" for a tiny negative value
    if math.isfinite(half_ci):
        text += f" {pm} {half_ci:.{decimals}f}"
    return text
