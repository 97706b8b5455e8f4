"""Relative rate index by ethnicity (issue #15): worked example, method switch, pooling, disclosure, invariances."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space
from scipy.stats import beta
from scipy.stats.contingency import relative_risk
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.rates import test_poisson_2indep as poisson_2indep_test

from pipeline.analysis import disproportionality as dp
from pipeline.analysis.tracking import canonical, custody_summary, first_time_entrants
from pipeline.synthetic import generate_extract

REPO = Path(__file__).resolve().parents[1]
Z95 = 1.959963984540054
YEARS = [("2016/17", "2016-04-01", "2017-03-31"), ("2017/18", "2017-04-01", "2018-03-31"),
         ("2018/19", "2018-04-01", "2019-03-31")]


# --------------------------------------------------------------------------- helpers


def counts_frame(table: dict, stage: str = "first_time_entry", periods=YEARS, by: str = "ethnicity") -> pd.DataFrame:
    """A tidy counts frame from {group: [count per period]} (one stage)."""
    rows = []
    for i, (label, start, end) in enumerate(periods[: len(next(iter(table.values())))]):
        for group, values in table.items():
            rows.append({"by": by, "period": label, "period_start": pd.Timestamp(start), "period_end": pd.Timestamp(end),
                         "group": group, "stage": stage, "count": values[i]})
    return pd.DataFrame(rows)


def stages_frame(stages: dict[str, dict], periods=YEARS) -> pd.DataFrame:
    return pd.concat([counts_frame(t, s, periods) for s, t in stages.items()], ignore_index=True)


def one(out: pd.DataFrame, group: str, period: str | None = None, stage: str | None = None) -> pd.Series:
    sel = out["group"] == group
    if period is not None:
        sel &= out["period"] == period
    if stage is not None:
        sel &= out["stage"] == stage
    rows = out[sel]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def leaks(counts: pd.DataFrame, out: pd.DataFrame, threshold: int = 5, pool_years: int = 3) -> list:
    """Independent disclosure check (the equations rebuilt from the figures shown; scipy's null space).

    Unknowns: every single-period count. Known: every count and count base the frame shows (sums over each
    row's periods), each stage's total for each period, and proven_outcome = out_of_court + court. Returns the
    counts (or complements to the base) of one group over 1 to pool_years periods, from 1 to threshold − 1, that
    can be worked out exactly.
    """
    periods = list(counts.drop_duplicates("period").sort_values("period_start")["period"])
    groups = list(pd.unique(counts["group"]))
    stages = [s.name for s in dp.STAGES if s.name in set(counts["stage"])]
    base = {s.name: s.base for s in dp.STAGES}
    P, G = len(periods), len(groups)
    n = len(stages) * G * P

    def win(stage, group, end, length):
        v = np.zeros(n)
        first = (stages.index(stage) * G + groups.index(group)) * P
        v[first + end - length + 1: first + end + 1] = 1
        return v

    x = sum(r.count * win(r.stage, r.group, periods.index(r.period), 1) for r in counts.itertuples())
    rows = [sum(win(s, g, t, 1) for g in groups) for s in stages for t in range(P)]
    if {"proven_outcome", "out_of_court", "court"} <= set(stages):
        rows += [win("proven_outcome", g, t, 1) - win("out_of_court", g, t, 1) - win("court", g, t, 1)
                 for g in groups for t in range(P)]
    ref = out["reference_group"].iloc[0]
    for r in out.itertuples():
        t, length = periods.index(r.period), int(r.pooled_years)
        # nothing is shown that is built on a hidden figure
        if not np.isnan(r.rate):
            assert not np.isnan(r.count)
        if not np.isnan(r.rri):
            assert not np.isnan(r.count) and not np.isnan(r.reference_count)
        if not np.isnan(r.count):
            rows.append(win(r.stage, r.group, t, length))
        if r.base_stage != dp.POPULATION and not np.isnan(r.base):
            rows.append(win(r.base_stage, r.group, t, length))
        if not np.isnan(r.reference_count):
            rows.append(win(r.stage, ref, t, length))
        if r.base_stage != dp.POPULATION and not np.isnan(r.reference_base):
            rows.append(win(r.base_stage, ref, t, length))
    free = null_space(np.array(rows))  # what the known figures leave undetermined (one SVD of the equations)
    found = []
    for s, g, t in itertools.product(stages, groups, range(P)):
        for length in range(1, min(pool_years, t + 1) + 1):
            targets = [("count", win(s, g, t, length))]
            if base[s] != dp.POPULATION:
                targets.append(("complement", win(base[s], g, t, length) - win(s, g, t, length)))
            for kind, q in targets:
                if 1 <= q @ x < threshold and np.abs(q @ free).max(initial=0.0) < 1e-6:
                    found.append((s, g, periods[t], length, kind, q @ x))
    return found


def row(child="C001", offence="2017-05-01", outcome="2017-06-01", kind="youth_caution", **kw) -> dict:
    """One extract row with sensible defaults (as in test_tracking)."""
    disposal = kw.pop("disposal", "referral_order" if kind == "court_disposal" else "")
    return {
        "record_id": kw.pop("record_id", f"R{next(_ids):06d}"), "area_id": "testshire", "child_id": child,
        "sex": kw.pop("sex", "male"), "age_at_offence": kw.pop("age", 15), "birth_month": "",
        "ethnicity": kw.pop("ethnicity", "white"), "offence_date": offence, "outcome_date": outcome,
        "outcome_type": kind, "disposal": disposal, "release_date": "", "offence_category": "theft_and_handling",
        "gravity_score": 2, "remand_status": kw.pop("remand", ""), "data_kind": "case_management", **kw,
    }


_ids = iter(range(1, 10**9))


def extract(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


# --------------------------------------------------------------------------- worked example


def test_worked_example_by_hand():
    """Black children: 30 first-time entrants of 3,000; White: 100 of 40,000."""
    counts = counts_frame({"white": [100], "black": [30]})
    out = dp.relative_rate_index(counts, {"white": 40000, "black": 3000}, reference="white")
    black = one(out, "black")
    assert black["rate"] == pytest.approx(10.0)  # 30 / 3,000 × 1,000
    assert black["reference_rate"] == pytest.approx(2.5)  # 100 / 40,000 × 1,000
    assert black["rri"] == pytest.approx(4.0)  # (30/3000) / (100/40000)
    # SE(ln RRI)² = 1/30 − 1/3000 + 1/100 − 1/40000 = 0.0330 + 0.0100 − 0.000025 = 0.042975
    se = math.sqrt(0.042975)
    assert se == pytest.approx(0.2073041, abs=1e-7)
    lower, upper = 4.0 * math.exp(-Z95 * se), 4.0 * math.exp(Z95 * se)
    assert (lower, upper) == pytest.approx((2.664418, 6.005063), abs=1e-6)
    assert (black["lower"], black["upper"]) == pytest.approx((lower, upper), rel=1e-12)
    assert black["method"] == dp.METHOD_LOG and black["pooled_years"] == 1 and not black["suppressed"]
    assert black["rate_unit"] == "per 1,000 children aged 10–17 a year"
    # the same interval from scipy (Katz) and statsmodels (log method for a ratio of proportions)
    ci = relative_risk(30, 3000, 100, 40000).confidence_interval(0.95)
    assert (black["lower"], black["upper"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    sm = confint_proportions_2indep(30, 3000, 100, 40000, compare="ratio", method="log")
    assert (black["lower"], black["upper"]) == pytest.approx(sm, rel=1e-10)
    white = one(out, "white")
    assert white["rri"] == 1.0 and np.isnan(white["lower"]) and white["method"] == dp.METHOD_REFERENCE


def test_katz_limits_match_scipy_and_statsmodels_for_proportions():
    for a, n1, b, n2 in [(12, 40, 30, 200), (50, 60, 400, 900), (10, 10, 25, 90)]:
        lo, hi = dp.katz_limits(a, n1, b, n2, 0.95)
        ci = relative_risk(a, n1, b, n2).confidence_interval(0.95)
        assert (float(lo), float(hi)) == pytest.approx((ci.low, ci.high), rel=1e-10)
        assert (float(lo), float(hi)) == pytest.approx(
            confint_proportions_2indep(a, n1, b, n2, compare="ratio", method="log"), rel=1e-10)
    lo99, hi99 = dp.katz_limits(30, 3000, 100, 40000, 0.99)
    assert lo99 < 2.6644 and hi99 > 6.0051
    assert np.isnan(dp.katz_limits(0, 100, 5, 100)[0])


def test_later_stage_is_a_rate_per_100_of_the_stage_before():
    counts = stages_frame({
        "proven_outcome": {"white": [300], "black": [60]},
        "court": {"white": [200], "black": [40]},
        "custody": {"white": [20], "black": [12]},
    }, periods=YEARS[:1])
    out = dp.relative_rate_index(counts, None, reference="white")
    black = one(out, "black", stage="custody")
    assert (black["base_stage"], black["base"]) == ("court", 40)
    assert black["rate"] == pytest.approx(30.0) and black["reference_rate"] == pytest.approx(10.0)
    assert black["rri"] == pytest.approx(3.0)
    assert black["rate_unit"] == "per 100 court sentences"
    ci = relative_risk(12, 40, 20, 200).confidence_interval()
    assert (black["lower"], black["upper"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    court = one(out, "black", stage="court")
    assert court["rate"] == pytest.approx(40 / 60 * 100) and court["rate_unit"] == "per 100 cautions and court sentences"
    # the entry stage has a population base, none given: no rate there, and it says so
    entry = one(out, "black", stage="proven_outcome")
    assert np.isnan(entry["rate"]) and np.isnan(entry["rri"]) and "No 10–17 population" in entry["note"]
    with pytest.raises(ValueError, match="'court' is a rate per 'proven_outcome', which is not in counts"):
        dp.relative_rate_index(counts[counts["stage"] != "proven_outcome"], None, reference="white")


# --------------------------------------------------------------------------- small counts: the exact method


def test_small_count_switches_to_the_exact_method():
    counts = counts_frame({"white": [100], "black": [6]}, periods=YEARS[:1])
    out = dp.relative_rate_index(counts, {"white": 40000, "black": 3000}, reference="white")
    black = one(out, "black")
    assert black["method"] == dp.METHOD_EXACT_RATE and black["rri"] == pytest.approx(0.8)
    # Clopper–Pearson on 6 of the 106 events, turned into a rate ratio: π/(1 − π) × 40,000/3,000
    pl, pu = proportion_confint(6, 106, alpha=0.05, method="beta")
    assert (black["lower"], black["upper"]) == pytest.approx((pl / (1 - pl) * 40000 / 3000, pu / (1 - pu) * 40000 / 3000),
                                                             rel=1e-9)
    assert (black["lower"], black["upper"]) == pytest.approx((0.28675, 1.80335), abs=1e-5)
    # at each limit the one-sided exact conditional test has p = 2.5% (statsmodels, independent of the formula)
    p_low = poisson_2indep_test(6, 3000, 100, 40000, value=black["lower"], method="exact-cond",
                                alternative="larger").pvalue
    p_high = poisson_2indep_test(6, 3000, 100, 40000, value=black["upper"], method="exact-cond",
                                 alternative="smaller").pvalue
    assert (p_low, p_high) == pytest.approx((0.025, 0.025), abs=1e-6)
    assert "no earlier year is available" in black["note"] and "Exact interval" in black["note"]


def test_the_switch_is_at_min_count():
    pops = {"white": 40000, "black": 3000}
    at = one(dp.relative_rate_index(counts_frame({"white": [100], "black": [10]}, periods=YEARS[:1]), pops,
                                    reference="white"), "black")
    below = one(dp.relative_rate_index(counts_frame({"white": [100], "black": [9]}, periods=YEARS[:1]), pops,
                                       reference="white"), "black")
    assert at["method"] == dp.METHOD_LOG and below["method"] == dp.METHOD_EXACT_RATE
    custom = one(dp.relative_rate_index(counts_frame({"white": [100], "black": [9]}, periods=YEARS[:1]), pops,
                                        reference="white", min_count=5), "black")
    assert custom["method"] == dp.METHOD_LOG


def test_exact_limits_with_zero_counts():
    lo, hi = dp.exact_conditional_limits([0, 5, 0], [1000, 1000, 1000], [20, 0, 0], [1000, 1000, 1000])
    assert lo[0] == 0.0 and hi[0] == pytest.approx(beta.ppf(0.975, 1, 20) / (1 - beta.ppf(0.975, 1, 20)))
    assert lo[1] > 0 and math.isinf(hi[1])
    assert np.isnan(lo[2]) and np.isnan(hi[2])
    counts = stages_frame({"proven_outcome": {"white": [300], "black": [60]}, "court": {"white": [200], "black": [40]},
                           "custody": {"white": [20], "black": [0]}}, periods=YEARS[:1])
    black = one(dp.relative_rate_index(counts, None, reference="white"), "black", stage="custody")
    assert black["count_shown"] == "0" and black["rri"] == 0.0 and black["lower"] == 0.0
    assert black["upper"] == pytest.approx(proportion_confint(0, 20, method="beta")[1]
                                           / (1 - proportion_confint(0, 20, method="beta")[1]) * 200 / 40)
    assert black["method"] == dp.METHOD_EXACT_STAGE and "conservative" in black["note"]


def test_no_ratio_when_the_reference_group_has_none():
    counts = stages_frame({"proven_outcome": {"white": [60], "black": [60]}, "court": {"white": [30], "black": [40]},
                           "custody": {"white": [0], "black": [12]}}, periods=YEARS[:1])
    black = one(dp.relative_rate_index(counts, None, reference="white", min_count=1), "black", stage="custody")
    assert np.isnan(black["rri"]) and black["rate"] == pytest.approx(30.0)
    assert "The reference group has none" in black["note"]


# --------------------------------------------------------------------------- pooling


def test_a_small_year_is_pooled_with_the_two_before_it():
    counts = counts_frame({"white": [100, 110, 120], "black": [16, 17, 8]})
    out = dp.relative_rate_index(counts, {"white": 40000, "black": 3000}, reference="white")
    latest = one(out, "black", "2018/19")
    assert latest["pooled_years"] == 3 and latest["pooled_periods"] == "Apr 2016 – Mar 2019"
    assert (latest["count"], latest["base"]) == (41, 9000)  # 16 + 17 + 8 children, 3 × 3,000 child-years
    assert latest["rate"] == pytest.approx(41 / 9000 * 1000)  # a yearly average
    assert (latest["reference_count"], latest["reference_base"]) == (330, 120000)  # the same years
    assert latest["rri"] == pytest.approx((41 / 9000) / (330 / 120000))
    assert latest["method"] == dp.METHOD_LOG
    ci = relative_risk(41, 9000, 330, 120000).confidence_interval()
    assert (latest["lower"], latest["upper"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert latest["note"].startswith("Pooled over 3 years (Apr 2016 – Mar 2019) because the count for this group or "
                                     "the reference group in 2018/19 alone was below 10")
    assert "yearly average" in latest["note"]
    for period in ("2016/17", "2017/18"):  # big enough years are not pooled
        assert one(out, "black", period)["pooled_years"] == 1
    assert not out["suppressed"].any()


def test_pooled_periods_are_named_by_their_labels_without_dates():
    counts = counts_frame({"white": [100, 110, 120], "black": [16, 17, 8]}).drop(columns=["period_start", "period_end"])
    latest = one(dp.relative_rate_index(counts, {"white": 40000, "black": 3000}, reference="white"), "black",
                 "2018/19")
    assert latest["pooled_periods"] == "2016/17 to 2018/19" and "(2016/17 to 2018/19)" in latest["note"]


def test_pooling_early_in_the_series_uses_the_years_there_are_and_says_so():
    counts = counts_frame({"white": [100, 110, 120], "black": [16, 7, 20]})
    second = one(dp.relative_rate_index(counts, {"white": 40000, "black": 3000}, reference="white"), "black",
                 "2017/18")
    assert second["pooled_years"] == 2 and second["count"] == 23 and second["base"] == 6000
    assert "only 2 years are available, not 3" in second["note"]


def test_still_small_after_pooling_uses_the_exact_method():
    counts = counts_frame({"white": [100, 110, 120], "black": [0, 0, 7]})
    latest = one(dp.relative_rate_index(counts, {"white": 40000, "black": 3000}, reference="white"), "black",
                 "2018/19")
    assert latest["pooled_years"] == 3 and latest["count"] == 7
    assert latest["method"] == dp.METHOD_EXACT_RATE and "even after pooling" in latest["note"]


def test_populations_by_period_are_summed_over_pooled_years():
    counts = counts_frame({"white": [100, 110, 120], "black": [16, 17, 8]})
    pops = pd.DataFrame([{"group": g, "period": p, "population": n} for (p, _, _), ns in
                         zip(YEARS, [(40000, 3000), (41000, 3100), (42000, 3200)]) for g, n in zip(("white", "black"), ns)])
    latest = one(dp.relative_rate_index(counts, pops, reference="white"), "black", "2018/19")
    assert (latest["base"], latest["reference_base"]) == (9300, 123000)


# --------------------------------------------------------------------------- disclosure control


def test_small_cells_are_suppressed_with_their_rates():
    counts = counts_frame({"white": [100], "black": [30], "mixed": [3], "asian": [20]}, periods=YEARS[:1])
    pops = {"white": 40000, "black": 3000, "mixed": 3000, "asian": 6000}
    out = dp.relative_rate_index(counts, pops, reference="white")
    mixed = one(out, "mixed")
    assert mixed["count_shown"] == "<5" and mixed["suppression"] == "primary" and bool(mixed["suppressed"])
    assert all(np.isnan(mixed[c]) for c in ("count", "rate", "rri", "lower", "upper"))
    assert "a count from 1 to 4 is not shown" in mixed["note"]
    # the stage total is published elsewhere: one more cell goes, the smallest other one
    asian = one(out, "asian")
    assert asian["count_shown"] == "*" and asian["suppression"] == "secondary" and np.isnan(asian["rri"])
    assert one(out, "black")["rri"] == pytest.approx(4.0)
    assert leaks(counts, out) == []
    assert any(n.startswith('Counts from 1 to 4 are shown as "<5"') for n in out.attrs["footnotes"])


def test_zero_is_shown():
    counts = counts_frame({"white": [100], "black": [30], "mixed": [0]}, periods=YEARS[:1])
    mixed = one(dp.relative_rate_index(counts, {"white": 40000, "black": 3000, "mixed": 3000}, reference="white"),
                "mixed")
    assert mixed["count_shown"] == "0" and not mixed["suppressed"] and mixed["rri"] == 0.0


def test_a_small_complement_is_suppressed():
    counts = stages_frame({"proven_outcome": {"white": [300], "black": [30]}, "court": {"white": [200], "black": [12]},
                           "custody": {"white": [20], "black": [10]}}, periods=YEARS[:1])
    black = one(dp.relative_rate_index(counts, None, reference="white"), "black", stage="custody")
    assert black["suppression"] == "complement" and np.isnan(black["count"]) and np.isnan(black["base"])
    assert "base minus the count" in black["note"]


def test_a_suppressed_reference_group_hides_every_ratio():
    counts = stages_frame({"proven_outcome": {"white": [300], "black": [60], "mixed": [50]},
                           "court": {"white": [200], "black": [40], "mixed": [30]},
                           "custody": {"white": [3], "black": [12], "mixed": [6]}}, periods=YEARS[:1])
    out = dp.relative_rate_index(counts, None, reference="white")
    assert one(out, "white", stage="custody")["count_shown"] == "<5"
    black = one(out, "black", stage="custody")
    assert black["suppression"] in ("dependent: reference group", "secondary") and np.isnan(black["rri"])
    assert leaks(counts, out) == []


def test_pooled_counts_cannot_be_subtracted_to_give_a_small_year():
    # Other: 6, then 6 + 7 = 13 over two years, then 6 + 7 + 2 = 15 over three: 15 − 13 = 2 would be disclosed
    counts = counts_frame({"white": [100, 100, 100], "black": [20, 20, 20], "other": [6, 7, 2]})
    pops = {"white": 40000, "black": 3000, "other": 1000}
    out = dp.relative_rate_index(counts, pops, reference="white")
    assert leaks(counts, out) == []
    assert out["suppression"].eq("secondary").any()
    shown = {r.period: r.count for r in out[out["group"] == "other"].itertuples()}
    assert not (shown["2018/19"] == 15 and shown["2017/18"] == 13)


def test_the_leak_check_finds_the_subtraction_when_the_audit_is_off(monkeypatch):
    counts = counts_frame({"white": [100, 100, 100], "black": [20, 20, 20], "other": [6, 7, 2]})
    def no_audit(cs, s, g, p, length, base_of, r, count_hidden, base_hidden, ref_hidden, *rest):
        return np.zeros(len(s), dtype=bool), base_hidden, ref_hidden

    monkeypatch.setattr(dp, "_audit", no_audit)
    out = dp.relative_rate_index(counts, {"white": 40000, "black": 3000, "other": 1000}, reference="white")
    assert ("first_time_entry", "other", "2018/19", 1, "count", 2.0) in leaks(counts, out)


def test_demoshire_tables_disclose_no_small_count():
    ex = generate_extract(start="2015-04-01", end="2018-03-31")
    periods = dp.annual_periods(ex, as_of="2018-03-31")
    counts = dp.stage_counts(ex, by="ethnicity", periods=periods)
    out = dp.relative_rate_index(counts, dp.census_populations("demoshire"), reference="white")
    assert leaks(counts, out) == []
    shown = out[~out["suppressed"] & (out["group"] != "white") & out["rri"].notna()]
    assert len(shown) > 0 and (shown["lower"] <= shown["rri"]).all() and (shown["rri"] <= shown["upper"]).all()


# --------------------------------------------------------------------------- invariances


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.lists(st.integers(0, 60), min_size=9, max_size=9), st.integers(20, 400))
def test_invariants_hold_for_any_counts(n_periods, values, white):
    groups = {"white": [white + 5 * i for i in range(n_periods)],
              "black": values[0:n_periods], "mixed": values[3:3 + n_periods], "asian": values[6:6 + n_periods]}
    counts = counts_frame(groups)
    pops = {"white": 40000, "black": 3000, "mixed": 2500, "asian": 6000}
    out = dp.relative_rate_index(counts, pops, reference="white")
    ref = out[out["group"] == "white"]
    assert (ref["rri"].dropna() == 1.0).all() and ref["lower"].isna().all()
    has = out[out["lower"].notna()]
    assert (has["lower"] <= has["rri"] + 1e-12).all() and (has["rri"] <= has["upper"] + 1e-12).all()
    shown = out[out["count"].notna()]
    assert not ((shown["count"] >= 1) & (shown["count"] < 5)).any()
    assert leaks(counts, out) == []
    # a common factor on every population changes rates, never ratios (and the interval only through the
    # −1/n terms of the log method's variance, which are small beside 1/a)
    scaled = dp.relative_rate_index(counts, {g: 10 * n for g, n in pops.items()}, reference="white")
    assert np.allclose(scaled["rri"], out["rri"], equal_nan=True)
    assert np.allclose(scaled["lower"], out["lower"], rtol=0.02, equal_nan=True)
    exact = out["method"] == dp.METHOD_EXACT_RATE
    assert np.allclose(scaled["lower"][exact], out["lower"][exact], equal_nan=True)


def test_swapping_the_reference_group_inverts_the_ratio():
    counts = counts_frame({"white": [100], "black": [30]}, periods=YEARS[:1])
    pops = {"white": 40000, "black": 3000}
    by_white = one(dp.relative_rate_index(counts, pops, reference="white"), "black")
    by_black = one(dp.relative_rate_index(counts, pops, reference="black"), "white")
    assert by_black["rri"] == pytest.approx(1 / by_white["rri"])
    assert (by_black["lower"], by_black["upper"]) == pytest.approx((1 / by_white["upper"], 1 / by_white["lower"]))


def test_level_widens_the_interval():
    counts = counts_frame({"white": [100], "black": [30]}, periods=YEARS[:1])
    pops = {"white": 40000, "black": 3000}
    i95 = one(dp.relative_rate_index(counts, pops, reference="white"), "black")
    i998 = one(dp.relative_rate_index(counts, pops, reference="white", level=0.998), "black")
    assert i998["lower"] < i95["lower"] < i95["rri"] < i95["upper"] < i998["upper"]
    assert i998["level"] == 0.998


# --------------------------------------------------------------------------- argument checks


def test_invalid_arguments_are_refused():
    counts = counts_frame({"white": [100], "black": [30]}, periods=YEARS[:1])
    pops = {"white": 40000, "black": 3000}
    with pytest.raises(ValueError, match="reference group 'White' is not among the groups"):
        dp.relative_rate_index(counts, pops, reference="White")
    with pytest.raises(ValueError, match="level"):
        dp.relative_rate_index(counts, pops, reference="white", level=95)
    with pytest.raises(ValueError, match="whole numbers of at least 0"):
        dp.relative_rate_index(counts.assign(count=-1), pops, reference="white")
    with pytest.raises(ValueError, match="missing column"):
        dp.relative_rate_index(counts.drop(columns="stage"), pops, reference="white")
    with pytest.raises(ValueError, match="rate per 'court'"):
        dp.relative_rate_index(counts.assign(stage="custody"), pops, reference="white")
    with pytest.raises(ValueError, match="every stage, period and group"):
        dp.relative_rate_index(counts_frame({"white": [100, 90], "black": [30, 20]}).iloc[:3], pops, reference="white")
    with pytest.raises(ValueError, match="more than one row"):
        dp.relative_rate_index(pd.concat([counts, counts]), pops, reference="white")
    with pytest.raises(ValueError, match="unknown stage"):
        dp.relative_rate_index(counts.assign(stage="arrest"), pops, reference="white")
    with pytest.raises(ValueError, match="populations must be positive"):
        dp.relative_rate_index(counts, {"white": 0, "black": 3000}, reference="white")
    with pytest.raises(TypeError):
        dp.relative_rate_index(counts, pops)  # reference is a judgement: no default


# --------------------------------------------------------------------------- stage counts


def _counts(frame, by="ethnicity", periods=YEARS) -> dict:
    out = dp.stage_counts(frame, by=by, periods=periods)
    return {(r.stage, r.period, r.group): r.count for r in out.itertuples()}


def test_stage_counts_follow_the_tracking_rules():
    frame = extract(
        # A: a community resolution (not proven), then a caution: first-time entrant in 2017/18
        row("A", "2017-04-10", "2017-05-01", "community_resolution"),
        row("A", "2017-06-01", "2017-07-01", "youth_caution"),
        # B: two offences sentenced together (one occasion), custodial, remanded; a caution the same day (a second occasion)
        row("B", "2017-05-01", "2017-09-01", "court_disposal", disposal="detention_and_training_order",
            remand="remand_youth_detention", ethnicity="black"),
        row("B", "2017-05-02", "2017-09-01", "court_disposal", disposal="referral_order", remand="conditional_bail",
            ethnicity="black"),
        row("B", "2017-05-03", "2017-09-01", "youth_conditional_caution", ethnicity="black"),
        # C: first caution before the periods (not a first-time entrant here); a court case on bail in 2018/19
        row("C", "2015-01-01", "2015-02-01", "youth_caution", ethnicity="black"),
        row("C", "2018-05-01", "2018-06-01", "court_disposal", remand="unconditional_bail", ethnicity="black"),
    )
    c = _counts(frame)
    assert c[("first_time_entry", "2017/18", "white")] == 1 and c[("first_time_entry", "2017/18", "black")] == 1
    assert c[("first_time_entry", "2018/19", "black")] == 0
    assert c[("proven_outcome", "2017/18", "black")] == 2  # B's court occasion and B's caution
    assert c[("out_of_court", "2017/18", "black")] == 1 and c[("court", "2017/18", "black")] == 1
    assert c[("custody", "2017/18", "black")] == 1
    assert c[("remand_eligible", "2017/18", "black")] == 1 and c[("remand", "2017/18", "black")] == 1
    assert c[("court", "2018/19", "black")] == 1 and c[("remand_eligible", "2018/19", "black")] == 0
    assert c[("proven_outcome", "2017/18", "white")] == 1  # the community resolution is not counted
    assert c[("first_time_entry", "2017/18", "mixed")] == 0  # every category listed, with zeros
    for period, group in itertools.product(["2016/17", "2017/18", "2018/19"], ["white", "black"]):
        assert c[("proven_outcome", period, group)] == c[("out_of_court", period, group)] + c[("court", period, group)]


def test_stage_counts_without_remand_status_leave_remand_out():
    out = dp.stage_counts(extract(row("A"), row("B", kind="court_disposal")), by="sex", periods=YEARS)
    assert set(out["stage"]) == {"first_time_entry", "proven_outcome", "out_of_court", "court", "custody"}
    assert any("no bail or remand status" in n for n in out.attrs["notes"])
    assert set(out["group"]) == {"male", "female", "unknown"}


def test_stage_counts_by_age_band_and_by_care_status_where_recorded():
    frame = extract(row("A", age=12), row("B", age=16, care_status="looked_after"), row("C", age=17, care_status=""))
    by_age = _counts(frame, by="age_band")
    assert by_age[("first_time_entry", "2017/18", "10–14")] == 1 and by_age[("first_time_entry", "2017/18", "15–17")] == 2
    by_care = _counts(frame, by="care_status")
    assert by_care[("first_time_entry", "2017/18", "looked_after")] == 1
    assert by_care[("first_time_entry", "2017/18", "unknown")] == 2
    with pytest.raises(ValueError, match="'care_status' is not recorded"):
        dp.stage_counts(extract(row("A")), by="care_status", periods=YEARS)


def test_stage_counts_agree_with_the_tracking_figures():
    ex = canonical(generate_extract(start="2015-04-01", end="2018-03-31"))
    periods = dp.annual_periods(ex, as_of="2018-03-31")
    totals = dp.stage_counts(ex, by="ethnicity", periods=periods).groupby(["stage", "period"])["count"].sum()
    for p in periods:
        custody = custody_summary(ex, p.start, p.end, population=60000)
        assert totals[("court", p.label)] == custody["court_disposals"]
        assert totals[("custody", p.label)] == custody["custodial"]
        assert totals[("remand_eligible", p.label)] == custody["eligible_episodes"]
        assert totals[("remand", p.label)] == custody["remands"]
        assert totals[("first_time_entry", p.label)] == first_time_entrants(ex, p.start, p.end, 60000)["count"]


def test_periods_must_be_in_order():
    with pytest.raises(ValueError, match="in order"):
        dp.stage_counts(extract(row("A")), by="sex", periods=list(reversed(YEARS)))


# --------------------------------------------------------------------------- the population table


def test_demoshire_population_by_ethnicity_adds_up_and_is_labelled():
    path = REPO / "data" / "populations_ethnicity.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["area_id"] == "demoshire"]
    tracking = yaml.safe_load((REPO / "data" / "tracking.yml").read_text(encoding="utf-8"))
    total = tracking["areas"]["demoshire"]["population"]
    assert sum(int(r["population"]) for r in rows) == total == 60000
    assert sum(float(r["share_percent"]) for r in rows) == pytest.approx(100.0)
    for r in rows:
        assert int(r["population"]) == round(total * float(r["share_percent"]) / 100)
        assert r["data_kind"] == "synthetic" and r["age_band"] == "10-17"
        assert "Census 2021 England shares applied to the synthetic population of 60,000" in r["note"]
    with (REPO / "data" / "sources.csv").open(encoding="utf-8", newline="") as fh:
        sources = {r["source_id"]: r for r in csv.DictReader(fh)}
    assert {r["source_document"] for r in rows} <= set(sources)
    assert dp.census_populations("demoshire") == {r["ethnicity"]: float(r["population"]) for r in rows}
    with pytest.raises(ValueError, match="no populations by ethnicity"):
        dp.census_populations("nowhere")


@pytest.mark.gx
def test_population_by_ethnicity_passes_its_contract():
    from pipeline.data import contracts, dataset, reference
    from pipeline.data.loaders import read_raw_table, table_path

    raw = read_raw_table(table_path("populations_ethnicity"))
    params = {**reference.parameters(), "area_ids": list(dataset.list_areas()["area_id"])}
    suite = contracts.load_suite("populations_ethnicity")
    report, typed = contracts.validate_frame(raw, suite, "data/populations_ethnicity.csv", params)
    assert report.critical_failures == [], [o.message() for o in report.critical_failures]
    bad = raw.copy()
    bad.loc[0, "ethnicity"] = "unknown"
    report, _ = contracts.validate_frame(bad, suite, "data/populations_ethnicity.csv", params)
    assert any("ethnicity" in o.message() for o in report.critical_failures)
