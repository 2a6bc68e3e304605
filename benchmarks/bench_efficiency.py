"""Harness overhead against a bare SDK loop, with the model 200 ms away.

Usage: python benchmarks/bench_efficiency.py [--concurrency 32 64] [--repeats 8]
A loopback Messages server runs in a child process (so its CPU is not counted) and answers
every request after `--latency` seconds. For each concurrency C:
- harness: `run_suite` on scripted personas (prompt v1, anthropic backend, a fresh runs
  folder: every call goes to the server), timed, with this process's CPU time;
- ideal: the schedule-aware bound for the same work: each interview a chain of its calls
  (latency each), chains packed longest-first on C slots; efficiency = ideal / wall;
- bare SDK: `AsyncAnthropic.messages.create` chains of the same lengths on C slots, with
  requests of the same size, no harness: its efficiency and CPU per call.
Goals: harness efficiency >= 0.9 at C = 32 and 64; CPU per call within 1.5x of the SDK's.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.loopback_play import DATA, ROOT, scripted_suite

FAKE_KEY = "sk-ant-bench-FAKE"


def _serve(latency: float, urls: Any) -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.loopback import LoopbackServer, interviewer_reply

    def slow(body: dict[str, Any]) -> Any:
        time.sleep(latency)
        return interviewer_reply(body)

    with LoopbackServer(slow) as server:
        server._httpd.request_queue_size = 256
        urls.put(server.url)
        while True:
            time.sleep(3600)


def ideal(chains: list[int], slots: int, latency: float) -> float:
    """Longest-first packing of chains (calls x latency) on `slots` slots: the makespan."""
    ends = [0.0] * slots
    for calls in sorted(chains, reverse=True):
        heapq.heapreplace(ends, ends[0] + calls * latency)
    return max(ends)


def harness_run(concurrency: int, repeats: int) -> tuple[float, float, list[int]]:
    from harness.config.suites import load_suite
    from harness.contracts import load_transcripts
    from harness.simulate.progress import QuietProgress
    from harness.simulate.runner import run_suite

    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_suite(
            scripted_suite(Path(tmp), f"efficiency-{concurrency}", repeats, concurrency)
        )
        cpu, wall = time.process_time(), time.perf_counter()
        run_dir = run_suite(loaded, Path(tmp) / "runs", progress=QuietProgress())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        chains = [len(t.meta["calls"]) for t in load_transcripts(run_dir / "transcripts.jsonl")]
    return wall, cpu, chains


def bare_run(chains: list[int], concurrency: int, url: str) -> tuple[float, float]:
    from anthropic import AsyncAnthropic

    system = (DATA / "prompts" / "interviewer" / "v1.md").read_text()

    async def main() -> None:
        client = AsyncAnthropic(api_key=FAKE_KEY, base_url=url, max_retries=4)
        slots = asyncio.Semaphore(concurrency)

        async def chain(n: int) -> None:
            messages: list[Any] = []
            async with slots:
                for i in range(n):
                    messages.append({"role": "user", "content": f"turn {i} " * 40})
                    reply = await client.messages.create(
                        model="claude-sonnet-4-6",
                        max_tokens=1024,
                        system=[{"type": "text", "text": system}],
                        messages=messages,
                    )
                    messages.append({"role": "assistant", "content": reply.content[0].text})

        await asyncio.gather(*(chain(n) for n in chains))
        await client.close()

    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    urls = ctx.Queue()
    server = ctx.Process(target=_serve, args=(args.latency, urls), daemon=True)
    server.start()
    url = urls.get(timeout=60)
    os.environ.update(ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=url)
    try:
        # Warm up both (imports, SDK type construction, first connections): not measured.
        harness_run(4, 1)
        bare_run([2] * 4, 4, url)
        for c in args.concurrency:
            wall, cpu, chains = harness_run(c, args.repeats)
            calls = sum(chains)
            best = ideal(chains, c, args.latency)
            bare_wall, bare_cpu = bare_run(chains, c, url)
            print(
                f"concurrency {c}: {len(chains)} interviews, {calls} calls; ideal {best:.1f} s\n"
                f"  harness:  wall {wall:.1f} s, efficiency {best / wall:.2f}, "
                f"CPU {1000 * cpu / calls:.2f} ms/call\n"
                f"  bare SDK: wall {bare_wall:.1f} s, efficiency {best / bare_wall:.2f}, "
                f"CPU {1000 * bare_cpu / calls:.2f} ms/call\n"
                f"  harness CPU per call / SDK's: {cpu / bare_cpu:.2f}x"
            )
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
