"""Paired supervision (``lambda_pair``): partners of the same person, their AUs as targets, the L1 term."""

import pytest
import torch

from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.editors.output import GeneratorOutput
from faceedit_bench.editors.spec import TWO_STAGE
from faceedit_bench.io import read_jsonl
from faceedit_bench.training import train
from faceedit_bench.training.distributed import DistEnv
from faceedit_bench.training.steps import StepContext, draw_batch, pair_loss


def _ctx(spec, batch=6, resolution=16):
    return StepContext(spec, batch, DistEnv(), torch.device("cpu"), False, False, resolution)


def test_aurig_partners_show_the_same_identity_and_follow_the_generator():
    data = AuRigDataset(split="train", resolution=32, size=40)
    idx = [0, 9, 10, 25, 39]
    a = data.same_identity_partners(idx, torch.Generator().manual_seed(1))
    b = data.same_identity_partners(idx, torch.Generator().manual_seed(1))
    assert a == b and all(0 <= p < len(data) for p in a)
    assert [data.get(p).identity_id for p in a] == [data.get(i).identity_id for i in idx]
    many = data.same_identity_partners([3] * 50, torch.Generator().manual_seed(2))
    assert len(set(many)) > 3  # not always the image itself


def test_pair_batch_targets_are_the_partners_exact_aus(tiny_faces):
    data = tiny_faces(n=12)
    spec = TWO_STAGE.with_overrides(lambda_pair=10.0)
    b = draw_batch(data, torch.Generator().manual_seed(0), 6, 0.1, _ctx(spec))
    assert b.partner is not None and b.partner.shape == b.real.shape
    for image, aus in zip(b.partner, b.target_aus, strict=True):
        match = [i for i in range(len(data)) if torch.equal(data.get(i).image, image)]
        assert match and torch.equal(data.get(match[0]).aus, aus)  # no AU noise on a paired target
    plain = draw_batch(data, torch.Generator().manual_seed(0), 6, 0.1, _ctx(TWO_STAGE))
    assert plain.partner is None


def test_training_with_pairs_logs_the_term_and_a_dataset_without_partners_is_refused(tiny_config, tiny_faces):
    out = train(tiny_config("ganimation", loss_weights={"lambda_pair": 5.0}), dataset=tiny_faces())
    rows = [r for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "train" and "g/adv" in r]
    assert rows and all(r["g/pair"] > 0 for r in rows)

    class OnePerImage(tiny_faces):
        n_identities = None

    with pytest.raises(ValueError, match="OnePerImage cannot draw same-identity partners"):
        train(tiny_config("two-stage", loss_weights={"lambda_pair": 5.0}), dataset=OnePerImage())


def test_pair_loss_compares_the_output_or_the_motion_steps_warp():
    partner, warped = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    out = GeneratorOutput(images=warped + 0.25, warped=warped)
    on_output = TWO_STAGE.with_overrides(lambda_pair=2.0)
    on_warp = on_output.with_overrides(pair_on="warp")
    torch.testing.assert_close(pair_loss(out, warped, on_output), torch.tensor(0.5))
    assert pair_loss(out, warped, on_warp) == 0  # the texture step's change is not counted
    no_motion = GeneratorOutput(images=partner)
    assert pair_loss(no_motion, partner, on_warp) == 0  # without a warp: the output


def test_bad_pair_target_is_refused(tiny_config):
    from faceedit_bench.config import ConfigError

    with pytest.raises(ConfigError, match="pair_on"):
        tiny_config("two-stage", pair_on="texture").validate()
