"""Periodic validation during training: fixed val images, edits to other samples' AUs.

Uses only images and AU annotations of the val split (no ground truth). AU error is
measured by the critic's AU head and, when available, by an external AU detector
(the AU-rig reference regressor on AU-rig data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
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

    def rows(self, n: int = 8) -> list[tuple[str, torch.Tensor]]:
        """Labelled rows of the last :meth:`run` (``(3, H, n*W)`` each): source, the AU donor whose
        AUs are the target, warped (if any), edit, flow (if any), mask (if any)."""
        x, out = self.last
        k = min(n, len(x))
        rows = [("source", x[:k]), ("target AUs from", x.roll(1, dims=0)[:k])]
        if out.warped is not None:
            rows.append(("warped", out.warped[:k].float().cpu()))
        rows.append(("edit", out.images[:k].float().cpu()))
        if out.grid is not None:
            rows.append(("flow", flow_rgb(out.grid[:k].float().cpu())))
        if out.mask is not None:
            rows.append(("mask", out.mask[:k].float().cpu().expand(-1, 3, -1, -1)))
        return [(label, torch.cat(list(images.clamp(0, 1)), dim=2)) for label, images in rows]

    def save_png(self, path: Path, n: int = 8) -> None:
        """The rows of :meth:`rows`, each named in a label column on the left."""
        from PIL import Image, ImageDraw

        rows = self.rows(n)
        grid = torch.cat([images for _, images in rows], dim=1)
        arr = (grid.permute(1, 2, 0).numpy() * 255).round().astype("uint8")
        height = rows[0][1].shape[1]
        canvas = Image.new("RGB", (LABEL_WIDTH + arr.shape[1], arr.shape[0]), "white")
        canvas.paste(Image.fromarray(arr), (LABEL_WIDTH, 0))
        draw = ImageDraw.Draw(canvas)
        for i, (label, _) in enumerate(rows):
            draw.text((3, i * height + max(0, height // 2 - 6)), label, fill="black")
        path.parent.mkdir(parents=True, exist_ok=True)
        canvas.save(path)


LABEL_WIDTH = 96  # pixels left of the grid for the row names


def flow_rgb(grid: torch.Tensor) -> torch.Tensor:
    """``(N, H, W, 2)`` backward grid -> ``(N, 3, H, W)`` colours: hue = direction, saturation =
    magnitude relative to the largest in the batch, white = no motion (Middlebury coding)."""
    from matplotlib.colors import hsv_to_rgb

    disp = displacement_pixels(grid).numpy()
    dx, dy = disp[..., 0], disp[..., 1]
    mag = (dx**2 + dy**2) ** 0.5
    scale = float(mag.max())
    hue = (np.arctan2(-dy, dx) / (2 * np.pi)) % 1.0
    sat = np.clip(mag / scale, 0, 1) if scale > 0 else np.zeros_like(mag)
    rgb = hsv_to_rgb(np.stack([hue, sat, np.ones_like(mag)], axis=-1))
    return torch.from_numpy(rgb).float().permute(0, 3, 1, 2)
