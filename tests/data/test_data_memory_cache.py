"""MemoryCachedDataset: each image made once, the same numbers as the dataset it wraps."""

import torch

from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.data.memory_cache import MemoryCachedDataset


class CountingAuRig(AuRigDataset):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rendered: list[int] = []

    def get_batch(self, indices):
        self.rendered += list(indices)
        return super().get_batch(indices)


def test_batches_equal_the_datasets_and_each_image_is_made_once():
    plain, counted = AuRigDataset("train", 32, size=40), CountingAuRig("train", 32, size=40)
    cached = MemoryCachedDataset(counted)
    for idx in ([5, 3, 5, 9], [3, 39, 7], [9, 5]):
        want, got = plain.get_batch(idx), cached.get_batch(idx)
        assert torch.equal(want.images, got.images) and torch.equal(want.aus, got.aus)
        assert want.identity_ids == got.identity_ids
    assert sorted(counted.rendered) == [3, 5, 7, 9, 39]  # duplicates and repeats served from memory
    got = cached.get_batch([5])
    got.images += 1  # callers may modify what they get: the store is not theirs
    assert torch.equal(cached.get_batch([5]).images, plain.get_batch([5]).images)
    assert len(cached) == 40 and cached.resolution == 32 and cached.cache_key() == plain.cache_key()
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert cached.same_identity_partners([0, 11], g1) == plain.same_identity_partners([0, 11], g2)


def test_a_store_over_the_cap_keeps_nothing_and_serves_the_dataset():
    counted = CountingAuRig("train", 32, size=40)
    cached = MemoryCachedDataset(counted, max_bytes=1000)  # 40 images of 3 x 32 x 32 floats do not fit
    for _ in range(2):
        assert torch.equal(
            cached.get_batch([1, 2]).images, AuRigDataset("train", 32, size=40).get_batch([1, 2]).images
        )
    assert sorted(counted.rendered) == [1, 1, 1, 2, 2, 2]  # the probe, then straight through, every time
