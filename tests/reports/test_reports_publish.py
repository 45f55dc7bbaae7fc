"""Publishing a run: files copied, README table blocks refreshed from the run's tables."""

from pathlib import Path

import pytest

from faceedit_bench.reports.chromium import find_chromium
from faceedit_bench.reports.publish import publish_run, update_readme
from faceedit_bench.reports.tables import write_tables


def test_publish_copies_results_tables_and_pngs_and_refreshes_readme(run_dir: Path, tmp_path: Path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    write_tables(run)
    (run / "figures").mkdir(exist_ok=True)
    (run / "figures" / "grid.png").write_bytes(b"png")
    (run / "figures" / "grid.pdf").write_bytes(b"pdf")
    dest = tmp_path / "reports" / "demo"
    dest.mkdir(parents=True)
    (dest / "stale.txt").write_text("old")

    files = publish_run(run, dest)

    names = {p.relative_to(dest).as_posix() for p in files}
    assert "results.json" in names and "figures/grid.png" in names
    assert "figures/grid.pdf" not in names and "stale.txt" not in names
    assert any(n.startswith("tables/") and n.endswith(".md") for n in names)
    assert "report.html" in names  # written by publish when the run had none
    if find_chromium() is not None:
        assert "report.png" in names and (dest / "report.png").read_bytes()[:4] == b"\x89PNG"

    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- publish:summary -->\nold table\n<!-- /publish:summary -->\nend\n")
    assert update_readme(readme, dest / "tables") == ["summary"]
    text = readme.read_text()
    assert "old table" not in text
    assert (dest / "tables" / "summary.md").read_text().strip() in text
    assert text.startswith("intro\n") and text.endswith("<!-- /publish:summary -->\nend\n")


def test_publish_errors_name_the_missing_file(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"results\.json"):
        publish_run(tmp_path / "nothing", tmp_path / "dest")
    readme = tmp_path / "README.md"
    readme.write_text("<!-- publish:nope -->\n<!-- /publish:nope -->\n")
    with pytest.raises(FileNotFoundError, match=r"nope\.md"):
        update_readme(readme, tmp_path)
