"""Benchmark: the ten YJB KPIs (``pipeline.analysis.kpis``) on a large synthetic extract.

    python bench/kpi_bench.py                   # 1,000,000 rows (150 fictional areas)
    python bench/kpi_bench.py --rows 100000 --repeat 3

Data: ``pipeline.synthetic.generate_many(..., kpi_columns=True)`` — synthetic extracts with the optional
per-intervention KPI columns for many fictional areas, April 2015 to March 2019 (150 areas per million
rows). Timed: ``kpi_counts`` (every measure per area, year and quarter, with Wilson intervals and the
serious-violence rate) and ``publish_kpis`` (the same plus start-versus-end changes and disclosure
control). The best of ``--repeat`` runs is printed. Generating the data is not timed. This is a script,
never a timed test.
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

from pipeline.analysis import kpis  # noqa: E402
from pipeline.synthetic import generate_many  # noqa: E402

START, END = "2015-04-01", "2019-03-31"
AREAS_PER_MILLION = 150


def make_extract(rows: int, seed: int) -> pd.DataFrame:
    n_areas = max(1, round(rows * AREAS_PER_MILLION / 1_000_000))
    return pd.concat(list(generate_many(n_areas=n_areas, rows_target=rows, seed=seed, kpi_columns=True)), ignore_index=True)


def best(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def arguments(argv, doc: str) -> argparse.Namespace:
    """--rows, --repeat and --seed (shared by the KPI benchmarks), after printing the machine."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per step (the best is printed)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, pandas {pd.__version__}, {os.cpu_count()} cores")
    return args


def main(argv=None) -> int:
    args = arguments(argv, __doc__)
    t0 = time.perf_counter()
    extract = make_extract(args.rows, args.seed)
    population = {a: 60000.0 for a in extract["area_id"].unique()}
    print(f"extract: {len(extract):,} rows, {extract['area_id'].nunique()} areas "
          f"(generated in {time.perf_counter() - t0:.1f} s, not timed)")
    definitions = kpis.load_kpi_definitions()
    t_counts, counts = best(lambda: kpis.kpi_counts(extract, definitions, start=START, end=END, population=population), args.repeat)
    t_pub, pub = best(lambda: kpis.publish_kpis(extract, definitions, start=START, end=END, population=population), args.repeat)
    hidden = pub.measures["numerator"].astype(str).isin(["<5", "*"]).mean() * 100
    print(f"{'step':<34}{'seconds':>10}{'rows out':>12}")
    print(f"{'kpi_counts (unsuppressed)':<34}{t_counts:>10.2f}{len(counts):>12,}")
    print(f"{'publish_kpis (with suppression)':<34}{t_pub:>10.2f}{len(pub.measures):>12,}")
    print(f"numerators hidden by disclosure control: {hidden:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
