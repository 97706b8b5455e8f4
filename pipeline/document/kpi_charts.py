"""Charts of the "Key performance indicators" and "Over-represented children" sections, drawn as ``charts`` draws.

* :func:`kpi_chart`: the headline value of each KPI measured as a proportion in the latest year, a dot with
  its Wilson score interval, one row per KPI, on a 0–100% axis;
* :func:`rri_chart`: a forest plot of the relative rate index of one breakdown (ethnicity, sex, ...) in the
  latest year: each group's ratio with its interval, grouped by stage, on a log axis with a line at 1
  (parity). The reference group, suppressed cells and cells without a ratio are not drawn; the caption says so.

Both take the published tables of ``pipeline.analysis.plan_kpis.kpi_summary`` (after or before their JSON
round trip), write one PNG with ``charts._save`` (no timestamp: the same inputs give the same bytes) and
return a ``charts.Figure`` (caption saying what is drawn, alt text with every value), or None when there
is nothing to draw. ``draw_kpi_chart`` and ``draw_rri_chart`` return the laid-out Matplotlib figure (tests).
Artists carry gids: ``value``, ``interval``, ``value-label``, ``parity`` and ``watermark``.
``charts`` draws no watermark; a synthetic chart here carries ``pipeline.synthetic.SYNTHETIC_WATERMARK``
across its axes, faint, so a figure copied out of a synthetic plan still says what it is.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.ticker
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as _MplFigure
from matplotlib.lines import Line2D

from . import charts
from ..analysis.indicators import fmt_number, number_or_none
from ..analysis.disclosure import PRIMARY_MARKER, SECONDARY_MARKER

#: Dot colours of the forest plot: interval wholly above 1, wholly below 1, or including 1.
RRI_COLOURS = {"above": "#c0392b", "below": "#1f77b4", "includes": "#555555"}
RRI_NAMES = {"above": "Interval wholly above 1 (over-represented)", "below": "Interval wholly below 1",
             "includes": "Interval includes 1"}
_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


def _watermark(ax) -> None:
    from ..synthetic import SYNTHETIC_WATERMARK

    ax.text(0.5, 0.5, SYNTHETIC_WATERMARK.replace(" — ", " —\n"), transform=ax.transAxes, multialignment="center", ha="center", va="center", rotation=18, fontsize=15,
            color="#c0392b", alpha=0.16, zorder=0.5, gid="watermark", in_layout=False, clip_on=True)


def _hidden(value) -> bool:
    return isinstance(value, str) and value in (PRIMARY_MARKER, SECONDARY_MARKER)


def _pct(value: float) -> str:
    return f"{fmt_number(value, 1)}%"


# --------------------------------------------------------------------------- KPI chart


def kpi_chart_rows(measures: pd.DataFrame, board: pd.DataFrame | None = None) -> tuple[list[dict], list[str], str]:
    """(rows drawn, KPIs not drawn and why, latest period) from ``kpi_measures`` (and ``kpi_board``).

    A row: ``kpi_number``, ``label``, ``value``, ``lower``, ``upper`` (per cent), ``period``.
    """
    rows, left = [], []
    latest = ""
    if measures is not None and len(measures):
        annual = measures[(measures["frequency"] == "annual") & measures["headline"].astype(bool)]
        if len(annual):
            latest = str(annual.sort_values("period_end")["period_label"].iloc[-1])
        for r in annual[annual["period_label"] == latest].sort_values("kpi_number").to_dict("records"):
            if r["statistic"] != "proportion":
                continue
            rows.append({"kpi_number": int(r["kpi_number"]), "label": f"KPI {int(r['kpi_number'])} {r['kpi_short_name']}",
                         "value": r["value"], "lower": r["lower"], "upper": r["upper"], "period": latest})
    if board is not None and len(board):
        head = board[board["headline"].astype(bool)].sort_values("period_end")
        if len(head):
            r = head.iloc[-1].to_dict()
            label = f"KPI {int(r['kpi_number'])} {r['kpi_short_name']}"
            period = f"{r['period_start']} to {r['period_end']}"
            rows.append({"kpi_number": int(r["kpi_number"]), "label": label, "value": r["value"], "lower": r["lower"],
                         "upper": r["upper"], "period": period})
    drawn = []
    for r in sorted(rows, key=lambda r: r["kpi_number"]):
        value, lower, upper = (number_or_none(r[k]) if not _hidden(r[k]) else None for k in ("value", "lower", "upper"))
        if any(_hidden(r[k]) for k in ("value", "lower", "upper")):
            left.append(f"{r['label']} (not shown: disclosure control)")
        elif value is None or lower is None or upper is None:
            left.append(f"{r['label']} (no value: no denominator in the period)")
        else:
            drawn.append({**r, "value": value, "lower": lower, "upper": upper})
    return drawn, left, latest


def draw_kpi_chart(rows: list[dict], title: str, synthetic: bool = False) -> _MplFigure:
    """The KPI chart as a laid-out Matplotlib figure: one row per KPI, first at the top, 0–100%."""
    charts._style()
    n = len(rows)
    fig = _MplFigure(figsize=(7.2, 0.5 * n + 1.7), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    colour = charts.PALETTE["area"]
    for i, r in enumerate(rows):
        y = n - 1 - i
        ax.plot([r["lower"], r["upper"]], [y, y], color=colour, lw=3, solid_capstyle="butt", clip_on=False, zorder=2,
                gid="interval")
        ax.plot([r["value"]], [y], "o", color=colour, ms=8, clip_on=False, zorder=4, gid="value")
        if r["upper"] <= 82:  # the label right of the interval, else left of it, else above the dot
            xy, offset, ha, va = (r["upper"], y), (5, 0), "left", "center"
        elif r["lower"] >= 18:
            xy, offset, ha, va = (r["lower"], y), (-5, 0), "right", "center"
        else:
            xy, offset, ha, va = (r["value"], y), (0, 6), "center", "bottom"
        ax.annotate(_pct(r["value"]), xy, textcoords="offset points", xytext=offset, ha=ha, va=va, fontsize=8,
                    color=colour, annotation_clip=False, gid="value-label", zorder=5,
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=100, decimals=0))
    ax.set_yticks([n - 1 - i for i in range(n)], labels=charts._wrap_labels([r["label"] for r in rows], 34))
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel("per cent (dot: value; bar: 95% Wilson score interval)")
    if synthetic:
        _watermark(ax)
    charts._title(fig, title)
    return fig


def kpi_chart(measures: pd.DataFrame, board: pd.DataFrame | None, path: Path, area_name: str, *,
              synthetic: bool = False, fig_id: str | None = None) -> charts.Figure | None:
    """Headline value and Wilson interval of each KPI measured as a proportion, latest year (None: nothing to draw)."""
    rows, left, latest = kpi_chart_rows(measures, board)
    if not rows:
        return None
    title = f"Key performance indicators measured as a proportion, {latest or 'latest period'}"
    fig = draw_kpi_chart(rows, title, synthetic)
    charts._save(fig, Path(path), layout=False)
    other = [r for r in rows if r["period"] != latest]
    caption = (f"Headline value of each key performance indicator measured as a proportion, {area_name}, {latest}"
               " (dot: value; bar: 95% Wilson score interval; axis 0–100%)")
    if other:
        caption += "; " + "; ".join(f"{r['label']} is for {r['period']}" for r in other)
    if left:
        caption += "; not drawn: " + ", ".join(left)
    alt = (f"Dot chart of the key performance indicators measured as a proportion for {area_name}, {latest}: "
           + "; ".join(f"{r['label']} {_pct(r['value'])} (95% interval {_pct(r['lower'])} to {_pct(r['upper'])})"
                       + ("" if r["period"] == latest else f", {r['period']}") for r in rows)
           + (". Not drawn: " + ", ".join(left) + "." if left else "."))
    return charts.Figure(Path(path), fig_id or Path(path).stem, caption, alt)


# --------------------------------------------------------------------------- RRI forest plot


def rri_chart_rows(rri: pd.DataFrame, stage_labels: dict[str, str], group_label) -> tuple[list[dict], dict[str, list[str]]]:
    """(rows drawn, cells not drawn by reason) of one breakdown's rows for one period.

    A row: ``stage``, ``stage_label``, ``group``, ``label``, ``rri``, ``lower``, ``upper``, ``kind`` (above, below,
    includes). Reasons: ``suppressed``, ``no ratio``, ``zero``.
    """
    drawn, left = [], {"suppressed": [], "no ratio": [], "zero": []}
    order = {s: i for i, s in enumerate(stage_labels)}
    records = sorted(rri.to_dict("records"), key=lambda r: order.get(r["stage"], len(order)))
    for r in records:
        if r["group"] == r["reference_group"]:
            continue
        name = f"{stage_labels.get(r['stage'], r['stage'])}: {group_label(r['group'])}"
        value, lower, upper = number_or_none(r["rri"]), number_or_none(r["lower"]), number_or_none(r["upper"])
        if bool(r["suppressed"]) and value is None:
            left["suppressed"].append(name)
        elif value is None or lower is None or upper is None or not math.isfinite(upper):
            left["no ratio"].append(name)
        elif value <= 0 or lower <= 0:
            left["zero"].append(name)
        else:
            kind = "above" if lower > 1 else "below" if upper < 1 else "includes"
            drawn.append({"stage": r["stage"], "stage_label": stage_labels.get(r["stage"], r["stage"]), "group": r["group"],
                          "label": group_label(r["group"]), "rri": value, "lower": lower, "upper": upper, "kind": kind})
    return drawn, left


def draw_rri_chart(rows: list[dict], title: str, synthetic: bool = False) -> _MplFigure:
    """The forest plot as a laid-out Matplotlib figure: a bold row per stage, its groups under it, log x axis."""
    charts._style()
    lines: list[tuple[str, dict | None]] = []  # (tick label, row; None for a stage's heading)
    stage = None
    for r in rows:
        if r["stage"] != stage:
            stage = r["stage"]
            lines.append((r["stage_label"], None))
        lines.append((r["label"], r))
    n = len(lines)
    fig = _MplFigure(figsize=(7.2, 0.3 * n + 1.9), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ys = [n - 1 - i for i in range(n)]
    low = min([1.0] + [r["lower"] for r in rows])
    high = max([1.0] + [r["upper"] for r in rows])
    kinds = []
    for y, (_, r) in zip(ys, lines):
        if r is None:
            continue
        colour = RRI_COLOURS[r["kind"]]
        if r["kind"] not in kinds:
            kinds.append(r["kind"])
        ax.plot([r["lower"], r["upper"]], [y, y], color=colour, lw=2.5, solid_capstyle="butt", zorder=2, gid="interval")
        ax.plot([r["rri"]], [y], "o", color=colour, ms=6.5, zorder=4, gid="value")
        ax.annotate(fmt_number(r["rri"], 2), (r["upper"], y), textcoords="offset points", xytext=(4, 0), ha="left",
                    va="center", fontsize=7.5, color=colour, annotation_clip=False, gid="value-label", zorder=5)
    ax.set_xscale("log")
    ax.set_xlim(low / 1.25, high * 1.9)  # room on the right for the value labels
    lo_lim, hi_lim = ax.get_xlim()
    ax.set_xticks([t for t in _TICKS if lo_lim <= t <= hi_lim])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.axvline(1, color="#333333", ls="--", lw=1, zorder=1, gid="parity")
    ax.set_yticks(ys, labels=charts._wrap_labels([label for label, _ in lines], 26))
    for tick, (_, r) in zip(ax.get_yticklabels(), lines):
        if r is None:
            tick.set_fontweight("bold")
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel("relative rate index (log scale)")
    kinds.sort(key=list(RRI_COLOURS).index)
    handles = [Line2D([], [], marker="o", color=RRI_COLOURS[k], lw=2.5, ms=6) for k in kinds]
    handles.append(Line2D([], [], color="#333333", ls="--", lw=1))
    charts._legend_below(fig, handles, [RRI_NAMES[k] for k in kinds] + ["Parity (1)"])
    if synthetic:
        _watermark(ax)
    charts._title(fig, title)
    return fig


def rri_chart(rri: pd.DataFrame, path: Path, area_name: str, *, by_words: str, period: str, reference: str,
              stage_labels: dict[str, str], group_label, synthetic: bool = False,
              fig_id: str | None = None) -> charts.Figure | None:
    """Forest plot of the relative rate index of one breakdown's rows for one period (None: nothing to draw).

    ``stage_labels``: stage name -> label, in the order drawn; ``group_label``: group code -> label.
    """
    rows, left = rri_chart_rows(rri, stage_labels, group_label)
    if not rows:
        return None
    title = f"Relative rate index by {by_words}, {period}"
    fig = draw_rri_chart(rows, title, synthetic)
    charts._save(fig, Path(path), layout=False)
    ref = group_label(reference)
    caption = (f"Relative rate index by {by_words} at each stage, {area_name}, {period} (some rows pooled over more "
               f"years, as the table says): dot the ratio to the {ref} group's rate, bar its 95% interval, log scale, "
               "dashed line at 1 (parity)")
    if left["suppressed"]:
        k = len(left["suppressed"])
        caption += f"; {k} suppressed cell{'s are' if k > 1 else ' is'} left out (disclosure control)"
    others = len(left["no ratio"]) + len(left["zero"])
    if others:
        caption += f"; {others} cell{'s' if others > 1 else ''} without a ratio or with a ratio of 0 not drawn"
    alt = (f"Forest plot of the relative rate index by {by_words} for {area_name}, {period}, reference group {ref}: "
           + "; ".join(f"{r['stage_label']}, {r['label']} {fmt_number(r['rri'], 2)} (95% interval "
                       f"{fmt_number(r['lower'], 2)} to {fmt_number(r['upper'], 2)})" for r in rows) + ".")
    for reason, words in (("suppressed", "Left out, suppressed"), ("no ratio", "Left out, no ratio"),
                          ("zero", "Left out, ratio 0 (cannot be drawn on a log scale)")):
        if left[reason]:
            alt += f" {words}: " + ", ".join(left[reason]) + "."
    return charts.Figure(Path(path), fig_id or Path(path).stem, caption, alt)
