"""Periodic validation during training: fixed val images, edits to other samples' AUs.

Uses only images and AU annotations of the val split (no ground truth). AU error is
measured by the critic's AU head and, when available, by an external AU detector
(the AU-rig reference regressor on AU-rig data).
"""

from __future__ import annotations

from pathlib import Path

import torch

from faceedit_bench.api.aus import AU_MAX
from faceedit_bench.api.backends import AUDetector
from faceedit_bench.api.dataset import FaceDataset
from faceedit_bench.data.images import at_resolution
from faceedit_bench.editors.warp import displacement_pixels


def _mae(pred: torch.Tensor, target: torch.Tensor) -> float:
    known = ~torch.isnan(target) & ~torch.isnan(pred)
    return float((pred - target).abs()[known].mean()) if known.any() else float("nan")


def load_detector(choice: str, dataset_name: str) -> AUDetector | None:
    """The validation AU detector: ``auto`` = the AU-rig reference detector on AU-rig data."""
    if choice == "none" or (choice == "auto" and dataset_name != "aurig"):
        return None
    try:
        from faceedit_bench import plugins

        cls = plugins.au_detectors.get("aurig-ref" if choice == "auto" else choice)
        if not cls.availability().usable:
            return None
        return cls()
    except Exception:  # optional judge: training runs without it
        return None


class Validator:
    """Edits a fixed val batch and reports AU error, cycle error, mask and flow statistics."""

    def __init__(self, dataset: FaceDataset, size: int, resolution: int, detector: AUDetector | None) -> None:
        n = min(size, len(dataset))
        spread = torch.linspace(0, len(dataset) - 1, n).round().long().tolist()  # many identities, fixed
        got = dataset.get_batch(spread)
        images = at_resolution(got.images.float(), resolution)
        self.images, self.aus = images, got.aus.float()
        self.target = self.aus.roll(1, dims=0)
        self.detector = detector

    @torch.no_grad()
    def run(
        self, generator: torch.nn.Module, critic: torch.nn.Module, device: torch.device
    ) -> dict[str, float]:
        was_training = generator.training
        generator.eval()
        x, aus, tgt = self.images.to(device), self.aus.to(device), self.target.to(device)
        out = generator(x, tgt)
        rec = generator(out.images, aus)
        _, au_fake = critic(out.images)
        _, au_real = critic(x)
        generator.train(was_training)
        read_real = au_real.float().cpu() * AU_MAX
        m: dict[str, float] = {
            "val/au_mae_critic": _mae(au_fake.float().cpu() * AU_MAX, self.target),
            "val/au_mae_critic_real": _mae(read_real, self.aus),
            # the critic's error had nothing been edited: a large drop from here to au_mae_critic
            # while the external detector's error barely moves means the edits fool the AU head
            "val/au_mae_critic_unedited": _mae(read_real, self.target),
            "val/cycle_l1": float((rec.images - x).abs().mean()),
            "val/change_l1": float((out.images - x).abs().mean()),
        }
        if out.mask is not None:
            m["val/mask_mean"] = float(out.mask.mean())
        if out.grid is not None:
            m["val/flow_px"] = float(displacement_pixels(out.grid.float()).norm(dim=-1).mean())
        if self.detector is not None:
            try:
                det = self.detector.detect(out.images.float().cpu())
                m[f"val/au_mae@{self.detector.label}"] = _mae(det, self.target)
                m[f"val/au_mae_unedited@{self.detector.label}"] = _mae(
                    self.detector.detect(x.cpu()), self.target
                )
            except Exception:  # an optional judge must not kill training
                self.detector = None
        self.last = (x.cpu(), out)
        return m

    def save_png(self, path: Path, n: int = 8) -> None:
        """Rows: source, warped (if any), edit (of the last :meth:`run`)."""
        from PIL import Image

        x, out = self.last
        rows = [x[:n]]
        if out.warped is not None:
            rows.append(out.warped[:n].float().cpu())
        rows.append(out.images[:n].float().cpu())
        grid = torch.cat([torch.cat(list(r), dim=2) for r in rows], dim=1)
        arr = (grid.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype("uint8")
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(path)
