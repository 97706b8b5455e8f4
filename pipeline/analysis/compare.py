"""Side-by-side comparison of areas: aligned indicators, money, staffing, inspections.

``comparison_data`` computes everything from the validated data of each area (pure, tested);
``build_comparison`` executes ``notebooks/compare.ipynb`` with papermill and renders it like
the plans. Periods differ between areas: every value keeps its own period, and any comparison
across different periods says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import stats
from ..data.contracts import read_report
from ..data.dataset import AreaData, load_area
from .money import budget_years
from .indicators import IndicatorPeriod, area_indicators, fmt_number, fmt_value, interval_text, population_for

COMPARE_NOTEBOOK = "compare.ipynb"


@dataclass
class AreaSummary:
    """What the comparison needs from one area."""

    data: AreaData
    indicators: list[IndicatorPeriod]
    budget_total: float | None = None
    budget_year: str = ""
    budget_by_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    yjb_share: float | None = None
    population: float | None = None
    population_source: str = ""
    staff_total: float | None = None
    staff_by_group: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def area_id(self) -> str:
        return self.data.area_id

    @property
    def name(self) -> str:
        return self.data.area["area_name"]

    def latest(self, indicator_id: str) -> IndicatorPeriod | None:
        found = [i for i in self.indicators if i.definition.indicator_id == indicator_id]
        return found[0] if found else None


def summarise_area(data: AreaData) -> AreaSummary:
    """Indicators, budget, population and staffing of one validated area."""
    ips = area_indicators(data.table("indicators"), data.definitions, data.table("measures"))
    s = AreaSummary(data=data, indicators=ips)
    years = budget_years(data.table("budget"))
    if years:
        latest = max(years, key=lambda y: y.year)
        b = latest.rows
        s.budget_year = latest.year
        s.budget_total = latest.total
        by = b[b["row_type"] == "contribution"].groupby("agency_group", as_index=False)["amount_gbp"].sum()
        by["share"] = by["amount_gbp"] / by["amount_gbp"].sum() * 100
        s.budget_by_group = by
        s.yjb_share = float(latest.yjb / s.budget_total * 100) if s.budget_total else None
    pop = _population(data, ips)
    if pop:
        s.population, s.population_source = pop
    staff = data.table("staffing")
    if staff is not None and not staff.empty:
        totals = staff[(staff["attribute"] == "total")]
        paid = totals[totals["role_group"] != "volunteer"]
        s.staff_total = float(paid["count"].sum())
        s.staff_by_group = paid.groupby("role_group", as_index=False)["count"].sum()
    return s


def _population(data: AreaData, ips: list[IndicatorPeriod]) -> tuple[float, str] | None:
    """A 10–17 population: the area's latest in data/populations.csv if the documents give one, else derived from
    the FTE count ÷ rate."""
    populations = data.tables.get("populations")
    if populations is not None and not populations.empty:
        pop = population_for(populations, pd.Timestamp.max.normalize(), area_id=data.area_id)
        if pop:
            return pop[0], f"published: {pop[1]}"
    for ip in ips:
        if ip.definition.indicator_id == "fte_rate" and ip.numerator is not None and ip.denominator is not None:
            if ip.numerator_status == "published":
                return ip.denominator, (f"derived: {fmt_number(ip.numerator)} first-time entrants ÷ "
                                        f"{fmt_value(ip.value, ip.definition)} ({ip.period_label})")
    return None


def aligned_indicators(summaries: list[AreaSummary]) -> pd.DataFrame:
    """One row per indicator and area: latest value, interval, period, benchmark used and result, change."""
    rows = []
    ids = []
    for s in summaries:
        for ip in s.indicators:
            if ip.definition.indicator_id not in ids:
                ids.append(ip.definition.indicator_id)
    for indicator_id in ids:
        periods = set()
        for s in summaries:
            ip = s.latest(indicator_id)
            if ip is not None:
                periods.add((ip.period_start, ip.period_end))
        like_for_like = len(periods) <= 1
        for s in summaries:
            ip = s.latest(indicator_id)
            if ip is None:
                rows.append({"indicator_id": indicator_id, "area": s.name, "value": None, "period": "not published"})
                continue
            bench = next((b for b in ip.benchmarks if b.same_period and b.comparator in ("england", "england_wales")), None)
            bench = bench or next((b for b in ip.benchmarks if b.same_period), None)
            ch = ip.change
            rows.append({
                "indicator_id": indicator_id,
                "indicator": ip.definition.name,
                "area": s.name,
                "value": ip.value,
                "value_text": fmt_value(ip.value, ip.definition),
                "lower": ip.estimate.lower,
                "upper": ip.estimate.upper,
                "interval": interval_text(ip.estimate, ip.definition),
                "period": ip.period_label,
                "benchmark": f"{bench.label} {fmt_value(bench.value, ip.definition)}" if bench else "none for the same period",
                "benchmark_value": bench.value if bench else None,
                "result": bench.comparison.result if bench else "not tested",
                "change": (f"{ch.assessment}, {'significant' if ch.significant else 'not significant' if ch.significant is False else 'not tested'}"
                           if ch else "no comparable previous period"),
                "like_for_like": like_for_like,
            })
    return pd.DataFrame(rows)


def area_differences(summaries: list[AreaSummary], level: float = 0.95) -> pd.DataFrame:
    """Pairwise tests between areas for each indicator where both have counts; flags different periods."""
    rows = []
    for a, b in itertools.combinations(summaries, 2):
        ids = {ip.definition.indicator_id for ip in a.indicators} & {ip.definition.indicator_id for ip in b.indicators}
        for indicator_id in sorted(ids):
            ia, ib = a.latest(indicator_id), b.latest(indicator_id)
            if None in (ia.numerator, ia.denominator, ib.numerator, ib.denominator):
                continue
            defn = ia.definition
            if defn.statistic == "proportion":
                ch = stats.proportion_change(ia.numerator, ia.denominator, ib.numerator, ib.denominator, level=level,
                                             multiplier=defn.multiplier, polarity=defn.polarity)
            else:
                ch = stats.rate_change(ia.numerator, ia.denominator, ib.numerator, ib.denominator, level=level,
                                       multiplier=defn.multiplier, polarity=defn.polarity)
            same = ia.period_start == ib.period_start and ia.period_end == ib.period_end
            rows.append({
                "indicator": defn.name, "indicator_id": indicator_id, "area_a": a.name, "value_a": fmt_value(ia.value, defn),
                "period_a": ia.period_label, "area_b": b.name, "value_b": fmt_value(ib.value, defn), "period_b": ib.period_label,
                "difference": ch.absolute, "unit": "percentage points" if defn.unit == "%" else defn.unit,
                "p_value": ch.p_value, "test": ch.test, "significant": bool(ch.significant), "same_period": same,
                "better": a.name if ch.assessment == "improvement" else b.name if ch.assessment == "deterioration" else "",
            })
    return pd.DataFrame(rows)


def load_summaries(area_ids: list[str], reports: dict[str, str] | None = None) -> list[AreaSummary]:
    """Validated summaries for the areas (using validation reports already run by the driver if given)."""
    reports = reports or {}
    out = []
    for area_id in area_ids:
        report = read_report(Path(reports[area_id])) if area_id in reports else None
        out.append(summarise_area(load_area(area_id, report=report)))
    return out


