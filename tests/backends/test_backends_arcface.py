"""ArcFace backend: offline availability messages and input validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceedit_bench.backends.identity_arcface import ENV_VAR, ArcFaceIdentity


def test_unavailable_without_weights_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    avail = ArcFaceIdentity.availability()
    if not avail.usable:
        assert ENV_VAR in avail.reason
        with pytest.raises(FileNotFoundError, match=ENV_VAR):
            ArcFaceIdentity()


def test_missing_user_file_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "w600k_r50.onnx"))
    avail = ArcFaceIdentity.availability()
    assert not avail.usable and "w600k_r50.onnx" in avail.reason


def test_wrong_weights_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch

    bogus = tmp_path / "arcface.pt"
    torch.save({"fc.weight": torch.zeros(2, 2)}, bogus)
    monkeypatch.setenv(ENV_VAR, str(bogus))
    with pytest.raises(ValueError, match="not an ArcFace IResNet-50"):
        ArcFaceIdentity()
