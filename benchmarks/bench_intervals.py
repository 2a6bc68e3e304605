"""Coverage of the comparison's intervals on a known truth (no simulation of interviews).

Usage: nice python benchmarks/bench_intervals.py [--replications 600] [--personas 15]
                                                 [--repeats 3] [--n-boot 2000]

Two versions with no difference (the same per-persona truth, fresh noise), paired by persona,
through `harness.stats.intervals.studentized_difference`, the method `sdi compare` and
`sdi gate` decide with. For each data shape, how often the 90% and 95% intervals exclude 0
(nominal 10% and 5%), with Wilson 95% intervals, beside the percentile cluster bootstrap the
harness used before:
- normal: per-persona means ~ N(5, 1.5), noise N(0, 1) per interview (score-like);
- binary: per-persona pass rates ~ Beta(2, 2) (a rule that often fails);
- sparse binary: 70% of personas pass 97% of the time, the rest ~ Beta(2, 2);
- distance to a band: |persona + noise| - 1, clipped at 0 (score:mae-like, many zeros).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from harness.stats.intervals import ClusterSums, studentized_difference
from harness.stats.measures import wilson

Generator = Callable[[np.random.Generator, int, int], tuple[np.ndarray, np.ndarray]]


def normal(rng: np.random.Generator, p: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    mu = rng.normal(5, 1.5, p)[:, None]
    return mu + rng.normal(0, 1, (p, r)), mu + rng.normal(0, 1, (p, r))


def binary(rng: np.random.Generator, p: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    rate = rng.beta(2, 2, p)[:, None]
    return (rng.random((p, r)) < rate) * 1.0, (rng.random((p, r)) < rate) * 1.0


def sparse(rng: np.random.Generator, p: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    rate = np.where(rng.random(p) < 0.3, rng.beta(2, 2, p), 0.97)[:, None]
    return (rng.random((p, r)) < rate) * 1.0, (rng.random((p, r)) < rate) * 1.0


def band_distance(rng: np.random.Generator, p: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    mu = rng.normal(0, 1, p)[:, None]

    def one() -> np.ndarray:
        return np.clip(np.abs(mu + rng.normal(0, 0.6, (p, r))) - 1.0, 0, None)

    return one(), one()


SHAPES: dict[str, Generator] = {
    "normal": normal,
    "binary": binary,
    "sparse binary": sparse,
    "distance to a band": band_distance,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--replications", type=int, default=600)
    parser.add_argument("--personas", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-boot", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    p, r, n = args.personas, args.repeats, args.replications
    print(f"{n} null comparisons per shape, {p} personas x {r} repeats, {args.n_boot} draws")
    print("| data | bootstrap-t 90% (nominal 10%) | 95% (nominal 5%) | percentile 90% |")
    print("| --- | --- | --- | --- |")
    for name, gen in SHAPES.items():
        hits = {"t90": 0, "t95": 0, "pct90": 0}
        for _ in range(n):
            a, b = gen(rng, p, r)
            sa = ClusterSums(a.sum(axis=1), np.full(p, float(r)))
            sb = ClusterSums(b.sum(axis=1), np.full(p, float(r)))
            w = rng.multinomial(p, np.full(p, 1 / p), size=args.n_boot).astype(float)
            s = studentized_difference(sa, sb, w, w, paired=True)
            for key, tail in (("t90", 0.05), ("t95", 0.025)):
                iv = s.interval(tail)
                hits[key] += iv is not None and (iv[0] > 0 or iv[1] < 0)
            draws = sb.estimate(w) - sa.estimate(w)
            low, high = np.quantile(draws, [0.05, 0.95])
            hits["pct90"] += bool(low > 0 or high < 0)

        def show(k: int) -> str:
            iv = wilson(k, n)
            return f"{100 * k / n:.1f}% [{100 * (iv.low or 0):.1f}, {100 * (iv.high or 0):.1f}]"

        print(f"| {name} | {show(hits['t90'])} | {show(hits['t95'])} | {show(hits['pct90'])} |")


if __name__ == "__main__":
    main()
