"""Prompt caching per role, from the loopback server's own accounting: billed input-token
equivalents (uncached x1, cache write x1.25, cache read x0.1) against a naive resend of
the whole history without caching, for the interviewer and for a model-played candidate.

Usage: python benchmarks/bench_caching.py [--turns 44] [--min-cacheable 1024 2048 4096]
One interview (prompt v1, a model-played persona) per minimum cacheable length, both roles
on the anthropic backend, against a fresh loopback Messages server that applies that
minimum (real models: 1,024 to 4,096 tokens). `--turns` caps the interview (44 turns is
about 20 calls per role). Goal: at most 0.3x naive for both roles.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from benchmarks.loopback_play import DATA, play
from harness.config.suites import load_suite
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from tests.loopback import LoopbackServer, PromptCacheModel

PERSONA = "editor-staff-ot"


def _suite(folder: Path, turns: int) -> Path:
    data = {
        "name": "caching-bench",
        "prompts": ["v1"],
        "prompts_dir": str(DATA / "prompts" / "interviewer"),
        "personas": [str(DATA / "candidates" / f"{PERSONA}.yaml")],
        "interviewer": {"backend": "anthropic", "model": "claude-sonnet-4-6", "max_tokens": 800},
        "candidate": {"backend": "anthropic", "model": "claude-haiku-4-5", "max_tokens": 600},
        "repeats": 1,
        "limits": {"max_turns": turns},
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _role(body: dict[str, Any]) -> str:
    system = "".join(b.get("text", "") for b in body.get("system") or [])
    return "candidate" if "role-playing a job candidate" in system else "interviewer"


def measure(turns: int, min_cacheable: int) -> dict[str, tuple[int, float, float]]:
    """Per role: calls, billed input equivalents, naive input tokens (server's accounting)."""
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(play) as server:
        server.cache = cache = PromptCacheModel(min_cacheable)
        os.environ.update(ANTHROPIC_API_KEY="sk-ant-bench-FAKE", ANTHROPIC_BASE_URL=server.url)
        suite = load_suite(_suite(Path(tmp), turns))
        run_suite(suite, Path(tmp) / "runs", progress=QuietProgress())
    log = [(_role(body), usage) for body, usage in cache.log]
    out = {}
    for role in ("interviewer", "candidate"):
        rows = [u for r, u in log if r == role]
        billed = sum(
            u["input_tokens"]
            + 1.25 * u["cache_creation_input_tokens"]
            + 0.1 * u["cache_read_input_tokens"]
            for u in rows
        )
        naive = sum(
            u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
            for u in rows
        )
        reads = sum(1 for u in rows if u["cache_read_input_tokens"] > 0)
        out[role] = (len(rows), billed, naive, reads)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=44)
    parser.add_argument("--min-cacheable", type=int, nargs="+", default=[0, 1024, 2048, 4096])
    args = parser.parse_args()
    for floor in args.min_cacheable:
        for role, (calls, billed, naive, reads) in measure(args.turns, floor).items():
            print(
                f"min cacheable {floor:>5}: {role:<11} {calls:>3} calls, {reads:>3} read the "
                f"cache; billed {billed:>9,.0f} vs naive {naive:>9,.0f} input tokens = "
                f"{billed / naive:.2f}x"
            )


if __name__ == "__main__":
    main()
