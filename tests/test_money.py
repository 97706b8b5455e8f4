"""Budgets summarised once for the plan and the comparison (pipeline.analysis.money), on the published tables."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.analysis.money import budget_years
from pipeline.data.dataset import load_area

pytestmark = pytest.mark.gx  # load_area validates the real tables


@pytest.fixture(scope="module")
def budgets():
    return {a: budget_years(load_area(a).table("budget")) for a in ("oxfordshire", "warwickshire", "buckinghamshire")}


def test_a_published_total_that_does_not_add_up_is_kept_and_flagged(budgets):
    (ox,) = budgets["oxfordshire"]
    assert ox.year == "2018/19" and ox.published_total == 1_383_382 and ox.total == 1_383_382
    assert ox.contributions == 1_383_328 and not ox.adds_up  # 000_f1cbd793753f05a1.txt, budget table


def test_thousands_are_converted_to_pounds_once(budgets):
    (wk,) = budgets["warwickshire"]
    assert wk.unit == "GBP_thousands"
    assert wk.yjb == 427_000  # "Youth Justice Board (YJB)" 427 (£000), 004_c759a724d34c8651.txt
    assert wk.total == pytest.approx(wk.rows.loc[wk.rows["row_type"] == "grand_total", "amount"].iloc[0] * 1000)


def test_the_yjb_grant_is_found_by_its_agency_group(budgets):
    (bk,) = budgets["buckinghamshire"]
    assert bk.yjb == 371_787  # YJB Youth Justice Grant, 002_4b24d57fc4b0d66d.txt


def test_no_table_no_years():
    assert budget_years(None) == [] and budget_years(pd.DataFrame()) == []
