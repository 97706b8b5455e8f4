"""Charts (fast, no build): the indicator chart's time axis, legend, labels, zero and words; the comparison dot plot.

Synthetic ``IndicatorPeriod`` lists drive ``charts.draw_indicator_chart`` (the laid-out Matplotlib figure the
PNG is saved from); artists are found by their gids (``area``, ``benchmark:<kind>``, ``value-label``,
``period-band``) and measured with the Agg renderer, as drawn.
"""

from __future__ import annotations

import dataclasses
import math

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.transforms import Bbox

from pipeline.analysis import stats
from pipeline.analysis.indicators import BenchmarkResult, Definition, IndicatorPeriod
from pipeline.document import charts

RATE = Definition("fte_rate", "First-time entrants per 100,000 of the 10–17 population", "First-time entrants", "rate",
                  "per 100,000", 100000.0, "lower_is_better", "first-time entrants", "10–17 population")
SHARE = Definition("custody_share", "Custodial sentences as a percentage of all court sentences", "Custody share", "proportion",
                   "%", 100.0, "lower_is_better", "custodial sentences", "court sentences")


def bench(comparator: str, label: str, value: float, period_label: str, same: bool = True) -> BenchmarkResult:
    result = "similar" if same else "not tested"
    return BenchmarkResult(label, comparator, value, period_label, same,
                           stats.Comparison(result, value, label, 0.95, ""), "synthetic")


def period(label: str, start: str, end: str, value: float, interval: tuple[float, float] | None = None,
           benchmarks=(), defn: Definition = RATE) -> IndicatorPeriod:
    lower, upper = interval if interval else (None, None)
    est = stats.Estimate(value, lower, upper, 0.95, "synthetic" if interval else "not calculated", None, None, defn.multiplier)
    return IndicatorPeriod(
        definition=defn, period_label=label, period_start=pd.Timestamp(start), period_end=pd.Timestamp(end), value=value,
        estimate=est, numerator=None, denominator=None, numerator_status="", denominator_status="", derivations=(),
        benchmarks=tuple(bench(*b) if isinstance(b, tuple) else b for b in benchmarks), change=None,
        previous_period_label=None, change_note="", published_change=None, source="synthetic",
    )


def uneven_periods() -> list[IndicatorPeriod]:
    """Oct 2014–Sep 2015, then a long gap, then two calendar years back to back (given out of order)."""
    return [
        period("Jan–Dec 2024", "2024-01-01", "2024-12-31", 180.0, (150.0, 210.0),
               [("england", "England", 175.0, "Jan–Dec 2024"), ("region", "South East", 160.0, "Jan–Dec 2024")]),
        period("Oct 2014 – Sep 2015", "2014-10-01", "2015-09-30", 234.0, (194.0, 279.0),
               [("england", "nationally", 376.0, "Oct 2014 – Sep 2015"), ("region", "south east", 324.0, "Oct 2014 – Sep 2015")]),
        period("Jan–Dec 2023", "2023-01-01", "2023-12-31", 200.0, None,
               [("england", "National", 205.0, "Jan–Dec 2023"), ("region", "South East", 200.0, "Jan–Dec 2023"),
                ("thames_valley", "Thames Valley", 199.0, "Jan–Dec 2023")]),
    ]


def _by_gid(fig, prefix: str) -> list:
    ax = fig.axes[0]
    return [a for a in [*ax.lines, *ax.collections, *ax.texts, *ax.patches] if (a.get_gid() or "").startswith(prefix)]


def _area_x(fig) -> np.ndarray:
    (line,) = _by_gid(fig, "area")
    return np.asarray(line.get_xdata(), dtype=float)


def _days(a: str, b: str) -> float:
    return (pd.Timestamp(b) - pd.Timestamp(a)).days


# --------------------------------------------------------------------------- time axis


def test_periods_sit_at_their_dates_with_gaps_in_proportion():
    fig = charts.draw_indicator_chart(uneven_periods(), "Oxfordshire")
    x = _area_x(fig)
    expected = [charts.period_span(p)[1] for p in charts._ordered(uneven_periods())]
    assert x == pytest.approx(expected)
    # midpoints: 1 Apr 2015 (Oct 2014–Sep 2015), 2 Jul 2023, 1 Jul 2024 (to the half day)
    assert mdates.num2date(x[0]).date().isoformat() == "2015-04-01"
    gaps = np.diff(x)
    assert gaps[0] / gaps[1] == pytest.approx(_days("2015-04-01", "2023-07-02") / _days("2023-07-02", "2024-07-01"), rel=0.01)
    assert gaps[0] > 7 * gaps[1]  # not one category step apart
    # benchmarks at their period's date (drawn a few points to the right of the dot)
    for coll in _by_gid(fig, "benchmark:"):
        for bx, _ in coll.get_offsets():
            assert min(abs(bx - m) for m in expected) < 1e-9
    # each period's extent is drawn: one band from its first day to the day after its last
    bands = sorted((b.get_x(), b.get_x() + b.get_width()) for b in _by_gid(fig, "period-band"))
    assert bands[0] == pytest.approx((mdates.date2num(pd.Timestamp("2014-10-01")), mdates.date2num(pd.Timestamp("2015-10-01"))))
    assert bands[1][1] == pytest.approx(bands[2][0])  # 2023 and 2024 meet; 2015 to 2023 is a gap
    lo, hi = fig.axes[0].get_xlim()
    assert lo < bands[0][0] and hi > bands[-1][1]


def test_the_x_axis_is_labelled_with_dates_and_periods():
    fig = charts.draw_indicator_chart(uneven_periods(), "Oxfordshire")
    ax = fig.axes[0]
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    years = [t.get_text() for t in ax.xaxis.get_ticklabels() if t.get_text()]
    assert "2016" in years or "2018" in years or "2020" in years, years
    top = [a for a in ax.child_axes][0]
    labels = [" ".join(t.get_text().split()) for t in top.xaxis.get_ticklabels()]  # wrapped, dates kept whole
    assert labels == ["Oct 2014 – Sep 2015", "Jan–Dec 2023", "Jan–Dec 2024"]


@pytest.mark.parametrize("n", [1, 2, 5, 12])
@pytest.mark.parametrize("long", [False, True])
def test_period_labels_never_overlap(n, long):
    periods = []
    for i in range(n):
        y = 2010 + i
        label = f"{y}-{(y + 1) % 100:02d} cohort (Apr {y} – Mar {y + 1})" if long else f"{y}/{(y + 1) % 100:02d}"
        periods.append(period(label, f"{y}-04-01", f"{y + 1}-03-31", 30.0 + i, (25.0 + i, 35.0 + i),
                              [("england", "England", 33.0, label), ("region", "South East", 31.0, label),
                               ("yot_family", "YOT family", 29.0, label)], defn=SHARE))
    fig = charts.draw_indicator_chart(periods, "Area")
    renderer = fig.canvas.get_renderer()
    top = fig.axes[0].child_axes[0]
    boxes = sorted((t.get_window_extent(renderer) for t in top.xaxis.get_ticklabels() if t.get_text()), key=lambda b: b.x0)
    assert len(boxes) == n
    for a, b in zip(boxes, boxes[1:]):
        assert a.x1 <= b.x0, (a, b)
    for b in boxes:
        assert fig.bbox.x0 <= b.x0 and b.x1 <= fig.bbox.x1 and b.y1 <= fig.bbox.y1
    dates = [t.get_window_extent(renderer) for t in fig.axes[0].xaxis.get_ticklabels() if t.get_text()]
    dates.sort(key=lambda b: b.x0)
    assert all(a.x1 <= b.x0 for a, b in zip(dates, dates[1:]))
    _assert_labels_clear(fig)


# --------------------------------------------------------------------------- legend


def legend_reading(fig) -> list[str]:
    """The legend's entries in reading order (rows top to bottom, each left to right), as drawn."""
    renderer = fig.canvas.get_renderer()
    entries = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.legends[0].get_texts()]
    return [text for text, box in sorted(entries, key=lambda e: (-round(e[1].y0), e[1].x0))]


def test_one_legend_entry_per_comparator_kind_area_first():
    fig = charts.draw_indicator_chart(uneven_periods(), "Oxfordshire")
    texts = legend_reading(fig)
    names = charts.comparator_names(charts._ordered(uneven_periods()))
    assert list(names) == ["england", "region", "police_force_area"]  # kinds: thames_valley is a police force area
    # "nationally" / "National" / "England": one kind, labelled by its normalised name; "south east"/"South East": case only
    assert names == {"england": "England", "region": "South East", "police_force_area": "Thames Valley"}
    assert texts == ["Oxfordshire (95% interval where calculable)", "England", "South East", "Thames Valley"]
    handles = fig.legends[0].legend_handles
    assert len(handles) == 4
    # one marker and one colour per kind, the same in every period
    colls = _by_gid(fig, "benchmark:")
    styles = {}
    for c in colls:
        kind = c.get_gid().split(":", 1)[1]
        styles.setdefault(kind, set()).add(tuple(np.round(c.get_facecolor()[0], 4)))
    assert set(styles) == {"england", "region", "police_force_area"}
    assert all(len(v) == 1 for v in styles.values())
    assert len({next(iter(v)) for v in styles.values()}) == 3


def test_legend_reads_area_first_in_rows():
    periods = [period("2017/18", "2017-04-01", "2018-03-31", 37.6, None,
                      [("region", "South East", 39.7, "2017/18"), ("thames_valley", "Thames Valley", 34.7, "2017/18"),
                       ("yot_family", "YOT family", 40.7, "2017/18"), ("england", "England", 41.9, "2017/18"),
                       ("england_wales", "England and Wales", 38.4, "2017/18")], defn=SHARE)]
    fig = charts.draw_indicator_chart(periods, "Oxfordshire")
    assert legend_reading(fig) == ["Oxfordshire", "England", "England and Wales", "South East", "Thames Valley", "YOT family"]


def test_group_ids_are_grouped_by_their_kind():
    """Benchmarks whose ``comparator`` is a comparator group id (data/comparator_groups.csv) are grouped by the group's kind."""
    pytest.importorskip("pipeline.data.reference")
    if charts.comparator_kind("south_east") != "region":
        pytest.skip("no comparator groups table in this checkout")
    periods = [
        period("2016/17", "2016-04-01", "2017-03-31", 10.0, None,
               [("england", "national", 12.0, "2016/17"), ("south_east", "South East region", 11.0, "2016/17"),
                ("oxfordshire_yjb_family", "YOT family", 9.0, "2016/17")]),
        period("2017/18", "2017-04-01", "2018-03-31", 11.0, None,
               [("england", "England", 12.5, "2017/18"), ("south_east", "south east", 10.0, "2017/18"),
                ("oxfordshire_yjb_family", "YOT family", 9.5, "2017/18")]),
    ]
    names = charts.comparator_names(periods)
    # the labels differ: the group's label (one group) or the kind's name; "YOT family" agrees: the document's label
    assert names == {"england": "England", "region": "South East", "yjb_family": "YOT family"}
    fig = charts.draw_indicator_chart(periods, "Oxfordshire")
    assert sorted({c.get_gid() for c in _by_gid(fig, "benchmark:")}) == ["benchmark:england", "benchmark:region", "benchmark:yjb_family"]
    assert len(fig.legends[0].get_texts()) == 4


def test_document_label_kept_when_the_periods_agree():
    names = charts.comparator_names([
        period("2016/17", "2016-04-01", "2017-03-31", 10.0, None, [("england", "nationally", 12.0, "2016/17")]),
        period("2017/18", "2017-04-01", "2018-03-31", 11.0, None, [("england", "nationally", 12.5, "2017/18"),
                                                                    ("statistical_neighbours", "statistical neighbours", 9.0, "2017/18"),
                                                                    ("england_wales", "England and Wales", 1.0, "2015/16", False)]),
    ])
    assert names == {"england": "National", "statistical_neighbours": "Statistical neighbours"}  # not drawn: not named
    one = [period("2015", "2015-01-01", "2015-12-31", 1.0, None, [("region", "south east", 2.0, "2015")])]
    assert charts.comparator_names(one) == {"region": "South East"}


# --------------------------------------------------------------------------- labels clear of markers


def _marker_boxes(fig) -> list[Bbox]:
    """Display boxes of every dot, error bar and benchmark marker, as drawn."""
    ax = fig.axes[0]
    px = fig.dpi / 72
    boxes = []
    (area,) = _by_gid(fig, "area")
    r = area.get_markersize() / 2 * px
    for x, y in ax.transData.transform(area.get_xydata()):
        boxes.append(Bbox.from_extents(x - r, y - r, x + r, y + r))
    for coll in ax.collections:
        gid = coll.get_gid() or ""
        if gid.startswith("benchmark:"):
            r = math.sqrt(coll.get_sizes()[0]) / 2 * px
            for x, y in coll.get_offset_transform().transform(coll.get_offsets()):
                boxes.append(Bbox.from_extents(x - r, y - r, x + r, y + r))
        elif isinstance(coll, LineCollection):  # the error bars
            for seg in coll.get_segments():
                if len(seg):
                    (x0, y0), (x1, y1) = ax.transData.transform(seg[0]), ax.transData.transform(seg[-1])
                    w = charts.CAP_SIZE * px
                    boxes.append(Bbox.from_extents(min(x0, x1) - w, min(y0, y1), max(x0, x1) + w, max(y0, y1)))
    return boxes


def _assert_labels_clear(fig) -> None:
    renderer = fig.canvas.get_renderer()
    labels = [t.get_window_extent(renderer) for t in _by_gid(fig, "value-label")]
    assert labels
    for box in labels:
        for m in _marker_boxes(fig):
            assert not box.overlaps(m), (box, m)
        assert fig.axes[0].bbox.contains(box.x0, box.y0) and fig.axes[0].bbox.contains(box.x1, box.y1)
    for a, b in zip(labels, labels[1:]):
        assert not a.overlaps(b)


def test_value_labels_clear_of_markers_and_error_bars():
    fig = charts.draw_indicator_chart(uneven_periods(), "Oxfordshire")
    assert [t.get_text() for t in _by_gid(fig, "value-label")] == ["234", "200", "180"]
    _assert_labels_clear(fig)


def test_value_label_moves_away_from_a_crowded_side():
    # benchmarks above, below and at the value, a wide interval: the label still finds a free place
    p = period("2017/18", "2017-04-01", "2018-03-31", 40.0, (20.0, 60.0),
               [("england", "England", 40.0, "2017/18"), ("region", "South East", 41.0, "2017/18"),
                ("england_wales", "England and Wales", 39.0, "2017/18"), ("yot_family", "YOT family", 60.0, "2017/18")], defn=SHARE)
    _assert_labels_clear(charts.draw_indicator_chart([p], "Area"))


# --------------------------------------------------------------------------- zero


def test_a_zero_value_and_a_zero_limit_are_drawn_whole():
    periods = [
        period("2016/17", "2016-04-01", "2017-03-31", 0.0, (0.0, 3.7), [("england", "England", 0.0, "2016/17")], defn=SHARE),
        period("2017/18", "2017-04-01", "2018-03-31", 2.0, (0.0, 9.1), defn=SHARE),
    ]
    fig = charts.draw_indicator_chart(periods, "Area")
    ax = fig.axes[0]
    lo, _ = ax.get_ylim()
    px = fig.dpi / 72
    (area,) = _by_gid(fig, "area")
    zero_y = ax.transData.transform((0, 0))[1]
    # the whole dot (radius) and the cap at 0 lie inside the axes, and nothing that shows data is clipped
    assert lo < 0
    assert zero_y - area.get_markersize() / 2 * px >= ax.bbox.y0 - 0.5
    assert not area.get_clip_on()
    assert all(not c.get_clip_on() for c in _by_gid(fig, "benchmark:"))
    assert any(line.get_ydata()[0] == 0 and line.get_ydata()[-1] == 0 and line.get_xydata().shape[0] == 2 for line in ax.lines)  # axis line at 0
    _assert_labels_clear(fig)


# --------------------------------------------------------------------------- caption and alt text


def test_caption_names_the_comparators_only_when_drawn():
    with_b = charts.indicator_caption(uneven_periods(), "Oxfordshire")
    assert with_b == ("First-time entrants per 100,000 of the 10–17 population, Oxfordshire, by period "
                      "(error bars: 95% interval where the counts allow one), with England, South East and Thames Valley for the same periods")
    alone = [period("2016/17", "2016-04-01", "2017-03-31", 180.0, None, [("england", "England", 1.0, "2015/16", False)])]
    caption = charts.indicator_caption(alone, "Warwickshire")
    assert "comparator" not in caption and " with " not in caption
    assert caption.startswith("First-time entrants per 100,000 of the 10–17 population, Warwickshire, by period (")


def test_alt_text_lists_every_period_and_every_benchmark_drawn():
    alt = charts.indicator_alt(uneven_periods(), "Oxfordshire")
    for text in ("Oct 2014 – Sep 2015 234 per 100,000 (95% interval 194–279)", "Jan–Dec 2023 200 per 100,000",
                 "Jan–Dec 2024 180 per 100,000", "nationally 376 per 100,000", "south east 324 per 100,000",
                 "National 205 per 100,000", "Thames Valley 199 per 100,000", "England 175 per 100,000", "South East 160 per 100,000"):
        assert text in alt, text
    assert alt.index("Oct 2014") < alt.index("Jan–Dec 2023") < alt.index("Jan–Dec 2024")
    alone = charts.indicator_alt([dataclasses.replace(uneven_periods()[0], benchmarks=())], "A")
    assert alone.endswith(". No benchmark for the same period.") and "Jan–Dec 2024 180 per 100,000 (95% interval 150–210)" in alone


def test_indicator_chart_returns_the_figure_record(tmp_path):
    fig = charts.indicator_chart(uneven_periods(), tmp_path / "fig-fte_rate.png", "Oxfordshire")
    assert fig.path.exists() and fig.fig_id == "fig-fte_rate"
    assert fig.caption == charts.indicator_caption(uneven_periods(), "Oxfordshire")
    assert fig.alt == charts.indicator_alt(uneven_periods(), "Oxfordshire")


# --------------------------------------------------------------------------- determinism


def test_same_inputs_same_png_bytes(tmp_path):
    a = charts.indicator_chart(uneven_periods(), tmp_path / "a" / "fig.png", "Oxfordshire")
    b = charts.indicator_chart(list(reversed(uneven_periods())), tmp_path / "b" / "fig.png", "Oxfordshire")
    assert a.path.read_bytes() == b.path.read_bytes()
    rows = _dot_rows()
    c = charts.dot_plot(rows, tmp_path / "c.png", "First-time entrants", "per 100,000", None, "fig-cmp")
    d = charts.dot_plot(rows.copy(), tmp_path / "d.png", "First-time entrants", "per 100,000", None, "fig-cmp")
    assert c.path.read_bytes() == d.path.read_bytes()


# --------------------------------------------------------------------------- comparison dot plot


def _dot_rows(**changes) -> pd.DataFrame:
    rows = pd.DataFrame({
        "area_name": ["Oxfordshire", "Buckinghamshire", "Warwickshire"],
        "value": [201.0, 234.0, 0.0],
        "lower": [None, 194.0, 0.0],
        "upper": [None, 279.0, 12.0],
        "period_label": ["April 2018 to March 2019", "Oct 2014 – Sep 2015", "2017/18"],
        "result": ["not tested", "better", "not tested"],
        "reference": [222.0, 376.0, None],
    })
    for k, v in changes.items():
        rows[k] = v
    return rows


def test_dot_plot_legend_zero_and_labels(tmp_path):
    fig = charts.draw_dot_plot(_dot_rows(), "First-time entrants", "per 100,000", None)
    ax = fig.axes[0]
    texts = legend_reading(fig)
    assert len(texts) == len(set(texts))
    assert texts == ["Better than its same-period benchmark", "Not tested", "95% interval", "Same-period benchmark"]
    assert ax.get_xlim()[0] < 0  # the 0 value and 0 limit of Warwickshire are whole
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72
    labels = [t for t in ax.texts if t.get_gid() == "value-label"]
    assert len(labels) == 3
    marks = []
    for line in ax.lines:
        if line.get_gid() in ("value", "reference"):
            (x, y), = ax.transData.transform(line.get_xydata())
            r = line.get_markersize() / 2 * px
            marks.append(Bbox.from_extents(x - r, y - r, x + r, y + r))
            assert not line.get_clip_on()
    for t in labels:
        box = t.get_window_extent(renderer)
        assert not any(box.overlaps(m) for m in marks)
        assert ax.bbox.contains(box.x0, box.y0) and ax.bbox.contains(box.x1, box.y1)


def test_dot_plot_caption_and_alt(tmp_path):
    fig = charts.dot_plot(_dot_rows(), tmp_path / "f.png", "First-time entrants", "per 100,000", None, "fig-cmp-fte")
    assert "grey ticks" in fig.caption and "95% interval" in fig.caption
    assert "Buckinghamshire 234 (Oct 2014 – Sep 2015), 95% interval 194–279, same-period benchmark 376, better" in fig.alt
    plain = charts.dot_plot(_dot_rows(reference=[None, None, None], result="not tested"), tmp_path / "g.png",
                            "First-time entrants", "per 100,000", None, "fig-cmp-fte")
    assert "tick" not in plain.caption and plain.caption.endswith("; no area has a same-period benchmark")
    texts = [t.get_text() for t in charts.draw_dot_plot(_dot_rows(reference=[None, None, None], result="not tested"),
                                                        "x", "per 100,000", None).legends[0].get_texts()]
    assert "Same-period benchmark" not in texts
    given = charts.dot_plot(_dot_rows(), tmp_path / "h.png", "First-time entrants", "per 100,000", None, "fig-x", "A caption")
    assert given.caption == "A caption"
