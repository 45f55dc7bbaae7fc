"""`evaluate --manifest` with some unusable edited images: counted, named failures, never a lost run."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
from PIL import Image

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.cli.main import main
from faceedit_bench.harness.outputs.results import load_results


def _huge_png(path) -> None:
    """A PNG whose header claims 8000x8000 (64 MP); refused before decoding."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 8000, 8000, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def test_bad_edited_images_are_named_failures_scored_worst(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["source,edited,target,id," + ",".join(AU_NAMES)]
    for i in range(6):
        img = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
        for kind in ("s", "t", "e"):
            Image.fromarray(img).save(tmp_path / f"{kind}{i}.png")
        rows.append(f"s{i}.png,e{i}.png,t{i}.png,pair{i}," + ",".join(["1.0"] * 17))
    good = (tmp_path / "e1.png").read_bytes()
    (tmp_path / "e1.png").write_bytes(good[: len(good) // 2])  # truncated
    (tmp_path / "e3.png").write_bytes(b"")  # zero bytes
    _huge_png(tmp_path / "e4.png")  # 8000 x 8000
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    argv = ["evaluate", "--manifest", str(tmp_path / "manifest.csv"), "--name", "ext", "--protocol", "tiny",
            "--out", str(out), "--no-figures", "--no-progress", "--batch-size", "4"]  # fmt: skip
    assert main(argv) == 0
    entry = load_results(out / "results.json")["editors"]["ext"]
    # every pair counts: the three failures are scored as the image farthest from the truth
    assert entry["status"] == "ok" and entry["metrics"]["psnr@exact"]["n"] == 6
    failed = {f["sample_id"]: f["reason"] for f in entry["failed_samples"]}
    assert set(failed) == {"pair1", "pair3", "pair4"}
    assert "e1.png" in failed["pair1"] and "e3.png" in failed["pair3"] and "8000x8000" in failed["pair4"]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [s["sample_id"] for s in samples] == [f"pair{i}" for i in range(6)]
    assert [bool(s.get("failed")) for s in samples] == [False, True, False, True, True, False]
    psnr = [s["values"]["psnr@exact"] for s in samples]
    assert max(psnr[i] for i in (1, 3, 4)) < 7 < min(psnr[i] for i in (0, 2, 5))  # worst, not dropped
    printed = capsys.readouterr().out
    assert "ext: 3 of 6 sample(s) failed and are scored worst in every metric: pair1" in printed
