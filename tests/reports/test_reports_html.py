"""report.html: self-contained, one row per editor, every image decoded in a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from faceedit_bench.cli.main import main
from faceedit_bench.harness.outputs.browser import pick_pairs, rank_metric
from faceedit_bench.reports.chromium import ChromiumError, find_chromium, inspect_page, screenshot_report
from faceedit_bench.reports.html import render_report, write_report

from .conftest import OK


def _browser_json(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="browser-data">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


@pytest.fixture
def report(run_dir: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    (run / "figures").mkdir()
    (run / "figures" / "fid_vs_au_error.png").write_bytes(_png())
    return write_report(run)


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((20, 30, 3), 120, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "a network reference"
    assert "default-src 'none'" in html  # the page may not fetch anything even if asked
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)


def test_report_holds_every_sample_and_the_kept_images(report: Path, run_dir: Path) -> None:
    data = _browser_json(report.read_text(encoding="utf-8"))
    assert data["editors"] == OK
    assert len(data["rows"]) == 8 * len(OK)  # every (editor, pair) of samples.jsonl
    assert [m["id"] for m in data["metrics"]] == ["au_mae@aurig-ref"]  # per-AU keys stay in the tables
    assert sorted(data["images"]) == ["p0", "p1", "p2"]  # the 3 pairs of qualitative.npz
    first = data["images"]["p0"]
    assert sorted(first["edited"]) == sorted(OK) and first["target"].startswith("data:image/png")
    assert len(first["target_aus"]) == 17 and all(isinstance(v, float) for v in first["target_aus"])


def test_report_escapes_names_and_script_data(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    lines = (run / "samples.jsonl").read_text().replace('"p1"', '"</script><b>x"')
    (run / "samples.jsonl").write_text(lines)
    html = render_report(run)
    assert "</script><b>x" not in html
    assert any(r[1] == "</script><b>x" for r in _browser_json(html)["rows"])


def test_pick_pairs_takes_the_first_and_each_editors_worst() -> None:
    samples = [
        {"editor": e, "values": {"au_mae@x": v, "psnr@exact": 1.0}}
        for e, vals in (("a", [0.1, 0.9, 0.2, 0.8, 0.3]), ("b", [0.5, 0.1, 0.7, 0.2, None]))
        for v in vals
    ]
    assert rank_metric(samples) == "au_mae@x"
    assert pick_pairs(samples, "au_mae@x", first=1, worst=2) == [0, 1, 3, 2]


def test_html_command_writes_the_report(run_dir: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    assert main(["html", str(run)]) == 0
    assert (run / "report.html").stat().st_size > 10_000
    assert "report.html" in capsys.readouterr().out


@pytest.fixture
def chromium() -> str:
    """The Chromium binary; skip without one, unless CI requires it (.ci/run sets the variable)."""
    found = find_chromium()
    if found is None:
        why = "no Chromium binary (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("FACEEDIT_REQUIRE_CHROMIUM"):
            pytest.fail(f"FACEEDIT_REQUIRE_CHROMIUM is set but there is {why}")
        pytest.skip(f"{why}: the browser check cannot run here")
    return found


def test_report_renders_in_chromium(chromium: str, report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    check = screenshot_report(report, shot)
    assert check.problems() == []
    v = check.value
    assert sorted(v["tables"]["summary"]) == sorted(OK)  # one row per evaluated editor
    assert v["images"] >= 1 + len(OK) and v["broken"] == []  # figure + viewer images decoded
    assert v["viewer_images"] == 1 + len(OK) + 1  # source, each editor, truth
    from PIL import Image

    with Image.open(shot) as im:
        assert im.width == 1400 and im.height > 1500
        assert np.asarray(im.convert("L")).std() > 10  # not a blank page


def test_browser_check_catches_a_broken_page(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><body><img src="data:image/png;base64,AAAA" alt="bad">'
        "<script>console.error('boom'); undefinedFunction();</script></body></html>"
    )
    report = inspect_page(page, "Array.from(document.images).map(i => i.naturalWidth)")
    assert report.value == [0]
    assert any("boom" in e for e in report.errors)
    assert any("undefinedFunction" in e for e in report.errors)


def test_missing_chromium_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(ChromiumError, match="no Chromium binary"):
        inspect_page(tmp_path / "x.html")


def test_browser_sorts_first_by_a_column_that_varies(run_dir: Path, tmp_path: Path) -> None:
    from faceedit_bench.harness.outputs.browser import sort_metric

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    rows = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines() if line]
    for row in rows:  # a face-missed flag, 0 everywhere, listed before the AU error
        row["values"] = {"au_face_missed@aurig-ref": 0.0, **row["values"]}
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    results = json.loads((run / "results.json").read_text())
    results.setdefault("metrics_meta", {})["au_face_missed@aurig-ref"] = {"higher_is_better": False}
    (run / "results.json").write_text(json.dumps(results))
    data = _browser_json(render_report(run))
    ids = [m["id"] for m in data["metrics"]]
    assert ids[0] == "au_face_missed@aurig-ref" and ids[data["sort_metric"]] == "au_mae@aurig-ref"
    samples = [{"editor": "a", "values": {"flag@x": 0.0, "success@x": float(i % 2)}} for i in range(4)]
    assert sort_metric(samples, ["flag@x", "success@x"], headline="success@x") == "success@x"
    assert sort_metric(samples, ["flag@x", "success@x"]) == "success@x"  # the flag sorts nothing


def test_browser_takes_sample_ids_like_object_keys(chromium: str, run_dir: Path, tmp_path: Path) -> None:
    """Ids such as ``constructor`` or ``__proto__`` are data, not object keys: every row opens."""
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    rename = {
        "p0": "__proto__",
        "p1": "constructor",
        "p5": "toString",
        "p6": "__proto__x",
        "p7": "hasOwnProperty",
    }
    rows = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines() if line]
    for row in rows:  # p0, p1 have kept images; p5-p7 have none
        row["sample_id"] = rename.get(row["sample_id"], row["sample_id"])
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = write_report(run)
    clicks = """(() => {
      const shown = [];
      for (let page = 0; page < 2; page++) {  // 40 rows, 25 a page
        Array.from(document.querySelectorAll('#samples tbody tr')).forEach(tr => {
          tr.click();
          shown.push(document.getElementById('viewer').querySelectorAll('img').length);
        });
        document.getElementById('next').click();
      }
      return {shown: shown, img_rows: document.querySelectorAll('#samples td.img').length};
    })()"""
    check = inspect_page(report, clicks)
    assert check.errors == []
    assert len(check.value["shown"]) == 40  # 5 editors x 8 samples, every row clicked
    by_images = sorted(set(check.value["shown"]))
    assert by_images == [0, 1 + len(OK) + 1]  # none (p2-p7: 3 images kept) or source, each editor, truth
    assert check.value["shown"].count(1 + len(OK) + 1) == 3 * len(OK)  # __proto__, constructor, p2
