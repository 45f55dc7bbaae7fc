"""The face-crop cache returns a crop only when the entry checks out; anything else is rebuilt."""

import torch

from faceedit_bench.cache_file import save_checked
from faceedit_bench.data.crop import CropCache


def test_crop_cache_round_trip_and_bad_entries(tmp_path, capsys):
    cache = CropCache(tmp_path)
    key = "cd" * 16
    record = {"image": torch.zeros(8, 8, 3, dtype=torch.uint8), "points": torch.ones(5, 2)}
    cache.save(key, record)
    assert torch.equal(cache.load(key)["image"], record["image"])
    cache.save("ee" * 16, {"reason": "no_face"})
    assert cache.load("ee" * 16) == {"reason": "no_face"}

    stored = torch.load(cache.path(key), weights_only=True)
    stored["tensors"]["image"] = stored["tensors"]["image"] + 1  # edited after it was written
    torch.save(stored, cache.path(key))
    assert cache.load(key) is None
    assert "checksum" in capsys.readouterr().out
    save_checked(cache.path(key), key, {"image": torch.zeros(8, 8, 3), "points": torch.ones(5, 2)})
    assert cache.load(key) is None  # float image: not a crop this code wrote
    torch.save(record, cache.path(key))  # the older unchecked format
    assert cache.load(key) is None
    assert cache.load("ff" * 16) is None and capsys.readouterr().out.count("warning") == 2
