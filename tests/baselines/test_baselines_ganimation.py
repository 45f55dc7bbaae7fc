"""The GANimation baseline: registered, published defaults, shared trainer, editor contract."""

import torch
from faceedit_bench.baselines.ganimation.editor import GANimationEditor
from faceedit_bench.baselines.ganimation.generator import GANimationGenerator

from faceedit_bench import plugins
from faceedit_bench.config import build_config
from faceedit_bench.editors.spec import GANIMATION
from faceedit_bench.training.config import TrainConfig
from faceedit_bench.training.critic import Critic


def test_registered_as_the_baseline():
    assert plugins.editors.get("ganimation") is GANimationEditor
    assert GANimationEditor.group == "baseline" and GANimationEditor.spec is GANIMATION


def test_published_recipe_is_ganimations_setup():
    c = build_config(TrainConfig, editor="ganimation", recipe="ganimation-paper")
    assert (c.lr_g, c.lr_d, c.beta1, c.beta2, c.g_every) == (1e-4, 1e-4, 0.5, 0.999, 5)
    assert (c.resolution, c.batch_size, c.au_noise) == (128, 25, 0.1)
    assert abs(c.lr_decay_fraction - 1 / 3) < 1e-9 and c.critic_channels == 64
    s = c.editor_spec()
    assert s.lambda_au / c.batch_size == 160  # 4000 normalised by the batch of 25
    assert (s.lambda_cycle, s.lambda_mask, s.lambda_mask_smooth, s.lambda_gp) == (10, 0.1, 1e-5, 10)
    assert (s.channels, s.res_blocks, s.n_down, s.stem_norm) == (64, 6, 2, True)
    assert s.upsample == "transposed" and c.critic_max_channels == 2048 and c.critic_init is None


class _Constant(torch.nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.full_like(features[:, :1], self.value)


def test_generator_and_critic_shapes():
    gen = GANimationGenerator(GANIMATION.with_overrides(channels=8, res_blocks=1))
    x = torch.rand(2, 3, 32, 32)
    out = gen(x, torch.rand(2, 17) * 5)
    assert out.images.shape == x.shape and out.mask.shape == (2, 1, 32, 32) and out.grid is None
    gen.heads.mask = _Constant(50.0)  # sigmoid -> M = 1: keep the input
    torch.testing.assert_close(gen(x, torch.rand(2, 17)).images, x, atol=1e-6, rtol=0)
    scores, aus = Critic(128, channels=4)(torch.rand(1, 3, 128, 128))
    assert scores.shape == (1, 1, 2, 2) and aus.shape == (1, 17)
