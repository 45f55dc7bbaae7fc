"""A labelled PNG overview of AU-rig: identities x single AUs, and one pair with its ground truth."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from faceedit_bench.api.aus import AU_NAMES, N_AUS
from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.aurig.render import pixel_grid, render, render_pair
from faceedit_bench.io import atomic_open

AU_LEVEL = 4.0


def flow_to_colour(flow: torch.Tensor, max_px: float | None = None) -> torch.Tensor:
    """Backward flow grid (N, H, W, 2) -> (N, 3, H, W) colour wheel of the displacement in pixels."""
    res = flow.shape[2]
    disp = (flow - pixel_grid(res)) * (res / 2)
    mag = torch.hypot(disp[..., 0], disp[..., 1])
    scale = max_px if max_px is not None else float(mag.max().clamp(min=1e-6))
    hue = (torch.atan2(disp[..., 1], disp[..., 0]) / (2 * math.pi)) % 1.0
    sat = (mag / scale).clamp(0, 1)
    k = (hue.unsqueeze(1) * 6 + torch.tensor([5.0, 3.0, 1.0]).view(1, 3, 1, 1)) % 6
    rgb = 1 - sat.unsqueeze(1) * (torch.minimum(k, 4 - k).clamp(0, 1))
    return rgb


def _to_pil(img: torch.Tensor) -> Image.Image:
    arr = (img.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    return Image.fromarray(arr)


def make_contact_sheet(path: str | Path, resolution: int = 128, n_identities: int = 4, seed: int = 0) -> Path:
    """Write the sheet to ``path``: rows of identities (neutral, then each AU alone at 4), then a pair."""
    ds = AuRigDataset("test", resolution, seed=seed)
    ids = ds.identities(list(range(n_identities)))
    cols = N_AUS + 1
    aus = torch.zeros(cols, N_AUS)
    aus[torch.arange(1, cols), torch.arange(N_AUS)] = AU_LEVEL
    rows = [render(ids.index([i] * cols), aus, resolution).images for i in range(n_identities)]

    pairs = ds.make_pairs(8, seed)
    pb = pairs.batch([0])
    warped = F.grid_sample(pb.source, pb.flow, mode="bilinear", padding_mode="border", align_corners=False)
    proto = torch.zeros(2, N_AUS)
    proto[1, [AU_NAMES.index(a) for a in ("AU06", "AU12", "AU25", "AU26")]] = torch.tensor(
        [3.5, 4.5, 4.0, 2.5]
    )
    happy = render_pair(ids.index([0, 0]), proto[[0, 0]], proto[[0, 1]], resolution)
    gt = [
        (pb.source[0], "source"),
        (pb.target_image[0], "target"),
        (flow_to_colour(pb.flow)[0], "flow"),
        (pb.texture_mask[0].expand(3, -1, -1), "texture mask"),
        (warped[0], "warped source"),
        (happy.target.images[1], "happy target"),
        (flow_to_colour(happy.flow)[1], "its flow"),
        (happy.texture_mask[1].expand(3, -1, -1), "its mask"),
    ]
    pad, label_h = 2, 14
    cell = resolution + pad
    sheet = Image.new("RGB", (cols * cell, (n_identities + 1) * (cell + label_h) + label_h), "white")
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(["neutral", *AU_NAMES]):
        draw.text((j * cell + 2, 1), name, fill="black")
    for i, row in enumerate(rows):
        for j in range(cols):
            sheet.paste(_to_pil(row[j]), (j * cell, label_h + i * (cell + label_h)))
    y0 = label_h + n_identities * (cell + label_h) + label_h
    for j, (img, name) in enumerate(gt):
        draw.text((j * cell + 2, y0 - label_h + 1), name, fill="black")
        sheet.paste(_to_pil(img), (j * cell, y0))
    out = Path(path)
    with atomic_open(out, "wb") as f:
        sheet.save(f, format="PNG")
    return out


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("path", nargs="?", default="reports/figures/aurig_contact_sheet.png")
    p.add_argument("--resolution", type=int, default=128)
    a = p.parse_args()
    torch.set_num_threads(1)
    print(make_contact_sheet(a.path, a.resolution))
