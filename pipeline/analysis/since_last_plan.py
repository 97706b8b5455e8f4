"""What changed since the last plan: each indicator's headline in the previous edition against now.

An edition's headline for an indicator is its latest period ending on or before the edition's data
cut-off. The previous edition's headline is found among the same area-level rows, with the
previous edition's cut-off. The change between the two headline periods is tested like any change
between periods (``stats.rate_change`` / ``proportion_change`` with counts, else
``stats.value_change``, which says why it is not tested), with the indicator's own polarity.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import stats
from .indicators import IndicatorPeriod


@dataclass(frozen=True)
class HeadlineChange:
    """One indicator's headline in the previous edition and in this one."""

    indicator_id: str
    name: str
    previous: IndicatorPeriod | None  # None: the previous edition had no figure for it
    current: IndicatorPeriod
    change: stats.Change | None  # None: no previous headline, or the same period in both editions
    note: str


def headline(periods: list[IndicatorPeriod], cutoff) -> IndicatorPeriod | None:
    """The latest period of one indicator ending on or before ``cutoff``."""
    cutoff = pd.Timestamp(cutoff)
    eligible = [p for p in periods if pd.Timestamp(p.period_end) <= cutoff]
    return max(eligible, key=lambda p: pd.Timestamp(p.period_end)) if eligible else None


def _counts(p: IndicatorPeriod) -> tuple[float | None, float | None]:
    return p.numerator, p.denominator


def change_between(previous: IndicatorPeriod, current: IndicatorPeriod, level: float = 0.95) -> stats.Change:
    """The change from ``previous`` to ``current`` (two periods of one indicator), with significance
    when both periods have counts and denominators."""
    defn = current.definition
    cnum, cden = _counts(current)
    pnum, pden = _counts(previous)
    if None not in (cnum, cden, pnum, pden):
        if defn.statistic == "proportion":
            return stats.proportion_change(cnum, cden, pnum, pden, level=level, multiplier=defn.multiplier,
                                           polarity=defn.polarity)
        if defn.statistic == "rate":
            return stats.rate_change(cnum, cden, pnum, pden, level=level, multiplier=defn.multiplier,
                                     polarity=defn.polarity)
        if defn.statistic == "mean_per_person":
            return stats.mean_per_person_change(cnum, cden, pnum, pden, polarity=defn.polarity, level=level,
                                                multiplier=defn.multiplier)
    unit = "percentage points" if defn.unit == "%" else defn.unit
    missing = "cohort sizes" if defn.statistic == "proportion" else "counts or denominators"
    return stats.value_change(current.value, previous.value, unit, polarity=defn.polarity,
                              reason=f"{missing} not published for both periods")


def changes_since(indicators: list[IndicatorPeriod], previous_cutoff, level: float = 0.95) -> list[HeadlineChange]:
    """Each indicator's headline now (the latest of ``indicators``) against its headline at ``previous_cutoff``."""
    by_indicator: dict[str, list[IndicatorPeriod]] = {}
    for ip in indicators:
        by_indicator.setdefault(ip.definition.indicator_id, []).append(ip)
    out = []
    for indicator_id, periods in by_indicator.items():
        current = max(periods, key=lambda p: pd.Timestamp(p.period_end))
        before = headline(periods, previous_cutoff)
        name = current.definition.name
        if before is None:
            out.append(HeadlineChange(indicator_id, name, None, current, None,
                                      "not in the previous plan: no period ended by its data cut-off"))
        elif before.period_label == current.period_label and before.period_end == current.period_end:
            out.append(HeadlineChange(indicator_id, name, before, current, None,
                                      "no newer figure since the previous plan"))
        else:
            out.append(HeadlineChange(indicator_id, name, before, current, change_between(before, current, level), ""))
    return out
