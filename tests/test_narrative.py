"""Sentences written from data: direction, polarity, significance and honesty about what was not tested."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.document import narrative
from pipeline.analysis.indicators import area_indicators
from pipeline.data.loaders import read_raw_table, table_path

DEFS = read_raw_table(table_path("indicator_definitions")).drop(columns=["_line"])


def row(indicator_id: str, period: str, start: str, end: str, value: float, comparator: str = "area", label: str = "Testshire",
        numerator: float | None = None, denominator: float | None = None, published_change: float | None = None) -> dict:
    return {
        "area_id": "testshire", "indicator_id": indicator_id, "comparator": comparator, "comparator_label": label,
        "period_label": period, "period_start": pd.Timestamp(start), "period_end": pd.Timestamp(end), "value": value,
        "numerator": numerator, "denominator": denominator,
        "numerator_status": "published" if numerator is not None else None,
        "denominator_status": "published" if denominator is not None else None,
        "published_change": published_change, "note": "", "source_document": "test.txt", "source_section": "1",
    }


def indicators(rows: list[dict]):
    frame = pd.DataFrame(rows)
    for col in ("value", "numerator", "denominator", "published_change"):
        frame[col] = pd.to_numeric(frame[col])
    return area_indicators(frame, DEFS)


def latest(rows: list[dict]):
    return indicators(rows)[0]


def test_rise_in_reoffending_is_a_deterioration_in_percentage_points():
    ip = latest([
        row("reoffending_rate", "Jul 14 – Jun 15 cohort", "2014-07-01", "2015-06-30", 36.1),
        row("reoffending_rate", "Jul 15 – Jun 16 cohort", "2015-07-01", "2016-06-30", 37.6, published_change=1.6),
    ])
    text = narrative.describe_change(ip)
    assert text.startswith("The reoffending rate rose from 36.1% (Jul 14 – Jun 15 cohort) to 37.6% (Jul 15 – Jun 16 cohort)")
    assert "a deterioration of 1.5 percentage points" in text and "since lower is better" in text
    # No cohort sizes: significance is not claimed either way, and the reason is given once.
    assert "was not tested: cohort sizes not published for both periods." in text
    assert "not tested: significance not tested" not in text
    # The published change (1.6) disagrees with the difference of the printed rates (1.5): both shown.
    assert "printed the change as 1.6%" in text and "is 1.5" in text


def test_fall_in_first_time_entrants_is_an_improvement():
    ip = latest([
        row("fte_rate", "2016/17", "2016-04-01", "2017-03-31", 180),
        row("fte_rate", "2017/18", "2017-04-01", "2018-03-31", 125),
    ])
    text = narrative.describe_change(ip)
    assert "fell from 180 per 100,000 (2016/17) to 125 per 100,000 (2017/18): an improvement of 55 per 100,000" in text
    assert text.startswith("The first-time entrant rate fell")


def test_significant_and_not_significant_changes_are_said_plainly():
    big = latest([
        row("custody_share", "2016/17", "2016-04-01", "2017-03-31", 5.0, numerator=50, denominator=1000),
        row("custody_share", "2017/18", "2017-04-01", "2018-03-31", 10.0, numerator=100, denominator=1000),
    ])
    text = narrative.describe_change(big)
    assert "a deterioration of 5 percentage points on the counts" in text
    assert "The change is statistically significant" in text and "p = <0.001" in text
    small = latest([
        row("remand_share", "2016/17", "2016-04-01", "2017-03-31", 9, numerator=6, denominator=68),
        row("remand_share", "2017/18", "2017-04-01", "2018-03-31", 16, numerator=12, denominator=77),
    ])
    text = narrative.describe_change(small)
    # Published (rounded) values are quoted; the amount is computed from the counts.
    assert "rose from 9% (2016/17) to 16% (2017/18): a deterioration of 6.8 percentage points on the counts" in text
    assert "not statistically significant" in text and "within what chance alone could produce" in text


def test_no_previous_period_says_so():
    ip = latest([row("fte_rate", "2017/18", "2017-04-01", "2018-03-31", 125)])
    assert narrative.describe_change(ip) == "No change is reported: no earlier comparable period is published."


@pytest.mark.parametrize(
    "bench_value, expected",
    [(292, "is significantly better than national"), (263, "is statistically similar to national"), (150, "is significantly worse than national")],
)
def test_benchmark_sentences_follow_polarity(bench_value, expected):
    ip = latest([
        row("fte_rate", "Jan–Dec 2017", "2017-01-01", "2017-12-31", 240, numerator=145),
        row("fte_rate", "Jan–Dec 2017", "2017-01-01", "2017-12-31", bench_value, comparator="england", label="national"),
    ])
    # 145 events: Byar's interval 203–282 per 100,000 on the derived population.
    text = narrative.describe_benchmark(ip, ip.benchmarks[0])
    assert expected in text


def test_benchmark_without_counts_or_for_another_period_is_not_tested():
    ip = latest([
        row("reoffending_rate", "2017/18", "2017-04-01", "2018-03-31", 29.9),
        row("reoffending_rate", "2017/18", "2017-04-01", "2018-03-31", 38.4, comparator="england_wales", label="England and Wales"),
    ])
    text = narrative.describe_benchmark(ip, ip.benchmarks[0])
    assert text == ("Against England and Wales (38.4%, 2017/18): not tested — interval not calculated: count and denominator "
                    "not published.")
    other = latest([
        row("remand_share", "2017/18", "2017-04-01", "2018-03-31", 16, numerator=12, denominator=77),
        row("remand_share", "2015/16", "2015-04-01", "2016-03-31", 9, comparator="england", label="national"),
    ])
    text = narrative.describe_benchmark(other, other.benchmarks[0])
    assert "not tested — not like for like: the national figure is for 2015/16, the area's for 2017/18" in text


def test_headline_labels_derived_figures_and_small_numbers():
    ip = latest([row("custody_rate", "2017/18", "2017-04-01", "2018-03-31", 0.15, numerator=9)])
    text = narrative.headline(ip)
    assert "**0.15 per 1,000** in 2017/18 (9 custodial sentences of 60,000 10–17 population, derived)" in text
    assert "(exact Poisson)" in text
    assert ip.small_numbers


def test_sentence_name_keeps_acronyms():
    class D:
        short_name = "FTE rate"

    assert narrative.sentence_name(D) == "FTE rate"
    D.short_name = "Reoffending rate"
    assert narrative.sentence_name(D) == "reoffending rate"


def test_trend_needs_five_comparable_annual_points_with_counts():
    from pipeline.analysis.indicators import indicator_trend

    two = indicators([
        row("fte_rate", "2016/17", "2016-04-01", "2017-03-31", 180),
        row("fte_rate", "2017/18", "2017-04-01", "2018-03-31", 125),
    ])
    assert narrative.describe_trend(indicator_trend(two)) == (
        "Trend: cannot be calculated — only 2 comparable annual points; at least 5 are needed.")
    years = [(f"20{y}/{y + 1}", f"20{y}-04-01", f"20{y + 1}-03-31") for y in range(13, 18)]
    falling = indicators([row("custody_share", label, s, e, c / 4, numerator=c, denominator=400)
                          for (label, s, e), c in zip(years, [60, 50, 40, 30, 20])])
    assert narrative.describe_trend(indicator_trend(falling)).startswith(
        "Trend: significantly decreasing over 5 annual points (chi-squared test for trend (Cochran–Armitage)")
    no_counts = indicators([row("reoffending_rate", label, s, e, 30.0) for label, s, e in years])
    assert narrative.describe_trend(indicator_trend(no_counts)) == (
        "Trend: cannot be calculated — a count or denominator is not published for every point.")
    gap = indicators([row("custody_share", label, s, e, 5.0, numerator=20, denominator=400)
                      for label, s, e in years[:2] + years[3:]])
    assert "only 2 comparable annual points" in narrative.describe_trend(indicator_trend(gap))


def test_trend_sentence_says_when_scaled_for_overdispersion_and_the_998_level():
    """The issue's six-year FTE series: the Poisson test alone says p < 0.001; scaled for overdispersion
    (φ ≈ 5.1) it is p ≈ 0.011, significant at 95% but not at 99.8%, and the sentence says all of that."""
    from pipeline.analysis import stats
    from pipeline.document.narrative import describe_trend

    trend = stats.rate_trend([77, 91, 44, 20, 14, 17], [60100, 60300, 60500, 60800, 61000, 61300])
    text = describe_trend(trend)
    assert "significantly decreasing" in text and "p = 0.011" in text
    assert "It is not significant at the 99.8% level" in text
    assert "dispersion φ = 5.1" in text and "unscaled it would give p = <0.001" in text
    strong = describe_trend(stats.rate_trend([200, 180, 160, 140, 120, 100], [60000] * 6))
    assert "It is significant at the 99.8% level" in strong and "dispersion" not in strong
