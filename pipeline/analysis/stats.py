"""Confidence intervals, benchmark comparisons, change between periods and trend tests.

The methods are those of the Public Health England / OHID Fingertips technical guidance
("Confidence intervals", "Comparisons with a benchmark", "Trend tests"; APHO Technical Briefing 3,
*Commonly used public health statistics and their confidence intervals*, Eayres 2008) and of the
PHEindicatormethods R package, written here from the published formulas:

* proportions: Wilson score interval (Wilson 1927);
* rates: exact Poisson interval (via the chi-squared distribution) for counts below 10, Byar's
  approximation from 10 upwards (Breslow & Day 1987);
* mean events per person (e.g. reoffences per child in a cohort): the same Poisson interval on the
  event count, divided by the number of persons — a lower bound on the uncertainty, as events
  cluster within persons — or, when the number of persons with at least one event is known, the
  interval scaled for the negative binomial dispersion that number implies (see
  :func:`mean_per_person_estimate`);
* a value is "similar" to a benchmark when the benchmark lies inside the value's interval;
* change between two proportions: pooled two-proportion z-test, or Fisher's exact test when an
  expected cell count is below 5; the interval for the difference is Newcombe's hybrid score
  interval (Newcombe 1998, method 10);
* change between two rates (or two means per person): the exact conditional (binomial) test — for
  means per person with a dispersion estimate, a quasi-Poisson z-test; the interval for the
  difference combines the two rates' own intervals (Zou & Donner's MOVER);
* trend over at least five annual points: the chi-squared test for trend (Cochran–Armitage) for
  proportions, a Poisson log-linear score test for rates — each the score test of a trend model
  (logistic / log-linear in time) that is fitted to check its own fit. When the fitted model is
  overdispersed (Pearson X² against χ²(n − 2) at the 5% level) the test statistic is divided by the
  dispersion φ = X²/(n − 2) and referred to F(1, n − 2): the quasi-binomial / quasi-Poisson test
  (Wedderburn 1974; McCullagh & Nelder 1989, ch. 9).

Every estimate, change and trend takes a confidence ``level``; Fingertips shows two,
:data:`CONTROL_LEVELS` (95% and 99.8%, the latter the statistical-process-control limit of about
three standard errors).

Numbers in, frozen dataclasses out. Invalid input raises ``ValueError`` naming the argument and the
value; a figure published without its count or denominator goes through
:func:`estimate_without_counts` / :func:`value_change` instead, which say why nothing was tested.

References
----------
* Albert A, Anderson JA. On the existence of maximum likelihood estimates in logistic regression
  models. Biometrika 1984;71:1–10.
* Anscombe FJ. Sampling theory of the negative binomial and logarithmic series distributions.
  Biometrika 1950;37:358–382 (estimating the shape from the proportion of zeros).
* Armitage P. Tests for linear trends in proportions and frequencies. Biometrics 1955;11:375–386.
* Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II: The Design and Analysis of
  Cohort Studies. Lyon: IARC; 1987 (Byar's approximation; exact Poisson limits; tests for trend).
* Cochran WG. Some methods for strengthening the common χ² tests. Biometrics 1954;10:417–451.
* Eayres D. Commonly used public health statistics and their confidence intervals. APHO Technical
  Briefing 3; 2008 (the "Confidence intervals" chapter of the PHE/OHID Technical Guide).
* Flowers J. Statistical process control methods in public health intelligence. APHO Technical
  Briefing 2; 2007 (99.8% control limits).
* McCullagh P, Nelder JA. Generalized Linear Models, 2nd ed. London: Chapman & Hall; 1989
  (Pearson estimate of the dispersion; ch. 9, quasi-likelihood).
* Newcombe RG. Interval estimation for the difference between independent proportions: comparison
  of eleven methods. Stat Med 1998;17:873–890.
* Przyborowski J, Wileński H. Homogeneity of results in testing samples from Poisson series.
  Biometrika 1940;31:313–323 (the exact conditional test for two Poisson counts).
* Wedderburn RWM. Quasi-likelihood functions, generalized linear models, and the Gauss–Newton
  method. Biometrika 1974;61:439–447.
* Wilson EB. Probable inference, the law of succession, and statistical inference. J Am Stat Assoc
  1927;22:209–212.
* Zou GY, Donner A. Construction of confidence limits about effect measures: a general approach.
  Stat Med 2008;27:1693–1702.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize as _spo
from scipy import special as _special
from scipy import stats as _sps

POLARITIES = ("lower_is_better", "higher_is_better", "no_judgement")
"""Accepted polarity values: which direction of an indicator is the better one, if any."""

CONTROL_LEVELS = (0.95, 0.998)
"""The two confidence levels Fingertips shows: 95%, and 99.8% (z = 3.09, about three standard errors:
the control limit of statistical process control, APHO Technical Briefing 2). Pass either as ``level``."""

EXACT_POISSON_BELOW = 10
"""Rates with a count below this use the exact Poisson interval; from it upwards, Byar's method."""

MIN_EXPECTED_FOR_Z_TEST = 5
"""Smallest expected cell count at which two proportions are compared with the z-test (else Fisher)."""

MIN_TREND_POINTS = 5
"""Fewest comparable annual points on which a trend is tested (Fingertips uses five)."""

OVERDISPERSION_TEST_LEVEL = 0.05
"""Significance level of the goodness-of-fit test that decides whether a trend test is scaled for
overdispersion (Pearson X² of the fitted trend model against χ²(n − 2), upper tail). It is fixed, not
tied to the trend's ``level``: it checks the model, and a 99.8% trend test needs the model no less."""

NOT_CALCULATED = "not calculated"
NOT_TESTED = "not tested"

CLUSTERING_NOTE = (
    "Poisson model for the event count: events cluster within persons (some have many), so the "
    "interval is a lower bound on the uncertainty (and a p-value too small)"
)
"""Note on a mean-per-person estimate or change made without the number of persons with an event, whose
interval and test then assume Poisson counts (see :func:`mean_per_person_estimate`)."""


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
    """The two-sided standard normal quantile for a confidence level: z = Φ⁻¹(1 − (1 − level)/2).

    1.959964 at 95%, 3.090232 at 99.8% (:data:`CONTROL_LEVELS`).
    """
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
    """Wilson score limits for the proportion O/n, as fractions.

    With p = O/n, q = 1 − p and z = :func:`z_value` (level) (Wilson 1927; Eayres 2008)::

        limits = (2O + z² ∓ z·√(z² + 4Oq)) / (2(n + z²))

    The lower limit is exactly 0 when O = 0 and the upper exactly 1 when O = n, so a zero count has
    an interval (0 to z²/(n + z²)), never "not calculated". Counts need not be whole (PHEindicatormethods
    accepts 0.445 of 1).
    """
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
    """A proportion O/n × multiplier with its Wilson score interval (:func:`wilson_limits`).

    A count of 0 gives the interval 0 to z²/(n + z²) × multiplier; a count equal to the denominator,
    1 − z²/(n + z²) to multiplier. Reference: Wilson 1927; PHE Technical Guide, "Confidence intervals".
    """
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
    """Limits for a Poisson count O and the method used: exact below 10, Byar's from 10 upwards.

    With α = 1 − level (Breslow & Day 1987; Eayres 2008)::

        exact:  lower = χ²(α/2; 2O) / 2          (0 when O = 0)
                upper = χ²(1 − α/2; 2O + 2) / 2  (−ln(α/2) when O = 0: 3.689 at 95%, 6.215 at 99.8%)
        Byar:   lower = O (1 − 1/(9O) − z/(3√O))³
                upper = (O + 1) (1 − 1/(9(O + 1)) + z/(3√(O + 1)))³

    χ²(p; k) is the p-quantile of chi-squared on k degrees of freedom, z = :func:`z_value` (level).
    """
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


def _scaled_count_limits(count: float, phi: float, level: float) -> tuple[float, float, str]:
    """Limits for a count whose variance is φ × its mean: φ × the Poisson limits of count/φ.

    count/φ has variance equal to its mean (an "effective" Poisson count), so its Poisson limits,
    scaled back by φ, have the width the extra variation calls for; φ = 1 gives the Poisson limits.
    """
    lower, upper, method = poisson_count_limits(count / phi, level)
    return lower * phi, upper * phi, method


def _poisson_estimate(count: float, denominator: float, level: float, multiplier: float, phi: float = 1.0,
                      note: str = "") -> Estimate:
    lower, upper, method = _scaled_count_limits(count, phi, level)
    if phi > 1:
        method = f"{method}, scaled for overdispersion (negative binomial, φ = {phi:.1f})"
    scale = multiplier / denominator
    notes = ["zero count: lower limit 0"] if count == 0 else []
    return Estimate(
        value=count * scale,
        lower=lower * scale,
        upper=upper * scale,
        level=level,
        method=method,
        count=count,
        denominator=denominator,
        multiplier=multiplier,
        note="; ".join(notes + ([note] if note else [])),
    )


def rate_estimate(count, population, level: float = 0.95, multiplier: float = 100000) -> Estimate:
    """A rate O/P × multiplier with the Poisson interval on O (:func:`poisson_count_limits`) divided by P.

    Exact Poisson for counts below 10, Byar's approximation from 10 upwards, as Fingertips and
    PHEindicatormethods ``phe_rate``. A count of 0 gives the exact interval 0 to −ln(α/2)/P × multiplier
    (3.689/60,000 × 100,000 = 6.15 per 100,000 at 95%). Reference: Breslow & Day 1987; Eayres 2008.
    """
    count = _count("count", count)
    population = _positive("population", population)
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    return _poisson_estimate(count, population, level, multiplier)


def negative_binomial_dispersion(events, persons, persons_with_events) -> float:
    """The variance-to-mean ratio φ of events per person implied by the share of persons with none.

    If each person's count of events is negative binomial with mean μ and shape k (the usual model
    for counts of offences, which cluster: Anscombe 1950), the share with no event is
    p₀ = (1 + μ/k)^(−k) and the variance is μ + μ²/k, so φ = 1 + μ/k. With μ = E/N and p₀ = 1 − R/N
    (E events, N persons, R persons with at least one event), substituting k = μ/(φ − 1) gives::

        log(φ)/(φ − 1) = −log(p₀)/μ

    whose left side falls from 1 to 0 as φ rises from 1, so it has one root φ > 1 when the right side
    is below 1 — that is, when more persons have no event than Poisson counts (p₀ = e^(−μ)) would
    give. Otherwise (no excess of persons without events, E = 0, or R = N) φ = 1: the data show no
    clustering, and φ is never used to narrow an interval. This is the zero-class moment estimator of
    the negative binomial shape (Anscombe 1950), solved by Brent's method to 1e-12.

    It needs the three published figures for the same cohort (MoJ proven reoffending: offenders,
    reoffenders and reoffences). Under the negative binomial it is consistent; when the excess of
    children without a reoffence comes from a group who never reoffend (zero inflation) it
    overstates φ (conservative); when a few children have far more reoffences than a negative
    binomial allows it understates φ, so an interval built on it can still be too narrow.
    """
    events = _count("events", events)
    persons = _positive("persons", persons)
    with_events = _count("persons_with_events", persons_with_events)
    if with_events > persons:
        raise ValueError(f"persons_with_events must not exceed persons, got {persons_with_events!r} > {persons!r}")
    if with_events > events:
        raise ValueError(
            f"persons_with_events must not exceed events (each has at least one), got {persons_with_events!r} > {events!r}"
        )
    if events > 0 and with_events == 0:
        raise ValueError(f"persons_with_events must be > 0 when events > 0, got {persons_with_events!r}")
    if events == 0 or with_events == persons:
        return 1.0
    ratio = -math.log1p(-with_events / persons) / (events / persons)
    if ratio >= 1:
        return 1.0
    # log(1 + x)/x = ratio for x = φ − 1; the root lies between 1 − ratio (where the left side is
    # above (1 + ratio)/2 > ratio) and 4/ratio² (where it is below 1/√x ≤ ratio/2).
    x = _spo.brentq(lambda v: math.log1p(v) / v - ratio, 1 - ratio, 4 / ratio**2, xtol=1e-14, rtol=1e-12)
    return 1 + float(x)


def _dispersion_note(phi: float) -> str:
    if phi > 1:
        return (f"interval allows for events clustering within persons: φ = {phi:.2f}, from the share of persons "
                "with no event (negative binomial)")
    return "no more persons without an event than Poisson counts would give: Poisson interval (φ = 1)"


def mean_per_person_estimate(
    events, persons, level: float = 0.95, multiplier: float = 1, *, persons_with_events=None
) -> Estimate:
    """Mean number of events per person, E/N × multiplier, with a Poisson (or overdispersed Poisson) interval.

    For example reoffending frequency: reoffences committed by a cohort of children ÷ children in the
    cohort (the Ministry of Justice's "average number of reoffences per offender")::

        value = E/N × m;   limits = L(E)/N × m  to  U(E)/N × m

    with L, U the Poisson limits for the count E of :func:`poisson_count_limits` (exact below 10,
    Byar from 10 upwards; Breslow & Day 1987) — the rate of :func:`rate_estimate` with persons as the
    exposure. Zero events give the exact interval 0 to −ln(α/2)/N × m.

    Why Poisson rather than normal: only totals are published (reoffences, children), not the spread
    of reoffences between children, so the t interval of a mean (mean ± t·s/√N, PHEindicatormethods
    ``phe_mean``) cannot be calculated; and a youth justice cohort has tens of reoffences, where a
    symmetric normal interval misplaces the skewed uncertainty of a small count and can fall below 0.

    Caveat: the Poisson model treats every event as independent, but reoffences cluster within
    children — a few commit many — so the variance of E exceeds its mean and the true interval is
    wider: without ``persons_with_events`` the interval is a lower bound on the uncertainty, and the
    note says so (:data:`CLUSTERING_NOTE`). (In simulated cohorts of 191 children with 1.4 reoffences
    each and negative binomial shape 0.3 — φ = 5.7 — the nominal 95% Poisson interval covers the true
    mean only about 61% of the time.)

    With ``persons_with_events`` (R, the children with at least one reoffence — the MoJ's
    "reoffenders" for the same cohort) the clustering is estimated: φ = :func:`negative_binomial_dispersion`
    (E, N, R), and the limits are those of the effective Poisson count E/φ scaled back::

        limits = φ·L(E/φ)/N × m  to  φ·U(E/φ)/N × m

    (quasi-Poisson: Var(E) = φ·E(E); McCullagh & Nelder 1989 ch. 9). With φ = 1 this is the Poisson
    interval. In the simulation above it covers about 95%. Use the whole cohort as ``persons``: the
    MoJ's "per reoffender" figure counts only children with a reoffence, so E ≥ N by construction and
    neither model holds.
    """
    events = _count("events", events)
    persons = _positive("persons", persons)
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    if persons_with_events is None:
        return _poisson_estimate(events, persons, level, multiplier, note=CLUSTERING_NOTE)
    phi = negative_binomial_dispersion(events, persons, persons_with_events)
    return _poisson_estimate(events, persons, level, multiplier, phi, _dispersion_note(phi))


def estimate_without_counts(
    value, level: float = 0.95, multiplier: float = 1.0, reason: str = "count or denominator not published"
) -> Estimate:
    """A published value with no interval, saying why none was calculated.

    Only for a value published without its count or denominator: a count of 0 is an estimate with
    an exact interval (:func:`proportion_estimate`, :func:`rate_estimate`), never this.
    """
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
    """Better, similar or worse than the benchmark, by whether the benchmark lies in the value's interval.

    Fingertips' rule ("Comparisons with a benchmark"): similar when lower ≤ benchmark ≤ upper (limits
    inclusive); otherwise better or worse according to ``polarity`` ("higher"/"lower" for
    ``no_judgement``). The level is the estimate's own (95% or 99.8%, :data:`CONTROL_LEVELS`).
    "not tested" without an interval or a benchmark.
    """
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


def change_direction(absolute: float) -> str:
    """"increase", "decrease" or "no change" of a difference (current − previous)."""
    return "increase" if absolute > 0 else "decrease" if absolute < 0 else "no change"


def change_assessment(direction: str, polarity: str) -> str:
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
    """Change between two proportions p₁ = O₁/n₁ and p₀ = O₀/n₀ (1 = current, 0 = previous).

    Test: pooled two-proportion z-test, z = (p₁ − p₀)/√(p̄(1 − p̄)(1/n₁ + 1/n₀)) with p̄ = (O₁ + O₀)/(n₁ + n₀),
    when every expected cell of the 2×2 table is at least 5; otherwise Fisher's exact test (two-sided).
    Interval for D = p₁ − p₀: Newcombe's hybrid score interval (1998, method 10) from the Wilson limits
    (l, u) of each proportion at ``level``::

        D − √((p₁ − l₁)² + (u₀ − p₀)²)   to   D + √((u₁ − p₁)² + (p₀ − l₀)²)

    Significant when p < 1 − level (so at 99.8%, p < 0.002). ``polarity`` is required and keyword-only.
    """
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
    direction = change_direction(absolute)
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
        assessment=change_assessment(direction, polarity),
        unit="percentage points" if multiplier == 100 else _per(multiplier),
        note=note,
    )


def _poisson_change(c1: int, q1: float, c0: int, q0: float, polarity: str, level: float, multiplier: float,
                    phi1: float = 1.0, phi0: float = 1.0, extra_note: str = "") -> Change:
    """Change between two (possibly overdispersed) Poisson counts over their denominators, with its test and MOVER interval."""
    r1, r0 = c1 / q1 * multiplier, c0 / q0 * multiplier
    l1, u1, _ = _scaled_count_limits(c1, phi1, level)
    l0, u0, _ = _scaled_count_limits(c0, phi0, level)
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
    if phi1 > 1 or phi0 > 1:
        pooled = total / (q1 + q0)
        z = (c1 / q1 - c0 / q0) / math.sqrt(pooled * (phi1 / q1 + phi0 / q0))
        p_value = float(2 * _sps.norm.sf(abs(z)))
        test = "quasi-Poisson z-test (negative binomial dispersion from the share with no event)"
    elif total == 0:
        p_value = 1.0
        test = "exact conditional (binomial) test for two Poisson rates"
        notes.insert(0, "no events in either period: the exact test has a single outcome, p = 1")
    else:
        p_value = float(_sps.binomtest(c1, total, q1 / (q1 + q0), alternative="two-sided").pvalue)
        test = "exact conditional (binomial) test for two Poisson rates"
    if extra_note:
        notes.append(extra_note)
    direction = change_direction(diff)
    return Change(
        current=r1,
        previous=r0,
        absolute=diff,
        relative=_relative(r1, r0),
        lower=lower,
        upper=upper,
        level=level,
        p_value=p_value,
        test=test,
        significant=p_value < 1 - level,
        direction=direction,
        assessment=change_assessment(direction, polarity),
        unit=_per(multiplier),
        note="; ".join(notes),
    )


def rate_change(
    count1, pop1, count0, pop0, *, polarity: str, level: float = 0.95, multiplier: float = 100000
) -> Change:
    """Change between two rates r₁ = O₁/P₁ and r₀ = O₀/P₀ (1 = current, 0 = previous).

    Test: the exact conditional test for two Poisson counts (Przyborowski & Wileński 1940): given
    O₁ + O₀, O₁ is binomial with probability P₁/(P₁ + P₀) under equal rates; two-sided binomial p
    (p = 1 when both counts are 0). Interval for D = r₁ − r₀: each rate's own Poisson limits (l, u) of
    :func:`poisson_count_limits` combined by the method of variance estimates recovery (Zou & Donner 2008)::

        D − √((r₁ − l₁)² + (u₀ − r₀)²)   to   D + √((u₁ − r₁)² + (r₀ − l₀)²)

    which stays valid with a zero count. Significant when p < 1 − level. ``polarity`` is required.
    """
    c1, c0 = _whole("count1", count1), _whole("count0", count0)
    q1, q0 = _positive("pop1", pop1), _positive("pop0", pop0)
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    polarity = _polarity(polarity)
    return _poisson_change(c1, q1, c0, q0, polarity, level, multiplier)


def mean_per_person_change(
    events1, persons1, events0, persons0, *, polarity: str, level: float = 0.95, multiplier: float = 1,
    persons_with_events1=None, persons_with_events0=None,
) -> Change:
    """Change between two means per person m₁ = E₁/N₁ and m₀ = E₀/N₀ (1 = current, 0 = previous), e.g. reoffences per child.

    Without the numbers of persons with an event, the event counts are compared as Poisson counts
    over their person denominators, exactly as :func:`rate_change`: the exact conditional (binomial)
    test, E₁ ~ Binomial(E₁ + E₀, N₁/(N₁ + N₀)) under no change, and the MOVER interval from each
    period's :func:`mean_per_person_estimate` limits. Reoffences cluster within children, so this
    test is too ready to call a change significant (in simulated cohorts of about 190 children with
    φ = 5.7 it rejects a true "no change" about 40% of the time at 5%) and its interval too narrow:
    the note says so (:data:`CLUSTERING_NOTE`).

    With ``persons_with_events1`` and ``persons_with_events0`` (the reoffenders of each cohort) each
    period's dispersion φᵢ = :func:`negative_binomial_dispersion` (Eᵢ, Nᵢ, Rᵢ) is estimated; when
    either exceeds 1 the test is the quasi-Poisson score-type z-test under a common mean
    m̂ = (E₁ + E₀)/(N₁ + N₀)::

        z = (m₁ − m₀) / √(m̂ (φ₁/N₁ + φ₀/N₀)),   p = 2(1 − Φ(|z|))

    (normal reference: each φᵢ is estimated from a whole cohort of persons, not from a handful of
    points), and the MOVER interval uses the overdispersion-scaled limits of
    :func:`mean_per_person_estimate`. In the simulation above it rejects about 5% of the time. When
    both φᵢ are 1 the exact conditional test is kept. ``polarity`` is required and keyword-only.
    """
    c1, c0 = _whole("events1", events1), _whole("events0", events0)
    q1, q0 = _positive("persons1", persons1), _positive("persons0", persons0)
    level = _level(level)
    multiplier = _positive("multiplier", multiplier)
    polarity = _polarity(polarity)
    if persons_with_events1 is None and persons_with_events0 is None:
        return _poisson_change(c1, q1, c0, q0, polarity, level, multiplier, extra_note=CLUSTERING_NOTE)
    if persons_with_events1 is None or persons_with_events0 is None:
        raise ValueError("persons_with_events1 and persons_with_events0 must be given together (or neither)")
    phi1 = negative_binomial_dispersion(c1, q1, _whole("persons_with_events1", persons_with_events1))
    phi0 = negative_binomial_dispersion(c0, q0, _whole("persons_with_events0", persons_with_events0))
    note = (f"dispersion from the share of persons with no event (negative binomial): φ = {phi1:.2f} (current), "
            f"{phi0:.2f} (previous)")
    return _poisson_change(c1, q1, c0, q0, polarity, level, multiplier, phi1, phi0, note)


def value_change(
    current, previous, unit: str, *, polarity: str, reason: str = "counts not published", level: float = 0.95
) -> Change:
    """Change between two published values, with no significance test (saying why)."""
    cur = _number("current", current)
    prev = _number("previous", previous)
    polarity = _polarity(polarity)
    level = _level(level)
    absolute = cur - prev
    direction = change_direction(absolute)
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
        assessment=change_assessment(direction, polarity),
        unit=unit,
        note=f"significance not tested: {reason}",
    )


# --------------------------------------------------------------------------- trend


@dataclass(frozen=True)
class Trend:
    """Whether a series of annual values is rising or falling, or why that was not tested.

    ``dispersion`` is the Pearson dispersion φ = X²/(n − 2) of the fitted trend model and
    ``dispersion_p_value`` its goodness-of-fit p-value (X² against χ²(n − 2)); both None when not
    assessed. ``scaled`` says whether the test was scaled for overdispersion (quasi-likelihood), in
    which case ``p_value`` is the scaled p-value and ``unscaled_p_value`` the one the Poisson or
    binomial model alone would give (equal to ``p_value`` when not scaled).
    """

    status: str
    direction: str | None
    p_value: float | None
    method: str
    n_points: int
    reason: str
    level: float = 0.95
    dispersion: float | None = None
    dispersion_p_value: float | None = None
    scaled: bool = False
    unscaled_p_value: float | None = None


PROPORTION_TREND_METHOD = "chi-squared test for trend (Cochran–Armitage)"
RATE_TREND_METHOD = "Poisson log-linear trend (score test)"
PROPORTION_TREND_SCALED_METHOD = (
    "chi-squared test for trend (Cochran–Armitage), scaled for overdispersion (quasi-binomial, φ = {phi:.1f})"
)
RATE_TREND_SCALED_METHOD = "Poisson log-linear trend, scaled for overdispersion (quasi-Poisson, φ = {phi:.1f})"

_FIT_MAX_ITERATIONS = 100
_FIT_TOLERANCE = 1e-10


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


def _fit_trend_model(family: str, counts: Sequence[float], sizes: Sequence[float]):
    """Residuals (observed − fitted) and variances of the fitted trend model, or None if Newton–Raphson does not converge.

    ``family`` "poisson": log μₜ = log Pₜ + a + b·t (population offset), variance μₜ;
    ``family`` "binomial": logit(πₜ) = a + b·t, μₜ = nₜπₜ, variance nₜπₜ(1 − πₜ); t centred on 0.
    Newton–Raphson from the no-trend fit (for these canonical links the same as Fisher scoring / IRLS,
    and the log-likelihood is concave), halving any step that lowers the log-likelihood; converged
    when no coefficient moves by more than 1e-10. The caller checks first that a finite maximum exists.
    """
    y = np.asarray(counts, dtype=float)
    d = np.asarray(sizes, dtype=float)
    n = len(y)
    t = np.arange(n, dtype=float) - (n - 1) / 2
    design = np.column_stack([np.ones(n), t])
    rate = y.sum() / d.sum()
    poisson = family == "poisson"
    beta = np.array([math.log(rate) if poisson else math.log(rate / (1 - rate)), 0.0])

    def moments(b):
        """Residuals y − μ and variances at coefficients b (binomial: 1 − π and y − μ without cancellation)."""
        eta = design @ b
        if poisson:
            mu = d * np.exp(eta)
            return y - mu, mu
        pi, rest = _special.expit(eta), _special.expit(-eta)
        return np.where(pi <= 0.5, y - d * pi, d * rest - (d - y)), d * pi * rest

    def loglik(b):
        eta = design @ b
        return float(np.sum(y * eta - (d * np.exp(eta) if poisson else d * np.logaddexp(0, eta))))

    with np.errstate(over="ignore"):
        current = loglik(beta)
        for _ in range(_FIT_MAX_ITERATIONS):
            resid, var = moments(beta)
            step = np.linalg.solve((design.T * var) @ design, design.T @ resid)
            trial = loglik(beta + step)
            while trial < current:  # step halving; ends at the latest when the step underflows to 0
                step = step / 2
                trial = loglik(beta + step)
            beta, current = beta + step, trial
            if np.max(np.abs(step)) < _FIT_TOLERANCE:
                return moments(beta)
    return None


def _finite_fit_reason(family: str, cs: Sequence[float], ds: Sequence[float]) -> str:
    """Why the trend model has no finite maximum-likelihood fit, or "" when it has one.

    Poisson: none when every event falls in the first year, or every event in the last (the fitted
    slope runs to ∓∞). Binomial: none when the series is separated — every year with an event comes
    no earlier (or no later) than every year with a non-event (Albert & Anderson 1984).
    """
    n = len(cs)
    if family == "poisson":
        years = [t for t, c in enumerate(cs) if c > 0]
        if years == [0] or years == [n - 1]:
            return "every event falls in the " + ("first" if years == [0] else "last") + " year"
        return ""
    events = [t for t, c in enumerate(cs) if c > 0]
    non_events = [t for t, (c, d) in enumerate(zip(cs, ds)) if c < d]
    if max(non_events) <= min(events) or max(events) <= min(non_events):
        return "the years with events and the years without them do not overlap (separation)"
    return ""


def _trend_result(
    family: str, cs: Sequence[float], ds: Sequence[float], score: float, variance: float, level: float,
    scale_for_overdispersion: bool,
) -> Trend:
    """The score test, checked for overdispersion against the fitted trend model and scaled if needed."""
    n = len(cs)
    df = n - 2
    model, quasi = ("Poisson log-linear", "quasi-Poisson") if family == "poisson" else ("logistic", "quasi-binomial")
    method = RATE_TREND_METHOD if family == "poisson" else PROPORTION_TREND_METHOD
    z = score / math.sqrt(variance)
    unscaled_p = float(2 * _sps.norm.sf(abs(z)))
    p, stat_text = unscaled_p, f"z = {z:.2f}, p = {unscaled_p:.3g}"
    phi = p_disp = None
    scaled = False
    no_fit = _finite_fit_reason(family, cs, ds)
    fitted = None if no_fit else _fit_trend_model(family, cs, ds)
    if no_fit:
        disp_text = f"overdispersion not assessed: the {model} trend model has no finite fit ({no_fit})"
    elif fitted is None:
        disp_text = f"overdispersion not assessed: the {model} trend model did not converge"
    else:
        resid, var = fitted
        # a term with variance 0 (fitted proportion 0 or 1 to machine precision) is fitted exactly: it adds 0
        x2 = float(np.sum(np.divide(resid**2, var, out=np.zeros_like(var), where=var > 0)))
        phi, p_disp = x2 / df, float(_sps.chi2.sf(x2, df))
        fit_text = f"Pearson X² = {x2:.1f} on {df} df, p = {p_disp:.3g}; φ = {phi:.2f}"
        if p_disp >= OVERDISPERSION_TEST_LEVEL:
            disp_text = f"no evidence of overdispersion ({fit_text})"
        elif scale_for_overdispersion:
            scaled = True
            t_stat = z / math.sqrt(phi)
            p = float(2 * _sps.t.sf(abs(t_stat), df))
            stat_text = f"{quasi} score test t = {t_stat:.2f} on {df} df, p = {p:.3g}; unscaled z = {z:.2f}, p = {unscaled_p:.3g}"
            disp_text = (
                f"the {model} trend model is overdispersed ({fit_text}), so the score statistic is divided by φ "
                f"and referred to F(1, {df})"
            )
            method = (RATE_TREND_SCALED_METHOD if family == "poisson" else PROPORTION_TREND_SCALED_METHOD).format(phi=phi)
        else:
            disp_text = (
                f"the {model} trend model is overdispersed ({fit_text}) but the test is not scaled "
                "(scale_for_overdispersion=False): its p-value is too small"
            )
    if p < 1 - level:
        direction = "increasing" if z > 0 else "decreasing"
        verdict = f"significant {direction} trend over {n} points"
    else:
        direction = "no significant change"
        verdict = f"no significant trend over {n} points"
    return Trend(
        "calculated", direction, p, method, n, f"{verdict} ({stat_text}); {disp_text}", level,
        dispersion=phi, dispersion_p_value=p_disp, scaled=scaled, unscaled_p_value=unscaled_p,
    )


def _scale_flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"scale_for_overdispersion must be True or False, got {value!r}")
    return value


def proportion_trend(
    counts: Sequence, denominators: Sequence, level: float = 0.95, *, scale_for_overdispersion: bool = True
) -> Trend:
    """Trend in a proportion over consecutive annual points (oldest first): the chi-squared test for trend.

    Cochran–Armitage (Cochran 1954; Armitage 1955), the score test of b = 0 in the logistic trend
    model logit(πₜ) = a + b·t, with t = 0, 1, …, n − 1, p̄ = ΣOₜ/Σnₜ and N = Σnₜ::

        T = Σ t(Oₜ − nₜp̄),   V = p̄(1 − p̄)(Σ nₜt² − (Σ nₜt)²/N),   z = T/√V,   p = 2(1 − Φ(|z|))

    Overdispersion: the logistic trend model is fitted (:func:`_fit_trend_model`) and its Pearson
    X² = Σ (Oₜ − nₜπ̂ₜ)²/(nₜπ̂ₜ(1 − π̂ₜ)) compared with χ²(n − 2). When that test rejects at
    :data:`OVERDISPERSION_TEST_LEVEL` (5%), the year-to-year variation exceeds binomial variation and
    the test is scaled (quasi-binomial; Wedderburn 1974, McCullagh & Nelder 1989 ch. 9)::

        φ = X²/(n − 2),   F = z²/φ  on F(1, n − 2)   (equivalently t = z/√φ on n − 2 df)

    The F (t) reference, not the normal, because φ is estimated from only n − 2 (three or four)
    degrees of freedom; treating it as known would understate the uncertainty — the F test is the one
    recommended for quasi-likelihood fits with a moment-estimated dispersion (R's ``anova.glm``
    documentation; McCullagh & Nelder 1989). φ is never used to narrow a test (no scaling when the
    goodness-of-fit test does not reject, which includes every φ < 1). ``scale_for_overdispersion=False``
    gives the unscaled Fingertips test, still reporting φ. The X² goodness-of-fit test has little power
    with five or six points and is approximate when expected counts are small.

    Significant when p < 1 − level.
    """
    level = _level(level)
    scale_for_overdispersion = _scale_flag(scale_for_overdispersion)
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
    return _trend_result("binomial", cs, ds, score, variance, level, scale_for_overdispersion)


def rate_trend(
    counts: Sequence, populations: Sequence, level: float = 0.95, *, scale_for_overdispersion: bool = True
) -> Trend:
    """Trend in a rate over consecutive annual points (oldest first): a Poisson log-linear score test.

    The score test of b = 0 in the model log μₜ = log Pₜ + a + b·t (Breslow & Day 1987), with
    t = 0, 1, …, n − 1, E = ΣOₜ and the no-trend expected counts eₜ = E·Pₜ/ΣP::

        U = Σ t(Oₜ − eₜ),   V = Σ t²eₜ − (Σ t·eₜ)²/E,   z = U/√V,   p = 2(1 − Φ(|z|))

    Overdispersion: the log-linear trend model is fitted (:func:`_fit_trend_model`) and its Pearson
    X² = Σ (Oₜ − μ̂ₜ)²/μ̂ₜ compared with χ²(n − 2). When that test rejects at
    :data:`OVERDISPERSION_TEST_LEVEL` (5%) the counts vary more than Poisson counts can (a real series
    of first-time entrants typically does: numbers move with local policy and practice, not only by
    chance) and the test is scaled (quasi-Poisson; Wedderburn 1974, McCullagh & Nelder 1989 ch. 9)::

        φ = X²/(n − 2),   F = z²/φ  on F(1, n − 2)   (equivalently t = z/√φ on n − 2 df)

    F (t) rather than normal because φ is estimated on only n − 2 degrees of freedom (see
    :func:`proportion_trend`); φ is never used to narrow a test. ``scale_for_overdispersion=False``
    gives the unscaled Fingertips test, still reporting φ. The method text says when the test was
    scaled, e.g. "Poisson log-linear trend, scaled for overdispersion (quasi-Poisson, φ = 5.1)".

    Significant when p < 1 − level.
    """
    level = _level(level)
    scale_for_overdispersion = _scale_flag(scale_for_overdispersion)
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
    return _trend_result("poisson", cs, ds, score, variance, level, scale_for_overdispersion)


def trend_without_counts(n_points: int, reason: str = "counts or denominators not published", level: float = 0.95) -> Trend:
    """A trend that cannot be calculated, saying why."""
    return Trend("cannot be calculated", None, None, NOT_TESTED, int(n_points), reason, _level(level))
