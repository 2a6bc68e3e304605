"""Regenerate the screenshot of each kind of report into reports/: one prompt version
(single.png), a comparison of two (comparison.png) and a gate report (gate.png), each at
1400 px wide, plus the comparison at 400 px (comparison-400.png).

Usage: python scripts/report_screenshots.py [--out reports]   (or `make screenshots`)
Runs are made offline on the synthetic backend (harness.report.demo); the reports are built
with the built-in gates.yaml for the gate report, then opened in Debian's Chromium.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from harness.project import BUILTIN_ROOT
from harness.report.browser import READY, launch, report_url
from harness.report.build import write_report
from harness.report.data import gather
from harness.report.demo import REPO, demo_runs
from harness.report.html import render_html
from harness.stats.gate import load_gate_config

SHOTS = (("single", 1400), ("comparison", 1400), ("gate", 1400), ("comparison", 400))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "reports")
    opts = parser.parse_args()
    opts.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        single, two = demo_runs(root)
        gates = load_gate_config(BUILTIN_ROOT / "gates.yaml")
        pages = {
            "single": write_report(render_html(gather([single])), root / "single.html"),
            "comparison": write_report(render_html(gather([two])), root / "comparison.html"),
            "gate": write_report(render_html(gather([two], gate_config=gates)), root / "gate.html"),
        }
        with sync_playwright() as p:
            browser = launch(p)
            for kind, width in SHOTS:
                page = browser.new_page(viewport={"width": width, "height": 1000})
                page.goto(report_url(pages[kind]))
                page.wait_for_selector(READY, state="attached")
                name = f"{kind}.png" if width == 1400 else f"{kind}-{width}.png"
                page.screenshot(path=str(opts.out / name))
                print(opts.out / name)
                page.close()
            browser.close()


if __name__ == "__main__":
    main()
