"""Confidence intervals, benchmark comparisons, change between periods and trend tests.

The methods are those of the Public Health England / OHID Fingertips technical guidance
("Confidence intervals", "Comparisons with a benchmark", "Trend tests"), written here from the
published formulas:

* proportions: Wilson score interval;
* rates: exact Poisson interval (via the chi-squared distribution) for counts below 10, Byar's
  approximation from 10 upwards;
* a value is "similar" to a benchmark when the benchmark lies inside the value's interval;
* change between two proportions: pooled two-proportion z-test, or Fisher's exact test when an
  expected cell count is below 5; the interval for the difference is Newcombe's hybrid score
  interval (Newcombe 1998, method 10);
* change between two rates: the exact conditional (binomial) test; the interval for the difference
  combines the two rates' own intervals (a normal approximation, Zou & Donner's MOVER);
* trend over at least five annual points: chi-squared test for trend (Cochran–Armitage) for
  proportions, a Poisson log-linear score test for rates.

Numbers in, frozen dataclasses out. Invalid input raises ``ValueError`` naming the argument and the
value; a figure published without its count or denominator goes through
:func:`estimate_without_counts` / :func:`value_change` instead, which say why nothing was tested.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as _sps

POLARITIES = ("lower_is_better", "higher_is_better", "no_judgement")
"""Accepted polarity values: which direction of an indicator is the better one, if any."""

EXACT_POISSON_BELOW = 10
"""Rates with a count below this use the exact Poisson interval; from it upwards, Byar's method."""

MIN_EXPECTED_FOR_Z_TEST = 5
"""Smallest expected cell count at which two proportions are compared with the z-test (else Fisher)."""

MIN_TREND_POINTS = 5
"""Fewest comparable annual points on which a trend is tested (Fingertips uses five)."""

NOT_CALCULATED = "not calculated"
NOT_TESTED = "not tested"


# --------------------------------------------------------------------------- helpers


def _number(name: str, value) -> float:
    """``value`` as a finite float, or ValueError naming ``name``."""
    if value is None or isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(out) or math.isinf(out):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return out


def _count(name: str, value) -> float:
    out = _number(name, value)
    if out < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return out


def _positive(name: str, value) -> float:
    out = _number(name, value)
    if out <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return out


def _whole(name: str, value) -> int:
    out = _count(name, value)
    if out != math.floor(out):
        raise ValueError(f"{name} must be a whole number for a significance test, got {value!r}")
    return int(out)


def _level(level) -> float:
    out = _number("level", level)
    if not 0 < out < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    return out


def _polarity(polarity) -> str:
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {', '.join(POLARITIES)}; got {polarity!r}")
    return polarity


def _missing(value) -> bool:
    """Whether a value is absent: None, NaN or pandas' NA."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pandas.NA has no truth value
        return True


def z_value(level: float) -> float:
    """The two-sided standard normal quantile for a confidence level (1.96 at 95%, 3.09 at 99.8%)."""
    level = _level(level)
    return float(_sps.norm.ppf(1 - (1 - level) / 2))


def significance_level_label(level) -> str:
    """A confidence level as text: 0.95 → "95%", 0.998 → "99.8%"."""
    level = _level(level)
    return f"{round(level * 100, 6):g}%"


def _fmt(x: float) -> str:
    """A number for an explanation: 292, 37.6, 5.43, 0.153 (trailing zeros dropped)."""
    a = abs(x)
    if a >= 100:
        text = f"{x:,.0f}"
    elif a >= 10:
        text = f"{x:,.1f}"
    elif a >= 1:
        text = f"{x:.2f}"
    elif a == 0:
        text = "0"
    else:
        text = f"{x:.3g}"
        return text
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _per(multiplier: float) -> str:
    """Unit words for a multiplier: 100000 → "per 100,000"; "" for 1."""
    if multiplier == 1:
        return ""
    if multiplier == math.floor(multiplier):
        return f"per {multiplier:,.0f}"
    return f"per {multiplier:,g}"


# --------------------------------------------------------------------------- estimates


@dataclass(frozen=True)
class Estimate:
    """A value with its confidence interval, in the indicator's unit (already multiplied)."""

    value: float
    lower: float | None
    upper: float | None
    level: float
    method: str
    count: float | None
    denominator: float | None
    multiplier: float
    note: str = ""

    @property
    def has_interval(self) -> bool:
        """Whether both interval limits are known."""
        return not (_missing(self.lower) or _missing(self.upper))


def wilson_limits(count: float, denominator: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score limits for the proportion count/denominator, as fractions (0 and 1 exact at the ends)."""
    count = _count("count", count)
    denominator = _positive("denominator", denominator)
    if count > denominator:
        raise ValueError(f"count must not exceed denominator, got count {count!r} > denominator {denominator!r}")
    z = z_value(level)
    p = count / denominator
    z2 = z * z
    centre = 2 * count + z2
    spread = z * math.sqrt(z2 + 4 * count * (1 - p))
    scale = 2 * (denominator + z2)
    lower = 0.0 if count == 0 else max(0.0, (centre - spread) / scale)
    upper = 1.0 if count == denominator else min(1.0, (centre + spread) / scale)
    return lower, upper


def proportion_estimate(count, denominator, level: float = 0.95, multiplier: float = 100) -> Estimate:
    """A proportion (count ÷ denominator × multiplier) with its Wilson score interval."""
    count = _count("count", count)
    denominator = _positive("denominator", denominator)
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    lower, upper = wilson_limits(count, denominator, level)
    notes = []
    if count == 0:
        notes.append("zero count: lower limit 0")
    if count == denominator:
        notes.append(f"count equals denominator: upper limit {_fmt(multiplier)}")
    return Estimate(
        value=count / denominator * multiplier,
        lower=lower * multiplier,
        upper=upper * multiplier,
        level=level,
        method="Wilson score",
        count=count,
        denominator=denominator,
        multiplier=multiplier,
        note="; ".join(notes),
    )


def poisson_count_limits(count: float, level: float = 0.95) -> tuple[float, float, str]:
    """Limits for a Poisson count and the method used: exact below 10, Byar's from 10 upwards."""
    count = _count("count", count)
    level = _level(level)
    alpha = 1 - level
    if count < EXACT_POISSON_BELOW:
        lower = 0.0 if count == 0 else float(_sps.chi2.ppf(alpha / 2, 2 * count)) / 2
        upper = float(_sps.chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
        return lower, upper, "exact Poisson"
    z = z_value(level)
    o1 = count + 1
    lower = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    upper = o1 * (1 - 1 / (9 * o1) + z / (3 * math.sqrt(o1))) ** 3
    return lower, upper, "Byar"


def rate_estimate(count, population, level: float = 0.95, multiplier: float = 100000) -> Estimate:
    """A rate (count ÷ population × multiplier) with its interval: exact Poisson for counts below 10, else Byar."""
    count = _count("count", count)
    population = _positive("population", population)
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    lower, upper, method = poisson_count_limits(count, level)
    scale = multiplier / population
    return Estimate(
        value=count * scale,
        lower=lower * scale,
        upper=upper * scale,
        level=level,
        method=method,
        count=count,
        denominator=population,
        multiplier=multiplier,
        note="zero count: lower limit 0" if count == 0 else "",
    )


def estimate_without_counts(
    value, level: float = 0.95, multiplier: float = 1.0, reason: str = "count or denominator not published"
) -> Estimate:
    """A published value with no interval, saying why none was calculated."""
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    return Estimate(
        value=float("nan") if _missing(value) else _number("value", value),
        lower=None,
        upper=None,
        level=level,
        method=NOT_CALCULATED,
        count=None,
        denominator=None,
        multiplier=multiplier,
        note=f"interval not calculated: {reason}",
    )


def derive_count(rate, population, multiplier) -> float:
    """The count implied by a published rate and population (rate × population ÷ multiplier)."""
    rate = _number("rate", rate)
    if rate < 0:
        raise ValueError(f"rate must be >= 0 to derive a count, got {rate!r}")
    population = _positive("population", population)
    multiplier = _positive("multiplier", multiplier)
    return rate * population / multiplier


def derive_population(count, rate, multiplier) -> float:
    """The denominator implied by a published count and rate (count ÷ rate × multiplier)."""
    count = _count("count", count)
    rate = _positive("rate", rate)
    multiplier = _positive("multiplier", multiplier)
    return count / rate * multiplier


# --------------------------------------------------------------------------- benchmark comparison


@dataclass(frozen=True)
class Comparison:
    """How a value compares with a benchmark, at the value's confidence level."""

    result: str
    benchmark_value: float | None
    benchmark_label: str
    level: float
    reason: str


def compare_with_benchmark(estimate: Estimate, benchmark_value, benchmark_label: str, polarity: str) -> Comparison:
    """Better, similar or worse than the benchmark ("higher"/"lower" with no polarity; "not tested" without an interval or a benchmark)."""
    polarity = _polarity(polarity)
    label = benchmark_label
    if _missing(benchmark_value):
        return Comparison(NOT_TESTED, None, label, estimate.level, f"not tested: no {label} value")
    bench = _number("benchmark_value", benchmark_value)
    if not estimate.has_interval:
        why = estimate.note or "no interval"
        return Comparison(NOT_TESTED, bench, label, estimate.level, f"not tested: {why}")
    lo, hi = float(estimate.lower), float(estimate.upper)
    interval = f"the {significance_level_label(estimate.level)} interval {_fmt(lo)}–{_fmt(hi)}"
    if lo <= bench <= hi:
        return Comparison("similar", bench, label, estimate.level, f"{label} value {_fmt(bench)} lies inside {interval}")
    area_lower = hi < bench
    side = "above" if area_lower else "below"
    if polarity == "no_judgement":
        result = "lower" if area_lower else "higher"
        tail = "no judgement of better or worse is made"
    elif polarity == "lower_is_better":
        result = "better" if area_lower else "worse"
        tail = "lower is better"
    else:
        result = "worse" if area_lower else "better"
        tail = "higher is better"
    return Comparison(result, bench, label, estimate.level, f"{label} value {_fmt(bench)} lies outside {interval} ({side} it); {tail}")


# --------------------------------------------------------------------------- change between two periods


@dataclass(frozen=True)
class Change:
    """Change from a previous to a current value, with its test (1 = current, 0 = previous)."""

    current: float
    previous: float
    absolute: float
    relative: float | None
    lower: float | None
    upper: float | None
    level: float
    p_value: float | None
    test: str
    significant: bool | None
    direction: str
    assessment: str
    unit: str
    note: str = ""


def _direction(absolute: float) -> str:
    return "increase" if absolute > 0 else "decrease" if absolute < 0 else "no change"


def _assessment(direction: str, polarity: str) -> str:
    """Improvement/deterioration after polarity; "no judgement" for an indicator without one."""
    if direction == "no change":
        return "no change"
    if polarity == "no_judgement":
        return "no judgement"
    better = "decrease" if polarity == "lower_is_better" else "increase"
    return "improvement" if direction == better else "deterioration"


def _relative(current: float, previous: float) -> float | None:
    return None if previous == 0 else (current - previous) / previous


def _two_proportion_test(c1: int, n1: int, c0: int, n0: int) -> tuple[float, str, str]:
    """p-value, test name and a note: pooled z-test when every expected cell is at least 5, else Fisher's exact."""
    total = n1 + n0
    events = c1 + c0
    non_events = total - events
    expected = [n * e / total for n in (n1, n0) for e in (events, non_events)]
    if min(expected) >= MIN_EXPECTED_FOR_Z_TEST:
        pooled = events / total
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = (c1 / n1 - c0 / n0) / se
        return float(2 * _sps.norm.sf(abs(z))), "two-proportion z-test", ""
    table = [[c1, n1 - c1], [c0, n0 - c0]]
    p = float(_sps.fisher_exact(table, alternative="two-sided").pvalue)
    return p, "Fisher's exact test", f"Fisher's exact test used: an expected cell count is below {MIN_EXPECTED_FOR_Z_TEST}"


def proportion_change(
    count1, n1, count0, n0, *, polarity: str, level: float = 0.95, multiplier: float = 100
) -> Change:
    """Change between two proportions (1 = current, 0 = previous) with its significance test and Newcombe interval."""
    c1, d1 = _whole("count1", count1), _whole("n1", n1)
    c0, d0 = _whole("count0", count0), _whole("n0", n0)
    for name, n in (("n1", d1), ("n0", d0)):
        if n <= 0:
            raise ValueError(f"{name} must be > 0, got {n!r}")
    if c1 > d1:
        raise ValueError(f"count1 must not exceed n1, got count1 {count1!r} > n1 {n1!r}")
    if c0 > d0:
        raise ValueError(f"count0 must not exceed n0, got count0 {count0!r} > n0 {n0!r}")
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    polarity = _polarity(polarity)

    p1, p0 = c1 / d1, c0 / d0
    l1, u1 = wilson_limits(c1, d1, level)
    l0, u0 = wilson_limits(c0, d0, level)
    diff = p1 - p0
    lower = diff - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    upper = diff + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    p_value, test, test_note = _two_proportion_test(c1, d1, c0, d0)
    absolute = diff * multiplier
    direction = _direction(absolute)
    note = "; ".join(x for x in (test_note, "interval for the difference: Newcombe hybrid score interval (method 10)") if x)
    return Change(
        current=p1 * multiplier,
        previous=p0 * multiplier,
        absolute=absolute,
        relative=_relative(p1, p0),
        lower=lower * multiplier,
        upper=upper * multiplier,
        level=level,
        p_value=p_value,
        test=test,
        significant=p_value < 1 - level,
        direction=direction,
        assessment=_assessment(direction, polarity),
        unit="percentage points" if multiplier == 100 else _per(multiplier),
        note=note,
    )


def rate_change(
    count1, pop1, count0, pop0, *, polarity: str, level: float = 0.95, multiplier: float = 100000
) -> Change:
    """Change between two rates (1 = current, 0 = previous) with the exact conditional test and an interval for the difference."""
    c1, c0 = _whole("count1", count1), _whole("count0", count0)
    q1, q0 = _positive("pop1", pop1), _positive("pop0", pop0)
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    polarity = _polarity(polarity)

    r1, r0 = c1 / q1 * multiplier, c0 / q0 * multiplier
    l1, u1, _ = poisson_count_limits(c1, level)
    l0, u0, _ = poisson_count_limits(c0, level)
    l1, u1 = l1 / q1 * multiplier, u1 / q1 * multiplier
    l0, u0 = l0 / q0 * multiplier, u0 / q0 * multiplier
    diff = r1 - r0
    lower = diff - math.sqrt((r1 - l1) ** 2 + (u0 - r0) ** 2)
    upper = diff + math.sqrt((u1 - r1) ** 2 + (r0 - l0) ** 2)
    notes = [
        "interval for the difference: normal approximation combining the two rates' own intervals "
        "(exact Poisson or Byar; method of variance estimates recovery), valid with zero counts"
    ]
    total = c1 + c0
    if total == 0:
        p_value = 1.0
        notes.insert(0, "no events in either period: the exact test has a single outcome, p = 1")
    else:
        p_value = float(_sps.binomtest(c1, total, q1 / (q1 + q0), alternative="two-sided").pvalue)
    direction = _direction(diff)
    return Change(
        current=r1,
        previous=r0,
        absolute=diff,
        relative=_relative(r1, r0),
        lower=lower,
        upper=upper,
        level=level,
        p_value=p_value,
        test="exact conditional (binomial) test for two Poisson rates",
        significant=p_value < 1 - level,
        direction=direction,
        assessment=_assessment(direction, polarity),
        unit=_per(multiplier),
        note="; ".join(notes),
    )


def value_change(
    current, previous, unit: str, *, polarity: str, reason: str = "counts not published", level: float = 0.95
) -> Change:
    """Change between two published values, with no significance test (saying why)."""
    cur = _number("current", current)
    prev = _number("previous", previous)
    polarity = _polarity(polarity)
    level = _level(level)
    absolute = cur - prev
    direction = _direction(absolute)
    return Change(
        current=cur,
        previous=prev,
        absolute=absolute,
        relative=_relative(cur, prev),
        lower=None,
        upper=None,
        level=level,
        p_value=None,
        test=NOT_TESTED,
        significant=None,
        direction=direction,
        assessment=_assessment(direction, polarity),
        unit=unit,
        note=f"significance not tested: {reason}",
    )


# --------------------------------------------------------------------------- trend


@dataclass(frozen=True)
class Trend:
    """Whether a series of annual values is rising or falling, or why that was not tested."""

    status: str
    direction: str | None
    p_value: float | None
    method: str
    n_points: int
    reason: str
    level: float = 0.95


PROPORTION_TREND_METHOD = "chi-squared test for trend (Cochran–Armitage)"
RATE_TREND_METHOD = "Poisson log-linear trend (score test)"


def _trend_inputs(counts, denominators, denominator_name: str, method: str, level: float):
    """Validated (counts, denominators) as floats, or a Trend saying why none can be calculated."""
    counts, denominators = list(counts), list(denominators)
    if len(counts) != len(denominators):
        raise ValueError(
            f"counts and {denominator_name} must have the same length, got {len(counts)} and {len(denominators)}"
        )
    n = len(counts)
    if n < MIN_TREND_POINTS:
        return Trend(
            "cannot be calculated", None, None, method, n,
            f"only {n} comparable annual point{'s' if n != 1 else ''}; at least {MIN_TREND_POINTS} are needed", level,
        )
    if any(_missing(c) for c in counts) or any(_missing(d) for d in denominators):
        return Trend(
            "cannot be calculated", None, None, method, n,
            f"a count or {denominator_name[:-1]} is not published for every point", level,
        )
    cs = [_count(f"counts[{i}]", c) for i, c in enumerate(counts)]
    ds = [_positive(f"{denominator_name}[{i}]", d) for i, d in enumerate(denominators)]
    return cs, ds


def _trend_result(score: float, variance: float, n: int, method: str, level: float) -> Trend:
    z = score / math.sqrt(variance)
    p = float(2 * _sps.norm.sf(abs(z)))
    if p < 1 - level:
        direction = "increasing" if z > 0 else "decreasing"
        reason = f"significant {direction} trend over {n} points (z = {z:.2f}, p = {p:.3g})"
    else:
        direction = "no significant change"
        reason = f"no significant trend over {n} points (z = {z:.2f}, p = {p:.3g})"
    return Trend("calculated", direction, p, method, n, reason, level)


def proportion_trend(counts: Sequence, denominators: Sequence, level: float = 0.95) -> Trend:
    """Trend in a proportion over consecutive annual points (oldest first), by the chi-squared test for trend."""
    level = _level(level)
    checked = _trend_inputs(counts, denominators, "denominators", PROPORTION_TREND_METHOD, level)
    if isinstance(checked, Trend):
        return checked
    cs, ds = checked
    for i, (c, d) in enumerate(zip(cs, ds)):
        if c > d:
            raise ValueError(f"counts[{i}] must not exceed denominators[{i}], got {c!r} > {d!r}")
    n = len(cs)
    total, events = sum(ds), sum(cs)
    pbar = events / total
    if pbar in (0.0, 1.0):
        return Trend(
            "cannot be calculated", None, None, PROPORTION_TREND_METHOD, n,
            f"the proportion is {'0' if pbar == 0 else '100'}% at every point: there is no variation to test", level,
        )
    t = range(n)
    score = sum(ti * (c - d * pbar) for ti, c, d in zip(t, cs, ds))
    s1 = sum(ti * d for ti, d in zip(t, ds))
    s2 = sum(ti * ti * d for ti, d in zip(t, ds))
    variance = pbar * (1 - pbar) * (s2 - s1 * s1 / total)
    return _trend_result(score, variance, n, PROPORTION_TREND_METHOD, level)


def rate_trend(counts: Sequence, populations: Sequence, level: float = 0.95) -> Trend:
    """Trend in a rate over consecutive annual points (oldest first), by a Poisson log-linear score test."""
    level = _level(level)
    checked = _trend_inputs(counts, populations, "populations", RATE_TREND_METHOD, level)
    if isinstance(checked, Trend):
        return checked
    cs, ds = checked
    n = len(cs)
    events, total = sum(cs), sum(ds)
    if events == 0:
        return Trend(
            "cannot be calculated", None, None, RATE_TREND_METHOD, n,
            "the count is 0 at every point: there is no variation to test", level,
        )
    expected = [events * d / total for d in ds]
    t = range(n)
    score = sum(ti * (c - e) for ti, c, e in zip(t, cs, expected))
    s1 = sum(ti * e for ti, e in zip(t, expected))
    s2 = sum(ti * ti * e for ti, e in zip(t, expected))
    variance = s2 - s1 * s1 / events
    return _trend_result(score, variance, n, RATE_TREND_METHOD, level)


def trend_without_counts(n_points: int, reason: str = "counts or denominators not published", level: float = 0.95) -> Trend:
    """A trend that cannot be calculated, saying why."""
    return Trend("cannot be calculated", None, None, NOT_TESTED, int(n_points), reason, _level(level))
