"""The periodic validator's AU numbers: the critic on edits against the critic on unedited sources."""

from types import SimpleNamespace

import pytest
import torch

from faceedit_bench.api.aus import AU_MAX
from faceedit_bench.training.validate import Validator


class MeanReader(torch.nn.Module):
    """A critic whose AU head reads every AU as the image's mean brightness (x AU_MAX)."""

    def forward(self, images):
        return None, images.mean(dim=(1, 2, 3)).unsqueeze(1).expand(-1, 17)


class Keep(torch.nn.Module):
    def forward(self, images, aus):
        return SimpleNamespace(images=images, mask=None, grid=None)


class PaintTarget(torch.nn.Module):
    """Sets each image's brightness to the mean target AU: the critic then reads the target."""

    def forward(self, images, aus):
        level = (aus.mean(dim=1) / AU_MAX).view(-1, 1, 1, 1)
        return SimpleNamespace(images=level.expand_as(images).clone(), mask=None, grid=None)


@pytest.fixture
def validator(tiny_faces):
    faces = tiny_faces(n=12, resolution=16)
    faces.aus[:] = faces.aus[:, :1]  # one value per face, so a brightness can express all 17 AUs
    return Validator(faces, size=8, resolution=16, detector=None)


def test_an_unedited_output_scores_the_critics_unedited_error(validator):
    m = validator.run(Keep(), MeanReader(), torch.device("cpu"))
    assert m["val/au_mae_critic"] == pytest.approx(m["val/au_mae_critic_unedited"])
    assert m["val/change_l1"] == 0


def test_an_edit_the_critic_reads_as_the_target_drops_below_unedited(validator):
    m = validator.run(PaintTarget(), MeanReader(), torch.device("cpu"))
    assert m["val/au_mae_critic"] < 1e-5 < m["val/au_mae_critic_unedited"]
    assert m["val/change_l1"] > 0
