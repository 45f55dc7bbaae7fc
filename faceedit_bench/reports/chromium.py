"""Open a page in headless Chromium, run checks in it and take a full-page screenshot.

Talks the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (JSON messages
ending in NUL on file descriptors 3 and 4), so it needs only the ``chromium``
binary (Debian's package) and no Python browser driver. Collects console errors,
uncaught exceptions and every request that is not ``file:`` or ``data:``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ChromiumError(RuntimeError):
    """Chromium is missing, did not start, or did not answer in time."""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary (``$CHROMIUM`` first), or None."""
    given = os.environ.get("CHROMIUM")
    if given:
        return shutil.which(given) or (given if os.access(given, os.X_OK) else None)
    return next((p for p in map(shutil.which, BINARIES) if p), None)


@dataclass
class PageReport:
    """What the page did: the checks' value, console errors, network requests."""

    value: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None


class _Pipe:
    """One CDP connection over the two pipes of a Chromium process."""

    def __init__(self, proc: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self.proc, self.out, self.inp = proc, to_browser, from_browser
        self.next_id, self.buffer, self.events = 0, b"", []  # type: ignore[var-annotated]

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:  # fmt: skip
        """Send a command and wait for its answer (events meanwhile are kept)."""
        wanted = self.send(method, params, session)
        reply = self.wait(lambda m: m.get("id") == wanted, timeout, method)
        if "error" in reply:
            raise ChromiumError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait(self, match, timeout: float, what: str) -> dict[str, Any]:
        """Read messages until one satisfies ``match``."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                msg = json.loads(raw)
                if "method" in msg:
                    self.events.append(msg)
                if match(msg):
                    return msg
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise ChromiumError(f"no answer from Chromium to {what} within {timeout:.0f} s")
            ready, _, _ = select.select([self.inp], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.inp, 1 << 20)
                if not chunk:
                    raise ChromiumError(f"Chromium closed the pipe while waiting for {what}")
                self.buffer += chunk


def _errors_and_requests(events: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    errors, requests = [], []
    for ev in events:
        method, p = ev["method"], ev.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            errors.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(
                "console: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"])
            )
        elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
            errors.append(f"log: {p['entry'].get('text')}")
        elif method == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not url.startswith(("file:", "data:")):
                requests.append(url)
    return errors, requests


def inspect_page(
    path: str | Path,
    script: str = "document.title",
    screenshot: str | Path | None = None,
    width: int = 1400,
    max_height: int = 8000,
    timeout: float = 60.0,
) -> PageReport:
    """Load ``path`` in headless Chromium, evaluate ``script`` (its value is returned, JSON),
    optionally save a full-page PNG screenshot (height capped at ``max_height``)."""
    binary = find_chromium()
    if binary is None:
        raise ChromiumError(f"no Chromium binary found (tried {', '.join(BINARIES)}; or set $CHROMIUM)")
    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="faceedit-chromium-") as profile:
        to_r, to_w = _high_pipe()  # we write commands, Chromium reads fd 3
        from_r, from_w = _high_pipe()  # Chromium writes fd 4, we read

        def wire() -> None:  # in the child, before exec
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        args = [binary, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--hide-scrollbars", f"--user-data-dir={profile}", "about:blank"]  # fmt: skip
        proc = subprocess.Popen(
            args,
            pass_fds=(3, 4),
            preexec_fn=wire,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_r)
        os.close(from_w)
        pipe = _Pipe(proc, to_w, from_r)
        try:
            return _drive(pipe, url, script, screenshot, width, max_height, timeout)
        finally:
            try:
                pipe.send("Browser.close")
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            os.close(to_w)
            os.close(from_r)


def _high_pipe() -> tuple[int, int]:
    """A pipe whose ends are >= 10, so wiring them to fds 3 and 4 cannot clobber one another."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]


def _drive(pipe: _Pipe, url: str, script: str, screenshot: str | Path | None, width: int,
           max_height: int, timeout: float) -> PageReport:  # fmt: skip
    target = pipe.call("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
    sid = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        pipe.call(f"{domain}.enable", session=sid)
    metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    pipe.call("Emulation.setDeviceMetricsOverride", metrics, session=sid)
    pipe.call("Page.navigate", {"url": url}, session=sid)
    pipe.wait(
        lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == sid, timeout, "load"
    )
    result = pipe.call("Runtime.evaluate", {"expression": script, "returnByValue": True, "awaitPromise": True},
                       session=sid)  # fmt: skip
    if "exceptionDetails" in result:
        raise ChromiumError(f"the check script failed: {result['exceptionDetails'].get('text')}")
    report = PageReport(result["result"].get("value"))
    if screenshot is not None:
        size = pipe.call("Page.getLayoutMetrics", session=sid)["cssContentSize"]
        height = int(min(max_height, max(1, size["height"])))
        pipe.call("Emulation.setDeviceMetricsOverride", {**metrics, "height": height}, session=sid)
        shot = pipe.call("Page.captureScreenshot", {"format": "png"}, session=sid, timeout=timeout)
        report.screenshot = Path(screenshot)
        report.screenshot.parent.mkdir(parents=True, exist_ok=True)
        from faceedit_bench.io import write_bytes_atomic

        write_bytes_atomic(report.screenshot, base64.b64decode(shot["data"]))
    report.errors, report.requests = _errors_and_requests(pipe.events)
    return report


REPORT_CHECK = """(async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  const tables = {};
  document.querySelectorAll("table[data-table]").forEach(t =>
    tables[t.dataset.table] = Array.from(t.tBodies[0].rows).map(r => r.cells[0].textContent));
  return {
    tables,
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    sample_rows: document.querySelectorAll("#samples tbody tr").length,
    viewer_images: document.querySelectorAll("#viewer img").length,
  };
})()"""


@dataclass
class ReportCheck:
    """The rendered report: table rows, images, errors; :meth:`problems` says what is wrong."""

    page: PageReport
    expected_editors: list[str] | None = None

    @property
    def value(self) -> dict[str, Any]:
        return self.page.value

    def problems(self) -> list[str]:
        v, out = self.value, []
        out += [f"console error: {e}" for e in self.page.errors]
        out += [f"network request: {u}" for u in self.page.requests]
        if not v["images"] or v["broken"]:
            out.append(f"{len(v['broken'])} of {v['images']} images not decoded: {v['broken'][:5]}")
        summary = v["tables"].get("summary")
        if summary is None:
            out.append("no summary table")
        elif self.expected_editors is not None and sorted(summary) != sorted(self.expected_editors):
            out.append(f"summary rows {summary} != editors {self.expected_editors}")
        if not v["sample_rows"] or not v["viewer_images"]:
            out.append("the per-sample browser shows no rows or no images")
        return out


def summary_editors(results: dict[str, Any]) -> list[str]:
    """The rows the summary table shows: ok editors, each seeded editor's replicates pooled into one."""
    from faceedit_bench.reports.stats_tables import pooled_view

    editors = pooled_view(results)["editors"]
    return [n for n, e in editors.items() if e.get("status", "ok") == "ok"]


def screenshot_report(html: str | Path, png: str | Path, width: int = 1400) -> ReportCheck:
    """Open a ``report.html`` in Chromium, check it and save a screenshot.

    Expected summary rows (:func:`summary_editors`) come from ``results.json`` beside the page, if any."""
    results = Path(html).with_name("results.json")
    expected = None
    if results.is_file():
        expected = summary_editors(json.loads(results.read_text(encoding="utf-8")))
    page = inspect_page(html, REPORT_CHECK, png, width)
    return ReportCheck(page, expected)
