"""Tables of the comparisons/seeds blocks: pooled seeds, bold only for a significant winner, notes."""

import copy
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from faceedit_bench.reports.chromium import summary_editors
from faceedit_bench.reports.latex import MAX_LATEX_ROWS, row_chunks
from faceedit_bench.reports.stats_tables import (
    comparisons_frame,
    floor_notes,
    pooled_view,
    seeds_frame,
    write_stats_tables,
)
from faceedit_bench.reports.tables import build_summary, table_notes

from .conftest import compile_paper


@pytest.fixture(scope="module")
def base(run_dir) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def _with_blocks(base: dict, significant: bool):
    data = copy.deepcopy(base)
    ts = data["editors"].pop("two-stage")
    for k, shift in ((1, -0.02), (2, 0.02)):
        rep = copy.deepcopy(ts)
        rep["metrics"]["au_mae@aurig-ref"]["value"] += shift
        rep["seed_of"] = "two-stage"
        data["editors"][f"two-stage.s{k}"] = rep
    data["seeds"] = {"two-stage": {"replicates": ["two-stage.s1", "two-stage.s2"], "checkpoints": ["a", "b"],
        "metrics": {"au_mae@aurig-ref": {"per_seed": [0.33, 0.37], "mean": 0.35, "sd": 0.028, "min": 0.33,
            "max": 0.37, "ci95": [0.30, 0.40], "n_seeds": 2, "higher_is_better": False}}}}  # fmt: skip
    data["comparisons"] = {
        "rule": "RULE", "method": "M", "resampled": "R", "reference": "ganimation",
        "rows": [{"editor": "two-stage", "reference": "ganimation", "metric": "au_mae@aurig-ref",
                  "difference": -0.1, "ci95": [-0.15, -0.05] if significant else [-0.2, 0.01],
                  "p": 0.001 if significant else 0.08, "significant": significant,
                  "better": "two-stage" if significant else None, "higher_is_better": False,
                  "n_pairs": 10, "n_seeds": [2, 1]}],
        "winners": {"au_mae@aurig-ref": {"best": "two-stage", "runner_up": "ganimation",
                                         "significant": significant, "p_max": 0.001}},
    }  # fmt: skip
    data["sampling_floor"] = {"n_per_side": 5, "fid@inception-v3-compat": 12.5}
    return data


def test_seeds_pool_into_one_row_and_bold_needs_significance(base):
    for significant in (True, False):
        data = _with_blocks(base, significant)
        pooled = pooled_view(data)
        assert "two-stage" in pooled["editors"] and "two-stage.s1" not in pooled["editors"]
        assert pooled["editors"]["two-stage"]["metrics"]["au_mae@aurig-ref"]["value"] == 0.35
        table = build_summary(pooled)
        assert bool(table.best.loc["two-stage", "au_mae@aurig-ref"]) is significant
        assert not table.best["psnr@exact"].any()  # no winner recorded: nothing is bold
        notes = " ".join(table_notes(table, data))
        assert "significantly better" in notes and "two-stage: mean over training seeds" in notes
        assert "12.5" in notes  # the FID sampling floor is printed under the table


def test_comparison_and_seed_frames(base):
    data = _with_blocks(base, True)
    comp = comparisons_frame(data)
    assert list(comp["verdict"]) == ["better"] and list(comp["seeds"]) == ["2×1"]
    assert comparisons_frame(_with_blocks(base, False))["verdict"].tolist() == ["n.s."]
    seeds = seeds_frame(data)
    assert seeds.loc[0, "per seed"] == "0.330, 0.370" and seeds.loc[0, "seeds"] == 2
    assert floor_notes(data, ["kid@inception-v3-compat"]) == []


def test_browser_check_expects_one_summary_row_per_pooled_editor(base):
    data = _with_blocks(base, True)
    expected = summary_editors(data)
    assert "two-stage" in expected and not [e for e in expected if e.startswith("two-stage.")]
    assert sorted(expected) == sorted(n for n, e in base["editors"].items() if e["status"] == "ok")


def test_stats_tables_latex_is_sized_and_labelled_like_the_others(base, tmp_path: Path):
    written = write_stats_tables(_with_blocks(base, True), tmp_path)
    texs = [p for p in written if p.suffix == ".tex"]
    assert [p.name for p in texs] == ["comparisons.tex", "seeds.tex"]
    for tex in texs:
        text = tex.read_text()
        assert f"\\label{{tab:aurig-demo:{tex.stem}}}" in text
        env = "table*" if "\\begin{table*}" in text else "table"
        fit = text.index(r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%")
        assert text.index(f"\\begin{{{env}}}") < fit < text.index(r"\begin{tabular}")


def test_stats_tables_compile_in_a_two_column_paper(base, pdflatex: str, tmp_path: Path):
    texs = [p for p in write_stats_tables(_with_blocks(base, True), tmp_path) if p.suffix == ".tex"]
    log = compile_paper(pdflatex, tmp_path, [f"\\input{{{tex}}}" for tex in texs])
    assert [line for line in log.splitlines() if re.search(r"Overfull|Float too large|multiply", line)] == []


def _tall(base: dict, references: int) -> dict:
    """Comparison rows against ``references`` references, 11 rows each: taller than a page."""
    data = _with_blocks(base, True)
    row = data["comparisons"]["rows"][0]
    data["comparisons"]["rows"] = [
        {**row, "reference": f"ref{r}", "difference": -0.1 - k / 100}
        for r in range(references)
        for k in range(11)
    ]
    return data


def test_row_chunks_cut_at_group_changes_and_never_exceed_the_limit():
    df = pd.DataFrame({"vs": ["a"] * 5 + ["b"] * 4 + ["c"] * 12, "x": range(21)})
    chunks = row_chunks(df, "vs", max_rows=10)
    assert [list(c["vs"].unique()) for c in chunks] == [["a", "b"], ["c"], ["c"]]
    # a block taller than the limit is cut into equal parts, never a part of one or two rows
    assert [len(c) for c in chunks] == [9, 6, 6] and pd.concat(chunks)["x"].tolist() == list(range(21))
    # blocks that leave one row over: the row joins its neighbour, no one-row part
    df = pd.DataFrame({"vs": ["a"] * 10 + ["b"], "x": range(11)})
    assert [len(c) for c in row_chunks(df, "vs", max_rows=10)] == [11]
    assert len(row_chunks(df.head(3), "vs")) == 1


def test_a_comparison_table_taller_than_a_page_is_split_into_labelled_floats(base, tmp_path: Path):
    tex = next(
        p for p in write_stats_tables(_tall(base, 5), tmp_path) if p.name == "comparisons.tex"
    ).read_text()
    labels = re.findall(r"\\label\{([^}]+)\}", tex)
    assert labels == ["tab:aurig-demo:comparisons", "tab:aurig-demo:comparisons-2"]
    assert "(part 2 of 2)" in tex and tex.count("ref4") == 11  # one reference is never cut in two
    rows = [len(re.findall(r"\\\\\n", part)) - 1 for part in tex.split(r"\begin{tabular}")[1:]]
    assert all(n <= MAX_LATEX_ROWS for n in rows) and sum(rows) == 55


def test_tall_stats_tables_compile_without_an_oversized_float(base, pdflatex: str, tmp_path: Path):
    texs = [p for p in write_stats_tables(_tall(base, 5), tmp_path) if p.suffix == ".tex"]
    log = compile_paper(pdflatex, tmp_path, [f"\\input{{{tex}}}" for tex in texs])
    assert [line for line in log.splitlines() if re.search(r"Overfull|Float too large|multiply", line)] == []


def test_the_floor_note_names_the_fid_reference_set():
    results = {
        "protocol": {"reference_set": {"kind": "held-out", "chosen": "6 images of held-out identities"}},
        "sampling_floor": {"fid@inception-v3-compat": 53.3, "n_per_side": 4},
        "editors": {},
    }
    notes = floor_notes(results, ["fid@inception-v3-compat"])
    assert notes[0] == "FID/KID reference set: 6 images of held-out identities"
    assert "sampling floor" in notes[1]
    assert floor_notes({**results, "protocol": {}}, ["psnr@exact"]) == []
