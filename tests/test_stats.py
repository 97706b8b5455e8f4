"""pipeline.analysis.stats against independent implementations (scipy, statsmodels) and hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.proportion import proportion_confint, proportions_ztest
from statsmodels.stats.rates import confint_poisson
from statsmodels.stats.rates import test_poisson_2indep as poisson_2indep

from pipeline.analysis import stats

LEVELS = (0.95, 0.998)
COUNTS = (0, 1, 9, 10, 100, 10000)


def z(level: float) -> float:
    return sps.norm.ppf(1 - (1 - level) / 2)


# --------------------------------------------------------------------------- basics


def test_z_values_and_level_labels():
    assert stats.z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert stats.z_value(0.998) == pytest.approx(3.090232, abs=1e-6)
    assert stats.significance_level_label(0.95) == "95%"
    assert stats.significance_level_label(0.998) == "99.8%"
    assert stats.significance_level_label(0.99) == "99%"


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1, None, float("nan"), "high"])
def test_bad_levels_are_rejected(level):
    with pytest.raises(ValueError, match="level"):
        stats.proportion_estimate(5, 10, level=level)


# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("count,n", [(0, 10), (1, 10), (9, 10), (10, 10), (56, 70), (100, 2661), (10000, 26000), (0, 1)])
def test_wilson_matches_statsmodels(count, n, level):
    est = stats.proportion_estimate(count, n, level=level)
    lo, hi = proportion_confint(count, n, alpha=1 - level, method="wilson")
    assert est.method == "Wilson score"
    assert est.value == pytest.approx(100 * count / n)
    assert est.lower == pytest.approx(100 * lo, abs=1e-4)
    assert est.upper == pytest.approx(100 * hi, abs=1e-4)
    assert est.level == level and est.count == count and est.denominator == n and est.multiplier == 100
    assert est.has_interval


def test_wilson_hand_worked_example():
    # 56/70, 95%: (2·56 + z² ± z√(z² + 4·56·0.2)) / (2·(70 + z²)) = (115.8415 ∓ 13.6695) / 147.6829
    # = 0.6918 to 0.8770 (the single-proportion limits in Newcombe 1998's worked example)
    z2 = 1.959964**2
    half = 1.959964 * math.sqrt(z2 + 4 * 56 * 0.2)
    assert round((112 + z2 - half) / (2 * (70 + z2)), 4) == 0.6918
    est = stats.proportion_estimate(56, 70, multiplier=1)
    assert round(est.lower, 4) == 0.6918
    assert round(est.upper, 4) == 0.8770


def test_wilson_ends_are_exact_and_noted():
    zero = stats.proportion_estimate(0, 25)
    assert zero.lower == 0.0 and zero.note == "zero count: lower limit 0"
    full = stats.proportion_estimate(25, 25)
    assert full.upper == 100.0 and full.note == "count equals denominator: upper limit 100"
    both = stats.proportion_estimate(0, 0.5, multiplier=1)  # degenerate but valid input: 0 of a fractional base
    assert both.lower == 0.0
    one = stats.proportion_estimate(1, 1, multiplier=1)
    assert one.upper == 1.0 and "upper limit 1" in one.note


def test_wilson_limits_in_fractions():
    lo, hi = stats.wilson_limits(48, 80)
    assert (round(lo, 4), round(hi, 4)) == (0.4905, 0.7004)


@pytest.mark.parametrize(
    "args,message",
    [
        ((-1, 10), "count must be >= 0, got -1"),
        ((5, 0), "denominator must be > 0, got 0"),
        ((5, -3), "denominator must be > 0, got -3"),
        ((11, 10), "count must not exceed denominator"),
        ((None, 10), "count must be a number, got None"),
        ((5, None), "denominator must be a number, got None"),
        ((float("nan"), 10), "count must be a finite number, got nan"),
        ((5, float("inf")), "denominator must be a finite number"),
        (("five", 10), "count must be a number, got 'five'"),
        ((True, 10), "count must be a number, got True"),
    ],
)
def test_proportion_estimate_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        stats.proportion_estimate(*args)


def test_proportion_estimate_rejects_bad_multiplier():
    with pytest.raises(ValueError, match="multiplier must be > 0, got 0"):
        stats.proportion_estimate(1, 10, multiplier=0)


# --------------------------------------------------------------------------- rates


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("count", [0, 1, 9])
def test_exact_poisson_matches_chi2_and_statsmodels(count, level):
    pop = 60417
    est = stats.rate_estimate(count, pop, level=level)
    alpha = 1 - level
    lower = 0.0 if count == 0 else sps.chi2.ppf(alpha / 2, 2 * count) / 2
    upper = sps.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    assert est.method == "exact Poisson"
    assert est.lower == pytest.approx(lower / pop * 100000, abs=1e-4)
    assert est.upper == pytest.approx(upper / pop * 100000, abs=1e-4)
    sm_lo, sm_hi = confint_poisson(count, pop, method="exact-c", alpha=alpha)
    assert est.lower == pytest.approx(float(sm_lo) * 100000, abs=1e-4)
    assert est.upper == pytest.approx(float(sm_hi) * 100000, abs=1e-4)


def test_exact_poisson_pinned_values():
    # count 0 and 1 over 60,417 at 95%: chi2 quantiles 0 / 7.3778 (→ 3.6889) and 0.0506 / 11.1433 (→ 0.0253, 5.5716)
    zero = stats.rate_estimate(0, 60417)
    assert (round(zero.lower, 4), round(zero.upper, 4)) == (0.0, 6.1057)
    assert zero.note == "zero count: lower limit 0"
    one = stats.rate_estimate(1, 60417)
    assert (round(one.lower, 4), round(one.upper, 4)) == (0.0419, 9.2220)
    nine = stats.rate_estimate(9, 60417, level=0.998)
    assert (round(nine.lower, 4), round(nine.upper, 4)) == (4.0592, 37.5017)


def byar_by_hand(count: float, zval: float) -> tuple[float, float]:
    o, o1 = count, count + 1
    return (
        o * (1 - 1 / (9 * o) - zval / (3 * math.sqrt(o))) ** 3,
        o1 * (1 - 1 / (9 * o1) + zval / (3 * math.sqrt(o1))) ** 3,
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("count", [10, 100, 145, 10000])
def test_byar_matches_the_formula(count, level):
    pop = 60417
    est = stats.rate_estimate(count, pop, level=level)
    lo, hi = byar_by_hand(count, z(level))
    assert est.method == "Byar"
    assert est.lower == pytest.approx(lo / pop * 100000, abs=1e-4)
    assert est.upper == pytest.approx(hi / pop * 100000, abs=1e-4)
    assert est.note == ""


def test_byar_published_example_first_time_entrants():
    # 145 first-time entrants in a 10–17 population of 60,417 → 240 per 100,000.
    # 95%, z = 1.959964:
    #   lower = 145 × (1 − 1/1305 − 1.959964/(3 × 12.041595))³ = 145 × 0.944979… ³ = 122.3588 → 202.5230 per 100,000
    #   upper = 146 × (1 − 1/1314 + 1.959964/(3 × 12.083046))³ = 146 × 1.053330… ³ = 170.6140 → 282.3970 per 100,000
    est = stats.rate_estimate(145, 60417)
    print("145 / 60,417:", est)
    assert round(est.value, 4) == 239.9987
    assert round(est.lower, 4) == 202.5230
    assert round(est.upper, 4) == 282.3970
    assert round(145 * (1 - 1 / 1305 - 1.959964 / (3 * math.sqrt(145))) ** 3 / 60417 * 100000, 2) == 202.52
    assert round(146 * (1 - 1 / 1314 + 1.959964 / (3 * math.sqrt(146))) ** 3 / 60417 * 100000, 2) == 282.40
    wide = stats.rate_estimate(145, 60417, level=0.998)
    assert (round(wide.lower, 4), round(wide.upper, 4)) == (183.0653, 308.2257)


@pytest.mark.parametrize(
    "count,pop,level,lower,upper",
    [
        (10, 50000, 0.95, 9.5749, 36.7829),
        (10, 50000, 0.998, 5.8326, 48.3874),
        (100, 60000, 0.95, 135.6035, 202.7132),
        (10000, 5_000_000, 0.95, 196.0990, 203.9590),
        (10000, 5_000_000, 0.998, 193.8765, 206.2579),
    ],
)
def test_byar_pinned_values(count, pop, level, lower, upper):
    est = stats.rate_estimate(count, pop, level=level)
    assert round(est.lower, 4) == lower
    assert round(est.upper, 4) == upper


def test_switch_from_exact_to_byar_at_ten():
    assert stats.rate_estimate(9, 1000).method == "exact Poisson"
    assert stats.rate_estimate(10, 1000).method == "Byar"
    assert stats.rate_estimate(9.5, 1000).method == "exact Poisson"


@pytest.mark.parametrize(
    "args,message",
    [
        ((-1, 1000), "count must be >= 0, got -1"),
        ((5, 0), "population must be > 0, got 0"),
        ((None, 1000), "count must be a number, got None"),
        ((5, float("nan")), "population must be a finite number"),
    ],
)
def test_rate_estimate_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        stats.rate_estimate(*args)


def test_estimate_without_counts():
    est = stats.estimate_without_counts(37.6, level=0.998, multiplier=100, reason="cohort not published")
    assert est.method == "not calculated"
    assert not est.has_interval
    assert est.value == 37.6 and est.level == 0.998 and est.multiplier == 100
    assert est.lower is None and est.upper is None and est.count is None and est.denominator is None
    assert est.note == "interval not calculated: cohort not published"
    assert math.isnan(stats.estimate_without_counts(None).value)


def test_has_interval_is_false_for_nan_limits():
    est = stats.Estimate(1.0, float("nan"), 2.0, 0.95, "x", None, None, 1.0)
    assert not est.has_interval


def test_derive_count_and_population():
    assert stats.derive_count(240, 60417, 100000) == pytest.approx(145.0008)
    assert stats.derive_count(0, 60417, 100000) == 0.0
    assert stats.derive_population(145, 240, 100000) == pytest.approx(60416.67, abs=0.01)
    assert stats.derive_population(72, 37.6, 100) == pytest.approx(191.49, abs=0.01)
    with pytest.raises(ValueError, match="rate must be > 0, got 0"):
        stats.derive_population(145, 0, 100000)
    with pytest.raises(ValueError, match="rate must be > 0, got -5"):
        stats.derive_population(145, -5, 100000)
    with pytest.raises(ValueError, match="rate must be >= 0 to derive a count, got -1"):
        stats.derive_count(-1, 60417, 100000)
    with pytest.raises(ValueError, match="population must be > 0"):
        stats.derive_count(240, 0, 100000)
    with pytest.raises(ValueError, match="rate must be a number, got None"):
        stats.derive_count(None, 60417, 100000)


# --------------------------------------------------------------------------- property tests


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=100000),
    frac=st.floats(min_value=0, max_value=1),
    level=st.sampled_from(LEVELS),
    multiplier=st.sampled_from([1, 100, 1000]),
)
def test_proportion_interval_properties(n, frac, level, multiplier):
    count = round(frac * n)
    est = stats.proportion_estimate(count, n, level=level, multiplier=multiplier)
    assert 0 <= est.lower <= est.value <= est.upper <= multiplier
    tol = 1e-9 * multiplier
    wide = stats.proportion_estimate(count, n, level=0.998, multiplier=multiplier)
    narrow = stats.proportion_estimate(count, n, level=0.95, multiplier=multiplier)
    assert wide.lower <= narrow.lower + tol and wide.upper >= narrow.upper - tol


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=200000),
    pop=st.floats(min_value=1, max_value=1e8),
    level=st.sampled_from(LEVELS),
)
def test_rate_interval_properties(count, pop, level):
    est = stats.rate_estimate(count, pop, level=level)
    assert 0 <= est.lower <= est.value <= est.upper
    wide = stats.rate_estimate(count, pop, level=0.998)
    narrow = stats.rate_estimate(count, pop, level=0.95)
    assert wide.lower <= narrow.lower and wide.upper >= narrow.upper


@settings(max_examples=200, deadline=None)
@given(
    num=st.integers(min_value=0, max_value=20),
    den=st.integers(min_value=1, max_value=20),
    scale=st.integers(min_value=2, max_value=50),
    level=st.sampled_from(LEVELS),
)
def test_proportion_interval_narrows_as_n_grows(num, den, scale, level):
    assume(num <= den)
    small = stats.proportion_estimate(num, den, level=level)
    large = stats.proportion_estimate(num * scale, den * scale, level=level)
    assert large.value == pytest.approx(small.value)
    assert (large.upper - large.lower) < (small.upper - small.lower)


@settings(max_examples=200, deadline=None)
@given(count=st.integers(min_value=1, max_value=5000), scale=st.integers(min_value=2, max_value=20))
def test_rate_interval_narrows_relative_to_the_rate_as_counts_grow(count, scale):
    small = stats.rate_estimate(count, 10000)
    large = stats.rate_estimate(count * scale, 10000 * scale)
    assert (large.upper - large.lower) < (small.upper - small.lower)


# --------------------------------------------------------------------------- benchmark comparison

ESTIMATE = stats.Estimate(240.0, 202.5, 282.4, 0.95, "Byar", 145.0, 60417.0, 100000.0)


@pytest.mark.parametrize(
    "bench,polarity,result",
    [
        (292, "lower_is_better", "better"),
        (180, "lower_is_better", "worse"),
        (292, "higher_is_better", "worse"),
        (180, "higher_is_better", "better"),
        (292, "no_judgement", "lower"),
        (180, "no_judgement", "higher"),
        (250, "lower_is_better", "similar"),
        (250, "higher_is_better", "similar"),
        (250, "no_judgement", "similar"),
        (202.5, "lower_is_better", "similar"),  # boundary: inclusive
        (282.4, "higher_is_better", "similar"),  # boundary: inclusive
    ],
)
def test_compare_with_benchmark_branches(bench, polarity, result):
    c = stats.compare_with_benchmark(ESTIMATE, bench, "England", polarity)
    assert c.result == result
    assert c.benchmark_value == bench and c.benchmark_label == "England" and c.level == 0.95


def test_comparison_reasons_are_readable():
    c = stats.compare_with_benchmark(ESTIMATE, 292, "England", "lower_is_better")
    assert c.reason == "England value 292 lies outside the 95% interval 202–282 (above it); lower is better"
    c = stats.compare_with_benchmark(ESTIMATE, 180, "South East", "higher_is_better")
    assert c.reason == "South East value 180 lies outside the 95% interval 202–282 (below it); higher is better"
    c = stats.compare_with_benchmark(ESTIMATE, 250, "England", "lower_is_better")
    assert c.reason == "England value 250 lies inside the 95% interval 202–282"
    c = stats.compare_with_benchmark(ESTIMATE, 180, "England", "no_judgement")
    assert c.reason.endswith("no judgement of better or worse is made")
    pct = stats.proportion_estimate(72, 191, level=0.998)
    c = stats.compare_with_benchmark(pct, 5.4, "England", "lower_is_better")
    assert c.reason == "England value 5.4 lies outside the 99.8% interval 27.7–48.9 (below it); lower is better"
    small = stats.Estimate(0.15, 0.0123, 0.5, 0.95, "x", 1.0, 1.0, 1.0)
    c = stats.compare_with_benchmark(small, 0, "England", "lower_is_better")
    assert c.reason == "England value 0 lies outside the 95% interval 0.0123–0.5 (below it); lower is better"
    big = stats.Estimate(1500.0, 1234.0, 1800.0, 0.95, "x", 1.0, 1.0, 1.0)
    assert "1,234–1,800" in stats.compare_with_benchmark(big, 2000, "England", "lower_is_better").reason


def test_comparison_not_tested_without_interval_or_benchmark():
    no_interval = stats.estimate_without_counts(240, multiplier=100000)
    c = stats.compare_with_benchmark(no_interval, 292, "England", "lower_is_better")
    assert c.result == "not tested" and c.benchmark_value == 292
    assert c.reason == "not tested: interval not calculated: count or denominator not published"
    bare = stats.Estimate(240.0, None, None, 0.95, "not calculated", None, None, 100000.0)
    assert stats.compare_with_benchmark(bare, 292, "England", "lower_is_better").reason == "not tested: no interval"
    for missing in (None, float("nan")):
        c = stats.compare_with_benchmark(ESTIMATE, missing, "England", "lower_is_better")
        assert c.result == "not tested" and c.benchmark_value is None
        assert c.reason == "not tested: no England value"


def test_comparison_treats_pandas_na_as_missing_and_rejects_text():
    import pandas as pd

    assert stats.compare_with_benchmark(ESTIMATE, pd.NA, "England", "lower_is_better").result == "not tested"
    with pytest.raises(ValueError, match="benchmark_value must be a number, got 'n/a'"):
        stats.compare_with_benchmark(ESTIMATE, "n/a", "England", "lower_is_better")


def test_comparison_rejects_unknown_polarity():
    with pytest.raises(ValueError, match="polarity must be one of"):
        stats.compare_with_benchmark(ESTIMATE, 292, "England", "up")


# --------------------------------------------------------------------------- change: proportions


def test_newcombe_hybrid_score_interval_hand_worked():
    # Newcombe (1998), Table II example (method 10): 56/70 − 48/80 = 0.2000, 95% CI 0.0524 to 0.3339.
    ch = stats.proportion_change(56, 70, 48, 80, multiplier=1, polarity="lower_is_better")
    assert round(ch.absolute, 4) == 0.2000
    assert round(ch.lower, 4) == 0.0524
    assert round(ch.upper, 4) == 0.3339
    pct = stats.proportion_change(56, 70, 48, 80, polarity="lower_is_better")
    assert round(pct.lower, 2) == 5.24 and round(pct.upper, 2) == 33.39
    assert pct.unit == "percentage points"
    assert "Newcombe" in pct.note


@pytest.mark.parametrize("c1,n1,c0,n0", [(56, 70, 48, 80), (72, 191, 65, 180), (300, 1000, 250, 1000), (20, 40, 20, 40)])
def test_z_test_matches_statsmodels(c1, n1, c0, n0):
    ch = stats.proportion_change(c1, n1, c0, n0, polarity="lower_is_better")
    _, p = proportions_ztest([c1, c0], [n1, n0])
    assert ch.test == "two-proportion z-test"
    assert ch.p_value == pytest.approx(p, abs=1e-10)
    assert ch.significant == (p < 0.05)
    assert "Fisher" not in ch.note


@pytest.mark.parametrize("c1,n1,c0,n0", [(1, 12, 5, 14), (0, 10, 3, 10), (9, 10, 10, 10), (0, 5, 0, 5), (3, 30, 2, 25)])
def test_fisher_used_for_small_expected_counts(c1, n1, c0, n0):
    ch = stats.proportion_change(c1, n1, c0, n0, polarity="lower_is_better")
    expected = sps.fisher_exact([[c1, n1 - c1], [c0, n0 - c0]], alternative="two-sided").pvalue
    assert ch.test == "Fisher's exact test"
    assert ch.p_value == pytest.approx(expected, abs=1e-12)
    assert "expected cell count is below 5" in ch.note


def test_proportion_change_fields_and_polarity():
    # reoffending 36.1% → 37.6% (hypothetical cohort sizes): a rise is a deterioration when lower is better
    ch = stats.proportion_change(72, 191, 65, 180, polarity="lower_is_better")
    assert ch.current == pytest.approx(100 * 72 / 191)
    assert ch.previous == pytest.approx(100 * 65 / 180)
    assert ch.absolute == pytest.approx(ch.current - ch.previous)
    assert ch.relative == pytest.approx((72 / 191) / (65 / 180) - 1)
    assert ch.direction == "increase" and ch.assessment == "deterioration"
    assert ch.significant is False and ch.lower < 0 < ch.upper
    assert stats.proportion_change(72, 191, 65, 180, polarity="higher_is_better").assessment == "improvement"
    assert stats.proportion_change(65, 180, 72, 191, polarity="lower_is_better").assessment == "improvement"
    assert stats.proportion_change(65, 180, 72, 191, polarity="higher_is_better").assessment == "deterioration"
    assert stats.proportion_change(72, 191, 65, 180, polarity="no_judgement").assessment == "no judgement"
    same = stats.proportion_change(20, 40, 20, 40, polarity="lower_is_better")
    assert same.direction == "no change" and same.assessment == "no change" and same.absolute == 0
    assert stats.proportion_change(3, 10, 0, 10, polarity="lower_is_better").relative is None
    assert stats.proportion_change(3, 10, 4, 10, multiplier=1000, polarity="lower_is_better").unit == "per 1,000"
    assert stats.proportion_change(3, 10, 4, 10, multiplier=1, polarity="lower_is_better").unit == ""


def test_proportion_change_significance_at_998():
    ch95 = stats.proportion_change(300, 1000, 250, 1000, polarity="lower_is_better")
    ch998 = stats.proportion_change(300, 1000, 250, 1000, level=0.998, polarity="lower_is_better")
    assert ch95.p_value == ch998.p_value
    assert ch95.significant is True and ch998.significant is False
    assert ch998.lower < ch95.lower and ch998.upper > ch95.upper


@pytest.mark.parametrize(
    "args,message",
    [
        ((11, 10, 5, 10), "count1 must not exceed n1"),
        ((5, 10, 11, 10), "count0 must not exceed n0"),
        ((5, 0, 5, 10), "n1 must be > 0, got 0"),
        ((5, 10, 0, 0), "n0 must be > 0, got 0"),
        ((-1, 10, 5, 10), "count1 must be >= 0, got -1"),
        ((2.5, 10, 5, 10), "count1 must be a whole number"),
        ((None, 10, 5, 10), "count1 must be a number, got None"),
    ],
)
def test_proportion_change_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        stats.proportion_change(*args, polarity="lower_is_better")


@settings(max_examples=200, deadline=None)
@given(
    n1=st.integers(min_value=1, max_value=400),
    n0=st.integers(min_value=1, max_value=400),
    f1=st.floats(min_value=0, max_value=1),
    f0=st.floats(min_value=0, max_value=1),
)
def test_proportion_change_interval_contains_the_difference(n1, n0, f1, f0):
    c1, c0 = round(f1 * n1), round(f0 * n0)
    ch = stats.proportion_change(c1, n1, c0, n0, polarity="lower_is_better")
    assert ch.lower <= ch.absolute <= ch.upper
    assert -100 <= ch.lower and ch.upper <= 100
    assert 0 <= ch.p_value <= 1


# --------------------------------------------------------------------------- change: rates


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # statsmodels' rate ratio with a zero count
@pytest.mark.parametrize("c1,p1,c0,p0", [(30, 5000, 18, 4800), (145, 60417, 190, 60100), (12, 1.0, 20, 1.0), (0, 1000, 7, 1000), (5, 1000, 0, 1000)])
def test_rate_change_matches_binomtest(c1, p1, c0, p0):
    ch = stats.rate_change(c1, p1, c0, p0, polarity="lower_is_better")
    expected = sps.binomtest(c1, c1 + c0, p1 / (p1 + p0)).pvalue
    assert ch.p_value == pytest.approx(expected, abs=1e-12)
    assert ch.p_value == pytest.approx(poisson_2indep(c1, p1, c0, p0, method="exact-cond").pvalue, abs=1e-10)
    assert ch.test == "exact conditional (binomial) test for two Poisson rates"
    assert ch.significant == (expected < 0.05)
    assert ch.lower <= ch.absolute <= ch.upper


def test_rate_change_fields():
    ch = stats.rate_change(145, 60417, 190, 60100, polarity="lower_is_better")
    assert ch.current == pytest.approx(145 / 60417 * 1e5)
    assert ch.previous == pytest.approx(190 / 60100 * 1e5)
    assert ch.absolute == pytest.approx(ch.current - ch.previous)
    assert ch.direction == "decrease" and ch.assessment == "improvement"
    assert ch.significant is True and ch.upper < 0
    assert ch.unit == "per 100,000"
    assert "normal approximation" in ch.note
    assert stats.rate_change(190, 60100, 145, 60417, polarity="lower_is_better").assessment == "deterioration"
    assert stats.rate_change(190, 60100, 145, 60417, polarity="higher_is_better").assessment == "improvement"
    assert stats.rate_change(12, 1.0, 20, 1.0, multiplier=1.0, polarity="lower_is_better").unit == ""
    assert stats.rate_change(12, 1.0, 20, 1.0, multiplier=1000, polarity="lower_is_better").unit == "per 1,000"
    assert stats.rate_change(12, 1.0, 20, 1.0, multiplier=2.5, polarity="lower_is_better").unit == "per 2.5"


def test_rate_change_interval_by_hand():
    # Difference of the two rates with each rate's own limits combined (MOVER):
    # lower = D − √((r1 − l1)² + (u0 − r0)²), upper = D + √((u1 − r1)² + (r0 − l0)²)
    ch = stats.rate_change(145, 60417, 190, 60100, polarity="lower_is_better")
    a, b = stats.rate_estimate(145, 60417), stats.rate_estimate(190, 60100)
    d = a.value - b.value
    assert ch.lower == pytest.approx(d - math.hypot(a.value - a.lower, b.upper - b.value))
    assert ch.upper == pytest.approx(d + math.hypot(a.upper - a.value, b.value - b.lower))
    # with large counts it is close to the plain normal (Wald) interval on the difference
    big = stats.rate_change(1450, 604170, 1900, 601000, polarity="lower_is_better")
    wald_se = math.sqrt(1450 / 604170**2 + 1900 / 601000**2) * 1e5
    assert big.lower == pytest.approx(big.absolute - 1.959964 * wald_se, rel=0.01)
    assert big.upper == pytest.approx(big.absolute + 1.959964 * wald_se, rel=0.01)


def test_rate_change_with_zero_counts():
    both = stats.rate_change(0, 1000, 0, 1000, polarity="lower_is_better")
    assert both.p_value == 1.0 and both.significant is False
    assert both.direction == "no change" and both.assessment == "no change"
    assert both.relative is None
    assert both.lower < 0 < both.upper  # exact Poisson upper limit for 0 is 3.689
    assert both.upper == pytest.approx(3.688879 / 1000 * 1e5, abs=1e-3)
    assert "no events in either period" in both.note
    up = stats.rate_change(7, 1000, 0, 1000, polarity="lower_is_better")
    assert up.direction == "increase" and up.relative is None and up.lower < up.absolute < up.upper


@pytest.mark.parametrize(
    "args,message",
    [
        ((5, 0, 5, 10), "pop1 must be > 0, got 0"),
        ((5, 10, 5, -1), "pop0 must be > 0, got -1"),
        ((-2, 10, 5, 10), "count1 must be >= 0, got -2"),
        ((5, 10, 4.2, 10), "count0 must be a whole number"),
    ],
)
def test_rate_change_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        stats.rate_change(*args, polarity="lower_is_better")


def test_rate_change_rejects_bad_polarity():
    with pytest.raises(ValueError, match="polarity"):
        stats.rate_change(5, 10, 5, 10, polarity="lower")


# --------------------------------------------------------------------------- change without counts


def test_value_change_is_not_tested():
    ch = stats.value_change(37.6, 36.1, "percentage points", polarity="lower_is_better")
    assert ch.absolute == pytest.approx(1.5)
    assert ch.relative == pytest.approx(1.5 / 36.1)
    assert ch.direction == "increase" and ch.assessment == "deterioration"
    assert ch.test == "not tested" and ch.significant is None and ch.p_value is None
    assert ch.lower is None and ch.upper is None
    assert ch.unit == "percentage points" and ch.level == 0.95
    assert ch.note == "significance not tested: counts not published"
    down = stats.value_change(200, 240, "per 100,000", polarity="higher_is_better", reason="populations not published")
    assert down.direction == "decrease" and down.assessment == "deterioration"
    assert down.note == "significance not tested: populations not published"
    assert stats.value_change(5, 0, "x", polarity="lower_is_better").relative is None
    assert stats.value_change(5, 5, "x", polarity="lower_is_better").assessment == "no change"
    with pytest.raises(ValueError, match="previous must be a number, got None"):
        stats.value_change(5, None, "x", polarity="lower_is_better")


# --------------------------------------------------------------------------- trend


def test_trend_needs_five_points():
    t = stats.proportion_trend([10, 12, 15, 20], [100] * 4)
    assert t.status == "cannot be calculated" and t.direction is None and t.p_value is None
    assert t.n_points == 4 and t.reason == "only 4 comparable annual points; at least 5 are needed"
    one = stats.rate_trend([10], [1000])
    assert one.reason == "only 1 comparable annual point; at least 5 are needed"


def test_trend_lengths_must_match():
    with pytest.raises(ValueError, match="counts and populations must have the same length, got 5 and 4"):
        stats.rate_trend([1, 2, 3, 4, 5], [10, 10, 10, 10])


def test_trend_with_a_missing_count_cannot_be_calculated():
    t = stats.rate_trend([10, None, 12, 13, 14], [1000] * 5)
    assert t.status == "cannot be calculated"
    assert t.reason == "a count or population is not published for every point"
    t = stats.proportion_trend([10, 11, 12, 13, 14], [100, 100, float("nan"), 100, 100])
    assert t.reason == "a count or denominator is not published for every point"


def test_proportion_trend_matches_linear_by_linear_association():
    # Cochran–Armitage z = linear-by-linear z × √(N/(N−1)) (Agresti); statsmodels gives the latter.
    counts, dens = [10, 12, 15, 20, 25], [100, 100, 100, 100, 100]
    t = stats.proportion_trend(counts, dens)
    table = np.array([[c, d - c] for c, d in zip(counts, dens)])
    assoc = Table(table).test_ordinal_association(row_scores=np.arange(5), col_scores=np.array([1, 0]))
    n = sum(dens)
    expected_p = 2 * sps.norm.sf(abs(assoc.zscore * math.sqrt(n / (n - 1))))
    assert t.status == "calculated" and t.direction == "increasing"
    assert t.p_value == pytest.approx(expected_p, rel=1e-9)
    assert t.method == "chi-squared test for trend (Cochran–Armitage)"
    assert t.n_points == 5 and t.reason.startswith("significant increasing trend over 5 points")


def test_proportion_trend_by_hand():
    # p̄ = 82/500; T = Σ t(x − n p̄) = 0·… + 1·(12−16.4) + 2·(15−16.4) + 3·(20−16.4) + 4·(25−16.4) = 38.0
    # Var = p̄(1−p̄)(Σ n t² − (Σ n t)²/N) = 0.164·0.836·(3000 − 1000²/500) = 137.104; z = 38.0/√137.104 = 3.2453
    t = stats.proportion_trend([10, 12, 15, 20, 25], [100] * 5)
    assert t.p_value == pytest.approx(2 * sps.norm.sf(38.0 / math.sqrt(137.104)), rel=1e-9)


def test_trends_detect_decrease_and_flat_series():
    down = stats.proportion_trend([40, 35, 30, 22, 15], [100] * 5)
    assert down.direction == "decreasing"
    flat = stats.proportion_trend([30, 31, 29, 30, 30], [100] * 5)
    assert flat.status == "calculated" and flat.direction == "no significant change" and flat.p_value > 0.05
    assert flat.reason.startswith("no significant trend")
    flat_rate = stats.rate_trend([100, 104, 98, 101, 99], [60000] * 5)
    assert flat_rate.direction == "no significant change"
    down_rate = stats.rate_trend([300, 260, 220, 180, 150], [60000] * 5)
    assert down_rate.direction == "decreasing" and down_rate.p_value < 0.001


def test_rate_trend_matches_glm_score_test():
    counts, pops = [30, 35, 41, 52, 60], [10000, 10200, 10100, 10300, 10500]
    offset = np.log(pops)
    null = sm.GLM(counts, np.ones((5, 1)), family=sm.families.Poisson(), offset=offset).fit()
    full = sm.GLM(counts, np.column_stack([np.ones(5), np.arange(5)]), family=sm.families.Poisson(), offset=offset)
    _, p, _ = full.score_test(np.array([null.params[0], 0.0]), k_constraints=1)
    t = stats.rate_trend(counts, pops)
    assert t.status == "calculated" and t.direction == "increasing"
    assert t.p_value == pytest.approx(float(p[0]), rel=1e-9)
    assert t.method == "Poisson log-linear trend (score test)"
    # the fitted trend model fits: its dispersion is reported, and the test is not scaled
    fit = full.fit(scale="X2")
    assert t.dispersion == pytest.approx(fit.scale, rel=1e-9)
    assert t.dispersion_p_value == pytest.approx(sps.chi2.sf(fit.pearson_chi2, 3), rel=1e-9) and t.dispersion_p_value > 0.05
    assert t.scaled is False and t.unscaled_p_value == t.p_value
    assert "no evidence of overdispersion" in t.reason


def test_trend_level_changes_the_verdict():
    mid = [20, 23, 26, 30, 33]
    t95, t998 = stats.proportion_trend(mid, [100] * 5), stats.proportion_trend(mid, [100] * 5, level=0.998)
    assert 0.002 < t95.p_value < 0.05
    assert t95.direction == "increasing" and t998.direction == "no significant change" and t998.level == 0.998


def test_trend_without_variation_cannot_be_calculated():
    zero = stats.proportion_trend([0] * 5, [50] * 5)
    assert zero.status == "cannot be calculated" and "0% at every point" in zero.reason
    full = stats.proportion_trend([50] * 5, [50] * 5)
    assert "100% at every point" in full.reason
    none = stats.rate_trend([0] * 5, [1000] * 5)
    assert none.status == "cannot be calculated" and "0 at every point" in none.reason


def test_trend_rejects_bad_values():
    with pytest.raises(ValueError, match=r"counts\[2\] must not exceed denominators\[2\]"):
        stats.proportion_trend([1, 2, 30, 4, 5], [10] * 5)
    with pytest.raises(ValueError, match=r"populations\[0\] must be > 0, got 0"):
        stats.rate_trend([1, 2, 3, 4, 5], [0, 10, 10, 10, 10])
    with pytest.raises(ValueError, match=r"counts\[4\] must be >= 0, got -5"):
        stats.rate_trend([1, 2, 3, 4, -5], [10] * 5)


def test_trend_without_counts():
    t = stats.trend_without_counts(6, reason="only rates published")
    assert t.status == "cannot be calculated" and t.n_points == 6 and t.reason == "only rates published"
    assert t.method == "not tested" and t.direction is None and t.p_value is None


# --------------------------------------------------------------------------- trend: overdispersion


POPULATIONS = [60100, 60350, 60500, 60800, 61000, 61300]
# Issue #14: first-time entrants falling from the seventies to under twenty, 10–17 population about 60,000,
# with more year-to-year movement than Poisson counts can have.
FTE_COUNTS = [77, 91, 44, 20, 14, 17]


def poisson_glm(counts, pops):
    n = len(counts)
    design = np.column_stack([np.ones(n), np.arange(n)])
    return sm.GLM(np.asarray(counts, float), design, family=sm.families.Poisson(), offset=np.log(pops))


def glm_score_chi2(model, counts, pops):
    """statsmodels' Poisson score statistic for the slope, at the no-trend fit."""
    null = sm.GLM(np.asarray(counts, float), np.ones((len(counts), 1)), family=sm.families.Poisson(), offset=np.log(pops)).fit()
    chi2, p, _ = model.score_test(np.array([null.params[0], 0.0]), k_constraints=1)
    return float(np.ravel(chi2)[0]), float(np.ravel(p)[0])


def test_issue_14_overdispersed_fte_series_is_no_longer_p_below_0001():
    from pipeline.document import narrative

    model = poisson_glm(FTE_COUNTS, POPULATIONS)
    score_chi2, score_p = glm_score_chi2(model, FTE_COUNTS, POPULATIONS)
    quasi = model.fit(scale="X2")  # quasi-Poisson: scale = Pearson X² / (n − 2)
    # statsmodels: Poisson score test p = 4.2e-24; Pearson X² = 20.37 on 4 df (p = 0.0004), so φ = 5.09;
    # score χ² / φ = 20.2 on F(1, 4): p = 0.0109. (statsmodels' own quasi-Poisson Wald test, fit(scale="X2",
    # use_t=True), gives a similar p = 0.0128; with a normal reference it would give 1.8e-05.)
    assert score_p < 1e-20
    assert quasi.pearson_chi2 == pytest.approx(20.3656, abs=1e-4) and quasi.scale == pytest.approx(5.0914, abs=1e-4)
    expected_p = sps.f.sf(score_chi2 / quasi.scale, 1, quasi.df_resid)
    assert expected_p == pytest.approx(0.01093, abs=1e-5)

    unscaled = stats.rate_trend(FTE_COUNTS, POPULATIONS, scale_for_overdispersion=False)
    assert unscaled.p_value == pytest.approx(score_p, rel=1e-6) and unscaled.p_value < 0.001
    assert unscaled.scaled is False and unscaled.dispersion == pytest.approx(quasi.scale, abs=1e-6)
    assert unscaled.method == "Poisson log-linear trend (score test)"
    assert "not scaled (scale_for_overdispersion=False): its p-value is too small" in unscaled.reason

    t = stats.rate_trend(FTE_COUNTS, POPULATIONS)
    print(t)
    assert t.status == "calculated" and t.direction == "decreasing" and t.scaled is True
    assert t.dispersion == pytest.approx(quasi.scale, abs=1e-6)
    assert t.dispersion_p_value == pytest.approx(sps.chi2.sf(quasi.pearson_chi2, 4), abs=1e-6)
    assert t.p_value == pytest.approx(expected_p, abs=1e-6)
    assert t.unscaled_p_value == pytest.approx(score_p, rel=1e-6)
    assert t.method == "Poisson log-linear trend, scaled for overdispersion (quasi-Poisson, φ = 5.1)"
    assert t.reason == (
        "significant decreasing trend over 6 points (quasi-Poisson score test t = -4.49 on 4 df, p = 0.0109; "
        "unscaled z = -10.13, p = 4.25e-24); the Poisson log-linear trend model is overdispersed "
        "(Pearson X² = 20.4 on 4 df, p = 0.000423; φ = 5.09), so the score statistic is divided by φ and referred to F(1, 4)"
    )
    # what the plan says: still a significant fall, but p = 0.011, not "p < 0.001"
    sentence = narrative.describe_trend(t)
    headline = sentence.split(". ")[0]  # the finding; later sentences explain the scaling (and quote the unscaled p)
    assert "<0.001" not in headline and "p = 0.011" in headline and "significantly decreasing" in headline
    assert "<0.001" in narrative.describe_trend(unscaled)


@pytest.mark.parametrize(
    "counts,pops",
    [
        (FTE_COUNTS, POPULATIONS),
        ([75, 48, 62, 30, 35, 18], POPULATIONS),
        ([300, 180, 260, 120, 150], [60000] * 5),
        ([20, 45, 15, 50, 25, 60, 30], [9000, 9100, 9050, 9200, 9300, 9250, 9400]),
    ],
)
def test_quasi_poisson_trend_matches_statsmodels(counts, pops):
    model = poisson_glm(counts, pops)
    score_chi2, score_p = glm_score_chi2(model, counts, pops)
    quasi = model.fit(scale="X2")
    t = stats.rate_trend(counts, pops)
    assert quasi.pearson_chi2 > sps.chi2.ppf(0.95, quasi.df_resid)  # overdispersed at the 5% level
    assert t.scaled is True
    assert t.dispersion == pytest.approx(quasi.scale, rel=1e-8)
    assert t.p_value == pytest.approx(sps.f.sf(score_chi2 / quasi.scale, 1, quasi.df_resid), rel=1e-6, abs=1e-12)
    # F(1, n − 2) on χ²/φ is the t test on z/√φ
    assert t.p_value == pytest.approx(2 * sps.t.sf(math.sqrt(score_chi2 / quasi.scale), len(counts) - 2), rel=1e-6)
    assert t.unscaled_p_value == pytest.approx(score_p, rel=1e-6)
    assert t.p_value > t.unscaled_p_value


REOFFENDING = ([72, 50, 81, 48, 70, 39], [200, 190, 210, 185, 205, 180])


def test_quasi_binomial_trend_matches_statsmodels():
    counts, dens = (np.asarray(x, float) for x in REOFFENDING)
    n = len(counts)
    design = np.column_stack([np.ones(n), np.arange(n)])
    # Binomial GLM on the proportions with the denominators as variance weights: scale="X2" is then
    # Pearson X²/(n − 2) (with a two-column endog, statsmodels divides each residual by its denominator).
    quasi = sm.GLM(counts / dens, design, family=sm.families.Binomial(), var_weights=dens).fit(scale="X2")
    endog = np.column_stack([counts, dens - counts])
    null = sm.GLM(endog, design[:, :1], family=sm.families.Binomial()).fit()
    chi2, score_p, _ = sm.GLM(endog, design, family=sm.families.Binomial()).score_test(
        np.array([null.params[0], 0.0]), k_constraints=1)
    score_chi2 = float(np.ravel(chi2)[0])
    t = stats.proportion_trend(*REOFFENDING)
    # Cochran–Armitage is the logistic score test: p = 0.034 unscaled, a "significant decrease";
    # φ = 4.06 (Pearson X² = 16.2 on 4 df), scaled p = 0.352: no significant change.
    assert t.unscaled_p_value == pytest.approx(float(np.ravel(score_p)[0]), rel=1e-9)
    assert t.unscaled_p_value == pytest.approx(0.03411, abs=1e-5)
    assert t.dispersion == pytest.approx(quasi.scale, rel=1e-9) and t.dispersion == pytest.approx(4.0575, abs=1e-4)
    assert t.scaled is True
    assert t.p_value == pytest.approx(sps.f.sf(score_chi2 / quasi.scale, 1, n - 2), rel=1e-9)
    assert t.p_value == pytest.approx(0.35222, abs=1e-5)
    assert t.direction == "no significant change"
    assert t.method == "chi-squared test for trend (Cochran–Armitage), scaled for overdispersion (quasi-binomial, φ = 4.1)"
    assert t.reason.startswith("no significant trend over 6 points (quasi-binomial score test t = ")
    assert "the logistic trend model is overdispersed" in t.reason
    unscaled = stats.proportion_trend(*REOFFENDING, scale_for_overdispersion=False)
    assert unscaled.direction == "decreasing" and unscaled.p_value == t.unscaled_p_value
    assert unscaled.method == "chi-squared test for trend (Cochran–Armitage)"


def test_step_halving_fit_matches_statsmodels():
    # An extreme series where a full Newton step from the no-trend fit overshoots; the halved steps
    # still reach statsmodels' fit (the model fits badly: one event at the start of a steep rise).
    counts, dens = [1, 0, 0, 0, 99], [100] * 5
    design = np.column_stack([np.ones(5), np.arange(5)])
    y = np.asarray(counts, float) / 100
    quasi = sm.GLM(y, design, family=sm.families.Binomial(), var_weights=np.asarray(dens, float)).fit(scale="X2")
    t = stats.proportion_trend(counts, dens)
    assert t.dispersion == pytest.approx(quasi.scale, rel=1e-8)
    assert t.scaled is True and t.direction == "no significant change"


def test_trend_fit_is_stable_at_extreme_proportions():
    # fitted proportions within 1e-12 of 0 and 1: residuals and variances computed without cancellation,
    # so no 0/0 and no warning (statsmodels warns of perfect prediction here)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = stats.proportion_trend([0, 0, 1, 999999, 1000000], [1000000] * 5)
    assert t.status == "calculated" and t.direction == "increasing"
    assert t.dispersion is not None and 0 <= t.dispersion < 1e-6 and t.scaled is False
    assert "no evidence of overdispersion" in t.reason


def test_trend_not_scaled_when_the_model_fits():
    t = stats.proportion_trend([60, 50, 40, 30, 20], [400] * 5)
    assert t.scaled is False and t.dispersion < 1 and t.dispersion_p_value > 0.05
    assert t.method == "chi-squared test for trend (Cochran–Armitage)"
    assert t.p_value == t.unscaled_p_value
    assert "no evidence of overdispersion (Pearson X² = " in t.reason


def test_underdispersion_never_narrows_a_test():
    # a series smoother than Poisson (φ ≪ 1): the test is the plain score test, never divided by φ < 1
    t = stats.rate_trend([100, 90, 81, 73, 66], [60000] * 5)
    assert t.dispersion < 0.1 and t.scaled is False and t.p_value == t.unscaled_p_value


@pytest.mark.parametrize(
    "fn,counts,dens,why",
    [
        (stats.rate_trend, [5, 0, 0, 0, 0], [1000] * 5, "every event falls in the first year"),
        (stats.rate_trend, [0, 0, 0, 0, 7], [1000] * 5, "every event falls in the last year"),
        (stats.proportion_trend, [0, 0, 2, 5, 5], [5] * 5, "separation"),
        (stats.proportion_trend, [5, 5, 1, 0, 0], [5] * 5, "separation"),
    ],
)
def test_trend_without_a_finite_model_fit_is_not_scaled(fn, counts, dens, why):
    t = fn(counts, dens)
    assert t.status == "calculated" and t.p_value is not None
    assert t.dispersion is None and t.dispersion_p_value is None and t.scaled is False
    assert "overdispersion not assessed" in t.reason and why in t.reason and "no finite fit" in t.reason


def test_trend_model_that_does_not_converge_is_reported(monkeypatch):
    monkeypatch.setattr(stats, "_FIT_MAX_ITERATIONS", 1)
    t = stats.rate_trend(FTE_COUNTS, POPULATIONS)
    assert t.dispersion is None and t.scaled is False
    assert t.reason.endswith("overdispersion not assessed: the Poisson log-linear trend model did not converge")
    assert t.p_value == t.unscaled_p_value < 0.001


def test_scale_for_overdispersion_must_be_a_bool():
    with pytest.raises(ValueError, match="scale_for_overdispersion must be True or False, got 'yes'"):
        stats.rate_trend(FTE_COUNTS, POPULATIONS, scale_for_overdispersion="yes")
    with pytest.raises(TypeError):
        stats.rate_trend(FTE_COUNTS, POPULATIONS, 0.95, False)  # keyword-only


def test_overdispersion_test_level_is_fixed_at_five_percent():
    assert stats.OVERDISPERSION_TEST_LEVEL == 0.05
    # the same check at 99.8%: φ and the scaled p do not depend on the level, only the verdict does
    t95 = stats.rate_trend(FTE_COUNTS, POPULATIONS)
    t998 = stats.rate_trend(FTE_COUNTS, POPULATIONS, level=0.998)
    assert t998.level == 0.998 and t998.scaled and t998.p_value == t95.p_value and t998.dispersion == t95.dispersion
    assert t95.direction == "decreasing" and t998.direction == "no significant change"  # 0.002 < p = 0.011 < 0.05


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=400), min_size=5, max_size=10),
    pop=st.integers(min_value=1000, max_value=200000),
)
def test_scaling_only_ever_widens_a_trend_test(counts, pop):
    assume(sum(counts) > 0)
    t = stats.rate_trend(counts, [pop] * len(counts))
    assert t.status == "calculated" and 0 <= t.p_value <= 1
    assert t.p_value >= t.unscaled_p_value
    if t.scaled:
        assert t.dispersion > 1 and t.dispersion_p_value < 0.05
    dens = [max(counts) + 10] * len(counts)
    assume(0 < sum(counts) < sum(dens))
    p = stats.proportion_trend(counts, dens)
    assert p.p_value >= p.unscaled_p_value
    assert p.scaled == (p.dispersion is not None and p.dispersion_p_value < 0.05)


# --------------------------------------------------------------------------- control levels (95% and 99.8%)


def test_control_levels_are_fingertips_two():
    assert stats.CONTROL_LEVELS == (0.95, 0.998)
    assert [round(stats.z_value(lv), 6) for lv in stats.CONTROL_LEVELS] == [1.959964, 3.090232]
    assert [stats.significance_level_label(lv) for lv in stats.CONTROL_LEVELS] == ["95%", "99.8%"]


# PHEindicatormethods reference values (ukhsa-collaboration/PHEindicatormethods, tests/testthat/
# testdata_Proportion.xlsx and testdata_Rate.xlsx, sheets testdata_Prop / testdata_Rate, multiplier 100):
# numerator, denominator, lower95, upper95, lower99.8, upper99.8.
PHE_PROPORTIONS = [
    (1, 100, 0.1767432064140651, 5.44861961787053, 0.0873065697299977, 10.45544528370582),
    (5, 100, 2.154367915436798, 11.17504692319191, 1.3865320725997183, 16.458852282596443),
    (20, 100, 13.33669333310325, 28.882916559315884, 10.519162066711433, 34.71109417008601),
    (65, 100, 55.25444329688797, 73.63575175690247, 49.54946574070431, 77.83540614089696),
    (9856, 12345, 79.1210175290907, 80.53640073614909, 78.69924108419063, 80.93061412589626),
    (7776456, 7564336677, 0.10273201001641094, 0.10287644578977231, 0.10269040118442213, 0.10291812992698397),
    (222, 3215, 6.0791690363636595, 7.833956681383633, 5.647101964624248, 8.418414185270134),
    (999, 3456, 27.418951080009873, 30.440389662818057, 26.583995768074953, 31.34475449279985),
]
PHE_RATES = [  # exact Poisson for 1 and 5, Byar's from 20 upwards
    (1, 100, 0.025317807984289897, 5.571643390938898, 0.0010005003335835344, 9.233413476451585),
    (5, 100, 1.62348639011842, 11.668332079322669, 0.739371731917839, 16.454745203680105),
    (20, 100, 12.211428834875937, 30.889880369197066, 8.922802365144193, 38.08503562504191),
    (65, 100, 50.163187710459454, 82.84913854593984, 42.8802614714802, 94.00029084431802),
    (9856, 12345, 78.26949058976757, 81.4300165427214, 77.37590543271052, 82.3544727709543),
    (7776456, 7564336677, 0.10273196005302074, 0.10287648334092832, 0.102690317308454, 0.10291817639509068),
    (222, 3215, 6.026574877652675, 7.87572937087185, 5.560737695259854, 8.46104668173341),
    (999, 3456, 27.14130493609052, 30.755833237378415, 26.162147596445767, 31.845604819822654),
]


@pytest.mark.parametrize("row", PHE_PROPORTIONS)
def test_wilson_matches_phe_indicator_methods_at_both_levels(row):
    num, den, lo95, hi95, lo998, hi998 = row
    for level, lo, hi in ((0.95, lo95, hi95), (0.998, lo998, hi998)):
        est = stats.proportion_estimate(num, den, level=level)
        assert est.lower == pytest.approx(lo, rel=1e-9) and est.upper == pytest.approx(hi, rel=1e-9)


@pytest.mark.parametrize("row", PHE_RATES)
def test_rates_match_phe_indicator_methods_at_both_levels(row):
    num, den, lo95, hi95, lo998, hi998 = row
    for level, lo, hi in ((0.95, lo95, hi95), (0.998, lo998, hi998)):
        est = stats.rate_estimate(num, den, level=level, multiplier=100)
        assert est.method == ("exact Poisson" if num < 10 else "Byar")
        assert est.lower == pytest.approx(lo, rel=1e-9) and est.upper == pytest.approx(hi, rel=1e-9)


def test_byar_and_wilson_match_phe_indicator_methods_unit_tests():
    # PHEindicatormethods tests/testthat/testdata_Byars_Wilson.xlsx (byars_lower/upper, wilson_lower/upper)
    for count, level, lo, hi in [(65, 0.95, 50.163187710459454, 82.84913854593984),
                                 (1045, 0.95, 982.5932018073325, 1110.33121298565),
                                 (65, 0.998, 42.8802614714802, 94.00029084431802),
                                 (1045, 0.998, 947.9407035610374, 1148.806160988033),
                                 (10, 0.998, 2.916318374695686, 24.193724927880535)]:
        lower, upper, method = stats.poisson_count_limits(count, level)
        assert method == "Byar" and lower == pytest.approx(lo, rel=1e-9) and upper == pytest.approx(hi, rel=1e-9)
    for count, n, level, lo, hi in [(65, 100, 0.95, 0.5525444329688797, 0.7363575175690247),
                                    (1045, 5000, 0.95, 0.19795549880013297, 0.22049130373189027),
                                    (0.445, 1, 0.95, 0.04381744772058822, 0.9334621276979156),
                                    (65, 100, 0.998, 0.4954946574070431, 0.7783540614089697),
                                    (1045, 5000, 0.998, 0.19179381799015244, 0.22731562902525818),
                                    (0.445, 1, 0.998, 0.019347006132900975, 0.9702259947019541)]:
        lower, upper = stats.wilson_limits(count, n, level)
        assert lower == pytest.approx(lo, rel=1e-9) and upper == pytest.approx(hi, rel=1e-9)


def test_every_estimate_change_and_trend_accepts_998():
    lv = 0.998
    z998 = 3.090232306167813
    # estimates: exact answers at 99.8% (α/2 = 0.001)
    p = stats.proportion_estimate(72, 191, level=lv)
    lo, hi = proportion_confint(72, 191, alpha=0.002, method="wilson")
    assert (p.level, p.lower, p.upper) == (lv, pytest.approx(100 * lo, rel=1e-9), pytest.approx(100 * hi, rel=1e-9))
    r = stats.rate_estimate(5, 60000, level=lv)
    assert r.lower == pytest.approx(sps.chi2.ppf(0.001, 10) / 2 / 60000 * 1e5, rel=1e-9)
    assert r.upper == pytest.approx(sps.chi2.ppf(0.999, 12) / 2 / 60000 * 1e5, rel=1e-9)
    m = stats.mean_per_person_estimate(92, 191, level=lv)
    lo, hi = byar_by_hand(92, z998)
    assert m.level == lv and m.lower == pytest.approx(lo / 191, rel=1e-9) and m.upper == pytest.approx(hi / 191, rel=1e-9)
    assert stats.estimate_without_counts(5.0, level=lv).level == lv
    # changes: the same p-value, judged against 0.002, and wider intervals
    for fn, args in ((stats.proportion_change, (300, 1000, 250, 1000)), (stats.rate_change, (30, 5000, 18, 4800)),
                     (stats.mean_per_person_change, (120, 191, 90, 180))):
        c95, c998 = fn(*args, polarity="lower_is_better"), fn(*args, level=lv, polarity="lower_is_better")
        assert c998.level == lv and c998.p_value == c95.p_value and c998.significant == (c95.p_value < 0.002)
        assert c998.lower < c95.lower and c998.upper > c95.upper
    assert stats.value_change(5, 4, "x", polarity="lower_is_better", level=lv).level == lv
    # trends
    for t in (stats.rate_trend(FTE_COUNTS, POPULATIONS, level=lv), stats.proportion_trend(*REOFFENDING, level=lv),
              stats.trend_without_counts(6, level=lv)):
        assert t.level == lv
    strong = stats.rate_trend([300, 260, 220, 180, 150], [60000] * 5, level=lv)
    assert strong.direction == "decreasing" and strong.p_value < 0.002


# --------------------------------------------------------------------------- zero counts


@pytest.mark.parametrize("level,upper_count", [(0.95, 3.6888794541139363), (0.998, 6.907755278982137)])
def test_zero_counts_have_the_exact_interval(level, upper_count):
    # exact Poisson upper limit for 0 events: χ²(1 − α/2; 2)/2 = −ln(α/2) (3.689 at 95%, 6.908 at 99.8%)
    assert sps.chi2.ppf(1 - (1 - level) / 2, 2) / 2 == pytest.approx(upper_count, rel=1e-12)
    rate = stats.rate_estimate(0, 60000, level=level)
    assert rate.method == "exact Poisson" and rate.has_interval and rate.value == 0
    assert rate.lower == 0.0 and rate.upper == pytest.approx(upper_count / 60000 * 100000, rel=1e-12)
    if level == 0.95:
        assert round(rate.upper, 4) == 6.1481
        sm_lo, sm_hi = confint_poisson(0, 60000, method="exact-c", alpha=0.05)
        assert float(sm_lo) == 0 and rate.upper == pytest.approx(float(sm_hi) * 1e5, rel=1e-9)
    mean = stats.mean_per_person_estimate(0, 60000, level=level, multiplier=1000)
    assert mean.has_interval and mean.lower == 0.0 and mean.upper == pytest.approx(upper_count / 60000 * 1000, rel=1e-12)
    assert mean.note.startswith("zero count: lower limit 0; ")
    prop = stats.proportion_estimate(0, 60000, level=level)
    z2 = stats.z_value(level) ** 2
    assert prop.has_interval and prop.lower == 0.0 and prop.upper == pytest.approx(z2 / (60000 + z2) * 100, rel=1e-12)
    for est in (rate, mean, prop):
        assert est.method != stats.NOT_CALCULATED and "zero count" in est.note


# --------------------------------------------------------------------------- mean per person


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("events,persons", [(0, 40), (1, 40), (9, 12), (10, 191), (92, 191), (1500, 900)])
def test_mean_per_person_is_a_poisson_interval_on_the_events(events, persons, level):
    est = stats.mean_per_person_estimate(events, persons, level=level)
    alpha = 1 - level
    if events < 10:
        lo, hi = confint_poisson(events, persons, method="exact-c", alpha=alpha)
        assert est.method == "exact Poisson"
        assert est.lower == pytest.approx(float(lo), rel=1e-9, abs=1e-12) and est.upper == pytest.approx(float(hi), rel=1e-9)
    else:
        lo, hi = byar_by_hand(events, z(level))
        assert est.method == "Byar"
        assert est.lower == pytest.approx(lo / persons, rel=1e-9) and est.upper == pytest.approx(hi / persons, rel=1e-9)
    assert est.value == pytest.approx(events / persons)
    assert est.count == events and est.denominator == persons and est.multiplier == 1 and est.level == level
    assert est.note.endswith(stats.CLUSTERING_NOTE)


def test_mean_per_person_hand_worked_reoffences_per_child():
    # 92 reoffences by a cohort of 191 children: 0.482 per child. Byar, 95%:
    #   lower = 92 × (1 − 1/828 − 1.959964/(3√92))³ = 74.163 → 0.3883 per child
    #   upper = 93 × (1 − 1/837 + 1.959964/(3√93))³ = 112.831 → 0.5907 per child
    est = stats.mean_per_person_estimate(92, 191)
    assert round(est.value, 4) == 0.4817
    assert (round(est.lower, 4), round(est.upper, 4)) == (0.3883, 0.5907)
    per100 = stats.mean_per_person_estimate(92, 191, multiplier=100)
    assert (round(per100.value, 2), round(per100.lower, 2), round(per100.upper, 2)) == (48.17, 38.83, 59.07)
    assert "lower bound on the uncertainty" in est.note and "cluster" in est.note
    # the same interval as a rate with the children as the denominator
    rate = stats.rate_estimate(92, 191, multiplier=1)
    assert (est.lower, est.upper, est.method) == (rate.lower, rate.upper, rate.method)


@pytest.mark.parametrize(
    "args,message",
    [
        ((-1, 10), "events must be >= 0, got -1"),
        ((5, 0), "persons must be > 0, got 0"),
        ((None, 10), "events must be a number, got None"),
        ((5, float("nan")), "persons must be a finite number"),
    ],
)
def test_mean_per_person_estimate_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        stats.mean_per_person_estimate(*args)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("e1,n1,e0,n0", [(120, 191, 90, 180), (92, 191, 160, 200), (0, 50, 6, 45), (3, 20, 0, 25)])
def test_mean_per_person_change_matches_exact_conditional_test(e1, n1, e0, n0):
    ch = stats.mean_per_person_change(e1, n1, e0, n0, polarity="lower_is_better")
    expected = sps.binomtest(e1, e1 + e0, n1 / (n1 + n0)).pvalue
    assert ch.p_value == pytest.approx(expected, abs=1e-12)
    assert ch.p_value == pytest.approx(poisson_2indep(e1, n1, e0, n0, method="exact-cond").pvalue, abs=1e-10)
    assert ch.test == "exact conditional (binomial) test for two Poisson rates"
    assert ch.current == pytest.approx(e1 / n1) and ch.previous == pytest.approx(e0 / n0)
    assert ch.lower <= ch.absolute <= ch.upper
    assert ch.note.endswith(stats.CLUSTERING_NOTE)
    a, b = stats.mean_per_person_estimate(e1, n1), stats.mean_per_person_estimate(e0, n0)
    d = a.value - b.value
    assert ch.lower == pytest.approx(d - math.hypot(a.value - a.lower, b.upper - b.value))
    assert ch.upper == pytest.approx(d + math.hypot(a.upper - a.value, b.value - b.lower))


def test_mean_per_person_change_fields_and_polarity():
    # 0.50 → 0.63 reoffences per child (90/180 → 120/191): a rise, p = 0.112 (not significant at 95%)
    ch = stats.mean_per_person_change(120, 191, 90, 180, polarity="lower_is_better")
    assert ch.direction == "increase" and ch.assessment == "deterioration" and ch.significant is False
    assert round(ch.p_value, 3) == 0.112
    assert ch.unit == "" and ch.relative == pytest.approx((120 / 191) / (90 / 180) - 1)
    assert stats.mean_per_person_change(120, 191, 90, 180, polarity="higher_is_better").assessment == "improvement"
    assert stats.mean_per_person_change(120, 191, 90, 180, polarity="no_judgement").assessment == "no judgement"
    assert stats.mean_per_person_change(120, 191, 90, 180, polarity="lower_is_better", multiplier=100).unit == "per 100"
    big = stats.mean_per_person_change(92, 191, 160, 200, polarity="lower_is_better")
    assert big.direction == "decrease" and big.assessment == "improvement" and big.significant is True
    none = stats.mean_per_person_change(0, 50, 0, 40, polarity="lower_is_better")
    assert none.p_value == 1.0 and none.direction == "no change" and "no events in either period" in none.note


def test_mean_per_person_change_needs_polarity_and_counts():
    with pytest.raises(TypeError):
        stats.mean_per_person_change(120, 191, 90, 180)  # polarity has no default
    with pytest.raises(TypeError):
        stats.mean_per_person_change(120, 191, 90, 180, "lower_is_better")  # keyword-only
    with pytest.raises(ValueError, match="polarity must be one of"):
        stats.mean_per_person_change(120, 191, 90, 180, polarity="down")
    with pytest.raises(ValueError, match="events1 must be a whole number"):
        stats.mean_per_person_change(120.5, 191, 90, 180, polarity="lower_is_better")
    with pytest.raises(ValueError, match="persons0 must be > 0, got 0"):
        stats.mean_per_person_change(120, 191, 90, 0, polarity="lower_is_better")


# --------------------------------------------------------------------------- mean per person: clustering


# A cohort of 191 children: 73 reoffend, committing 267 reoffences between them (1.40 per child).
COHORT = dict(events=267, persons=191, persons_with_events=73)


def test_negative_binomial_dispersion_reproduces_the_share_with_no_event():
    phi = stats.negative_binomial_dispersion(**COHORT)
    mean = 267 / 191
    shape = mean / (phi - 1)  # k = μ/(φ − 1)
    nb = sps.nbinom(shape, shape / (shape + mean))  # scipy's (n, p) with mean μ and shape k
    assert nb.pmf(0) == pytest.approx(1 - 73 / 191, rel=1e-10)  # 118 of 191 with no reoffence
    assert nb.mean() == pytest.approx(mean, rel=1e-12)
    assert nb.var() / nb.mean() == pytest.approx(phi, rel=1e-10)
    assert phi == pytest.approx(6.3785, abs=1e-4)
    # Poisson counts with mean 1.40 would leave e^−1.40 = 25% with none, not 62%


@pytest.mark.parametrize(
    "events,persons,with_events",
    [
        (0, 50, 0),  # no events: nothing to estimate
        (50, 50, 50),  # everyone has exactly one event
        (30, 100, 28),  # 72% with none, fewer than Poisson's e^−0.3 = 74%: no evidence of clustering
        (10, 1000, 10),  # ten children with one event each: 99% with none, Poisson gives 99.005%
    ],
)
def test_negative_binomial_dispersion_is_one_without_clustering(events, persons, with_events):
    assert stats.negative_binomial_dispersion(events, persons, with_events) == 1.0


@settings(max_examples=200, deadline=None)
@given(
    persons=st.integers(min_value=1, max_value=5000),
    share=st.floats(min_value=0.001, max_value=0.999),
    extra=st.floats(min_value=0, max_value=20),
)
def test_negative_binomial_dispersion_solves_its_equation(persons, share, extra):
    with_events = max(1, round(share * persons))
    events = with_events + round(extra * with_events)
    phi = stats.negative_binomial_dispersion(events, persons, with_events)
    assert phi >= 1
    mean, p0 = events / persons, 1 - with_events / persons
    if phi > 1:
        assert math.log(phi) / (phi - 1) == pytest.approx(-math.log(p0) / mean, rel=1e-9)
    else:
        assert p0 == 0 or p0 <= math.exp(-mean) * (1 + 1e-12)


@pytest.mark.parametrize(
    "args,message",
    [
        ((10, 20, 21), "persons_with_events must not exceed persons"),
        ((10, 20, 11), r"persons_with_events must not exceed events \(each has at least one\)"),
        ((10, 20, 0), "persons_with_events must be > 0 when events > 0"),
        ((10, 20, -1), "persons_with_events must be >= 0"),
        ((10, 0, 5), "persons must be > 0"),
    ],
)
def test_negative_binomial_dispersion_rejects_impossible_cohorts(args, message):
    with pytest.raises(ValueError, match=message):
        stats.negative_binomial_dispersion(*args)


@pytest.mark.parametrize("level", LEVELS)
def test_mean_per_person_interval_scaled_for_clustering(level):
    phi = stats.negative_binomial_dispersion(**COHORT)
    est = stats.mean_per_person_estimate(267, 191, level=level, persons_with_events=73)
    # limits of the effective Poisson count 267/φ = 41.9 (Byar), scaled back by φ
    lo, hi = byar_by_hand(267 / phi, z(level))
    assert est.lower == pytest.approx(phi * lo / 191, rel=1e-12) and est.upper == pytest.approx(phi * hi / 191, rel=1e-12)
    assert est.value == pytest.approx(267 / 191)
    assert est.method == "Byar, scaled for overdispersion (negative binomial, φ = 6.4)"
    assert est.note == ("interval allows for events clustering within persons: φ = 6.38, from the share of persons "
                        "with no event (negative binomial)")
    plain = stats.mean_per_person_estimate(267, 191, level=level)
    assert est.lower < plain.lower and est.upper > plain.upper
    if level == 0.95:
        assert (round(plain.lower, 3), round(plain.upper, 3)) == (1.235, 1.576)
        assert (round(est.lower, 3), round(est.upper, 3)) == (1.007, 1.891)


def test_mean_per_person_small_effective_count_uses_exact_limits():
    # 40 events by 30 children, only 6 of whom have any: φ large, effective count below 10 → exact limits
    phi = stats.negative_binomial_dispersion(40, 30, 6)
    est = stats.mean_per_person_estimate(40, 30, persons_with_events=6)
    assert 40 / phi < 10 and est.method.startswith("exact Poisson, scaled for overdispersion")
    lo = sps.chi2.ppf(0.025, 2 * 40 / phi) / 2 * phi / 30
    hi = sps.chi2.ppf(0.975, 2 * 40 / phi + 2) / 2 * phi / 30
    assert est.lower == pytest.approx(lo, rel=1e-12) and est.upper == pytest.approx(hi, rel=1e-12)


def test_mean_per_person_without_clustering_keeps_the_poisson_interval():
    est = stats.mean_per_person_estimate(30, 100, persons_with_events=28)
    plain = stats.mean_per_person_estimate(30, 100)
    assert (est.lower, est.upper, est.method) == (plain.lower, plain.upper, "Byar")
    assert est.note == "no more persons without an event than Poisson counts would give: Poisson interval (φ = 1)"
    zero = stats.mean_per_person_estimate(0, 100, persons_with_events=0)
    assert zero.lower == 0 and zero.upper == pytest.approx(3.6888794541 / 100, rel=1e-9) and zero.method == "exact Poisson"


def test_mean_per_person_interval_coverage_in_simulated_cohorts():
    # 400 simulated cohorts of 191 children, reoffences negative binomial (mean 1.4, shape 0.3: φ = 5.7).
    # The Poisson interval misses the true mean far more often than 5%; the scaled interval about 5%.
    rng = np.random.default_rng(20240614)
    mean, shape, persons = 1.4, 0.3, 191
    hit_poisson = hit_scaled = 0
    for _ in range(400):
        x = rng.negative_binomial(shape, shape / (shape + mean), persons)
        e, r = int(x.sum()), int((x > 0).sum())
        plain = stats.mean_per_person_estimate(e, persons)
        scaled = stats.mean_per_person_estimate(e, persons, persons_with_events=r)
        hit_poisson += plain.lower <= mean <= plain.upper
        hit_scaled += scaled.lower <= mean <= scaled.upper
    assert hit_poisson / 400 < 0.75
    assert 0.92 <= hit_scaled / 400 <= 0.98


def test_mean_per_person_change_allows_for_clustering():
    # 200 reoffences by 180 children (70 reoffenders) → 267 by 191 (73): 1.11 → 1.40 per child.
    poisson = stats.mean_per_person_change(267, 191, 200, 180, polarity="lower_is_better")
    assert poisson.test == "exact conditional (binomial) test for two Poisson rates"
    assert round(poisson.p_value, 4) == 0.0141 and poisson.significant is True  # too ready to call it significant
    ch = stats.mean_per_person_change(267, 191, 200, 180, polarity="lower_is_better",
                                      persons_with_events1=73, persons_with_events0=70)
    phi1, phi0 = stats.negative_binomial_dispersion(267, 191, 73), stats.negative_binomial_dispersion(200, 180, 70)
    pooled = 467 / 371
    zz = (267 / 191 - 200 / 180) / math.sqrt(pooled * (phi1 / 191 + phi0 / 180))
    assert ch.p_value == pytest.approx(2 * sps.norm.sf(abs(zz)), rel=1e-12)
    assert round(ch.p_value, 3) == 0.285 and ch.significant is False
    assert ch.test == "quasi-Poisson z-test (negative binomial dispersion from the share with no event)"
    assert ch.direction == "increase" and ch.assessment == "deterioration"
    a = stats.mean_per_person_estimate(267, 191, persons_with_events=73)
    b = stats.mean_per_person_estimate(200, 180, persons_with_events=70)
    d = a.value - b.value
    assert ch.lower == pytest.approx(d - math.hypot(a.value - a.lower, b.upper - b.value))
    assert ch.upper == pytest.approx(d + math.hypot(a.upper - a.value, b.value - b.lower))
    assert "φ = 6.38 (current), 4.28 (previous)" in ch.note and stats.CLUSTERING_NOTE not in ch.note
    # the test is the z-test whenever either period shows clustering; exact when neither does
    one_sided = stats.mean_per_person_change(30, 100, 200, 180, polarity="lower_is_better",
                                             persons_with_events1=28, persons_with_events0=70)
    assert one_sided.test.startswith("quasi-Poisson z-test")
    neither = stats.mean_per_person_change(30, 100, 25, 100, polarity="lower_is_better",
                                           persons_with_events1=28, persons_with_events0=24)
    assert neither.test == "exact conditional (binomial) test for two Poisson rates"
    assert neither.p_value == pytest.approx(sps.binomtest(30, 55, 0.5).pvalue, abs=1e-12)
    assert "φ = 1.00 (current), 1.00 (previous)" in neither.note


def test_mean_per_person_change_test_size_in_simulated_cohorts():
    # no real change (both periods negative binomial, mean 1.4, shape 0.3): the exact Poisson test
    # rejects far more often than 5%, the quasi-Poisson z-test about 5% of the time
    rng = np.random.default_rng(7)
    mean, shape = 1.4, 0.3
    reject_poisson = reject_quasi = 0
    for _ in range(400):
        x1 = rng.negative_binomial(shape, shape / (shape + mean), 191)
        x0 = rng.negative_binomial(shape, shape / (shape + mean), 180)
        args = (int(x1.sum()), 191, int(x0.sum()), 180)
        reject_poisson += stats.mean_per_person_change(*args, polarity="no_judgement").significant
        reject_quasi += stats.mean_per_person_change(*args, polarity="no_judgement", persons_with_events1=int((x1 > 0).sum()),
                                                     persons_with_events0=int((x0 > 0).sum())).significant
    assert reject_poisson / 400 > 0.25
    assert reject_quasi / 400 < 0.08


def test_mean_per_person_change_needs_both_reoffender_counts():
    with pytest.raises(ValueError, match="persons_with_events1 and persons_with_events0 must be given together"):
        stats.mean_per_person_change(267, 191, 200, 180, polarity="lower_is_better", persons_with_events1=73)
    with pytest.raises(ValueError, match="persons_with_events1 and persons_with_events0 must be given together"):
        stats.mean_per_person_change(267, 191, 200, 180, polarity="lower_is_better", persons_with_events0=70)
    with pytest.raises(ValueError, match="persons_with_events0 must be a whole number"):
        stats.mean_per_person_change(267, 191, 200, 180, polarity="lower_is_better", persons_with_events1=73,
                                     persons_with_events0=70.5)
