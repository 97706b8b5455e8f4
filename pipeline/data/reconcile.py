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


def indicators(typed: pd.DataFrame, raw: pd.DataFrame, definitions: pd.DataFrame) -> pd.DataFrame:
    """Adds rate_from_counts / rate_gap / rate_tolerance, change_from_values / change_gap /
    change_tolerance, defined_unit / unit_matches and percentage flags."""
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
    row of each role's gender and ethnicity breakdown (only where every category has a count)."""
    out = typed.copy()
    for col in ("role_total", "vacant", "breakdown_sum", "breakdown_gap", "breakdown_tolerance"):
        out[col] = np.nan
    for _, role in out.groupby(["area_id", "period_label", "role"], sort=False):
        totals = role[role["attribute"] == "total"]["count"]
        if totals.empty or totals.isna().all():
            continue
        total = float(totals.iloc[0])
        vacant = float(role[role["attribute"] == "vacant"]["count"].sum())
        for attribute in ("gender", "ethnicity"):
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
