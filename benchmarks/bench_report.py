"""Report over a long run: build time and memory, file size, and time to a usable page in
headless Chromium.

Usage: python benchmarks/bench_report.py [--interviews 2000] [--loads 5] [--keep DIR] [--run DIR]
Runs suites/smoke.yaml on the synthetic backend with enough repeats for the number of
interviews (15 personas), scores it, then builds the HTML report twice: in this process (for
the split between gathering the statistics and rendering), and as `sdi report RUN` in a child
process whose peak resident memory (GNU time's %M) is the build's memory. Then it
opens the report `--loads` times in Debian's Chromium and reads `window.__reportReady`
(performance.now() when the script has parsed the index, decompressed the first chunk and drawn
the first page of the viewer and the first interview) and the load event's end, both from
navigation start. Goals: file < 20 MB, build < 1 GB, ready < 2 s. `--run` reuses a run folder
(for example one kept with `--keep`) instead of simulating a new one.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.config.suites import load_suite
from harness.project import BUILTIN_ROOT
from harness.report.browser import READY, launch, report_url
from harness.report.data import gather
from harness.report.html import render_html
from harness.scoring.runs import scored_run
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import write_json_atomic

ROOT = Path(__file__).resolve().parent.parent
GNU_TIME = "/usr/bin/time"


def build_run(runs_dir: Path, interviews: int) -> Path:
    loaded = load_suite(BUILTIN_ROOT / "suites" / "smoke.yaml")
    personas = len(loaded.personas)
    loaded.suite.repeats = math.ceil(interviews / personas)
    return run_suite(loaded, runs_dir, progress=QuietProgress())


def measure_loads(path: Path, loads: int) -> tuple[list[float], list[float], int]:
    from playwright.sync_api import sync_playwright

    ready, loaded = [], []
    with sync_playwright() as p:
        browser = launch(p)
        for _ in range(loads):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(report_url(path), wait_until="load", timeout=60_000)
            page.wait_for_selector(READY, state="attached")
            ready.append(page.evaluate("window.__reportReady"))
            loaded.append(
                page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            )
            items = page.locator("#interview-list li").count()
            if errors:
                raise SystemExit(f"page errors: {errors}")
            page.close()
        browser.close()
    return ready, loaded, items


def build_in_child(run_dir: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak resident MB) of `sdi report RUN -o OUT` in a fresh process, measured by
    GNU time (%M): a child forked from this process would count this process's pages too."""
    sdi = [sys.executable, "-m", "harness.cli.main", "report", str(run_dir), "-o", str(out)]
    start = time.perf_counter()
    done = subprocess.run(
        [GNU_TIME, "-f", "%M", *sdi, "--no-gates", "--runs-dir", str(run_dir.parent)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"sdi report failed: {done.stderr}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interviews", type=int, default=2000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep the run and report in this folder")
    parser.add_argument("--run", type=Path, help="report this run folder instead of a new run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        run_dir = args.run or build_run(work / "runs", args.interviews)
        simulate_s = time.perf_counter() - start
        start = time.perf_counter()
        run = scored_run(run_dir, run_dir.parent)
        score_s = time.perf_counter() - start
        start = time.perf_counter()
        data = gather([run])
        gather_s = time.perf_counter() - start
        start = time.perf_counter()
        html = render_html(data)
        out = work / "report.html"
        write_json_atomic(out, html)
        render_s = time.perf_counter() - start
        size_mb = out.stat().st_size / 1e6
        print(
            f"run: {len(run.transcripts)} interviews"
            f"{' (synthetic backend)' if run.manifest.synthetic else ''}, "
            f"{'reused' if args.run else f'simulated in {simulate_s:.1f} s'}, "
            f"scored (or scores read) in {score_s:.1f} s"
        )
        print(
            f"build: gather (statistics included) {gather_s:.2f} s, render + write "
            f"{render_s:.2f} s, total {gather_s + render_s:.2f} s"
        )
        print(f"file: {size_mb:.1f} MB (goal < 20 MB)")
        child_s, peak_mb = build_in_child(run_dir, work / "report-cli.html")
        print(
            f"sdi report in a child process: {child_s:.1f} s, peak memory {peak_mb:.0f} MB "
            "(goal < 1024 MB)"
        )
        ready, loaded, items = measure_loads(out, args.loads)
        print(
            f"browser ({args.loads} loads, Debian chromium headless): ready "
            f"median {statistics.median(ready):.0f} ms (max {max(ready):.0f}), load event end "
            f"median {statistics.median(loaded):.0f} ms (max {max(loaded):.0f}); goal < 2000 ms; "
            f"first view lists {items} interviews"
        )


if __name__ == "__main__":
    main()
