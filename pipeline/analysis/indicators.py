"""National indicators for one area: value, interval, benchmark comparisons and change.

Works from the validated ``indicators`` table (one row per area/comparator/period) and the
indicator definitions. Counts and denominators are used as published; where one can be derived
(population = count ÷ rate, cohort = reoffenders ÷ rate, count = rate × a published population)
the derivation is explicit and labelled. A rate published without its population takes the area's
10–17 population from ``data/populations.csv`` (attached to the rows by ``data.reconcile``), else the
population that another indicator of the same period implies (its published count ÷ its rate); the
derivation names the row and its source. Nothing is invented: without a count and a denominator the
interval is "not calculated" and comparisons are "not tested".

Statistics (``indicator_definitions.csv`` ``statistic``): ``rate`` (count per population; Poisson
intervals), ``proportion`` (count of a denominator; Wilson) and ``mean_per_person`` (events per person,
e.g. reoffences per child in the cohort; ``stats.mean_per_person_estimate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from . import stats
from ..data import reference

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
    """The area's value compared with one benchmark.

    ``comparator`` is the comparator's KIND (``england``, ``england_wales``, ``region``, ``police_force_area``,
    ``yjb_family``, ``statistical_neighbours``, ``other``: ``comparator_groups.csv``), which charts and sections
    use; ``group`` is the group id the row names (``south_east``, ``oxfordshire_yjb_family``).
    """

    label: str
    comparator: str
    value: float
    period_label: str
    same_period: bool
    comparison: stats.Comparison
    source: str
    group: str = ""


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
        """True when an interval was calculated on a count below 10 (published or derived): it is wide.

        Without an interval there is nothing to caution about (the plan says why none was calculated)."""
        return self.numerator is not None and self.numerator < 10 and self.estimate.has_interval


def number_or_none(value) -> float | None:
    """A cell as a float, or None when it is blank, not a number or NaN."""
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


def population_for(populations: pd.DataFrame | None, period_end: pd.Timestamp, period_start: pd.Timestamp | None = None,
                   area_id: str | None = None) -> tuple[float, str] | None:
    """A published 10–17 population of the area from the populations table (``data/populations.csv``), with its
    description: the one whose reference date falls in the period, else the nearest within a year
    (``reference.population_for_period``). With ``pd.Timestamp.max`` as ``period_end``, the latest one."""
    if populations is None or populations.empty or "population" not in populations.columns:
        return None
    if period_end is pd.Timestamp.max or period_end == pd.Timestamp.max.normalize():
        pops = reference.typed_populations(populations)
        if area_id is not None and "area_id" in pops:
            pops = pops[pops["area_id"] == area_id]
        if pops.empty:
            return None
        period_start = period_end = pops.sort_values("period_end").iloc[-1]["period_end"]
    found = reference.population_for_period(populations, area_id, period_start if period_start is not None else period_end,
                                            period_end)
    return (found["population"], found["text"]) if found else None


def with_populations(indicators: pd.DataFrame, definitions: dict[str, "Definition"], populations: pd.DataFrame) -> pd.DataFrame:
    """A copy of an indicators table with each area rate row's population from the populations table (the columns the
    validated table gets from ``data.reconcile``)."""
    out = indicators.copy()
    out["population"], out["population_text"], out["population_same_period"] = float("nan"), None, None
    for idx, r in out.iterrows():
        defn = definitions.get(r["indicator_id"])
        if r["comparator"] != "area" or defn is None or defn.statistic != "rate":
            continue
        found = reference.population_for_period(populations, r.get("area_id"), r["period_start"], r["period_end"])
        if found is not None:
            out.at[idx, "population"] = found["population"]
            out.at[idx, "population_text"] = found["text"]
            out.at[idx, "population_same_period"] = found["same_period"]
    return out


@dataclass(frozen=True)
class _Population:
    """A population for a rate published without one, and how it was found (for the derivation's text)."""

    value: float
    text: str
    status: str  # the denominator's status as the plan prints it


def implied_populations(indicators: pd.DataFrame, definitions: dict[str, "Definition"]) -> list[dict]:
    """The populations the area's own rate rows imply: a published denominator, or a published count ÷ its published
    rate × multiplier (rounded to a whole number), with the row they come from."""
    out = []
    if indicators is None or indicators.empty:
        return out
    for r in indicators[indicators["comparator"] == "area"].to_dict("records"):
        defn = definitions.get(r["indicator_id"])
        if defn is None or defn.statistic != "rate" or r.get("value_status", "published") != "published":
            continue
        num, den, value = number_or_none(r.get("numerator")), number_or_none(r.get("denominator")), number_or_none(r.get("value"))
        if den is not None and (r.get("denominator_status") or "published") == "published":
            text = (f"{fmt_number(den, 0)}, the population published with the {defn.short_name.lower()} "
                    f"({r['period_label']}; {reference.short_source(_source(r))})")
            out.append({"row": r, "population": den, "text": text})
        elif num is not None and value and value > 0 and (r.get("numerator_status") or "published") == "published":
            pop = float(round(stats.derive_population(num, value, defn.multiplier)))
            text = (f"{fmt_number(pop, 0)}, implied by the same period's {defn.short_name.lower()} "
                    f"({fmt_number(num)} {defn.numerator_label} ÷ {fmt_value(value, defn)}; {reference.short_source(_source(r))})")
            out.append({"row": r, "population": pop, "text": text})
    return out


def _population(defn: "Definition", row: dict, implied: list[dict]) -> _Population | None:
    """The population for a rate row published without one: the area's published population of the same period
    (populations.csv), else one implied by another indicator of the same period, else the area's published population
    of a neighbouring date (within a year)."""
    published = number_or_none(row.get("population"))
    same = row.get("population_same_period")
    same = bool(same) if same is not None and not (isinstance(same, float) and math.isnan(same)) else False
    if published is not None and published > 0 and same:
        return _Population(published, f"the {row.get('population_text')}", "published elsewhere")
    for other in implied:
        o = other["row"]
        if o["indicator_id"] == defn.indicator_id and o.get("period_label") == row.get("period_label"):
            continue
        if same_period(row["period_start"], row["period_end"], o["period_start"], o["period_end"]):
            return _Population(other["population"], f"the 10–17 population {other['text']}",
                               "derived from another indicator")
    if published is not None and published > 0:
        return _Population(published, f"the {row.get('population_text')}, of a different date than the period",
                           "published elsewhere, another date")
    return None


def _estimate(defn: Definition, row: dict, measures: pd.DataFrame | None, level: float, implied: list[dict] | None = None):
    """Estimate for an area row, with the counts used, their status and any derivation notes.

    ``implied``: the populations the area's other rate rows imply (``implied_populations``). ``measures`` is kept
    for callers of the earlier signature; populations come from data/populations.csv (columns the reconciliation
    attaches to the row) and from ``implied``.
    """
    value = float(row["value"])
    num, den = number_or_none(row.get("numerator")), number_or_none(row.get("denominator"))
    num_status = (row.get("numerator_status") or ("published" if num is not None else "")) if num is not None else "not published"
    den_status = (row.get("denominator_status") or ("published" if den is not None else "")) if den is not None else "not published"
    notes: list[str] = []
    unit_words = defn.denominator_label
    whole_persons = defn.statistic in ("proportion", "mean_per_person")
    if den is None and defn.statistic == "rate" and (num is None or num == 0 or value == 0):
        # A rate without its population: a published count of 0 cannot give one (0 ÷ 0), so a zero count is treated
        # like a missing one — publishing more data never gives a worse answer.
        pop = _population(defn, row, implied or [])
        if pop is not None and value >= 0:
            den, den_status = pop.value, pop.status
            if num is None:
                num = float(round(stats.derive_count(value, den, defn.multiplier)))
                num_status = "derived"
                notes.append(
                    f"{defn.numerator_label.capitalize()} derived as {fmt_value(value, defn)} × {fmt_number(den, 0)} ÷ "
                    f"{fmt_number(defn.multiplier, 0)} = {fmt_number(num, 0)}, using {pop.text}"
                )
            else:
                notes.append(f"{unit_words.capitalize()} not published: {pop.text} is used with the published "
                             f"{fmt_number(num)} {defn.numerator_label}")
    elif num is not None and num > 0 and den is None and value > 0:
        den = stats.derive_population(num, value, defn.multiplier)
        if whole_persons:
            den = float(round(den))
        den_status = "derived"
        notes.append(
            f"{unit_words.capitalize()} derived as {fmt_number(num)} ÷ {fmt_value(value, defn)} = {fmt_number(den, 0)}"
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
    elif defn.statistic == "mean_per_person":
        est = mean_per_person_estimate(num, den, level=level, multiplier=defn.multiplier)
    else:
        est = stats.rate_estimate(num, den, level=level, multiplier=defn.multiplier)
    return est, num, den, num_status, den_status, tuple(notes)


def mean_per_person_estimate(events: float, persons: float, level: float = 0.95, multiplier: float = 1) -> stats.Estimate:
    """A mean per person (events ÷ persons × multiplier) with its interval (``stats.mean_per_person_estimate``:
    exact Poisson on the events; its note says the interval is a lower bound, as reoffences cluster in children)."""
    return stats.mean_per_person_estimate(events, persons, level=level, multiplier=multiplier)


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
                comparator=reference.group_kind(str(b["comparator"])),
                value=float(b["value"]),
                period_label=b["period_label"],
                same_period=same,
                comparison=comparison,
                source=_source(b),
                group=str(b["comparator"]),
            )
        )
    return tuple(results)


def _change(defn: Definition, current: dict, cur_counts, previous: dict | None, prev_counts, level: float):
    if previous is None:
        return None, "no earlier comparable period is published"
    cnum, cden = cur_counts
    pnum, pden = prev_counts
    polarity = defn.polarity
    if None not in (cnum, cden, pnum, pden) and defn.statistic == "mean_per_person":
        # Poisson test on the event counts with the cohorts as denominators; reoffences cluster in a few children,
        # so the Change's note carries the caveat that the test is too ready to call a change significant.
        ch = stats.mean_per_person_change(cnum, cden, pnum, pden, polarity=polarity, level=level, multiplier=defn.multiplier)
        return ch, ""
    if None not in (cnum, cden, pnum, pden):
        if defn.statistic == "proportion":
            ch = stats.proportion_change(cnum, cden, pnum, pden, level=level, multiplier=defn.multiplier, polarity=polarity)
        else:
            ch = stats.rate_change(cnum, cden, pnum, pden, level=level, multiplier=defn.multiplier, polarity=polarity)
        return ch, ""
    unit = "percentage points" if defn.unit == "%" else defn.unit
    missing = ("cohort sizes" if defn.statistic == "proportion" else "counts or cohort sizes" if defn.statistic == "mean_per_person"
               else "counts or populations")
    ch = stats.value_change(float(current["value"]), float(previous["value"]), unit, polarity=polarity, reason=f"{missing} not published for both periods")
    return ch, f"significance not tested: {missing} not published for both periods"


def area_indicators(
    indicators: pd.DataFrame,
    definitions: pd.DataFrame,
    measures: pd.DataFrame | None = None,
    level: float = 0.95,
    populations: pd.DataFrame | None = None,
) -> list[IndicatorPeriod]:
    """Every (indicator, period) of the area with estimate, comparisons and change; newest first per indicator.

    A validated indicators table already carries each rate row's population from data/populations.csv (columns
    ``population``, ``population_text``, ``population_same_period``: ``data.reconcile``); ``populations`` (the
    populations table) attaches them to a table that does not. ``measures`` is accepted for earlier callers and
    not used: populations come from the populations table only.
    """
    defs = definitions_from_frame(definitions)
    out: list[IndicatorPeriod] = []
    if indicators is None or indicators.empty:
        return out
    if populations is not None:
        indicators = with_populations(indicators, defs, populations)
    implied = implied_populations(indicators, defs)
    for indicator_id, rows in indicators.groupby("indicator_id", sort=False):
        defn = defs.get(indicator_id)
        if defn is None:  # its definition failed its contract: left out (the plan says so)
            continue
        area_rows = rows[rows["comparator"] == "area"].sort_values("period_end")
        others = rows[rows["comparator"] != "area"]
        computed = {}
        for idx, r in area_rows.iterrows():
            computed[idx] = _estimate(defn, r.to_dict(), measures, level, implied)
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
                    published_change=number_or_none(row.get("published_change")),
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
    if periods and periods[0].definition.statistic == "mean_per_person":
        method = getattr(stats, "mean_per_person_trend", None)
        if method is not None:
            return method(counts, denominators)
        return stats.trend_without_counts(len(run), reason="no trend test for a mean per person is available")
    if periods and periods[0].definition.statistic == "proportion":
        return stats.proportion_trend(counts, denominators)
    return stats.rate_trend(counts, denominators)
