"""Joint per-sample edit success: the headline number of every protocol.

A sample succeeds only when all of these hold:

* **expression reached** under every AU judge: the judged AU error of the edit closes at
  least :data:`REACHED_SHARE` of the gap between the judged error of the unchanged source
  and the floor (the judge's error on the true target image where the data has one, else 0);
* **identity kept**: the identity judge verifies edit and source as one person;
* **face found** by every judge in the edit;
* **no counted failure** (an edit that could not be made, read or passed the output guard).

Half the gap is our choice: on aurig-demo it separates the shipped editors from leaving the
face unchanged (which closes none of it) while a judge's own noise on the truth (its floor)
is not demanded. A broken, blanked, blurred or wrongly scaled face fails at least one clause.
"""

from __future__ import annotations

import torch

from faceedit_bench.metrics.functional.au_error import au_mae_mse

REACHED_SHARE = 0.5


def expression_reached(
    edited_aus: torch.Tensor,
    source_aus: torch.Tensor,
    target_aus: torch.Tensor,
    truth_aus: torch.Tensor | None = None,
    share: float = REACHED_SHARE,
) -> torch.Tensor:
    """``(N,)`` bool: the edit's judged AU MAE closes ``share`` of the source-to-floor gap.

    A missed face in the edit (NaN row) never reaches; a source the judge cannot read gives
    no gap to close, and then the edit must still be judged no worse than the floor.
    """
    edit_err = au_mae_mse(edited_aus, target_aus)[0]
    source_err = au_mae_mse(source_aus, target_aus)[0]
    floor = torch.zeros_like(edit_err) if truth_aus is None else au_mae_mse(truth_aus, target_aus)[0]
    floor = torch.nan_to_num(floor, nan=0.0)
    gap = torch.nan_to_num(source_err - floor, nan=0.0).clamp_min(0)
    reached = edit_err <= floor + (1 - share) * gap + 1e-9
    return reached & ~torch.isnan(edit_err)


def joint_success(*conditions: torch.Tensor) -> torch.Tensor:
    """``(N,)`` float64 0/1: every condition holds (each a ``(N,)`` bool tensor)."""
    ok = torch.ones_like(conditions[0], dtype=torch.bool)
    for cond in conditions:
        ok = ok & cond.to(ok.device).bool()
    return ok.to(torch.float64)
