"""The public API as a notebook uses it: a lambda as an editor, run twice, a DataFrame back."""

import sys
import textwrap

import pandas as pd
import pytest
import torch

import faceedit_bench as fb
from faceedit_bench import plugins
from faceedit_bench.cli.main import main
from faceedit_bench.harness.outputs.results import load_results
from faceedit_bench.registry import RegistryError


def test_notebook_cell_run_twice_gives_dataframes():
    frames = []
    for _ in range(2):  # re-running the cell must work
        res = fb.evaluate(lambda images, aus: images.flip(-1), protocol="tiny", name="flip")
        frames.append(res.to_pandas())
    first, second = frames
    assert isinstance(first, pd.DataFrame)
    assert set(first["editor"]) == {"flip"}
    assert {"psnr@exact", "ssim@exact"} <= set(first["metric"])
    pd.testing.assert_frame_equal(first, second)
    assert res.folder is None and res.data["config"]["command"] == "api"
    per_sample = res.to_pandas(per_sample=True)
    assert len(per_sample[per_sample["metric"] == "psnr@exact"]) == 10


def test_lambda_beside_registered_editors_matches_identity_and_saves(tmp_path):
    res = fb.evaluate(lambda x, aus: x, protocol="tiny", name="copy", compare_with=["identity", "oracle"])
    assert res.editors == ["identity", "oracle", "copy"]
    assert res.value("copy", "psnr") == pytest.approx(res.value("identity", "psnr@exact"), abs=1e-9)
    saved = res.save(tmp_path / "saved")
    assert load_results(saved / "results.json")["editors"]["copy"]["group"] == "external"
    assert (saved / "tables" / "summary.csv").exists()
    assert fb.load(saved).to_pandas().equals(res.to_pandas())


def test_wrong_return_value_fails_with_a_message_naming_the_editor():
    with pytest.raises(fb.EditorFailed, match=r"editor 'bad' returned str; expected a torch\.Tensor"):
        fb.evaluate(lambda x, aus: "out", protocol="tiny", name="bad")
    with pytest.raises(fb.EditorFailed, match=r"returned shape \(\d+, 3, 8, 8\)"):
        fb.evaluate(lambda x, aus: x[..., :8, :8], protocol="tiny", name="small")


def test_editor_instance_and_registered_callable_from_the_cli(tmp_path):
    class Darken(fb.Editor):
        def edit(self, images, target_aus):
            return fb.EditOutput(images=images * 0.5)

    res = fb.evaluate(Darken(), protocol="tiny", name="darken")
    assert res.value("darken", "psnr") < res_identity_psnr()

    fb.register_editor("user-half", lambda x, aus: x * 0.5)
    fb.register_editor("user-half", lambda x, aus: x * 0.5)  # a re-run cell replaces it
    with pytest.raises(RegistryError, match="built-in"):
        fb.register_editor("identity", lambda x, aus: x)
    out = tmp_path / "cli"
    argv = ["compare", "--protocol", "tiny", "--editors", "identity", "user-half", "--out", str(out),
            "--no-figures", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    got = load_results(out / "results.json")["editors"]
    assert got["user-half"]["metrics"]["psnr@exact"]["value"] == pytest.approx(
        res.value("darken", "psnr@exact"), abs=1e-6
    )
    plugins.editors.unregister("user-half")


def test_module_attr_editor_spec(tmp_path, monkeypatch):
    (tmp_path / "my_editors.py").write_text(
        textwrap.dedent(
            """
            def brighten(images, target_aus):
                return (images + 0.1).clamp(0, 1)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "run"
    argv = ["evaluate", "--editor", "bright=my_editors:brighten", "--protocol", "tiny", "--out", str(out),
            "--no-figures", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert list(load_results(out / "results.json")["editors"]) == ["bright"]
    plugins.editors.unregister("bright")
    sys.modules.pop("my_editors", None)


def res_identity_psnr() -> float:
    return fb.evaluate("identity", protocol="tiny").value("identity", "psnr@exact")


def test_import_is_light_and_lists_the_api():
    assert {"evaluate", "Results", "register_editor", "export", "Editor"} <= set(dir(fb))
    assert torch.is_tensor(torch.zeros(1))  # (torch is loaded by the tests anyway)


def test_evaluate_is_quiet_unless_verbose_and_never_names_the_removed_temp_folder(capsys):
    fb.evaluate(lambda x, aus: x, protocol="tiny", name="copy")
    assert capsys.readouterr().out == ""
    fb.evaluate(lambda x, aus: x, protocol="tiny", name="copy", verbose=True, figures=True)
    out = capsys.readouterr().out
    assert "copy" in out and "psnr" in out  # the console table
    assert "faceedit-bench-" not in out and "wrote " not in out  # the temp folder is gone
    assert "out=DIR" in out
