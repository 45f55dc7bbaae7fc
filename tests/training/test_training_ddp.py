"""Two gloo processes under torchrun train to the same weights as one process with the same global batch."""

import subprocess
import sys
import textwrap

import torch

from faceedit_bench.training.checkpoint import load_checkpoint

WORKER = textwrap.dedent(
    """
    import sys
    import torch
    from faceedit_bench.api.dataset import FaceDataset, FaceSample
    from faceedit_bench.config import build_config
    from faceedit_bench.training import TrainConfig, train

    class Faces(FaceDataset):
        def __init__(self):
            g = torch.Generator().manual_seed(0)
            self.resolution = 16
            self.images, self.aus = torch.rand(8, 3, 16, 16, generator=g), torch.rand(8, 17, generator=g) * 5
        def __len__(self):
            return 8
        def get(self, i):
            return FaceSample(self.images[i], self.aus[i], "id", f"s{i}")
        def cache_key(self):
            return "ddp"
        def make_pairs(self, *a, **k):
            raise AssertionError

    config = build_config(TrainConfig, editor="two-stage", resolution=16, batch_size=4, steps=4, g_every=2,
                          out=sys.argv[1], channels=8, res_blocks=1, motion_res_blocks=1, critic_channels=8,
                          val_every=0, val_size=2, progress=False, device="cpu", threads=1, amp=False,
                          au_detector="none")
    train(config, dataset=Faces())
    """
)


def test_two_gloo_ranks_match_one_process(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    subprocess.run([sys.executable, str(script), str(tmp_path / "single")], check=True, timeout=120)
    subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         str(script), str(tmp_path / "ddp")],
        check=True, timeout=180,
    )  # fmt: skip
    a, b = (
        load_checkpoint(tmp_path / "single" / "checkpoint.pt"),
        load_checkpoint(tmp_path / "ddp" / "checkpoint.pt"),
    )
    assert a["step"] == b["step"] == 4
    for net in ("generator", "critic"):
        for k, v in a[net].items():
            torch.testing.assert_close(b[net][k], v, atol=1e-5, rtol=1e-4, msg=f"{net}.{k}")
    # the run really trained: weights moved away from the seeded initialisation
    torch.manual_seed(0)
    assert any(not torch.equal(v, b["generator"][k]) for k, v in a["generator"].items())
