"""The comparison document's sections as Pandoc Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import charts, narrative
from ..data.reference import group_label
from ..analysis import inspection
from ..analysis.compare import AreaSummary, aligned_indicators, area_differences, load_summaries
from ..analysis.indicators import fmt_number
from .markdown import join_and, md_code, md_escape, md_table


class Comparison:
    """Summaries of the compared areas plus where figures go."""

    def __init__(self, summaries: list[AreaSummary], figures_dir: Path, build_date: str):
        self.summaries = summaries
        self.figures_dir = Path(figures_dir)
        self.build_date = build_date
        self.aligned = aligned_indicators(summaries)
        self.differences = area_differences(summaries)


AGENCY_GROUPS = {
    "local_authority": "Local authority", "pcc": "Police and Crime Commissioner", "police": "Police",
    "probation": "Probation", "health": "Health", "public_health": "Public health", "yjb": "Youth Justice Board grant",
    "community_safety": "Community safety partnership", "other": "Other",
}


def build_comparison_doc(areas: str, validation_reports: str = "", figures_dir: str = "figures", build_date: str = "") -> Comparison:
    """Load and summarise the areas named in a comma-separated list."""
    ids = [a.strip() for a in areas.split(",") if a.strip()]
    reports = json.loads(validation_reports) if validation_reports else {}
    return Comparison(load_summaries(ids, reports), Path(figures_dir), build_date)


def introduction(c: Comparison) -> str:
    names = join_and([md_escape(s.name) for s in c.summaries])
    periods = []
    for s in c.summaries:
        mine = c.aligned[(c.aligned["area"] == s.name) & c.aligned["value"].notna()] if not c.aligned.empty else c.aligned
        own = list(dict.fromkeys(mine["period"].dropna())) if not mine.empty else []
        periods.append(f"{md_escape(s.name)}: {', '.join(md_escape(p) for p in own) if own else 'no indicator figures'}")
    lines = [
        "# About this comparison {#sec-about}\n",
        f"This document compares {names}, using only figures from each area's published documents. "
        f"The areas publish different periods (latest indicator periods — {'; '.join(periods)}) and "
        "different comparator groups. Every value is shown with its own period, and a comparison across different "
        "periods is marked as **not like for like** rather than hidden. Built " + md_escape(c.build_date) + ".\n",
    ]
    table = pd.DataFrame([{
        "Area": s.name, "Service": s.data.area["service_name"], "Plan period": s.data.area["plan_period_label"],
        "Region": group_label(s.data.area["region"]), "Data-quality warnings": len(s.data.report.warnings),
    } for s in c.summaries])
    lines.append(md_table(table, "Areas compared", "tbl-areas"))
    return "\n".join(lines)


def indicators_section(c: Comparison) -> str:
    out = ["# National indicators side by side {#sec-indicators}\n"]
    a = c.aligned
    if a.empty:
        return out[0] + "No indicator figures are available.\n"
    for indicator_id, g in a.groupby("indicator_id", sort=False):
        g = g[g["value"].notna()]
        if g.empty:
            continue
        name = g["indicator"].iloc[0]
        out.append(f"## {md_escape(name)} {{#sec-cmp-{indicator_id.replace('_', '-')}}}\n")
        if not bool(g["like_for_like"].iloc[0]):
            out.append("::: {.callout-note}\n**Not like for like:** the areas' latest figures are for different periods "
                       f"({'; '.join(f'{md_escape(r.area)}: {md_escape(r.period)}' for r in g.itertuples())}). Differences between areas mix "
                       "differences between places with differences between years.\n:::\n")
        table = pd.DataFrame({
            "Area": g["area"], "Period": g["period"], "Value": g["value_text"], "95% interval": g["interval"],
            "Benchmark (same period)": g["benchmark"], "Result": [narrative.result_span(r) for r in g["result"]],
            "Latest change": g["change"],
        })
        out.append(md_table(table, f"{name}: each area's latest published figure", f"tbl-cmp-{indicator_id.replace('_', '-')}",
                            markdown_columns=("Result",)))
        rows = pd.DataFrame({
            "area_name": g["area"], "value": g["value"], "lower": g["lower"], "upper": g["upper"],
            "period_label": g["period"], "result": g["result"], "reference": g["benchmark_value"],
            "reference_label": g["benchmark"],
        })
        fig = charts.dot_plot(rows, c.figures_dir / f"fig-cmp-{indicator_id}.png", name, g["value_text"].iloc[0].split(" ", 1)[-1]
                              if not g["value_text"].iloc[0].endswith("%") else "per cent", None,
                              f"fig-cmp-{indicator_id.replace('_', '-')}")
        out.append(fig.markdown() + "\n")
    return "\n".join(out)


def money_section(c: Comparison) -> str:
    thousands = [s.name for s in c.summaries
                 if s.data.table("budget") is not None and (s.data.table("budget").get("unit", pd.Series(dtype=str)) == "GBP_thousands").any()]
    converted = f" ({join_and([md_escape(t) for t in thousands])} {'publishes its budget' if len(thousands) == 1 else 'publish their budgets'} in £000, converted)" if thousands else ""
    out = ["# Money {#sec-money}\n",
           f"All amounts are in pounds{converted}. Budget per 10–17 "
           "resident uses the population named in the table; where no population is published it is derived from the "
           "first-time-entrant count and rate, and labelled as such.\n"]
    rows, shares = [], []
    for s in c.summaries:
        per_head = s.budget_total / s.population if s.budget_total and s.population else None
        rows.append({
            "Area": s.name, "Budget year": s.budget_year or "—",
            "Total budget (£)": fmt_number(s.budget_total, 0) if s.budget_total else "not published",
            "10–17 population used": fmt_number(round(s.population)) if s.population else "not published",
            "Population source": s.population_source or "no population published or derivable",
            "£ per 10–17 resident": f"£{per_head:,.2f}" if per_head else "not calculable",
            "YJB grant share": f"{s.yjb_share:.1f}%" if s.yjb_share is not None else "—",
        })
        for r in s.budget_by_group.to_dict("records"):
            shares.append({"area": s.name, "agency_group": AGENCY_GROUPS.get(r["agency_group"], r["agency_group"].replace("_", " ")), "share": r["share"], "amount": r["amount_gbp"]})
    years = sorted({s.budget_year for s in c.summaries if s.budget_year})
    if len(years) > 1:
        out.append(f"**These budgets are for different financial years** ({join_and([md_escape(y) for y in years])}): money is "
                   "compared only within the same financial year, so the amounts below are shown side by side for reference, "
                   "not as a comparison; prices, grants and responsibilities change between years.\n")
    out.append(md_table(pd.DataFrame(rows), "Budget, budget per 10–17 resident and Youth Justice Board grant share", "tbl-money"))
    if shares:
        frame = pd.DataFrame(shares)
        fig = _stacked_shares(frame, c.figures_dir / "fig-cmp-budget.png")
        out.append(fig.markdown() + "\n")
        wide = frame.pivot_table(index="agency_group", columns="area", values="share", aggfunc="sum").fillna(0)
        wide = wide.map(lambda v: f"{v:.1f}%").reset_index().rename(columns={"agency_group": "Agency group"})
        out.append(md_table(wide, "Share of each area's budget by agency group (% of the sum of agency contributions)", "tbl-budget-shares"))
    return "\n".join(out)


def _stacked_shares(frame: pd.DataFrame, path: Path) -> charts.Figure:
    import matplotlib.pyplot as plt

    charts._style()
    wide = frame.pivot_table(index="area", columns="agency_group", values="share", aggfunc="sum").fillna(0)
    fig, ax = plt.subplots(figsize=(7.2, 0.7 * len(wide) + 1.8))
    wide.plot(kind="barh", stacked=True, ax=ax, colormap="tab20", edgecolor="white")
    ax.set_xlabel("% of agency contributions")
    ax.set_ylabel("")
    ax.set_xlim(0, 100)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, fontsize=8, frameon=False)
    ax.set_title("Budget share by agency group", loc="left", fontsize=11)
    charts._save(fig, path)
    alt = "Stacked bar chart of budget shares by agency group: " + "; ".join(
        f"{area}: " + ", ".join(f"{g} {v:.0f}%" for g, v in row.items() if v > 0) for area, row in wide.iterrows())
    return charts.Figure(path, "fig-cmp-budget", "Share of each area's budget by agency group", alt)


def staffing_section(c: Comparison) -> str:
    out = ["# Staffing {#sec-cmp-staffing}\n"]
    rows = []
    for s in c.summaries:
        mix = "; ".join(f"{r['role_group']} {fmt_number(r['count'])}" for r in s.staff_by_group.to_dict("records")) if not s.staff_by_group.empty else ""
        rows.append({"Area": s.name, "Staff (excluding volunteers, as published)": fmt_number(s.staff_total) if s.staff_total else "not published in the text",
                     "Mix by role group": mix or "—"})
    out.append(md_table(pd.DataFrame(rows), "Staff numbers and mix by role group", "tbl-cmp-staffing"))
    bases, missing = [], []
    for s in c.summaries:
        staff = s.data.table("staffing")
        if staff is None or staff.empty:
            missing.append(s.name)
        else:
            bases.append(f"{md_escape(s.name)}: {md_escape(', '.join(dict.fromkeys(staff['count_basis'].dropna()))) or 'as published'}")
    if bases:
        out.append(f"Staff numbers are as each plan published them ({'; '.join(bases)}); plans mix headcounts and "
                   "full-time equivalents, so small differences are not meaningful.")
    if missing:
        out.append(f"{join_and([md_escape(m) for m in missing])} {'publishes' if len(missing) == 1 else 'publish'} no staffing figures in the text.")
    out.append("")
    return "\n".join(out)


def inspection_comparison(c: Comparison) -> str:
    out = ["# Inspections {#sec-cmp-inspection}\n"]
    rows = []
    for s in c.summaries:
        ins = s.data.table("inspections")
        if ins is None or ins.empty:
            rows.append({"Area": s.name, "Inspection": "no inspection data", "Score": "—", "Rating": "—", "Computed from key questions": "—"})
            continue
        for r in ins.to_dict("records"):
            st = s.data.table("inspection_standards")
            kq = s.data.table("inspection_key_questions")
            score = inspection.score_inspection(st[st["inspection_id"] == r["inspection_id"]], kq[kq["inspection_id"] == r["inspection_id"]])
            rows.append({"Area": s.name, "Inspection": f"{r['inspectorate']}, {r['fieldwork_label']}",
                         "Score": f"{fmt_number(r['published_score'])}/{fmt_number(r['published_max_score'])}",
                         "Rating": r["published_overall_rating"],
                         "Computed from key questions": f"{score.total_score}/{score.max_score} {score.overall_rating}"})
    out.append(md_table(pd.DataFrame(rows), "Inspection results", "tbl-cmp-inspection"))
    return "\n".join(out)


def differences_section(c: Comparison) -> str:
    out = ["# Largest real differences {#sec-differences}\n"]
    d = c.differences
    if d.empty:
        out.append("No pair of areas publishes both counts and denominators for the same indicator, so no difference between areas can be tested.\n")
        return "\n".join(out)
    sig = d[d["significant"]]
    same = sig[sig["same_period"]]
    if not same.empty:
        out.append("Statistically significant differences between areas for the same period:\n")
        out.extend(f"- {md_escape(r.indicator)}: {md_escape(r.area_a)} {md_escape(r.value_a)} vs {md_escape(r.area_b)} {md_escape(r.value_b)} "
                   f"({md_escape(r.period_a)}); {md_escape(r.better)} is better ({md_escape(r.test)}, p = {narrative.p_text(r.p_value)})." for r in same.itertuples())
    else:
        out.append("No statistically significant difference between areas was found for the same period.\n")
    cross = sig[~sig["same_period"]]
    if not cross.empty:
        out.append("\nSignificant differences that are **not like for like** (different periods), listed so they are not over-read:\n")
        out.extend(f"- {md_escape(r.indicator)}: {md_escape(r.area_a)} {md_escape(r.value_a)} ({md_escape(r.period_a)}) vs {md_escape(r.area_b)} "
                   f"{md_escape(r.value_b)} ({md_escape(r.period_b)}); p = {narrative.p_text(r.p_value)} ({md_escape(r.test)})."
                   for r in cross.sort_values("p_value").itertuples())
    table = d.assign(p=[narrative.p_text(p) for p in d["p_value"]], sig=["yes" if s else "no" for s in d["significant"]],
                     period=["same" if s else "different" for s in d["same_period"]])
    shown = table[["indicator", "area_a", "value_a", "period_a", "area_b", "value_b", "period_b", "p", "sig", "period"]]
    shown.columns = ["Indicator", "Area A", "Value A", "Period A", "Area B", "Value B", "Period B", "p", "Significant", "Periods"]
    out.append("\n" + md_table(shown, "Every tested difference between pairs of areas", "tbl-differences"))
    untested = [s.name for s in c.summaries if all(ip.numerator is None or ip.denominator is None for ip in s.indicators)]
    if untested:
        out.append(f"{', '.join(md_escape(u) for u in untested)} publish{'es' if len(untested) == 1 else ''} no counts with denominators, so no difference involving {'it' if len(untested) == 1 else 'them'} can be tested.\n")
    return "\n".join(out)


def sources_section(c: Comparison) -> str:
    from ..data.reference import source_title

    docs = set()
    for s in c.summaries:
        for t in s.data.tables.values():
            if t is not None and not t.empty and "source_document" in t:
                docs.update(t["source_document"].dropna().astype(str))
    return "# Sources {#sec-cmp-sources}\n\n" + "\n".join(f"- {md_escape(source_title(d))} ({md_code(d)})" for d in sorted(docs)) + "\n"
