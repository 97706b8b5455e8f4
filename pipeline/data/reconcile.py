"""Reconciliation columns added to typed tables before the ``typed`` contract stage.

Each function takes the typed frame and the raw (text) frame of one table and returns the typed
frame with extra columns that the suites compare (a gap and the tolerance it must not exceed).
The tolerance follows the precision the figure was published with: a value printed as ``37.6``
may be off by 0.05 from the exact ratio of its published numerator and denominator.
Published values are never changed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .loaders import decimals

EPS = 1e-9


def _half_unit(raw_values: pd.Series) -> pd.Series:
    return raw_values.map(lambda v: 0.5 * 10 ** (-decimals(v)) + EPS if isinstance(v, str) and v.strip() else np.nan)


def _norm_unit(unit: object) -> str:
    return str(unit or "").replace(",", "").replace(" ", "").lower()


def indicators(typed: pd.DataFrame, raw: pd.DataFrame, definitions: pd.DataFrame,
               populations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Adds rate_from_counts / rate_gap / rate_tolerance, change_from_values / change_gap /
    change_tolerance, defined_unit / unit_matches, percentage flags (and ``statistic``, which the suite uses to skip
    the count-above-denominator check for a mean per person), and the population columns of ``_populations``
    (``populations``: the populations table, all areas)."""
    out = typed.copy()
    defs = definitions.set_index("indicator_id")
    out["defined_unit"] = out["indicator_id"].map(defs["unit"])
    out["multiplier"] = out["indicator_id"].map(defs["multiplier"]).astype(float)
    out["statistic"] = out["indicator_id"].map(defs["statistic"])
    out["is_percentage"] = out["defined_unit"] == "%"
    out["is_proportion"] = out["statistic"] == "proportion"
    out["pct_value"] = out["value"].where(out["is_percentage"])
    out["proportion_denominator"] = out["denominator"].where(out["is_proportion"])

    checkable = (
        out["numerator"].notna()
        & out["denominator"].notna()
        & (out["denominator"] > 0)
        & (out["value_status"] == "published")
        & (out["numerator_status"].fillna("published") == "published")
        & (out["denominator_status"].fillna("published") == "published")
    )
    ratio = out["numerator"] / out["denominator"] * out["multiplier"]
    out["rate_from_counts"] = ratio.where(checkable).round(4)
    out["rate_gap"] = (out["value"] - ratio).abs().where(checkable)
    out["rate_tolerance"] = _half_unit(raw["value"]).where(checkable)

    out["change_from_values"] = np.nan
    keys = ["area_id", "indicator_id", "comparator", "comparator_label"]
    for _, group in out.groupby(keys, dropna=False, sort=False):
        ordered = group.sort_values("period_end")
        for idx in ordered.index[ordered["published_change"].notna()]:
            earlier = ordered[ordered["period_end"] < out.at[idx, "period_start"]]
            if len(earlier):
                out.at[idx, "change_from_values"] = round(out.at[idx, "value"] - earlier.iloc[-1]["value"], 6)
    has_change = out["change_from_values"].notna()
    out["change_gap"] = (out["published_change"] - out["change_from_values"]).abs().where(has_change)
    out["change_tolerance"] = pd.Series(EPS * 1000, index=out.index).where(has_change)

    out["unit_matches"] = [
        _norm_unit(pub) == _norm_unit(defined) if isinstance(defined, str) else False
        for pub, defined in zip(out["published_unit"], out["defined_unit"])
    ]
    return _populations(out, raw, populations)


#: How far (relative) the population that a published count and rate imply may lie from the reference population
#: (the area's population in populations.csv, else the median of what its other periods imply) before a warning:
#: 10%, beyond the rounding of the published rate, which is allowed for separately. A 10–17 population changes
#: by a few per cent a year; a larger gap points at a wrong count, rate, unit or period.
POPULATION_TOLERANCE = 0.10
#: Other periods whose implied populations are compared: those ending at most this many days from the row's end.
POPULATION_OTHER_PERIODS_DAYS = 3 * 366


def _populations(out: pd.DataFrame, raw: pd.DataFrame, populations: pd.DataFrame | None) -> pd.DataFrame:
    """Population columns for rates (``statistic`` = rate).

    * ``population`` / ``population_text`` / ``population_same_period``: the area's published 10–17 population
      for the row's period from populations.csv (``reference.population_for_period``: a reference date within the
      period, else the nearest within a year), on the area's own rows; blank otherwise. ``indicators._estimate``
      uses it for a rate published without its population.
    * ``implied_population`` (with ``implied_population_low`` / ``_high``, the range the rounding of the published
      rate allows): a published count ÷ the published rate × multiplier, or a published denominator.
    * ``reference_population`` / ``reference_population_source``: what it is checked against — the area's
      population above, else the median of the populations implied by the same area's and comparator's other
      rate rows within three years — and ``population_gap`` (relative distance outside the implied range) with
      ``population_tolerance`` (``POPULATION_TOLERANCE``): the suite warns when the gap is larger.
    """
    from .reference import population_for_period

    for column in ("population", "implied_population", "implied_population_low", "implied_population_high",
                   "reference_population", "population_gap", "population_tolerance"):
        out[column] = np.nan
    out["population_text"] = None
    out["population_same_period"] = None
    out["reference_population_source"] = None
    if out.empty:
        return out
    is_rate = out["statistic"] == "rate"
    usable = populations
    if usable is not None and not usable.empty and "population" in usable:
        usable = usable[pd.to_numeric(usable["population"].astype(str).str.replace(",", "", regex=False), errors="coerce") > 0]
    for idx in out.index[is_rate & (out["comparator"] == "area")]:
        found = population_for_period(usable, out.at[idx, "area_id"], out.at[idx, "period_start"], out.at[idx, "period_end"])
        if found is not None:
            out.at[idx, "population"] = found["population"]
            out.at[idx, "population_text"] = found["text"]
            out.at[idx, "population_same_period"] = bool(found["same_period"])

    published = (out["value_status"] == "published")
    counted = (is_rate & published & out["numerator"].notna() & (out["value"] > 0)
               & (out["numerator_status"].fillna("published") == "published"))
    half = _half_unit(raw["value"]).reindex(out.index)
    implied = out["numerator"] / out["value"] * out["multiplier"]
    low = out["numerator"] / (out["value"] + half) * out["multiplier"]
    high = (out["numerator"] / (out["value"] - half) * out["multiplier"]).where(out["value"] - half > 0, np.inf)
    with_den = is_rate & out["denominator"].notna() & (out["denominator_status"].fillna("published") == "published")
    out["implied_population"] = implied.where(counted & ~with_den).fillna(out["denominator"].where(with_den))
    out["implied_population_low"] = low.where(counted & ~with_den).fillna(out["denominator"].where(with_den))
    out["implied_population_high"] = high.where(counted & ~with_den).fillna(out["denominator"].where(with_den))

    checked = out.index[out["implied_population"].notna()]
    for idx in checked:
        ref, text = np.nan, None
        if out.at[idx, "comparator"] == "area" and not pd.isna(out.at[idx, "population"]):
            ref, text = out.at[idx, "population"], f"populations.csv: {out.at[idx, 'population_text']}"
        else:
            others = out[(out["area_id"] == out.at[idx, "area_id"]) & (out["comparator"] == out.at[idx, "comparator"])
                         & out["implied_population"].notna() & (out.index != idx)]
            others = others[(others["period_end"] - out.at[idx, "period_end"]).abs().dt.days <= POPULATION_OTHER_PERIODS_DAYS]
            if len(others):
                ref = float(others["implied_population"].median())
                text = "median of the populations implied by " + "; ".join(
                    f"{r['indicator_id']} {r['period_label']} ({r['implied_population']:,.0f})" for r in others.to_dict("records"))
        if pd.isna(ref) or ref <= 0:
            continue
        lo, hi = out.at[idx, "implied_population_low"], out.at[idx, "implied_population_high"]
        out.at[idx, "reference_population"] = round(float(ref), 1)
        out.at[idx, "reference_population_source"] = text
        out.at[idx, "population_gap"] = max(0.0, lo - ref, ref - hi) / ref
        out.at[idx, "population_tolerance"] = POPULATION_TOLERANCE
    out["implied_population"] = out["implied_population"].round(1)
    return out


def _totals(typed: pd.DataFrame, raw: pd.DataFrame, group_keys: list[str], item_mask: pd.Series, matchers) -> pd.DataFrame:
    out = typed.copy()
    out["sum_of_rows"] = np.nan
    for _, group in out.groupby(group_keys, dropna=False, sort=False):
        items = group[item_mask.loc[group.index]]
        for idx, row in group.iterrows():
            selector = matchers(row)
            if selector is None:
                continue
            out.at[idx, "sum_of_rows"] = float(items[selector(items)]["amount"].sum())
    checked = out["sum_of_rows"].notna()
    out["total_gap"] = (out["amount"] - out["sum_of_rows"]).abs().where(checked)
    out["total_tolerance"] = _half_unit(raw["amount"]).where(checked)
    return out


def budget(typed: pd.DataFrame, raw: pd.DataFrame, definitions=None) -> pd.DataFrame:
    """Adds sum_of_rows / total_gap / total_tolerance for every published total."""

    def matcher(row):
        kind = row["row_type"]
        if kind == "row_total":
            return lambda items: items["agency"] == row["agency"]
        if kind == "column_total":
            return lambda items: items["cost_type"] == row["cost_type"]
        if kind == "grand_total":
            return lambda items: pd.Series(True, index=items.index)
        return None

    return _totals(typed, raw, ["area_id", "financial_year"], typed["row_type"] == "contribution", matcher)


def grant_expenditure(typed: pd.DataFrame, raw: pd.DataFrame, definitions=None) -> pd.DataFrame:
    """Adds sum_of_rows / total_gap / total_tolerance for the published total line."""

    def matcher(row):
        if row["row_type"] == "total":
            return lambda items: pd.Series(True, index=items.index)
        return None

    return _totals(typed, raw, ["area_id", "financial_year"], typed["row_type"] == "item", matcher)


def staffing(typed: pd.DataFrame, raw: pd.DataFrame, definitions=None) -> pd.DataFrame:
    """Adds role_total / vacant / breakdown_sum / breakdown_gap / breakdown_tolerance on the first
    row of each role's gender, ethnicity and disability breakdown (only where every category has a count)."""
    out = typed.copy()
    for col in ("role_total", "vacant", "breakdown_sum", "breakdown_gap", "breakdown_tolerance"):
        out[col] = np.nan
    for _, role in out.groupby(["area_id", "period_label", "role"], sort=False):
        totals = role[role["attribute"] == "total"]["count"]
        if totals.empty or totals.isna().all():
            continue
        total = float(totals.iloc[0])
        vacant = float(role[role["attribute"] == "vacant"]["count"].sum())
        for attribute in ("gender", "ethnicity", "disability"):
            rows = role[role["attribute"] == attribute]
            if rows.empty or rows["count"].isna().any():
                continue
            first = rows.index[0]
            s = float(rows["count"].sum())
            out.loc[first, ["role_total", "vacant", "breakdown_sum"]] = [total, vacant, s]
            out.at[first, "breakdown_gap"] = abs(total - vacant - s)
            out.at[first, "breakdown_tolerance"] = 1e-6
    return out


PREPARERS = {
    "indicators": indicators,
    "budget": budget,
    "grant_expenditure": grant_expenditure,
    "staffing": staffing,
}
