"""Benchmark: ``pipeline.analysis.plan_kpis.kpi_summary`` (the plan's KPI and RRI tables) on a large extract.

    python bench/plan_kpis_bench.py                   # 1,000,000 rows, one synthetic area
    python bench/plan_kpis_bench.py --rows 100000 --repeat 3

Data: ``pipeline.synthetic.generate_extract(..., kpi_columns=True)`` for one fictional area, April 2019 to
March 2024, its ``scale`` chosen so the extract has about ``--rows`` rows (a plan is built for one area; the
10–17 population and the census populations by ethnicity grow with the scale). Timed: ``kpi_summary`` as the
build calls it (KPIs with disclosure control, relative rate index by ethnicity, sex and age band), and each of
its two halves (and, for comparison, three separate ``stage_counts`` calls against
``stage_counts_together``, which counts the three breakdowns in one pass). Generating the data and loading the definitions are not timed. The best of ``--repeat`` runs
is printed, in seconds. This is a script, never a timed test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.analysis import disproportionality as dp  # noqa: E402
from pipeline.analysis import kpis, plan_kpis  # noqa: E402
from pipeline.synthetic import generate_extract, rows_per_unit_scale  # noqa: E402

from kpi_bench import arguments, best  # noqa: E402  (bench/ is the script's folder)

START, END, AS_OF = "2019-04-01", "2024-03-31", "2024-03-31"


def main(argv=None) -> int:
    args = arguments(argv, __doc__)
    t0 = time.perf_counter()
    scale = args.rows / rows_per_unit_scale(start=START, end=END)
    extract = generate_extract(seed=args.seed, start=START, end=END, scale=scale, population=60000 * scale, kpi_columns=True)
    population = 60000 * scale
    ethnic = {g: n * scale for g, n in dp.census_populations("demoshire").items()}
    print(f"extract: {len(extract):,} rows, one area, scale {scale:.0f} "
          f"(generated in {time.perf_counter() - t0:.1f} s, not timed)")
    definitions = kpis.load_kpi_definitions()
    start, end = plan_kpis.summary_window(AS_OF)

    def kpi_half():
        return kpis.publish_kpis(extract, definitions, start=start, end=end, population=population)

    periods = [(p.label, p.start, p.end) for p in kpis.kpi_periods(start, end) if p.frequency == "annual"]

    def counts_apart():
        return {by: dp.stage_counts(extract, by=by, periods=periods) for by in plan_kpis.REFERENCE_GROUPS}

    def counts_together():
        return plan_kpis.stage_counts_together(extract, periods)

    def rri_half():
        together = plan_kpis.stage_counts_together(extract, periods)
        return [dp.relative_rate_index(together[by], ethnic if by == "ethnicity" else None, reference=ref)
                for by, ref in plan_kpis.REFERENCE_GROUPS.items()]

    def whole():
        return plan_kpis.kpi_summary(extract, as_of=AS_OF, population=population, board=None, wider=None,
                                     definitions=definitions, ethnic_populations=ethnic)

    t_kpi, _ = best(kpi_half, args.repeat)
    t_apart, _ = best(counts_apart, args.repeat)
    t_together, _ = best(counts_together, args.repeat)
    t_rri, _ = best(rri_half, args.repeat)
    t_all, summary = best(whole, args.repeat)
    print(f"{'step':<52}{'seconds':>10}{'rows out':>10}")
    print(f"{'publish_kpis (3 years and their quarters)':<52}{t_kpi:>10.2f}{len(summary['kpi_measures']):>10,}")
    print(f"{'stage_counts, three calls (for comparison)':<52}{t_apart:>10.2f}")
    print(f"{'stage_counts_together (the three in one pass)':<52}{t_together:>10.2f}")
    print(f"{'stage_counts_together + relative_rate_index x3':<52}{t_rri:>10.2f}{len(summary['rri']):>10,}")
    print(f"{'kpi_summary (everything, as the build calls it)':<52}{t_all:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
