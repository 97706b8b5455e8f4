"""Benchmark: vectorised reoffending cohorts against the plain per-child loop.

    python bench/bench_cohorts.py                 # 10k, 100k and 1M rows
    python bench/bench_cohorts.py --sizes 10000 100000 --repeat 5
    python bench/bench_cohorts.py --naive-limit 100000   # time the loop up to 100k rows, extrapolate above

Data: synthetic extracts for many fictional areas (``pipeline.synthetic.generate_many``,
150 areas for 1M rows, 15 for 100k, 2 for 10k), April 2015 to March 2019. The work timed
is what a multi-area run needs: annual and quarterly cohort tables per area, as of 31 March
2019 (``reoffending_cohorts(..., by_area=True)`` twice) — membership, index dates, 12-month
follow-up, 6-month waiting period, counts and intervals. The loop
(``pipeline.analysis.tracking.reference.reference_cohorts``) computes the same tables child by child;
"equal" says whether the two tables are identical (``pandas.testing.assert_frame_equal``).
The vectorised time is the best of ``--repeat`` runs; the loop is run once.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.synthetic import generate_many  # noqa: E402
from pipeline.analysis.tracking import reoffending_cohorts  # noqa: E402
from pipeline.analysis.tracking.reference import reference_cohorts  # noqa: E402

AS_OF = "2019-03-31"
AREAS_PER_MILLION = 150


def make_extract(rows: int, seed: int) -> pd.DataFrame:
    n_areas = max(1, round(rows * AREAS_PER_MILLION / 1_000_000))
    return pd.concat(list(generate_many(n_areas=n_areas, rows_target=rows, seed=seed)), ignore_index=True)


def vectorised(extract: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        reoffending_cohorts(extract, "annual", AS_OF, by_area=True),
        reoffending_cohorts(extract, "quarterly", AS_OF, by_area=True),
    )


def naive(extract: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        reference_cohorts(extract, "annual", AS_OF, by_area=True),
        reference_cohorts(extract, "quarterly", AS_OF, by_area=True),
    )


def equal(a: tuple, b: tuple) -> bool:
    try:
        for x, y in zip(a, b):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
    except AssertionError:
        return False
    return True


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="vectorised runs per size (best is reported)")
    parser.add_argument("--naive-limit", type=int, default=10**9,
                        help="largest size the loop is run on; above it its time is extrapolated linearly (and labelled)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    print(f"Reoffending cohorts, annual + quarterly, per area, as of {AS_OF}")
    print(f"python {platform.python_version()}, pandas {pd.__version__}, {os.cpu_count()} CPUs, {platform.machine()}")
    rows_out = []
    last_naive = None
    for size in args.sizes:
        t0 = time.perf_counter()
        extract = make_extract(size, args.seed)
        gen = time.perf_counter() - t0
        best, result = None, None
        for _ in range(max(1, args.repeat)):
            t, result = timed(vectorised, extract)
            best = t if best is None else min(best, t)
        if len(extract) <= args.naive_limit:
            t_naive, ref = timed(naive, extract)
            same = "yes" if equal(result, ref) else "NO"
            naive_label = f"{t_naive:9.2f}"
            last_naive = (len(extract), t_naive)
        else:
            t_naive = last_naive[1] * len(extract) / last_naive[0] if last_naive else float("nan")
            same = "not run"
            naive_label = f"{t_naive:9.2f} (extrapolated)"
        rows_out.append((len(extract), extract["area_id"].nunique(), gen, best, naive_label, t_naive / best, same))
        print(f"  generated {len(extract):,} rows for {extract['area_id'].nunique()} areas in {gen:.1f} s", flush=True)

    print()
    print(f"{'rows':>10}  {'areas':>5}  {'vectorised s':>12}  {'µs/row':>7}  {'naive s':>24}  {'speed-up':>8}  equal")
    for n, areas, _gen, vec, naive_label, speedup, same in rows_out:
        print(f"{n:>10,}  {areas:>5}  {vec:>12.3f}  {vec / n * 1e6:>7.2f}  {naive_label:>24}  {speedup:>7.0f}x  {same}")
    if len(rows_out) > 1:
        (n0, *_r0), (n1, *_r1) = rows_out[0], rows_out[-1]
        growth = rows_out[-1][3] / rows_out[0][3]
        print(f"\nvectorised time grew {growth:.1f}x for {n1 / n0:.0f}x the rows")
    return 0 if all(r[6] in ("yes", "not run") for r in rows_out) else 1


if __name__ == "__main__":
    raise SystemExit(main())
