"""Seaborn charts for the plans, readable in print, each saved as PNG with alt text.

Every function writes one PNG and returns a ``Figure`` record (path, caption, alt text); the
Markdown for it comes from ``Figure.markdown()``.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure as _MplFigure

from ..analysis.indicators import IndicatorPeriod, fmt_number, fmt_value
from ..analysis.inspection import BAND_THRESHOLDS

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


def _save(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    # A fixed timestamp-free PNG: identical inputs give identical bytes.
    fig.savefig(path, format="png", metadata={"Software": None})


def indicator_chart(periods: list[IndicatorPeriod], path: Path, area_name: str) -> Figure:
    """Area value with its interval for each period, and benchmark values of the same period."""
    _style()
    defn = periods[0].definition
    ordered = sorted(periods, key=lambda p: p.period_end)
    labels = [p.period_label for p in ordered]
    fig, ax = _subplots(figsize=(7.2, 4.4))
    xs = range(len(ordered))
    values = [p.value for p in ordered]
    lowers = [p.value - p.estimate.lower if p.estimate.has_interval else 0 for p in ordered]
    uppers = [p.estimate.upper - p.value if p.estimate.has_interval else 0 for p in ordered]
    ax.errorbar(
        list(xs), values, yerr=[lowers, uppers], fmt="o", color=PALETTE["area"], ecolor=PALETTE["area"],
        elinewidth=2, capsize=6, markersize=9, label=f"{area_name} (95% interval where calculable)", zorder=3,
    )
    for x, p in zip(xs, ordered):
        ax.annotate(fmt_number(p.value), (x, p.value), textcoords="offset points", xytext=(10, 4), fontsize=9, color=PALETTE["area"])
    seen: dict[str, str] = {}
    for x, p in zip(xs, ordered):
        for b in p.benchmarks:
            if not b.same_period:
                continue
            marker = seen.setdefault(b.label, MARKERS[len(seen) % len(MARKERS)])
            ax.scatter([x + 0.12], [b.value], marker=marker, s=55, color=PALETTE["benchmark"], zorder=2,
                       label=b.label if list(seen).index(b.label) == len(seen) - 1 and b.label not in ax.get_legend_handles_labels()[1] else None)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(_wrap_labels(labels, 20))
    ax.set_xlim(-0.6, len(ordered) - 0.4)
    ymax = max([v for v in values] + [p.estimate.upper or 0 for p in ordered] + [b.value for p in ordered for b in p.benchmarks if b.same_period])
    ax.set_ylim(0, ymax * 1.18 if ymax > 0 else 1)
    ax.set_ylabel(defn.unit if defn.unit != "%" else "per cent")
    _title(fig, defn.name)
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
    _save(fig, path)
    latest = ordered[-1]
    bench_text = "; ".join(f"{b.label} {fmt_value(b.value, defn)}" for b in latest.benchmarks if b.same_period)
    alt = (
        f"Dot chart of {defn.name.lower()} for {area_name} by period: "
        + "; ".join(f"{p.period_label} {fmt_value(p.value, defn)}" for p in ordered)
        + (f". Benchmarks for {latest.period_label}: {bench_text}." if bench_text else ". No benchmark for the same period.")
    )
    caption = f"{defn.name}, {area_name}, with comparators (error bars: 95% interval where the counts allow one)"
    return Figure(path, f"fig-{defn.indicator_id}", caption, alt)


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


def dot_plot(rows: pd.DataFrame, path: Path, title: str, unit: str, reference: float | None, fig_id: str, caption: str) -> Figure:
    """Comparison dot plot: one row per area with its interval, an optional reference line."""
    _style()
    fig, ax = _subplots(figsize=(7.2, 0.55 * len(rows) + 1.5))
    ys = list(range(len(rows)))
    for y, r in zip(ys, rows.to_dict("records")):
        colour = RESULT_COLOURS.get(r.get("result", "not tested"), "#7f7f7f")
        if r.get("lower") is not None and not (isinstance(r.get("lower"), float) and math.isnan(r["lower"])):
            ax.plot([r["lower"], r["upper"]], [y, y], color=colour, lw=3)
        ax.plot([r["value"]], [y], "o", color=colour, ms=9)
        ref = r.get("reference")
        if ref is not None and not (isinstance(ref, float) and math.isnan(ref)):
            ax.plot([ref], [y], marker="|", ms=22, mew=2.5, color="#555555")
        ax.text(r["value"], y + 0.22, f"{fmt_number(r['value'])} ({r['period_label']})", fontsize=8, ha="center")
    if reference is not None:
        ax.axvline(reference, color="#333333", ls="--", lw=1)
        ax.text(reference, len(rows) - 0.45, f"England {fmt_number(reference)}", fontsize=8, ha="left")
    ax.set_yticks(ys)
    ax.set_yticklabels(rows["area_name"])
    ax.set_ylim(-0.7, len(rows) - 0.2)
    ax.set_xlabel(unit)
    ax.set_xlim(left=0)
    _title(fig, title)
    _save(fig, path)
    alt = f"Dot plot of {title.lower()}: " + "; ".join(
        f"{a} {fmt_number(v)} ({p})" for a, v, p in zip(rows["area_name"], rows["value"], rows["period_label"])
    ) + (f"; England reference {fmt_number(reference)}" if reference is not None else "")
    return Figure(path, fig_id, caption, alt)
