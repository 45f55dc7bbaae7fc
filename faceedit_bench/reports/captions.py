"""Captions of the paper tables and figures: what is shown, what ± and bold mean, on which pairs.

Every caption starts with a sentence that says what the float shows and names the
protocol, its version and the pair count (``subset: N of TOTAL`` for a ``--n-pairs``
run), then how to read it. Plain text (escaped by :mod:`.latex`); labels are in
:func:`faceedit_bench.reports.latex.label` and documented in docs/paper-tables.md.
"""

from __future__ import annotations

import re
from typing import Any

from faceedit_bench.reports.labels import key_label, subset_note

READ_CELLS = "Cells: mean ± half-width of the 95% bootstrap interval; ↑/↓: higher/lower is better; [..]: backend that measured the column."


def pairs_phrase(results: dict[str, Any]) -> str:
    """``aurig-demo v2, 200 test pairs`` (``subset: 48 of 200 test pairs`` for a subset run)."""
    p = results.get("protocol") or {}
    head = f"{p.get('name', '?')} v{p.get('version', '?')}"
    split = f" {p['split']}" if p.get("split") else ""
    note = subset_note(p)
    if note:
        return f"{head}, {note.replace(' pairs', f'{split} pairs')}"
    n = p.get("n_pairs_evaluated", p.get("n_pairs"))
    return f"{head}, {n}{split} pairs" if n is not None else head


def bold_phrase(results: dict[str, Any]) -> str:
    if results.get("comparisons") is not None:
        return (
            "Bold: the best competing editor when it is significantly better than every other one "
            "(paired bootstrap, 95%); no bold where the best is not separable from the runner-up, "
            "where values tie or where only one editor competes."
        )
    return "Bold: the one best value per column; ties and columns with one competing editor are not bold."


def table_caption(
    kind: str, results: dict[str, Any], extra: str = "", part: tuple[int, int] = (1, 1), family: str = ""
) -> str:
    """Caption of one table float; ``kind`` is summary, ablation, per_au, comparisons or seeds."""
    where = pairs_phrase(results)
    more = f" (part {part[0]} of {part[1]})" if part[1] > 1 else ""
    if kind == "summary":
        first = f"Editors compared on {where}{more}."
        body = [
            READ_CELLS,
            bold_phrase(results),
            "Reference rows (identity, oracle) are bounds and never bold.",
        ]
    elif kind == "ablation":
        first = f"Ablation of the two-stage editor on {where}: its variants, with the baseline for reference{more}."
        body = [READ_CELLS, bold_phrase(results).replace("competing editor", "two-stage variant")]
    elif kind == "per_au":
        first = f"Per-AU {family} of each editor on {where}{more}; one row per action unit."
        body = [READ_CELLS, bold_phrase(results)]
    elif kind == "comparisons":
        block = results.get("comparisons") or {}
        first = f"Paired comparisons on {where}{more}: each editor minus the editor it is compared with (vs)."
        body = [
            "Difference on the metric's own scale with its 95% paired bootstrap interval "
            f"(resampling {block.get('resampled', 'pairs')}) and two-sided p; verdict from the editor's side, "
            "n.s. where the interval contains 0; seeds: training seeds of editor × vs."
        ]
    elif kind == "seeds":
        first = f"Training seeds on {where}{more}: every seed's value, mean ± sd across seeds and the 95% interval over pairs × seeds."
        body = []
    else:
        first = f"{kind} on {where}{more}."
        body = []
    return " ".join([first, *body, *([extra] if extra else [])])


def _au_family(stem: str) -> tuple[str, str] | None:
    m = re.match(r"per_au__(.+)__(.+)$", stem)
    return (m[1], m[2]) if m else None


def figure_caption(stem: str, results: dict[str, Any]) -> str:
    """One sentence (or two) saying what the figure ``stem`` shows."""
    where = pairs_phrase(results)
    if stem == "qualitative":
        return (
            f"Qualitative edits on {where}: each row is one test pair, showing the source image, its target "
            "AU intensities (bars; source values as ticks), each editor's edit and, where the data has one, "
            "the true target image."
        )
    if stem == "inside":
        return (
            f"Inside the two-stage editor on {where}: the predicted deformation as colour (hue: direction, "
            "saturation: magnitude) and as arrows, the attention mask (1: keep the warped pixel), the warped "
            "image of the motion step and the output after the texture step, beside source and true target."
        )
    if stem.startswith("sweep_"):
        au = stem.removeprefix("sweep_")
        return (
            f"{au} sweep on {where}: each row edits the same source towards {au} at intensities 0 to 5 "
            "(first column: the unedited source); a last row, where present, is the ground-truth rendering."
        )
    family = _au_family(stem)
    if family is not None:
        base, backend = family
        return (
            f"Per-AU {key_label(base)} measured by {backend} on {where}: bars are the competing editors with "
            "95% bootstrap intervals; horizontal lines mark the reference editors (bounds), as in the legend."
        )
    if stem == "fid_vs_au_error":
        return (
            f"Realism against expression accuracy on {where}: one point per editor, AU error (x) against "
            "FID (y), both lower is better, with 95% intervals where available."
        )
    if stem == "attribution":
        return (
            f"Where each editor's AU gain comes from on {where}: AU error of the final output and of images "
            "that take it apart (hue of the change removed, motion step alone), with 95% intervals; the "
            "dashed line and band are the unchanged source."
        )
    if stem.startswith("training_"):
        editor = stem.removeprefix("training_")
        return f"Training curves of {editor}: losses (left) and validation metrics (right) against the step."
    return f"{stem.replace('_', ' ')} on {where}."
