"""AU vectors for AU-rig samples: expression prototypes plus sparse random combinations.

Prototypes follow the EMFACS-style prototypes used in the FACS literature
(happy 6+12+25, surprise 1+2+5+25+26, anger 4+5+7+23, sad 1+4+15,
disgust 9+10+15, fear 1+2+4+5+20+25); one sample in ten is neutral and one in
three is a sparse random combination of 1-3 AUs. Intensities are on 0-5.
"""

from __future__ import annotations

import numpy as np
import torch

from faceedit_bench.api.aus import AU_MAX, N_AUS, au_index
from faceedit_bench.aurig.rng import uniforms

PROTOTYPES: dict[str, tuple[str, ...]] = {
    "happy": ("AU06", "AU12", "AU25"),
    "surprise": ("AU01", "AU02", "AU05", "AU25", "AU26"),
    "anger": ("AU04", "AU05", "AU07", "AU23"),
    "sad": ("AU01", "AU04", "AU15"),
    "disgust": ("AU09", "AU10", "AU15"),
    "fear": ("AU01", "AU02", "AU04", "AU05", "AU20", "AU25"),
}
P_NEUTRAL = 0.1
P_RANDOM = 0.35  # sparse random combinations; the rest are prototypes

_PROTO = np.zeros((len(PROTOTYPES), N_AUS))
for _row, _aus in enumerate(PROTOTYPES.values()):
    for _name in _aus:
        _PROTO[_row, au_index(_name)] = 1.0


def sample_aus(keys: np.ndarray, stream: int) -> torch.Tensor:
    """(N, 17) float32 AU intensities, one vector per 64-bit ``key``."""
    n = len(keys)
    u = uniforms(keys, 8 + 3 * N_AUS, stream)
    kind = u[:, 0]
    # prototypes: a global intensity, per-AU jitter, occasional extra AU
    proto = _PROTO[np.minimum((u[:, 1] * len(PROTOTYPES)).astype(int), len(PROTOTYPES) - 1)]
    level = 0.8 + 4.2 * u[:, 2:3]
    jitter = 0.6 + 0.8 * u[:, 8 : 8 + N_AUS]
    aus_proto = proto * np.clip(level * jitter, 0, AU_MAX)
    # sparse random: each AU on with probability ~2/17, at U(0.5, 5)
    on = u[:, 8 + N_AUS : 8 + 2 * N_AUS] < 2.0 / N_AUS
    forced = np.zeros((n, N_AUS), dtype=bool)
    forced[np.arange(n), np.minimum((u[:, 3] * N_AUS).astype(int), N_AUS - 1)] = True
    aus_rand = (on | forced) * (0.5 + 4.5 * u[:, 8 + 2 * N_AUS : 8 + 3 * N_AUS])
    aus = np.where((kind < P_NEUTRAL + P_RANDOM)[:, None], aus_rand, aus_proto)
    aus = np.where((kind < P_NEUTRAL)[:, None], 0.0, aus)
    return torch.from_numpy(aus).float()


def sample_independent_aus(keys: np.ndarray, stream: int, p_on: float = 0.4) -> torch.Tensor:
    """(N, 17) AUs switched on independently with ``p_on``, intensity U(0, 5).

    Used to train the reference AU regressor, so that it cannot learn co-occurrence.
    """
    u = uniforms(keys, 2 * N_AUS, stream)
    return torch.from_numpy((u[:, :N_AUS] < p_on) * u[:, N_AUS:] * AU_MAX).float()
