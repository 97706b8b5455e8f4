"""Seaborn charts for the plans, readable in print, each saved as PNG with alt text.

Every chart function writes one PNG and returns a ``Figure`` record (path, caption, alt text); the
Markdown for it comes from ``Figure.markdown()``. ``draw_indicator_chart`` and ``draw_dot_plot`` return
the laid-out Matplotlib figure itself (for tests): the indicator chart has a time axis (each period a band
from its first to its last day, its value at the midpoint), one legend entry per comparator kind, value
labels placed clear of every marker and bar (measured with the Agg renderer), and 0 drawn whole.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.colors
import matplotlib.dates as mdates
import matplotlib.ticker
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as _MplFigure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox, offset_copy

from ..analysis.indicators import IndicatorPeriod, fmt_number, fmt_value, interval_text, number_or_none
from ..analysis.inspection import BAND_THRESHOLDS
from ..errors import DataFileError
from .markdown import join_and

#: Colours and short labels of the inspection bands drawn on the key-question chart.
BAND_COLOURS = {"Requires improvement": "#c0392b", "Good": "#d4a017", "Outstanding": "#1f77b4"}
BAND_SHORT = {"Requires improvement": "RI"}

DPI = 150
PALETTE = {"area": "#1b4f72", "benchmark": "#7f7f7f"}
MARKERS = ["s", "D", "^", "v", "P", "X", "*"]
RESULT_COLOURS = {"better": "#1f77b4", "similar": "#d4a017", "worse": "#c0392b", "not tested": "#7f7f7f"}


@dataclass(frozen=True)
class Figure:
    path: Path
    fig_id: str
    caption: str
    alt: str

    def markdown(self, relative_to: Path | None = None) -> str:
        target = self.path.relative_to(relative_to) if relative_to else self.path
        from .markdown import md_escape  # captions and alt text hold data fields (area names...)

        alt = " ".join(self.alt.replace('"', "'").replace("\\", "/").split())
        return f'![{md_escape(self.caption)}]({target.as_posix()}){{#{self.fig_id} fig-alt="{alt}"}}'


def _style() -> None:
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.15)
    matplotlib.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titleweight": "bold", "svg.fonttype": "none"})


def _subplots(figsize: tuple[float, float]):
    """A figure and its axes, drawn off screen without pyplot (no backend chosen, no global figure list)."""
    fig = _MplFigure(figsize=figsize)
    return fig, fig.subplots()


def _title(fig, text: str) -> None:
    """A left-aligned figure title wrapped to the figure's width (never cut off at the edge)."""
    width = int(fig.get_figwidth() * 11)
    fig.suptitle(textwrap.fill(text, width), x=0.01, ha="left", fontsize=11, fontweight="bold")


def _wrap_labels(labels, width: int = 30) -> list[str]:
    return [textwrap.fill(str(label), width) for label in labels]


def _save(fig, path: Path, layout: bool = True) -> None:
    """Write the PNG; ``layout=False`` for a figure laid out already (its positions measured and final)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout:
        fig.tight_layout()
    # A fixed timestamp-free PNG: identical inputs give identical bytes.
    fig.savefig(path, format="png", metadata={"Software": None})


# --------------------------------------------------------------------------- indicator chart: a time axis

#: Comparator kinds in legend order (``comparator_groups.csv`` ``kind``): a readable name, a marker and a colour
#: each (Okabe-Ito colours, distinct from the area's dark blue; the marker tells them apart in grey print too).
COMPARATOR_KINDS: dict[str, tuple[str, str, str]] = {
    "england": ("England", "s", "#4d4d4d"),
    "england_wales": ("England and Wales", "D", "#e69f00"),
    "region": ("Region", "^", "#009e73"),
    "police_force_area": ("Police force area", "v", "#cc79a7"),
    "yjb_family": ("YJB family", "P", "#d55e00"),
    "statistical_neighbours": ("Statistical neighbours", "X", "#56b4e9"),
    "other": ("Other comparator", "*", "#8c564b"),
}
#: Older names of kinds (a ``comparator`` written as a kind rather than a group id).
KIND_ALIASES = {"thames_valley": "police_force_area", "yot_family": "yjb_family"}
#: Markers and colours of comparator kinds not listed above, in order of first appearance.
SPARE_STYLES = [("h", "#7f7f7f"), ("<", "#bcbd22"), (">", "#17becf"), ("p", "#9467bd"), ("d", "#8c8c00")]
#: Document labels that are not names ("nationally"): the name a legend shows instead.
_LABEL_WORDS = {"nationally": "National"}
#: Kinds whose document label is a place name (capitalised in a legend even when the prose writes it in lower case).
_PLACE_KINDS = {"england", "england_wales", "region", "police_force_area"}


def _group(comparator: str) -> dict | None:
    """The comparator group's row (``data/comparator_groups.csv``: ``label``, ``kind``), None if not a known group."""
    try:
        from ..data.reference import comparator_group
    except ImportError:  # a checkout without the comparator groups table
        return None
    try:
        return comparator_group(comparator)
    except (DataFileError, OSError):
        return None


def comparator_kind(comparator: str) -> str:
    """The kind of a benchmark's ``comparator``: its group's kind for a group id (``south_east`` -> ``region``),
    else the value itself read as a kind (``region``; ``thames_valley`` -> ``police_force_area``)."""
    row = _group(comparator)
    kind = str(row["kind"]) if row and row.get("kind") else str(comparator)
    return KIND_ALIASES.get(kind, kind)


AREA_MARKER_SIZE = 9  # points (diameter)
BENCHMARK_MARKER_AREA = 50  # points² (scatter ``s``)
CAP_SIZE = 5  # points (half the cap's width)
LABEL_SIZE = 9
PERIOD_LABEL_SIZE = 8.5
MIN_AXES_HEIGHT = 2.3  # inches: the figure grows when upright period labels would leave the data less


@dataclass(frozen=True)
class _Sizes:
    """Marker sizes in points, smaller when periods are close together (many periods on one axis)."""

    scale: float

    @property
    def area_r(self) -> float:
        return AREA_MARKER_SIZE * self.scale / 2

    @property
    def bench_area(self) -> float:
        return BENCHMARK_MARKER_AREA * self.scale**2

    @property
    def bench_r(self) -> float:
        return math.sqrt(self.bench_area) / 2

    @property
    def cap(self) -> float:
        return max(3.0, CAP_SIZE * self.scale)


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _drawn(p: IndicatorPeriod):
    """The benchmarks drawn for a period: those of the same period, with a value."""
    return [b for b in p.benchmarks if b.same_period and not _is_missing(b.value)]


def _kind_order(periods: list[IndicatorPeriod]) -> list[str]:
    seen: list[str] = []
    for p in periods:
        for b in _drawn(p):
            if comparator_kind(b.comparator) not in seen:
                seen.append(comparator_kind(b.comparator))
    known = [k for k in COMPARATOR_KINDS if k in seen]
    return known + [k for k in seen if k not in COMPARATOR_KINDS]


def _kind_name(kind: str, benchmarks: list) -> str:
    """The name of a kind's one legend entry: the document's label when every period names it the same way (case
    aside); else the group's label when all are one known group (``South East``); else the kind's name."""
    cleaned = [" ".join(str(b.label).split()) for b in benchmarks if str(b.label).strip()]
    if cleaned and len({c.casefold() for c in cleaned}) == 1:
        label = next((c for c in cleaned if c[:1].isupper()), cleaned[0])
        if kind in _PLACE_KINDS and label.islower():
            label = label.title()  # a place written in lower case in the prose: 'south east' -> 'South East'
        label = label[:1].upper() + label[1:]
        return _LABEL_WORDS.get(label.casefold(), label)
    groups = {b.comparator for b in benchmarks}
    row = _group(next(iter(groups))) if len(groups) == 1 else None
    if row and row.get("label"):
        return str(row["label"])
    return COMPARATOR_KINDS.get(kind, (kind.replace("_", " ").capitalize(),))[0]


def comparator_names(periods: list[IndicatorPeriod]) -> dict[str, str]:
    """Comparator kind -> the name its one legend entry shows, in legend order (benchmarks drawn only)."""
    found: dict[str, list] = {}
    for p in periods:
        for b in _drawn(p):
            found.setdefault(comparator_kind(b.comparator), []).append(b)
    return {kind: _kind_name(kind, found[kind]) for kind in _kind_order(periods)}


def comparator_styles(kinds: list[str]) -> dict[str, tuple[str, str]]:
    """Comparator kind -> (marker, colour): fixed for the known kinds, spare styles in order for the others."""
    spare = iter(SPARE_STYLES * (len(kinds) // len(SPARE_STYLES) + 1))
    return {k: COMPARATOR_KINDS[k][1:] if k in COMPARATOR_KINDS else next(spare) for k in kinds}


def period_span(p: IndicatorPeriod) -> tuple[float, float, float]:
    """(start, midpoint, end) of a period as Matplotlib date numbers; ``period_end`` is the period's last day."""
    start = pd.Timestamp(p.period_start).normalize()
    end = pd.Timestamp(p.period_end).normalize() + pd.Timedelta(days=1)
    x0, x1 = mdates.date2num(start.to_pydatetime()), mdates.date2num(end.to_pydatetime())
    return x0, (x0 + x1) / 2, x1


def _ordered(periods: list[IndicatorPeriod]) -> list[IndicatorPeriod]:
    return sorted(periods, key=lambda p: (pd.Timestamp(p.period_end), pd.Timestamp(p.period_start), p.period_label))


def _renderer(fig):
    return fig.canvas.get_renderer()


def _points_to_pixels(fig, points: float) -> float:
    return points * fig.dpi / 72.0


def _overlap(a, b) -> float:
    """Area (pixels²) shared by two display boxes."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


_NBSP = "\u00a0"
_MONTH_YEAR = re.compile(r"\b([A-Z][a-z]{2,8}) (\d{2,4})\b")


def _wrap_period(label: str, width: int) -> str:
    """A period label wrapped to ``width`` without splitting a date ('Apr 2013') or a hyphenated year ('2013-14')."""
    text = _MONTH_YEAR.sub(rf"\1{_NBSP}\2", " ".join(str(label).split()))
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join(lines)


def _boxes_overlap(boxes, margin: float = 1.0) -> bool:
    boxes = sorted(boxes, key=lambda b: b.x0)
    return any(boxes[i].x1 + margin > boxes[i + 1].x0 for i in range(len(boxes) - 1))


def _fit_period_labels(fig, top, mids: list[float], labels: list[str]) -> None:
    """Period labels over their periods, wrapped or turned upright (and smaller) until no two overlap."""
    attempts = [(0, w, PERIOD_LABEL_SIZE) for w in (30, 22, 16, 12)]
    attempts += [(90, w, size) for size in (PERIOD_LABEL_SIZE, 7.5, 6.5) for w in (16, 22, 28, 40)]
    fig_box = fig.bbox
    for rotation, width, size in attempts:
        top.set_xticks(mids, labels=[_wrap_period(label, width) for label in labels])
        for t in top.xaxis.get_ticklabels():
            t.set_rotation(rotation)
            t.set_fontsize(size)
            t.set_horizontalalignment("center")
            t.set_verticalalignment("bottom")
            t.set_multialignment("center" if rotation == 0 else "left")
        fig.draw_without_rendering()
        boxes = [t.get_window_extent(_renderer(fig)) for t in top.xaxis.get_ticklabels() if t.get_text()]
        inside = all(b.x0 >= fig_box.x0 and b.x1 <= fig_box.x1 for b in boxes)
        if inside and not _boxes_overlap(boxes, margin=_points_to_pixels(fig, 2)):
            return


def _legend_below(fig, handles: list, labels: list[str]) -> None:
    """A legend under the axes whose entries read left to right, row by row, in the order given."""
    ncol = 1 if len(handles) == 1 else (2 if len(handles) in (2, 4) else 3)
    rows = math.ceil(len(handles) / ncol)
    order = [r * ncol + c for c in range(ncol) for r in range(rows) if r * ncol + c < len(handles)]  # Matplotlib fills columns first
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="outside lower center", ncol=ncol,
               fontsize=8, frameon=False)


def draw_indicator_chart(periods: list[IndicatorPeriod], area_name: str) -> _MplFigure:
    """The indicator chart as a Matplotlib figure, laid out and ready to save (``indicator_chart`` saves it).

    The x axis is time: each period is a shaded band from its first to its last day, its value a dot at the
    band's midpoint with its 95% interval; benchmarks of the same period sit just right of the dot, one marker
    and colour per comparator kind. Artists carry gids for tests: ``area`` (the dots), ``benchmark:<kind>``,
    ``value-label``, ``period-band``.
    """
    _style()
    defn = periods[0].definition
    ordered = _ordered(periods)
    spans = [period_span(p) for p in ordered]
    mids = [m for _, m, _ in spans]
    names = comparator_names(ordered)
    styles = comparator_styles(list(names))

    first, last = min(s for s, _, _ in spans), max(e for _, _, e in spans)
    pad = max(0.05 * (last - first), 30.0)
    gaps = [b - a for a, b in zip(mids, mids[1:])]
    # the closest two periods, in points across an axes about 6.2 inches wide: markers shrink below 60 points
    closest = min(gaps) / (last - first + 2 * pad) * 6.2 * 72 if gaps else 72.0
    sizes = _Sizes(min(1.0, max(0.72, closest / 60)))

    fig = _MplFigure(figsize=(7.2, 4.8), layout="constrained")
    FigureCanvasAgg(fig)  # an Agg canvas of this figure only: text extents are measured before saving
    ax = fig.subplots()
    band = (*matplotlib.colors.to_rgb(PALETTE["area"]), 0.08)
    for x0, _, x1 in spans:
        # over the grid (seen through it), edged in white: two periods that meet still show as two
        ax.axvspan(x0, x1, facecolor=band, edgecolor="white", linewidth=2, zorder=0.6, gid="period-band")

    values = [p.value for p in ordered]
    has_interval = [p.estimate.has_interval for p in ordered]
    nan = float("nan")
    below = [max(p.value - p.estimate.lower, 0.0) if h else nan for p, h in zip(ordered, has_interval)]
    above = [max(p.estimate.upper - p.value, 0.0) if h else nan for p, h in zip(ordered, has_interval)]
    area_label = f"{area_name} (95% interval where calculable)" if any(has_interval) else area_name
    area = ax.errorbar(
        mids, values, yerr=[below, above] if any(has_interval) else None, fmt="o", color=PALETTE["area"],
        ecolor=PALETTE["area"], elinewidth=2 * sizes.scale, capsize=sizes.cap, capthick=1.5 * sizes.scale,
        markersize=2 * sizes.area_r, zorder=4,
    )
    area[0].set_gid("area")
    for artist in area.get_children():
        artist.set_clip_on(False)  # a dot or a limit at the axis' edge is drawn whole

    ys = values + [p.estimate.lower for p, h in zip(ordered, has_interval) if h] + [p.estimate.upper for p, h in zip(ordered, has_interval) if h]
    ys += [b.value for p in ordered for b in _drawn(p)]
    low, high = min(0.0, min(ys)), max(0.0, max(ys))
    span = (high - low) or 1.0
    ax.set_ylim(low - 0.05 * span, high + 0.2 * span)  # a little below 0: a 0 value or limit is drawn whole
    ax.axhline(0, color="#444444", linewidth=0.9, zorder=1)
    ax.set_ylabel(defn.unit if defn.unit != "%" else "per cent")

    ax.set_xlim(first - pad, last + pad)
    locator = mdates.AutoDateLocator(minticks=2, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=True))
    ax.tick_params(axis="x", labelsize=9)
    top = ax.secondary_xaxis("top")
    top.tick_params(axis="x", length=3, pad=2)

    handles = [area] + [
        Line2D([], [], linestyle="none", marker=styles[k][0], color=styles[k][1], markersize=7) for k in names
    ]
    _legend_below(fig, handles, [area_label, *names.values()])
    _title(fig, defn.name)
    _fit_period_labels(fig, top, mids, [p.period_label for p in ordered])
    short = MIN_AXES_HEIGHT - ax.bbox.height / fig.dpi
    if short > 0:  # tall upright period labels: a taller figure, the same data height as usual
        fig.set_size_inches(fig.get_figwidth(), fig.get_figheight() + short)
        fig.draw_without_rendering()
    fig.set_layout_engine("none")  # the layout is final: marker and label positions below are measured on it

    _place_benchmarks_and_labels(fig, ax, ordered, mids, styles, has_interval, sizes)
    return fig


def _place_benchmarks_and_labels(fig, ax, ordered, mids, styles, has_interval, sizes: _Sizes) -> None:
    """Benchmark markers right of each dot, then each value label where it touches no marker, bar or label."""
    renderer = _renderer(fig)
    px = lambda pt: _points_to_pixels(fig, pt)  # noqa: E731
    to_px = ax.transData.transform
    area_r, bench_r, cap = sizes.area_r, sizes.bench_r, sizes.cap
    axes_box = ax.bbox
    x_right = to_px((ax.get_xlim()[1], 0))[0]

    obstacles = []  # display boxes of everything a label must not cover
    for mid, p, h in zip(mids, ordered, has_interval):
        cx, cy = to_px((mid, p.value))
        obstacles.append(Bbox.from_extents(cx - px(area_r + 1), cy - px(area_r + 1), cx + px(area_r + 1), cy + px(area_r + 1)))
        if h:
            lo_y, hi_y = to_px((mid, p.estimate.lower))[1], to_px((mid, p.estimate.upper))[1]
            obstacles.append(Bbox.from_extents(cx - px(cap + 1), lo_y - px(1.5), cx + px(cap + 1), hi_y + px(1.5)))

    columns = []  # per period: right-most benchmark offset (points) and benchmark values
    for i, (mid, p) in enumerate(zip(mids, ordered)):
        drawn = sorted(_drawn(p), key=lambda b: list(styles).index(comparator_kind(b.comparator)))
        # the benchmarks stay within 60% of the way to the next period's dot (closer together if need be)
        x_mid = to_px((mid, 0))[0]
        if i + 1 < len(mids):
            room = 0.6 * (to_px((mids[i + 1], 0))[0] - x_mid)
        elif i > 0:  # the last period: as close as the one before, and within the axes
            room = min(x_right - x_mid, 0.6 * (x_mid - to_px((mids[i - 1], 0))[0]))
        else:
            room = x_right - x_mid
        room /= px(1)
        first = area_r + bench_r + 1.5
        step = 2 * bench_r + 1.0
        if len(drawn) > 1 and first + step * (len(drawn) - 1) + bench_r > room:
            step = max(1.5, (room - bench_r - first) / (len(drawn) - 1))
        offsets = []
        for k, b in enumerate(drawn):
            dx = first + step * k
            offsets.append(dx)
            kind = comparator_kind(b.comparator)
            marker, colour = styles[kind]
            ax.scatter([mid], [b.value], s=sizes.bench_area, marker=marker, color=colour, edgecolors="white",
                       linewidths=0.6, zorder=3, clip_on=False, gid=f"benchmark:{kind}",
                       transform=offset_copy(ax.transData, fig=fig, x=dx, y=0, units="points"))
            bx, by = to_px((mid, b.value))
            bx += px(dx)
            obstacles.append(Bbox.from_extents(bx - px(bench_r + 1), by - px(bench_r + 1), bx + px(bench_r + 1), by + px(bench_r + 1)))
        columns.append((offsets[-1] if offsets else 0.0, [b.value for b in drawn]))

    gap = 3.0
    for mid, p, h, (right, bench_values) in zip(mids, ordered, has_interval, columns):
        top_v = p.estimate.upper if h else p.value
        bottom_v = p.estimate.lower if h else p.value
        side = max(area_r, cap) + gap
        end = (1.5 if h else area_r) + gap
        column_top = max([top_v, *bench_values])
        column_bottom = min([bottom_v, *bench_values])
        candidates = [  # (anchor y in data, offset in points, ha, va): nearest the dot first, away from benchmarks
            (p.value, (-side, 0), "right", "center"),
            (top_v, (0, end), "center", "bottom"),
            (bottom_v, (0, -end), "center", "top"),
            (p.value, ((right + bench_r + gap) if right else side, 0), "left", "center"),
            (top_v, (-side, gap), "right", "bottom"),
            (bottom_v, (-side, -gap), "right", "top"),
            (column_top, (0, bench_r + gap + 1), "center", "bottom"),
            (column_bottom, (0, -(bench_r + gap + 1)), "center", "top"),
        ]
        label = ax.annotate(fmt_number(p.value), (mid, p.value), textcoords="offset points", xytext=(0, 0),
                            fontsize=LABEL_SIZE, color=PALETTE["area"], annotation_clip=False, zorder=5, gid="value-label",
                            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
        best = None
        for y, offset, ha, va in candidates:
            label.xy, label.xyann = (mid, y), offset
            label.set_horizontalalignment(ha)
            label.set_verticalalignment(va)
            box = label.get_window_extent(renderer).expanded(1.0, 1.0).padded(px(1))
            outside = box.width * box.height - _overlap(box, axes_box)
            cost = sum(_overlap(box, o) for o in obstacles) + 10 * outside
            if best is None or cost < best[0]:
                best = (cost, y, offset, ha, va)
            if cost == 0:
                break
        _, y, offset, ha, va = best
        label.xy, label.xyann = (mid, y), offset
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        obstacles.append(label.get_window_extent(renderer).padded(px(1)))


def indicator_caption(periods: list[IndicatorPeriod], area_name: str) -> str:
    """What the chart draws: the area by period, its intervals, and the comparators drawn (only if any)."""
    defn = periods[0].definition
    bars = ("error bars: 95% interval where the counts allow one" if any(p.estimate.has_interval for p in periods)
            else "no error bars: the counts do not allow a 95% interval")
    names = list(comparator_names(_ordered(periods)).values())
    return f"{defn.name}, {area_name}, by period ({bars})" + (f", with {join_and(names)} for the same periods" if names else "")


def indicator_alt(periods: list[IndicatorPeriod], area_name: str) -> str:
    """Every period's value (and interval) and every benchmark drawn, in the document's own labels."""
    defn = periods[0].definition
    ordered = _ordered(periods)

    def value(p: IndicatorPeriod) -> str:
        interval = f" (95% interval {interval_text(p.estimate, defn)})" if p.estimate.has_interval else ""
        return f"{p.period_label} {fmt_value(p.value, defn)}{interval}"

    benches = [f"{p.period_label}: " + ", ".join(f"{b.label} {fmt_value(b.value, defn)}" for b in _drawn(p))
               for p in ordered if _drawn(p)]
    return (
        f"Dot chart of {defn.name.lower()} for {area_name} by period, on a time axis: "
        + "; ".join(value(p) for p in ordered)
        + (f". Benchmarks for the same period: {'; '.join(benches)}." if benches else ". No benchmark for the same period.")
    )


def indicator_chart(periods: list[IndicatorPeriod], path: Path, area_name: str) -> Figure:
    """Area value with its interval for each period on a time axis, and benchmark values of the same period."""
    defn = periods[0].definition
    fig = draw_indicator_chart(periods, area_name)
    _save(fig, path, layout=False)
    return Figure(path, f"fig-{defn.indicator_id}", indicator_caption(periods, area_name), indicator_alt(periods, area_name))


def budget_chart(contributions: pd.DataFrame, path: Path, area_name: str, year: str) -> Figure:
    """Horizontal bars of each agency's total contribution in pounds."""
    _style()
    data = contributions.sort_values("amount_gbp", ascending=True)
    fig, ax = _subplots(figsize=(7.2, 0.5 * len(data) + 1.4))
    sns.barplot(data=data, y="agency", x="amount_gbp", color="#1b4f72", ax=ax, orient="h")
    for i, v in enumerate(data["amount_gbp"]):
        ax.text(v, i, f" £{v:,.0f}", va="center", fontsize=9)
    ax.set_xlabel("£")
    ax.set_ylabel("")
    ax.set_xlim(0, data["amount_gbp"].max() * 1.3)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"£{v / 1000:,.0f}k"))
    ax.set_yticks(range(len(data)))
    ax.set_yticklabels(_wrap_labels(data["agency"]))
    _title(fig, f"Contributions by agency, {year}")
    _save(fig, path)
    alt = f"Bar chart of {area_name} youth justice budget contributions {year} by agency: " + "; ".join(
        f"{a} £{v:,.0f}" for a, v in zip(data["agency"][::-1], data["amount_gbp"][::-1])
    )
    return Figure(path, "fig-budget", f"Partner contributions to the {year} budget by agency (£), {area_name}", alt)


def staffing_chart(roles: pd.DataFrame, path: Path, area_name: str) -> Figure:
    """Horizontal bars of staff numbers by role."""
    _style()
    data = roles.sort_values("count", ascending=True)
    fig, ax = _subplots(figsize=(7.2, 0.36 * len(data) + 1.4))
    sns.barplot(data=data, y="role", x="count", color="#2e86c1", ax=ax, orient="h")
    for i, v in enumerate(data["count"]):
        ax.text(v, i, f" {fmt_number(v)}", va="center", fontsize=9)
    ax.set_xlabel("staff (as published)")
    ax.set_ylabel("")
    ax.set_xlim(0, data["count"].max() * 1.2)
    _title(fig, "Staff by role")
    _save(fig, path)
    alt = f"Bar chart of {area_name} staff by role: " + "; ".join(f"{r} {fmt_number(c)}" for r, c in zip(data["role"][::-1], data["count"][::-1]))
    return Figure(path, "fig-staffing", f"Staff by role as published, {area_name}", alt)


def inspection_chart(questions: pd.DataFrame, path: Path, area_name: str) -> Figure:
    """Key-question % yes with the rating band thresholds (``inspection.BAND_THRESHOLDS``)."""
    _style()
    data = questions.dropna(subset=["pct_yes"]).copy()
    fig, ax = _subplots(figsize=(7.2, 0.3 * len(data) + 1.6))
    sns.barplot(data=data, y="question_id", x="pct_yes", color="#5d6d7e", ax=ax, orient="h")
    for edge, band in sorted(BAND_THRESHOLDS):
        ax.axvline(edge, color=BAND_COLOURS[band], ls="--", lw=1)
        ax.text(edge, -0.9, f"{BAND_SHORT.get(band, band)} ≥{edge:g}%", fontsize=8, ha="center")
    for i, v in enumerate(data["pct_yes"]):
        ax.text(v, i, f" {v:.0f}%", va="center", fontsize=8)
    ax.set_xlim(0, 110)
    ax.set_xlabel("% of cases judged sufficient")
    ax.set_ylabel("key question")
    _save(fig, path)
    alt = f"Bar chart of inspection key questions for {area_name}: " + "; ".join(
        f"{q} {v:.0f}%" for q, v in zip(data["question_id"], data["pct_yes"])
    )
    return Figure(path, "fig-inspection", f"Inspection key questions: % of cases judged sufficient, with rating thresholds, {area_name}", alt)


#: Legend words of the comparison results (the dot's colour, ``RESULT_COLOURS``).
RESULT_NAMES = {
    "better": "Better than its same-period benchmark", "similar": "Similar to its same-period benchmark",
    "worse": "Worse than its same-period benchmark", "not tested": "Not tested",
}


def _limit(value: float) -> str:
    """An interval limit to as many decimals as its size needs (interval_text's precision, without the definition)."""
    return fmt_number(value, 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2))


def draw_dot_plot(rows: pd.DataFrame, title: str, unit: str, reference: float | None) -> _MplFigure:
    """The comparison dot plot as a laid-out Matplotlib figure: one row per area, first at the top.

    Gids for tests: ``value`` (each dot), ``interval``, ``reference`` (the grey tick of the area's own
    same-period benchmark), ``value-label``.
    """
    _style()
    records = rows.to_dict("records")
    n = len(records)
    fig = _MplFigure(figsize=(7.2, 0.55 * n + 2.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ys = [n - 1 - i for i in range(n)]
    xs: list[float] = [0.0]
    results, has_interval, has_reference = [], False, False
    for y, r in zip(ys, records):
        result = r.get("result") or "not tested"
        if result not in results:
            results.append(result)
        colour = RESULT_COLOURS.get(result, "#7f7f7f")
        value, lower, upper = number_or_none(r["value"]), number_or_none(r.get("lower")), number_or_none(r.get("upper"))
        if lower is not None and upper is not None:
            has_interval = True
            xs += [lower, upper]
            ax.plot([lower, upper], [y, y], color=colour, lw=3, solid_capstyle="butt", clip_on=False, zorder=2, gid="interval")
        ref = number_or_none(r.get("reference"))
        if ref is not None:
            has_reference = True
            xs.append(ref)
            ax.plot([ref], [y], marker="|", ms=16, mew=2.5, color="#555555", clip_on=False, zorder=3, gid="reference")
        xs.append(value)
        ax.plot([value], [y], "o", color=colour, ms=9, clip_on=False, zorder=4, gid="value")
    if reference is not None:
        xs.append(reference)
        ax.axvline(reference, color="#333333", ls="--", lw=1)
    low, high = min(xs), max(xs)
    span = (high - low) or 1.0
    ax.set_xlim(low - 0.04 * span, high + 0.12 * span)  # a little below 0: a 0 value or limit is drawn whole
    ax.axvline(0, color="#444444", linewidth=0.9, zorder=1)
    ax.set_yticks(ys)
    ax.set_yticklabels(rows["area_name"])
    ax.set_ylim(-0.7, n - 0.2)
    ax.set_xlabel(unit)

    results.sort(key=lambda res: list(RESULT_NAMES).index(res) if res in RESULT_NAMES else len(RESULT_NAMES))
    handles = [Line2D([], [], linestyle="none", marker="o", ms=8, color=RESULT_COLOURS.get(res, "#7f7f7f")) for res in results]
    labels = [RESULT_NAMES.get(res, str(res).capitalize()) for res in results]
    if has_interval:
        handles.append(Line2D([], [], color="#7f7f7f", lw=3))
        labels.append("95% interval")
    if has_reference:
        handles.append(Line2D([], [], linestyle="none", marker="|", ms=12, mew=2.5, color="#555555"))
        labels.append("Same-period benchmark")
    if reference is not None:
        handles.append(Line2D([], [], color="#333333", ls="--", lw=1))
        labels.append(f"England {fmt_number(reference)}")
    _legend_below(fig, handles, labels)
    _title(fig, title)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")

    renderer = _renderer(fig)
    for y, r in zip(ys, records):
        # above the row, clear of the dot (radius 4.5 pt) and of the tick (8 pt above the row)
        label = ax.annotate(f"{fmt_number(r['value'])} ({r['period_label']})", (number_or_none(r["value"]), y),
                            textcoords="offset points", xytext=(0, 9.5), ha="center", va="bottom", fontsize=8,
                            annotation_clip=False, gid="value-label", zorder=5,
                            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
        box = label.get_window_extent(renderer)
        if box.x0 < ax.bbox.x0:
            label.set_horizontalalignment("left")
            label.xyann = (-4.5, 9.5)
        elif box.x1 > ax.bbox.x1:
            label.set_horizontalalignment("right")
            label.xyann = (4.5, 9.5)
    return fig


def dot_plot(rows: pd.DataFrame, path: Path, title: str, unit: str, reference: float | None, fig_id: str,
             caption: str | None = None) -> Figure:
    """Comparison dot plot: one row per area with its interval and its own same-period benchmark, an optional
    reference line. Without a ``caption`` it says what is drawn (the ticks only when there are any).

    ``rows``: ``area_name``, ``value``, ``lower``, ``upper``, ``period_label``, ``result``, ``reference`` and,
    optionally, ``reference_label`` (the benchmark as the document names it, for the alt text).
    """
    fig = draw_dot_plot(rows, title, unit, reference)
    _save(fig, path, layout=False)
    records = rows.to_dict("records")
    refs = [number_or_none(r.get("reference")) is not None for r in records]
    bars = any(number_or_none(r.get("lower")) is not None and number_or_none(r.get("upper")) is not None for r in records)
    if caption is None:
        caption = f"{title} by area, each area's latest period" + (
            " (bars: 95% interval where the counts allow one)" if bars else " (no 95% interval: the counts do not allow one)")
        caption += ("; grey ticks: each area's own same-period benchmark, dot colour: the result against it" if any(refs)
                    else "; no area has a same-period benchmark")

    def item(r: dict) -> str:
        text = f"{r['area_name']} {fmt_number(r['value'])} ({r['period_label']})"
        lower, upper = number_or_none(r.get("lower")), number_or_none(r.get("upper"))
        if lower is not None and upper is not None:
            text += f", 95% interval {_limit(lower)}–{_limit(upper)}"
        ref = number_or_none(r.get("reference"))
        if ref is not None:
            name = r.get("reference_label")
            text += f", same-period benchmark {name if isinstance(name, str) and name else fmt_number(ref)}"
            if r.get("result") in ("better", "similar", "worse"):
                text += f", {r['result']}"
        return text

    in_unit = f" ({unit})" if unit and unit.lower() not in title.lower() else ""
    alt = f"Dot plot of {title.lower()}{in_unit}: " + "; ".join(item(r) for r in records) + (
        f"; England reference {fmt_number(reference)}" if reference is not None else "")
    return Figure(path, fig_id, caption, alt)
