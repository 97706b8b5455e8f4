"""Budgets as published: one financial year of an area's pooled budget, summarised once.

The plan's resources section and the comparison both read budgets through ``budget_years``: the
published total (kept as published even when the agency rows do not add up to it), the sum of the
agency contributions, the amount per agency and the Youth Justice Board grant (``agency_group``
``yjb``), all in pounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data.dataset import GBP_PER_UNIT, budget_in_pounds

#: The agency group of the Youth Justice Board grant in budget.csv.
YJB_GROUP = "yjb"


@dataclass(frozen=True)
class BudgetYear:
    year: str
    unit: str  # as published: "GBP" or "GBP_thousands"
    rows: pd.DataFrame  # the year's rows, with amount_gbp
    published_total: float | None  # the grand-total row, when the document gives one
    contributions: float  # the agency contribution rows added up
    per_agency: pd.DataFrame  # agency, agency_group, amount_gbp: the published row totals, else contributions summed
    yjb: float  # the Youth Justice Board grant

    @property
    def total(self) -> float:
        """The published total, or the contributions added up when none is published."""
        return self.published_total if self.published_total is not None else self.contributions

    @property
    def adds_up(self) -> bool:
        """Whether the contributions add up to the published total (within half a published unit)."""
        return self.published_total is None or abs(self.published_total - self.contributions) <= 0.5 * GBP_PER_UNIT[self.unit]


def budget_years(budget: pd.DataFrame | None) -> list[BudgetYear]:
    """Each financial year of a typed budget table, in the table's order (empty for no table)."""
    if budget is None or budget.empty:
        return []
    b = budget_in_pounds(budget)
    years = []
    for year, yb in b.groupby("financial_year", sort=False):
        grand = yb[yb["row_type"] == "grand_total"]["amount_gbp"]
        contributions = yb[yb["row_type"] == "contribution"]
        per_agency = yb[yb["row_type"] == "row_total"][["agency", "agency_group", "amount_gbp"]]
        if per_agency.empty:
            per_agency = contributions.groupby(["agency", "agency_group"], as_index=False, sort=False)["amount_gbp"].sum()
        years.append(BudgetYear(
            year=str(year), unit=str(yb["unit"].iloc[0]), rows=yb,
            published_total=float(grand.iloc[0]) if len(grand) else None,
            contributions=float(contributions["amount_gbp"].sum()),
            per_agency=per_agency.reset_index(drop=True),
            yjb=float(per_agency[per_agency["agency_group"] == YJB_GROUP]["amount_gbp"].sum()),
        ))
    return years
