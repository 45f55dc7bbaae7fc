"""AU-free colour perturbations for the critic's AU head (ours).

The generator's only AU signal is the critic's AU head, and a small head can be
driven to any target by colour patches that change no AU (measured: README,
"Training recipes"; the shipped edits showed red/green/blue blotches that the
judge partly read as AUs). Showing the head real faces with random smooth colour
blobs and pixel noise, labelled with the faces' own AUs, teaches it that such
changes are not AUs, so the generator has to move what AUs move. In the spirit of
adversarial/augmentation training of the discriminator (e.g. DiffAugment, Zhao et
al. 2020), but applied to the AU head only: the realism output never sees them.
"""

from __future__ import annotations

import torch


def colour_blobs(
    images: torch.Tensor, rng: torch.Generator, strength: float = 1.0, max_blobs: int = 6
) -> torch.Tensor:
    """``images`` (N, 3, H, W) in [0, 1] plus Gaussian colour blobs and pixel noise, clamped.

    Per image: 1 to ``max_blobs`` blobs centred in the middle 70% of the image, radius
    3-10% of the side, an RGB amplitude ~ N(0, (0.25 * strength)^2) per channel; then
    pixel noise with a standard deviation ~ U(0, 0.05 * strength). All random numbers
    come from ``rng`` (drawn on the CPU), so a resumed run perturbs identically.
    """
    n, _, h, w = images.shape
    k = max_blobs
    centre = 0.15 + 0.7 * torch.rand(n, k, 2, generator=rng)
    radius = 0.03 + 0.07 * torch.rand(n, k, 1, generator=rng)
    amplitude = torch.randn(n, k, 3, generator=rng) * 0.25 * strength
    active = torch.arange(k).view(1, k) < torch.randint(1, k + 1, (n, 1), generator=rng)
    noise_std = torch.rand(n, 1, 1, 1, generator=rng) * 0.05 * strength
    noise = torch.randn(n, 3, h, w, generator=rng) * noise_std

    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w
    d2 = (xs.view(1, 1, 1, w) - centre[..., 0, None, None]) ** 2 + (
        ys.view(1, 1, h, 1) - centre[..., 1, None, None]
    ) ** 2  # (n, k, h, w)
    weight = torch.exp(-d2 / (2 * radius[..., None] ** 2)) * active[..., None, None]
    blobs = torch.einsum("nkhw,nkc->nchw", weight, amplitude)
    return (images + (blobs + noise).to(images.device, images.dtype)).clamp(0, 1)
