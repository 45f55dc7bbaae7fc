"""Cache entries are used only when the index kept apart from them records them, with their key and bytes."""

from __future__ import annotations

import json
import os
import shutil

import torch

from faceedit_bench.cache_file import FORMAT, INDEX_NAME, load_checked, save_checked, tensors_checksum


class Planted:
    """Unpickling this touches ``marker``: a stand-in for code a planted file would run."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mknod, (str(self.marker),))


def test_round_trip_records_key_and_bytes_in_a_separate_index(tmp_path):
    entry = tmp_path / "a.pt"
    assert save_checked(entry, "key-a", {"values": torch.arange(4.0), "device": "cpu"})
    tensors, why = load_checked(entry, "key-a")
    assert why == "" and torch.equal(tensors["values"], torch.arange(4.0))
    index = json.loads((tmp_path / INDEX_NAME).read_text())
    assert index["entries"]["a.pt"]["key"] == "key-a" and len(index["entries"]["a.pt"]["sha256"]) == 64
    assert load_checked(entry, "key-b")[0] is None  # bound to the key it was built for
    assert load_checked(tmp_path / "none.pt", "k") == (None, "missing")


def test_a_re_checksummed_wrong_entry_is_refused_naming_the_file(tmp_path):
    """Tensors edited and the in-file checksum recomputed (what the audit did): the index still refuses."""
    entry = tmp_path / "feat.pt"
    save_checked(entry, "k", {"values": torch.ones(3, 2)})
    wrong = {"values": torch.ones(3, 2) * 4}
    torch.save({"format": FORMAT, "key": "k", "sha256": tensors_checksum(wrong), "tensors": wrong}, entry)
    tensors, why = load_checked(entry, "k")
    assert tensors is None and str(entry) in why and "cache index" in why and "checksum" in why


def test_an_entry_copied_from_another_key_is_refused(tmp_path):
    """A crop cache entry of another face, copied over this one's file (file name and bytes)."""
    mine, other = tmp_path / "ab" / "mine.pt", tmp_path / "ab" / "other.pt"
    save_checked(mine, "mine", {"image": torch.zeros(2, 2, 3, dtype=torch.uint8)})
    save_checked(other, "other", {"image": torch.full((2, 2, 3), 9, dtype=torch.uint8)})
    shutil.copyfile(other, mine)
    tensors, why = load_checked(mine, "mine")
    assert tensors is None and str(mine) in why


def test_a_planted_file_is_not_in_the_index_and_is_never_unpickled(tmp_path):
    marker = tmp_path / "code-ran"
    entry = tmp_path / "cache" / "x.pt"
    entry.parent.mkdir()
    torch.save(Planted(marker), entry)
    tensors, why = load_checked(entry, "x")
    assert tensors is None and "not recorded in the cache index" in why and str(entry) in why
    assert not marker.exists()


def test_a_full_disk_only_warns_and_keeps_the_old_index(tmp_path, monkeypatch, capsys):
    import errno

    from faceedit_bench import cache_file

    save_checked(tmp_path / "a.pt", "a", {"v": torch.ones(1)})

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_file, "write_bytes_atomic", full)
    assert save_checked(tmp_path / "b.pt", "b", {"v": torch.ones(1)}) is False
    out = capsys.readouterr().out
    assert "could not write cache entry" in out and str(tmp_path / "b.pt") in out
    assert load_checked(tmp_path / "a.pt", "a")[0] is not None
