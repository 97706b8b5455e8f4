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
