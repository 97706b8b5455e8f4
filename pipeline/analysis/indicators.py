"""National indicators for one area: value, interval, benchmark comparisons and change.

Works from the validated ``indicators`` table (one row per area/comparator/period) and the
indicator definitions. Counts and denominators are used as published; where one can be derived
(population = count ÷ rate, cohort = reoffenders ÷ rate, count = rate × a published population)
the derivation is explicit and labelled. Nothing is invented: without a count and a denominator
the interval is "not calculated" and comparisons are "not tested".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from . import stats

SAME_PERIOD_DAYS = 3
"""Two periods are the same when their start and end dates differ by at most this many days."""


@dataclass(frozen=True)
class Definition:
    """One indicator's definition (from indicator_definitions.csv)."""

    indicator_id: str
    name: str
    short_name: str
    statistic: str
    unit: str
    multiplier: float
    polarity: str
    numerator_label: str
    denominator_label: str
    description: str = ""

    @classmethod
    def from_row(cls, row: dict) -> "Definition":
        return cls(
            indicator_id=row["indicator_id"],
            name=row["name"],
            short_name=row["short_name"],
            statistic=row["statistic"],
            unit=row["unit"],
            multiplier=float(row["multiplier"]),
            polarity=row["polarity"],
            numerator_label=row["numerator_label"],
            denominator_label=row["denominator_label"],
            description=row.get("description") or "",
        )


def definitions_from_frame(frame: pd.DataFrame) -> dict[str, Definition]:
    return {r["indicator_id"]: Definition.from_row(r) for r in frame.to_dict("records")}


@dataclass(frozen=True)
class BenchmarkResult:
    """The area's value compared with one benchmark."""

    label: str
    comparator: str
    value: float
    period_label: str
    same_period: bool
    comparison: stats.Comparison
    source: str


@dataclass(frozen=True)
class IndicatorPeriod:
    """One indicator for one area and one period, with everything the plan says about it."""

    definition: Definition
    period_label: str
    period_start: pd.Timestamp
    period_end: pd.Timestamp
    value: float
    estimate: stats.Estimate
    numerator: float | None
    denominator: float | None
    numerator_status: str
    denominator_status: str
    derivations: tuple[str, ...]
    benchmarks: tuple[BenchmarkResult, ...]
    change: stats.Change | None
    previous_period_label: str | None
    change_note: str
    published_change: float | None
    source: str
    note: str = ""
    published_unit: str = ""
    previous_value: float | None = None

    @property
    def small_numbers(self) -> bool:
        """True when the count is below 10 (or derived and below 10): intervals are wide."""
        return self.numerator is not None and self.numerator < 10


def _num(value) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _source(row: dict) -> str:
    return f"{row['source_document']}, {row['source_section']}"


def same_period(a_start, a_end, b_start, b_end) -> bool:
    return abs((a_start - b_start).days) <= SAME_PERIOD_DAYS and abs((a_end - b_end).days) <= SAME_PERIOD_DAYS


def consecutive(prev_start, prev_end, cur_start, cur_end) -> bool:
    """True when the previous period has the same length and starts about a year earlier."""
    same_length = abs(((prev_end - prev_start) - (cur_end - cur_start)).days) <= 31
    one_year_back = abs((cur_start - pd.DateOffset(years=1) - prev_start).days) <= 31
    return same_length and one_year_back and prev_end < cur_start


def population_for(measures: pd.DataFrame | None, period_end: pd.Timestamp) -> tuple[float, str] | None:
    """A published 10–17 population for the area, nearest in time to the period (with its source)."""
    if measures is None or measures.empty or "measure" not in measures:
        return None
    pops = measures[(measures["topic"] == "population") & measures["measure"].astype(str).str.contains("10_17")]
    pops = pops[pops["comparator"] == "area"] if "comparator" in pops else pops
    pops = pops[pops["unit"] == "count"] if "unit" in pops else pops
    if pops.empty:
        return None
    distance = (pops["period_end"] - period_end).abs()
    row = pops.loc[distance.idxmin()].to_dict()
    return float(row["value"]), f"{row['label']} ({row['period_label']}; {_source(row)})"


def _estimate(defn: Definition, row: dict, measures: pd.DataFrame | None, level: float):
    """Estimate for an area row, with the counts used, their status and any derivation notes."""
    value = float(row["value"])
    num, den = _num(row.get("numerator")), _num(row.get("denominator"))
    num_status = (row.get("numerator_status") or ("published" if num is not None else "")) if num is not None else "not published"
    den_status = (row.get("denominator_status") or ("published" if den is not None else "")) if den is not None else "not published"
    notes: list[str] = []
    unit_words = defn.denominator_label
    if num is not None and den is None and value > 0:
        den = stats.derive_population(num, value, defn.multiplier)
        if defn.statistic == "proportion":
            den = float(round(den))
        den_status = "derived"
        notes.append(
            f"{unit_words.capitalize()} derived as {fmt_number(num)} ÷ {fmt_value(value, defn)} = {fmt_number(den, 0)}"
        )
    elif num is None and den is None and defn.statistic == "rate":
        pop = population_for(measures, row["period_end"])
        if pop is not None and value >= 0:
            den = pop[0]
            num = float(round(stats.derive_count(value, den, defn.multiplier)))
            num_status, den_status = "derived", "published elsewhere"
            notes.append(
                f"{defn.numerator_label.capitalize()} derived as {fmt_value(value, defn)} × {fmt_number(den, 0)} "
                f"({pop[1]}) = {fmt_number(num, 0)}; the population is from a different source and date"
            )
    elif num is None and den is not None and value >= 0:
        num = float(round(stats.derive_count(value, den, defn.multiplier)))
        num_status = "derived"
        notes.append(f"{defn.numerator_label.capitalize()} derived as {fmt_value(value, defn)} of {fmt_number(den, 0)} = {fmt_number(num, 0)}")

    if num is None or den is None:
        missing = "count and denominator" if num is None and den is None else ("count" if num is None else "denominator")
        est = stats.estimate_without_counts(value, level=level, multiplier=defn.multiplier, reason=f"{missing} not published")
    elif defn.statistic == "proportion":
        est = stats.proportion_estimate(num, den, level=level, multiplier=defn.multiplier)
    else:
        est = stats.rate_estimate(num, den, level=level, multiplier=defn.multiplier)
    return est, num, den, num_status, den_status, tuple(notes)


def _benchmarks(defn: Definition, area_row: dict, est: stats.Estimate, others: pd.DataFrame) -> tuple[BenchmarkResult, ...]:
    results = []
    for b in others.to_dict("records"):
        same = same_period(area_row["period_start"], area_row["period_end"], b["period_start"], b["period_end"])
        if same:
            comparison = stats.compare_with_benchmark(est, float(b["value"]), b["comparator_label"], defn.polarity)
        else:
            comparison = stats.Comparison(
                result="not tested",
                benchmark_value=float(b["value"]),
                benchmark_label=b["comparator_label"],
                level=est.level,
                reason=f"not like for like: the {b['comparator_label']} figure is for {b['period_label']}, "
                f"the area's for {area_row['period_label']}",
            )
        results.append(
            BenchmarkResult(
                label=b["comparator_label"],
                comparator=b["comparator"],
                value=float(b["value"]),
                period_label=b["period_label"],
                same_period=same,
                comparison=comparison,
                source=_source(b),
            )
        )
    return tuple(results)


def _change(defn: Definition, current: dict, cur_counts, previous: dict | None, prev_counts, level: float):
    if previous is None:
        return None, "no earlier comparable period is published"
    cnum, cden = cur_counts
    pnum, pden = prev_counts
    polarity = defn.polarity
    if None not in (cnum, cden, pnum, pden):
        if defn.statistic == "proportion":
            ch = stats.proportion_change(cnum, cden, pnum, pden, level=level, multiplier=defn.multiplier, polarity=polarity)
        else:
            ch = stats.rate_change(cnum, cden, pnum, pden, level=level, multiplier=defn.multiplier, polarity=polarity)
        return ch, ""
    unit = "percentage points" if defn.unit == "%" else defn.unit
    missing = "cohort sizes" if defn.statistic == "proportion" else "counts or populations"
    ch = stats.value_change(float(current["value"]), float(previous["value"]), unit, polarity=polarity, reason=f"{missing} not published for both periods")
    return ch, f"significance not tested: {missing} not published for both periods"


def area_indicators(
    indicators: pd.DataFrame,
    definitions: pd.DataFrame,
    measures: pd.DataFrame | None = None,
    level: float = 0.95,
) -> list[IndicatorPeriod]:
    """Every (indicator, period) of the area with estimate, comparisons and change; newest first per indicator."""
    defs = definitions_from_frame(definitions)
    out: list[IndicatorPeriod] = []
    if indicators is None or indicators.empty:
        return out
    for indicator_id, rows in indicators.groupby("indicator_id", sort=False):
        defn = defs[indicator_id]
        area_rows = rows[rows["comparator"] == "area"].sort_values("period_end")
        others = rows[rows["comparator"] != "area"]
        computed = {}
        for idx, r in area_rows.iterrows():
            computed[idx] = _estimate(defn, r.to_dict(), measures, level)
        records = list(area_rows.iterrows())
        for pos, (idx, r) in enumerate(records):
            row = r.to_dict()
            est, num, den, num_status, den_status, notes = computed[idx]
            previous = None
            for pidx, p in reversed(records[:pos]):
                if consecutive(p["period_start"], p["period_end"], row["period_start"], row["period_end"]):
                    previous = (pidx, p.to_dict())
                    break
            if previous is not None:
                pest = computed[previous[0]]
                change, change_note = _change(defn, row, (num, den), previous[1], (pest[1], pest[2]), level)
            else:
                change, change_note = _change(defn, row, (num, den), None, (None, None), level)
            matching = others[
                [same_period(row["period_start"], row["period_end"], s, e) for s, e in zip(others["period_start"], others["period_end"])]
            ]
            # Benchmarks for other periods are shown only when the area has no row of their period.
            unmatched = others[
                [
                    not any(same_period(a, b, s, e) for a, b in zip(area_rows["period_start"], area_rows["period_end"]))
                    for s, e in zip(others["period_start"], others["period_end"])
                ]
            ]
            is_latest = pos == len(records) - 1
            bench_rows = pd.concat([matching, unmatched]) if is_latest else matching
            out.append(
                IndicatorPeriod(
                    definition=defn,
                    period_label=row["period_label"],
                    period_start=row["period_start"],
                    period_end=row["period_end"],
                    value=float(row["value"]),
                    estimate=est,
                    numerator=num,
                    denominator=den,
                    numerator_status=num_status,
                    denominator_status=den_status,
                    derivations=notes,
                    benchmarks=_benchmarks(defn, row, est, bench_rows),
                    change=change,
                    previous_period_label=previous[1]["period_label"] if previous else None,
                    change_note=change_note,
                    published_change=_num(row.get("published_change")),
                    source=_source(row),
                    note=row.get("note") or "",
                    published_unit=row.get("published_unit") or "",
                    previous_value=float(previous[1]["value"]) if previous else None,
                )
            )
    order = {k: i for i, k in enumerate(defs)}
    out.sort(key=lambda p: (order.get(p.definition.indicator_id, 99), -p.period_end.value))
    return out


# --------------------------------------------------------------------------- formatting


def fmt_number(value: float | None, decimals: int | None = None) -> str:
    """1383382 -> '1,383,382'; 2.5 -> '2.5'; None -> '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def fmt_value(value: float | None, defn: Definition, decimals: int | None = None) -> str:
    """A value with its unit: '240 per 100,000', '37.6%', '0.15 per 1,000'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = fmt_number(value, decimals)
    return f"{text}%" if defn.unit == "%" else f"{text} {defn.unit}"


def interval_text(est: stats.Estimate, defn: Definition) -> str:
    if not est.has_interval:
        return "not calculated"
    d = 1 if defn.unit == "%" else (0 if defn.multiplier >= 100000 else 2)
    return f"{fmt_number(est.lower, d)}–{fmt_number(est.upper, d)}"


def indicator_trend(periods: list[IndicatorPeriod]) -> stats.Trend:
    """Trend over the latest run of consecutive annual periods of one indicator (oldest first).

    Tested only with at least ``stats.MIN_TREND_POINTS`` comparable annual points whose counts and
    denominators are known; otherwise the Trend says why it cannot be calculated.
    """
    annual = sorted((p for p in periods if 330 <= (p.period_end - p.period_start).days <= 400), key=lambda p: p.period_end)
    run: list[IndicatorPeriod] = annual[-1:]
    for p in reversed(annual[:-1]):
        if consecutive(p.period_start, p.period_end, run[0].period_start, run[0].period_end):
            run.insert(0, p)
        else:
            break
    counts = [p.numerator for p in run]
    denominators = [p.denominator for p in run]
    if periods and periods[0].definition.statistic == "proportion":
        return stats.proportion_trend(counts, denominators)
    return stats.rate_trend(counts, denominators)
