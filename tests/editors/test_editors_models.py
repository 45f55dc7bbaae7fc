"""Generators and the trained-editor wrapper: shapes, ranges, resizing, loading, provenance."""

import pytest
import torch

from faceedit_bench import plugins
from faceedit_bench.api.editor import EditorLoadError, create_editor
from faceedit_bench.editors import spec as specs
from faceedit_bench.editors import trained
from faceedit_bench.editors.generator import build_generator
from faceedit_bench.editors.variants import TwoStageEditor, WarpOnlyEditor
from faceedit_bench.io import sha256_file, torch_save_atomic

TINY = {"channels": 8, "res_blocks": 1, "motion_res_blocks": 1}
TRAINED = (
    "two-stage",
    "warp-only",
    "texture-only",
    "two-stage-no-tv",
    "two-stage-no-cycle",
    "two-stage-no-mask",
    "ganimation",
)


@pytest.mark.parametrize("name", TRAINED)
def test_generator_shapes_and_ranges(name):
    cls = plugins.editors.get(name)
    gen = build_generator(cls.spec.with_overrides(**TINY))
    x, aus = torch.rand(2, 3, 16, 16), torch.rand(2, 17) * 5
    out = gen(x, aus)
    assert out.images.shape == x.shape
    assert out.images.min() >= 0 and out.images.max() <= 1
    assert (out.grid is not None) == cls.spec.use_motion
    assert (out.mask is not None) == cls.spec.use_texture
    if out.grid is not None:
        assert out.grid.shape == (2, 16, 16, 2) and out.grid.abs().max() <= 1.5
    if out.mask is not None:
        assert out.mask.shape == (2, 1, 16, 16) and out.mask.min() >= 0 and out.mask.max() <= 1


def test_untrained_motion_step_is_the_identity_warp():
    gen = build_generator(specs.WARP_ONLY.with_overrides(**TINY))
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(gen(x, torch.rand(2, 17) * 5).images, x, atol=1e-5, rtol=0)


def test_ablations_are_small_changes_of_one_spec():
    base = specs.TWO_STAGE
    assert base.with_overrides(lambda_flow_tv=0.0) == specs.TWO_STAGE_NO_TV
    assert base.with_overrides(lambda_cycle=0.0) == specs.TWO_STAGE_NO_CYCLE
    assert not specs.WARP_ONLY.use_texture and not specs.TEXTURE_ONLY.use_motion
    with pytest.raises(ValueError, match="unknown editor spec field"):
        base.with_overrides(lamda_cycle=1.0)


def _write_checkpoint(path, cls, resolution=16):
    spec = cls.spec.with_overrides(**TINY)
    torch.manual_seed(0)
    gen = build_generator(spec)
    state = {"editor": cls.name, "spec": spec.to_json(), "resolution": resolution, "config": {"seed": 3},
             "step": 7, "seed": 3, "code_version": "test", "generator": {k: v.half() for k, v in gen.state_dict().items()}}  # fmt: skip
    torch_save_atomic(state, path)
    return gen


def test_create_without_shipped_checkpoint_explains_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setattr(trained, "CHECKPOINT_ROOT", tmp_path)
    with pytest.raises(EditorLoadError, match=r"faceedit-bench train --editor two-stage --dataset aurig"):
        create_editor(TwoStageEditor, checkpoint=None, resolution=64, device="cpu")


def test_create_loads_the_shipped_checkpoint_and_edits_any_size(tmp_path, monkeypatch):
    monkeypatch.setattr(trained, "CHECKPOINT_ROOT", tmp_path)
    path = tmp_path / "aurig-64" / "two-stage.pt"
    path.parent.mkdir()
    _write_checkpoint(path, TwoStageEditor)
    (tmp_path / "aurig-64" / "two-stage.metrics.jsonl").write_text('{"step": 1}\n')
    editor = create_editor(TwoStageEditor, checkpoint=None, resolution=32, device="cpu")  # nearest shipped
    assert editor.resolution == 16
    out = editor.edit(torch.rand(3, 3, 24, 24), torch.rand(3, 17) * 5)
    assert out.images.shape == (3, 3, 24, 24) and out.flow.shape == (3, 24, 24, 2)
    assert out.mask.shape == (3, 1, 24, 24) and out.warped.shape == (3, 3, 24, 24)
    info = editor.describe()
    assert info["sha256"] == sha256_file(path) and info["step"] == 7 and info["seed"] == 3
    assert info["group"] == "two-stage" and info["training_metrics"].endswith("two-stage.metrics.jsonl")


def test_checkpoint_of_another_editor_is_refused(tmp_path):
    path = tmp_path / "w.pt"
    _write_checkpoint(path, TwoStageEditor)
    with pytest.raises(EditorLoadError, match="holds editor 'two-stage'"):
        WarpOnlyEditor.create(checkpoint=str(path), resolution=16, device="cpu")
    with pytest.raises(EditorLoadError, match="does not exist"):
        TwoStageEditor.create(checkpoint=str(tmp_path / "missing.pt"), resolution=16, device="cpu")


def test_edit_at_trained_resolution_matches_the_generator(tmp_path):
    path = tmp_path / "w.pt"
    gen = _write_checkpoint(path, TwoStageEditor)
    gen.load_state_dict({k: v.half().float() for k, v in gen.state_dict().items()})
    editor = TwoStageEditor.create(checkpoint=str(path), resolution=16, device="cpu")
    x, aus = torch.rand(2, 3, 16, 16), torch.rand(2, 17) * 5
    with torch.no_grad():
        ref = gen.eval()(x, aus)
    out = editor.edit(x, aus)
    torch.testing.assert_close(out.images, ref.images, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.flow, ref.grid, atol=1e-5, rtol=0)


def test_low_resolution_increments_give_a_full_size_fold_free_grid():
    from faceedit_bench.editors.motion_net import MotionNet

    torch.manual_seed(0)
    net = MotionNet(8, 2, 1, flow_up_skip=2)
    torch.nn.init.normal_(net.head.weight, std=0.5)  # a non-trivial warp
    grid = net(torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 17))
    assert grid.shape == (2, 16, 16, 2)
    assert (grid[..., 0].diff(dim=2) >= 0).all() and (grid[..., 1].diff(dim=1) >= 0).all()
    from faceedit_bench.editors.warp import identity_grid

    assert (grid - identity_grid(2, 16, 16)).abs().max() > 1e-3


def test_motion_net_displacement_flow_is_bounded_and_starts_at_identity():
    from faceedit_bench.editors.motion_net import MotionNet
    from faceedit_bench.editors.warp import MAX_DISPLACEMENT, identity_grid

    torch.manual_seed(0)
    net = MotionNet(8, 2, 1, flow_up_skip=2, flow="displacement")
    x, aus = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 17)
    torch.testing.assert_close(net(x, aus), identity_grid(2, 16, 16), atol=0, rtol=0)
    torch.nn.init.normal_(net.head.weight, std=50.0)  # saturate
    disp = (net(x, aus) - identity_grid(2, 16, 16)).abs()
    assert disp.max() <= MAX_DISPLACEMENT + 1e-6 and disp.max() > MAX_DISPLACEMENT / 2
    with pytest.raises(ValueError, match="unknown flow parametrisation"):
        MotionNet(8, 2, 1, flow="spline")


def _near_identity_editor(cls, spec):
    """A trained editor at 16 px whose generator keeps its input: identity warp, mask ~1."""
    generator = build_generator(spec.with_overrides(channels=4, res_blocks=1, motion_res_blocks=1))
    if generator.texture is not None:
        torch.nn.init.zeros_(generator.texture.heads.mask.weight)
        torch.nn.init.constant_(generator.texture.heads.mask.bias, 12.0)  # M = sigmoid(12) ~ 1
    return cls(generator.eval(), {"resolution": 16}, None)


@pytest.mark.parametrize("cls", [TwoStageEditor, WarpOnlyEditor])
def test_away_from_its_size_an_editor_keeps_full_resolution_detail_where_it_keeps_the_input(cls):
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    editor = _near_identity_editor(cls, cls.spec)
    out = editor.edit(images, torch.zeros(2, 17))
    # the native composite returns the 64 px input, not a blurred 16 -> 64 px copy of it
    assert (out.images - images).abs().max() < 1e-3
    blurred = torch.nn.functional.interpolate(
        torch.nn.functional.interpolate(images, size=(16, 16), mode="bilinear", antialias=True),
        size=(64, 64),
        mode="bilinear",
    )
    assert (blurred - images).abs().mean() > 0.1
    if cls is WarpOnlyEditor:  # no mask: the output is the full-resolution warp itself
        torch.testing.assert_close(out.images, out.warped.clamp(0, 1))


def test_shading_texture_changes_brightness_but_never_hue():
    from faceedit_bench.editors.texture_net import TextureNet

    torch.manual_seed(0)
    net = TextureNet(8, 2, 1, texture="shading")
    torch.nn.init.normal_(net.heads.colour.weight, std=1.0)  # a strong, varied grey level
    x = torch.rand(2, 3, 16, 16) * 0.5 + 0.25  # away from the clamp
    mask, colour = net(x * 2 - 1, torch.rand(2, 17))
    assert colour.shape == x.shape and mask.shape == (2, 1, 16, 16)
    shift = colour - x  # the same added grey level on every channel, wherever no channel clamps
    inside = ((colour > 0) & (colour < 1)).all(dim=1, keepdim=True).expand_as(shift)
    spread = (shift.max(dim=1).values - shift.min(dim=1).values)[inside[:, 0]]
    assert spread.max() < 1e-5 and shift.abs().max() > 0.05
    assert net.heads.colour.out_channels == 1
    with pytest.raises(ValueError, match="unknown texture"):
        TextureNet(8, 2, 1, texture="hue")


def test_texture_option_reaches_the_two_stage_spec_and_spares_ganimation():
    from faceedit_bench.config import ConfigError, build_config
    from faceedit_bench.training.config import TrainConfig

    with pytest.raises(ConfigError, match="option 'texture' must be one of colour, shading, got 'hue'"):
        build_config(TrainConfig, editor="two-stage", texture="hue")
    assert TrainConfig(editor="two-stage", texture="shading").editor_spec().texture == "shading"
    assert TrainConfig(editor="ganimation", texture="shading").editor_spec().texture == "colour"
    assert TrainConfig(editor="warp-only", texture="shading").editor_spec().texture == "colour"
    generator = build_generator(
        plugins.editors.get("two-stage").spec.with_overrides(**TINY, texture="shading")
    )
    out = generator(torch.rand(2, 3, 16, 16), torch.rand(2, 17) * 5)
    assert out.images.shape == (2, 3, 16, 16) and out.images.min() >= 0 and out.images.max() <= 1
