"""Publish a run into ``reports/``: results, tables and PNG figures, and README blocks.

``python -m faceedit_bench.reports.publish RUN_DIR DEST [--readme README.md]`` copies
``results.json``, ``tables/``, ``figures/*.png`` and ``report.html`` (written when
missing) of a finished run to ``DEST``, saves ``DEST/report.png``, a screenshot of
the report checked in headless Chromium (skipped with a note when there is none), and
replaces each ``<!-- publish:NAME -->`` ... ``<!-- /publish:NAME -->`` block of the
README with ``DEST/tables/NAME.md``, so the README's tables are always the published ones.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from faceedit_bench.io import write_text_atomic

_BLOCK = re.compile(r"(<!-- publish:(?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /publish:(?P=name) -->)", re.S)


def publish_run(run_dir: Path, dest: Path) -> list[Path]:
    """Copy a run's results, tables and PNG figures to ``dest`` (replacing what was there)."""
    results = run_dir / "results.json"
    if not results.is_file():
        raise FileNotFoundError(
            f"{results} does not exist: run `faceedit-bench compare --out {run_dir}` first"
        )
    staging = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "figures").mkdir(parents=True)
    shutil.copy2(results, staging / "results.json")
    shutil.copytree(run_dir / "tables", staging / "tables")
    for png in sorted((run_dir / "figures").glob("*.png")):
        shutil.copy2(png, staging / "figures" / png.name)
    report = run_dir / "report.html"
    if not report.is_file():
        from faceedit_bench.reports.html import write_report

        write_report(run_dir)
    shutil.copy2(report, staging / "report.html")
    screenshot(staging / "report.html", staging / "report.png")
    shutil.rmtree(dest, ignore_errors=True)
    staging.replace(dest)
    return sorted(p for p in dest.rglob("*") if p.is_file())


def screenshot(html: Path, png: Path) -> bool:
    """Save a checked screenshot of ``html``; False (with a note) when Chromium is absent or the page is broken."""
    from faceedit_bench.reports.chromium import ChromiumError, find_chromium, screenshot_report

    if find_chromium() is None:
        print("note: no Chromium (apt-get install chromium): report.png not made")
        return False
    try:
        problems = screenshot_report(html, png).problems()
    except ChromiumError as err:
        print(f"note: report.png not made ({err})")
        return False
    for problem in problems:
        print(f"warning: report.html: {problem}")
    return not problems


def update_readme(readme: Path, tables: Path) -> list[str]:
    """Replace every ``publish:NAME`` block with ``tables/NAME.md``; returns the names replaced."""
    text = readme.read_text(encoding="utf-8")
    replaced: list[str] = []

    def body(match: re.Match[str]) -> str:
        name = match["name"]
        source = tables / f"{name}.md"
        if not source.is_file():
            raise FileNotFoundError(f"{readme}: block publish:{name} wants {source}, which does not exist")
        replaced.append(name)
        return f"{match[1]}{source.read_text(encoding='utf-8').rstrip()}\n{match[4]}"

    new = _BLOCK.sub(body, text)
    if new != text:
        write_text_atomic(readme, new)
    return replaced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--readme", type=Path, help="README whose publish:NAME blocks are refreshed")
    args = parser.parse_args(argv)
    files = publish_run(args.run_dir, args.dest)
    print(f"published {len(files)} files to {args.dest}")
    if args.readme:
        names = update_readme(args.readme, args.dest / "tables")
        print(f"{args.readme}: refreshed {', '.join(names) or 'no'} table block(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
