"""The plan's sections as Pandoc Markdown, built from validated data and the area's content file.

Each public function takes a ``Plan`` (everything computed for one area) and returns Markdown;
the notebook only displays them. Section order follows the published plans: summary, governance,
resources, staffing, performance, profile, restorative justice and victims, inspection, local
tracking, priorities, risks, data-quality appendix, sources.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from . import charts, narrative
from ..analysis import disclosure, inspection, stats
from ..data import reference
from ..data.contracts import ValidationReport, read_report
from ..analysis.money import budget_years
from ..data.dataset import AreaData, budget_in_pounds, load_area
from ..analysis.indicators import IndicatorPeriod, area_indicators, fmt_number, fmt_value, indicator_trend, interval_text
from ..data.reference import group_label
from .wording import SYNTHETIC_TEXT
from .markdown import join_and, md_code, md_escape, md_table  # noqa: F401 - md_table is part of this module's API

def short_source(text: str) -> str:
    """'000_f1cb….txt, 6.2 c. Reducing custody' -> 'Oxfordshire plan, 6.2 c. Reducing custody': each source id with a short
    title in data/sources.csv is replaced by it (the Sources section lists the ids with their titles)."""
    return reference.short_source(text)


# --------------------------------------------------------------------------- plan object


@dataclass
class Plan:
    """Everything computed for one area's plan."""

    data: AreaData
    indicators: list[IndicatorPeriod]
    figures_dir: Path
    build_date: str
    tracking: dict | None = None
    figures: list[charts.Figure] = field(default_factory=list)
    #: The template's required-section checks (``templates.check_required``), listed in the data-quality appendix.
    template_report: ValidationReport | None = None

    @property
    def area_name(self) -> str:
        return self.data.area["area_name"]

    @property
    def service(self) -> str:
        return self.data.area["service_name"]

    @property
    def content(self) -> dict:
        return self.data.content

    def by_indicator(self) -> dict[str, list[IndicatorPeriod]]:
        out: dict[str, list[IndicatorPeriod]] = {}
        for ip in self.indicators:
            out.setdefault(ip.definition.indicator_id, []).append(ip)
        return out


def build_plan(area_id: str, figures_dir: str | Path = "figures", validation_report: str | Path | None = None,
               build_date: str | None = None, tracking: dict | None = None, edition: str | None = None) -> Plan:
    """Load, validate and compute everything for an edition of an area's plan (its latest when ``edition``
    is None; raises on critical data failures).

    ``validation_report`` is the JSON report of a validation the build driver already ran over
    the same inputs; without it the data contracts are run here, in the notebook's kernel.
    """
    report = read_report(Path(validation_report)) if validation_report else None
    data = load_area(area_id, report=report, edition=edition or None)
    ips = area_indicators(data.table("indicators"), data.definitions, data.table("measures"))
    return Plan(
        data=data,
        indicators=ips,
        figures_dir=Path(figures_dir),
        build_date=build_date or date.today().isoformat(),
        tracking=tracking,
    )


# --------------------------------------------------------------------------- markdown helpers


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def content_block(value: Any, level: int = 3) -> str:
    """Markdown for a piece of analyst content: text, list, or mapping (``source`` keys become citations)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip() + "\n"
    if isinstance(value, (int, float)):
        return f"{value}\n"
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "\n".join(f"- {v.strip()}" for v in value) + "\n"
        return "\n".join(content_block(v, level) for v in value)
    if isinstance(value, dict):
        parts = []
        title = value.get("title") or value.get("heading")
        if title:
            parts.append(f"**{title.strip()}**\n")
        for key, item in value.items():
            if key in ("title", "heading", "source", "sources"):
                continue
            if key in ("text", "body", "summary", "statement", "description"):
                parts.append(content_block(item, level))
            elif key in ("actions", "items", "points", "bullets", "members"):
                parts.append(content_block(item, level))
            elif key == "risk":
                parts.append(f"*Risk:* {str(item).strip()}\n")
            elif key in ("mitigation", "action", "actions_to_mitigate"):
                parts.append(f"*Mitigation:* {content_block(item, level).strip()}\n")
            elif key in ("success_criteria",):
                parts.append(f"*Success criteria:* {content_block(item, level).strip()}\n")
            else:
                parts.append(f"*{md_escape(key.replace('_', ' ').capitalize())}:* {content_block(item, level).strip()}\n")
        src = value.get("source")
        if src:
            parts.append(f"[Source: {md_escape(_source_text(src))}]{{.source}}\n")
        return "\n".join(p for p in parts if p.strip())
    return str(value)


def _source_text(src: Any) -> str:
    if isinstance(src, dict):
        doc = src.get("document") or src.get("source_document") or ""
        sec = src.get("section") or src.get("source_section") or ""
        return f"{reference.source_short_title(doc) or doc}, {sec}".strip(", ")
    if isinstance(src, list):
        return "; ".join(_source_text(s) for s in src)
    return short_source(str(src))


def _content(plan: Plan, *keys: str) -> Any:
    for key in keys:
        if key in plan.content and plan.content[key]:
            return plan.content[key]
    return None


def _section(title: str, sec_id: str) -> str:
    return f"# {title} {{#{sec_id}}}\n\n"


def _figure(plan: Plan, fig: charts.Figure) -> str:
    plan.figures.append(fig)
    return fig.markdown(relative_to=plan.figures_dir.parent if plan.figures_dir.is_absolute() else None) + "\n"


def _fig_path(plan: Plan, name: str) -> Path:
    return plan.figures_dir / f"{name}.png"


def _money(amount: float) -> str:
    return f"£{amount:,.0f}"


# --------------------------------------------------------------------------- sections


def review_notice(plan: Plan) -> str:
    """A draft notice when the edition's content was carried forward and not yet reviewed ('' otherwise)."""
    review = plan.content.get("review") if isinstance(plan.content, dict) else None
    if not isinstance(review, dict) or str(review.get("status", "")) != "to_review":
        return ""
    return (f"::: {{.callout-important}}\n**Draft for review.** This edition's text was carried forward from the "
            f"{md_escape(str(review.get('carried_from', 'previous')))} edition and has not been reviewed yet: "
            f"{md_escape(str(review.get('note', '')))}\n:::\n\n")


def title_block(plan: Plan) -> str:
    area = plan.data.area
    notice = review_notice(plan)
    if notice:
        return notice + _title_text(plan)
    return _title_text(plan)


#: How the title block names the document a plan is rebuilt from, by the kind of its source (sources.csv).
SOURCE_KIND_WORDS = {"plan": "the published plan", "committee_report": "the committee report",
                     "inspection_report": "the inspection report", "statistics": "the published statistics"}


def _rebuilt_from(area: dict) -> str:
    """'the published plan', 'the committee report', ... from the kind of the edition's source document."""
    from ..data.reference import source

    row = source(str(area.get("plan_source_document") or "")) or {}
    return SOURCE_KIND_WORDS.get(str(row.get("kind") or ""), "its source documents")


def _document_name(area: dict) -> str:
    from .templates import document_name

    return document_name(str(area.get("template") or ""))


def _title_text(plan: Plan) -> str:
    area = plan.data.area
    if plan.data.synthetic:
        return (
            f"::: {{.callout-warning}}\n**{SYNTHETIC_TEXT}.** Every figure in this "
            "document was generated by code with a fixed seed.\n:::\n\n"
            f"This demonstration plan of the fictional **{md_escape(area['service_name'])}** shows what the pipeline builds from a "
            f"case-management extract. Its figures come from synthetic records generated by code with a fixed seed "
            f"(the code {md_escape(area['ons_code'])} is made up). Built {md_escape(plan.build_date)}.\n"
        )
    return (
        f"This is the {md_escape(_document_name(area))} of **{md_escape(area['service_name'])}** for "
        f"**{md_escape(area['plan_period_label'])}** (edition {md_escape(area.get('edition', ''))}, figures known by "
        f"{md_escape(_date_text(area['data_cutoff']))}), rebuilt reproducibly from {md_escape(_rebuilt_from(area))} and related documents "
        f"({md_escape(group_label(area['region']))}, {md_escape(group_label(area['police_force_area']))} police force area, "
        f"ONS code {md_escape(area['ons_code'])}). "
        f"Periods differ between indicators: each figure is shown with its own period. Built {md_escape(plan.build_date)}.\n"
    )


def summary(plan: Plan) -> str:
    out = [_section("Summary and key achievements", "sec-summary")]
    text = _content(plan, "summary", "introduction")
    if text:
        out.append(content_block(text))
    out.append("## Performance at a glance {#sec-glance}\n")
    out.append(glance_table(plan))
    achievements = _content(plan, "achievements", "key_achievements")
    if achievements:
        out.append("## Key achievements {#sec-achievements}\n")
        out.append(content_block(achievements))
    return "\n".join(out)


def glance_table(plan: Plan) -> str:
    rows = []
    for indicator_id, periods in plan.by_indicator().items():
        latest = periods[0]
        defn = latest.definition
        main = next((b for b in latest.benchmarks if b.same_period and b.comparator in ("england", "england_wales")), None)
        main = main or next((b for b in latest.benchmarks if b.same_period), None)
        if main is not None:
            vs = f"{narrative.result_span(main.comparison.result)} vs {md_escape(main.label)} ({md_escape(fmt_value(main.value, defn))})"
        else:
            vs = "no benchmark for the same period"
        if latest.change is None:
            change = "no comparable previous period"
        elif latest.change.significant is None:
            change = f"{latest.change.assessment} ({latest.change.direction}); not tested"
        else:
            change = f"{latest.change.assessment} ({latest.change.direction}); {'significant' if latest.change.significant else 'not significant'}"
        rows.append(
            {
                "Indicator": defn.name,
                "Period": latest.period_label,
                "Value": fmt_value(latest.value, defn),
                "95% interval": interval_text(latest.estimate, defn),
                "Benchmark": vs,
                "Change on previous period": change,
                "Up to date?": staleness(plan, latest) or "yes",
            }
        )
    if not rows:
        return "No national indicator figures are available for this area.\n"
    return md_table(pd.DataFrame(rows), f"National indicators at a glance, {plan.area_name} (latest published period of each)", "tbl-glance",
                    markdown_columns=("Benchmark",))


#: What each absent topic is called in the sentences of ``absent``.
TOPIC_WORDS = {"budget": "budget table", "grant_expenditure": "grant expenditure plan", "staffing": "staffing figures",
               "governance": "description of its governance arrangements", "partnerships": "partnership arrangements",
               "profile": "offending or caseload profile", "priorities": "priorities", "risks": "risks to delivery",
               "inspection": "inspection findings"}

#: Where an analyst enters each topic.
TOPIC_HOME = {"budget": "data/budget.csv", "grant_expenditure": "data/grant_expenditure.csv", "staffing": "data/staffing.csv",
              "profile": "data/measures.csv", "inspection": "data/inspections.csv"}


def absent(plan: Plan, topic: str) -> str:
    """Why a topic is missing, from the data: the source publishes none (a row of data/not_published.csv,
    with its source), or nothing has been entered for this edition yet (where to enter it)."""
    what = TOPIC_WORDS[topic]
    rows = plan.data.tables.get("not_published")
    if rows is not None and not rows.empty:
        match = rows[rows["topic"] == topic]
        if not match.empty:
            r = match.iloc[0]
            note = f" {md_escape(str(r['note']))}" if isinstance(r.get("note"), str) and r["note"].strip() else ""
            source = short_source(f"{r['source_document']}, {r['source_section']}")
            return f"The source document publishes no {what} ({md_escape(source)}).{note}\n"
    home = TOPIC_HOME.get(topic, f"data/content/{plan.data.area_id}/{plan.data.edition}.yml")
    kind = "this synthetic demonstration" if plan.data.synthetic else "this edition"
    verb = "have" if what.split()[-1].endswith("s") else "has"
    return f"No {what} {verb} been entered for {kind} ({md_code(home)}).\n"


def governance(plan: Plan) -> str:
    out = [_section("Structures and governance", "sec-governance")]
    gov = _content(plan, "governance")
    out.append(content_block(gov) if gov else absent(plan, "governance"))
    partners = _content(plan, "partnerships", "partnership_arrangements")
    if partners:
        out.append("## Partnership arrangements {#sec-partnerships}\n")
        out.append(content_block(partners))
    return "\n".join(out)


def resources(plan: Plan) -> str:
    out = [_section("Resources and value for money", "sec-resources")]
    years = budget_years(plan.data.table("budget"))
    if not years:
        out.append(absent(plan, "budget"))
    for by in years:
        yb, year = by.rows, by.year
        unit_note = f" {md_escape(plan.area_name)} publishes its budget in £000; the figures below are converted to pounds." if by.unit == "GBP_thousands" else ""
        wide = yb[yb["row_type"].isin(["contribution", "row_total"])].pivot_table(
            index="agency", columns="cost_type", values="amount_gbp", aggfunc="sum", sort=False
        )
        order = [c for c in ("staffing", "payments_in_kind", "other_delegated", "total") if c in wide.columns]
        wide = wide[order]
        totals = yb[yb["row_type"].isin(["column_total", "grand_total"])]
        total_row = {c: totals[totals["cost_type"] == c]["amount_gbp"].sum() if (totals["cost_type"] == c).any() else float("nan") for c in order}
        table = wide.reset_index()
        table = pd.concat([table, pd.DataFrame([{"agency": "Total (as published)", **total_row}])], ignore_index=True)
        names = {"agency": "Agency", "staffing": "Staffing (£)", "payments_in_kind": "Payments in kind (£)",
                 "other_delegated": "Other delegated funds (£)", "total": "Total (£)"}
        shown = table.rename(columns=names)
        for c in shown.columns[1:]:
            shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
        out.append(f"## Budget {md_escape(year)} {{#sec-budget-{_slug(year)}}}\n")
        published = by.published_total
        sentence = f"The published total budget for {md_escape(year)} is **{_money(published)}**." if published is not None else ""
        if not by.adds_up:
            sentence += (
                f" The agency rows add up to {_money(by.contributions)}, not the published total; the published figure is kept "
                f"and the difference of {_money(abs(published - by.contributions))} is reported in the data-quality appendix."
            )
        out.append(sentence + unit_note + "\n")
        out.append(md_table(shown, f"Partner contributions to the youth justice pooled budget {year} (£), as published", f"tbl-budget-{_slug(year)}"))
        out.append(_figure(plan, charts.budget_chart(by.per_agency[["agency", "amount_gbp"]], _fig_path(plan, f"fig-budget-{_slug(year)}"), plan.area_name, year)))
        if published is not None and by.yjb:
            out.append(f"The Youth Justice Board grant is {_money(by.yjb)}, {by.yjb / published * 100:.1f}% of the published total.\n")
    grant = plan.data.table("grant_expenditure")
    if grant is not None and not grant.empty:
        g = budget_in_pounds(grant)
        g["Amount (£)"] = g["amount_gbp"].map(lambda v: f"{v:,.0f}")
        year = g["financial_year"].iloc[0]
        out.append(f"## Youth Justice Board grant expenditure plan {md_escape(year)} {{#sec-grant}}\n")
        out.append(md_table(g[["category", "description", "Amount (£)"]].rename(columns={"category": "Category", "description": "Description"}),
                            f"Planned expenditure of the Youth Justice Board grant {year}", "tbl-grant"))
    vfm = _measures(plan, ["value_for_money", "budget_context"])
    if not vfm.empty:
        out.append("## Value for money {#sec-vfm}\n")
        out.append(measures_table(vfm, "Value-for-money and budget context figures", "tbl-vfm"))
    risks = _content(plan, "financial_risks")
    if risks:
        out.append("## Financial risks {#sec-financial-risks}\n")
        out.append(content_block(risks))
    return "\n".join(out)


def staffing(plan: Plan) -> str:
    out = [_section("Staffing", "sec-staffing")]
    s = plan.data.table("staffing")
    if s is None or s.empty:
        note = _content(plan, "staffing_note")
        out.append(content_block(note) if note else absent(plan, "staffing"))
        return "\n".join(out)
    totals = s[s["attribute"] == "total"][["role", "count"]].copy()
    rows = []
    for role, g in s.groupby("role", sort=False):
        def describe(attribute):
            part = g[g["attribute"] == attribute]
            return "; ".join(f"{c} {fmt_number(v)}" if not pd.isna(v) else f"{c}" for c, v in zip(part["category"], part["count"]))
        total = g[g["attribute"] == "total"]["count"]
        vacant = g[g["attribute"] == "vacant"]["count"]
        rows.append({
            "Role": role,
            "Staff": fmt_number(total.iloc[0]) if len(total) else "",
            "Vacant": fmt_number(vacant.iloc[0]) if len(vacant) else "",
            "Gender": describe("gender"),
            "Ethnicity": describe("ethnicity"),
        })
    frame = pd.DataFrame(rows)
    if not frame["Vacant"].astype(bool).any():
        frame = frame.drop(columns=["Vacant"])
    basis = s["count_basis"].dropna().iloc[0] if s["count_basis"].notna().any() else "as published"
    total_staff = totals["count"].sum()
    out.append(f"The plan lists {fmt_number(total_staff)} staff across {len(totals)} roles (counted as: {md_escape(basis)}).\n")
    out.append(md_table(frame, f"Staffing by role, gender and ethnicity as published, {plan.area_name}", "tbl-staffing"))
    disability = staff_disability(plan, s, total_staff)
    if disability:
        out.append(disability)
    out.append(_figure(plan, charts.staffing_chart(totals, _fig_path(plan, "fig-staffing"), plan.area_name)))
    note = _content(plan, "staffing_note")
    if note:
        out.append(content_block(note))
    return "\n".join(out)


def staff_disability(plan: Plan, staffing_rows: pd.DataFrame, total_staff: float) -> str:
    """Staff by disability for the whole service, disclosure-controlled ('' when the table has none).

    Disability is special-category data about people who may be identifiable in a small team: it is never shown
    by role, and counts from 1 to 4 are hidden (with the cells that would reveal them), as for children.
    """
    part = staffing_rows[staffing_rows["attribute"] == "disability"]
    if part.empty:
        return ""
    counts = part.groupby("category", sort=False)["count"].sum()
    table = pd.DataFrame({"Disability": list(counts.index) + ["All staff"], "Staff": list(counts.values) + [total_staff]})
    shown, _ = disclosure.suppress_table(table, ["Staff"], total_row="All staff", label_column="Disability")
    shown["Staff"] = [v if isinstance(v, str) else fmt_number(v) for v in shown["Staff"]]
    out = ("Disability is shown for the whole service only, never by role, so that no member of staff can be identified: "
           f"counts from 1 to {disclosure.THRESHOLD - 1} are shown as \"{disclosure.PRIMARY_MARKER}\", and cells that would "
           f"reveal them as \"{disclosure.SECONDARY_MARKER}\".\n\n")
    return out + md_table(shown, f"Staff by disability, {plan.area_name}", "tbl-staffing-disability", align="lr")


def _months_between(earlier, later) -> int:
    a, b = pd.Timestamp(earlier), pd.Timestamp(later)
    return (b.year - a.year) * 12 + (b.month - a.month)


def staleness(plan: Plan, ip: IndicatorPeriod) -> str:
    """'' for a figure recent enough, else why it is stale (its period ended more than the edition's
    ``stale_after_months`` before the data cut-off)."""
    area = plan.data.area
    cutoff, limit = area.get("data_cutoff"), area.get("stale_after_months")
    if cutoff is None or limit in (None, "") or pd.isna(cutoff):
        return ""
    age = _months_between(ip.period_end, cutoff)
    if age <= int(limit):
        return ""
    return f"stale: the period ended {age} months before the plan's data cut-off (limit {int(limit)} months)"


def _date_text(value) -> str:
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%B %Y')}"


def changes_since_last_plan(plan: Plan) -> str:
    """Each indicator's headline in the previous edition against this edition's, with the change and its
    significance; '' for an area's first edition."""
    from ..analysis.since_last_plan import changes_since
    from ..data.editions import previous_edition, resolve_edition

    area = plan.data.area
    if not area.get("edition"):
        return ""
    before = previous_edition(resolve_edition(area["area_id"], area["edition"]))
    if before is None:
        return ""
    out = [_section("What changed since the last plan", "sec-changes")]
    out.append(
        f"The previous plan of {md_escape(plan.area_name)} was the {md_escape(before.edition)} edition "
        f"({md_escape(before.row.get('plan_period_label', ''))}), with figures known by {md_escape(_date_text(before.cutoff))}; "
        f"this {md_escape(area['edition'])} edition has figures known by {md_escape(_date_text(area['data_cutoff']))}. "
        "Each indicator's headline (its latest period by each plan's data cut-off) is compared below.\n")
    rows = []
    sentences = []
    for hc in changes_since(plan.indicators, before.cutoff):
        defn = hc.current.definition
        prev_text = (f"{fmt_value(hc.previous.value, defn)} ({hc.previous.period_label})" if hc.previous else "—")
        now_text = f"{fmt_value(hc.current.value, defn)} ({hc.current.period_label})"
        if hc.change is None:
            result, test = hc.note, "—"
        else:
            ch = hc.change
            result = ch.assessment if ch.direction != "no change" else "no change"
            if ch.significant is None:
                test = "not tested: " + (ch.note or "counts not published for both periods")
            else:
                test = f"{'significant' if ch.significant else 'not significant'} ({ch.test}, p = {narrative.p_text(ch.p_value)})"
            verb = {"increase": "rose", "decrease": "fell", "no change": "was unchanged"}[ch.direction]
            sentences.append(f"- The {md_escape(narrative.sentence_name(defn))} {verb} from {md_escape(prev_text)} to "
                             f"{md_escape(now_text)}: {md_escape(result)}; {md_escape(test)}.")
        rows.append({"Indicator": defn.name, "Previous plan": prev_text, "This plan": now_text,
                     "Change": result, "Significance": test})
    if not rows:
        out.append("Neither plan has national indicator figures.\n")
        return "\n".join(out)
    if sentences:
        out.append("\n".join(sentences) + "\n")
    out.append(md_table(pd.DataFrame(rows), f"Headline indicators, previous plan ({before.edition}) and this plan "
                        f"({area['edition']}), {plan.area_name}", "tbl-changes"))
    return "\n".join(out)


def performance(plan: Plan) -> str:
    out = [_section("Performance on the national indicators", "sec-performance")]
    out.append(
        "Each indicator is shown with its 95% confidence interval where the published counts allow one "
        "(Wilson score for proportions; Byar's method, or the exact Poisson interval below 10 events, for rates), "
        "compared with each published benchmark of the same period — *similar* when the benchmark lies inside the "
        f"interval, otherwise *better* or *worse* given each indicator's polarity ({_polarities(plan)}) — and with the "
        "previous period. Figures derived by us are labelled as such.\n"
    )
    quals = _content(plan, "qualitative_comparisons")
    for indicator_id, periods in plan.by_indicator().items():
        defn = periods[0].definition
        out.append(f"## {md_escape(defn.name)} {{#sec-{indicator_id.replace('_', '-')}}}\n")
        out.append(f"*{md_escape(defn.description)}*\n" if defn.description else "")
        latest = periods[0]
        for ip in periods:
            out.append(narrative.headline(ip) + "\n")
            if ip.small_numbers:
                out.append(f"[Small numbers]{{.caution}} Based on {fmt_number(ip.numerator)} events: the interval is wide and year-to-year changes are unreliable.\n")
            for d in ip.derivations:
                out.append(f"- *Derived:* {md_escape(d)}.")
            if ip.derivations:
                out.append("")
            if ip.note:
                out.append(f"*Note:* {md_escape(ip.note)}\n")
        rows = []
        for ip in periods:
            rows.append({
                "Comparator": plan.area_name, "Period": ip.period_label, "Value": fmt_value(ip.value, defn),
                "95% interval": interval_text(ip.estimate, defn), "Result": "—", "Source": short_source(ip.source),
            })
            for b in ip.benchmarks:
                rows.append({
                    "Comparator": b.label, "Period": b.period_label, "Value": fmt_value(b.value, defn), "95% interval": "",
                    "Result": narrative.result_span(b.comparison.result), "Source": short_source(b.source),
                })
        out.append(md_table(pd.DataFrame(rows), f"{defn.name}: {plan.area_name} and comparators", f"tbl-{indicator_id.replace('_', '-')}",
                            markdown_columns=("Result",)))
        sentences = [narrative.describe_benchmark(latest, b) for b in latest.benchmarks]
        if sentences:
            out.append("\n".join(f"- {s}" for s in sentences) + "\n")
        out.append(narrative.describe_change(latest) + "\n")
        for ip in periods[1:]:
            if ip.change is not None:
                out.append(narrative.describe_change(ip) + "\n")
        out.append(narrative.describe_trend(indicator_trend(periods)) + "\n")
        out.append(_figure(plan, charts.indicator_chart(periods, _fig_path(plan, f"fig-{indicator_id}"), plan.area_name)))
    out.append(left_out_indicators(plan))
    if quals:
        out.append("## Comparisons published without figures {#sec-qualitative}\n")
        out.append("The plan makes these comparisons without publishing the comparator figures, so they cannot be tested here:\n")
        out.append(content_block(quals))
    custody_counts = _measures(plan, ["custody"])
    if not custody_counts.empty:
        out.append("## Custody counts {#sec-custody-counts}\n")
        out.append(measures_table(custody_counts, "Custodial sentences as published (no rate or population published)", "tbl-custody-counts"))
        out.append(custody_count_change(custody_counts, _custody_polarity(plan)) + "\n")
    if not plan.indicators:
        out.append("No national indicator figures are available for this area.\n")
    return "\n".join(out)


def left_out_indicators(plan: Plan) -> str:
    """Indicators whose definition row failed its data contract: they could not be shown (their rows were left out,
    every other indicator is shown). Empty when none was left out."""
    failures: dict[str, list] = {}
    for o in plan.data.report.left_out:
        if o.table == "indicator_definitions":
            for indicator_id in o.left_out:
                failures.setdefault(indicator_id, []).append(o)
    if not failures:
        return ""
    out = ["## Indicators that could not be shown {#sec-indicators-left-out}\n"]
    for indicator_id, outcomes in failures.items():
        reasons = "; ".join(
            f"{o.file}, line{'s' if len(o.rows) > 1 else ''} {', '.join(map(str, o.rows))}, column '{o.column}': "
            f"{o.description.split(' — indicator ')[0]}" for o in outcomes)
        out.append(f"::: {{.callout-warning}}\n**The indicator {md_code(indicator_id)} could not be shown.** Its definition failed "
                   f"the data contract ({md_escape(reasons)}), so its figures are left out of this plan; every other indicator "
                   "is shown. See the data-quality appendix.\n:::\n")
    return "\n".join(out)


def _polarities(plan: Plan) -> str:
    """'lower is better for A, B and C' from the definitions of the indicators the plan shows."""
    groups: dict[str, list[str]] = {}
    for periods in plan.by_indicator().values():
        defn = periods[0].definition
        groups.setdefault(narrative.polarity_phrase(defn), []).append(defn.short_name.lower())
    return "; ".join(f"{phrase} for {join_and(names)}" for phrase, names in groups.items()) or "none shown"


def _custody_polarity(plan: Plan) -> str:
    defs = plan.data.definitions
    row = defs[defs["indicator_id"] == "custody_rate"]
    return str(row.iloc[0]["polarity"]) if not row.empty else "no_judgement"


def custody_count_change(counts: pd.DataFrame, polarity: str) -> str:
    """Change in a published count between the two latest periods, tested as Poisson counts over an assumed equal
    population; ``polarity`` is the custody indicator's (from the definitions)."""
    c = counts[counts["unit"] == "count"].sort_values("period_end")
    if len(c) < 2:
        return ""
    prev, cur = c.iloc[-2], c.iloc[-1]
    ch = stats.rate_change(cur["value"], 1.0, prev["value"], 1.0, multiplier=1.0, polarity=polarity)
    verb = {"increase": "rose", "decrease": "fell", "no change": "was unchanged"}[ch.direction]
    sig = "statistically significant" if ch.significant else "not statistically significant"
    return (
        f"Custodial sentences {verb} from {fmt_number(prev['value'])} ({md_escape(prev['period_label'])}) to {fmt_number(cur['value'])} "
        f"({md_escape(cur['period_label'])}), {'an improvement' if ch.assessment == 'improvement' else 'a deterioration' if ch.assessment == 'deterioration' else 'no change'}. "
        f"Assuming a stable 10–17 population (not published), the change is {sig} ({ch.test}, p = {narrative.p_text(ch.p_value)})."
    )


def _measures(plan: Plan, topics: list[str]) -> pd.DataFrame:
    m = plan.data.table("measures")
    if m is None or m.empty:
        return pd.DataFrame()
    return m[m["topic"].isin(topics)]


def _measure_value(row: dict) -> str:
    v, unit = row["value"], row["unit"]
    if unit == "%":
        return f"{fmt_number(v)}%"
    if unit == "percentage points":
        return f"{v:+g} percentage points"
    if unit == "count":
        return fmt_number(v)
    if unit.startswith("GBP"):
        return f"£{fmt_number(v)}" + (" per £1" if "per" in unit else "")
    return f"{fmt_number(v)} {unit}"


def measures_table(frame: pd.DataFrame, caption: str, table_id: str) -> str:
    rows = []
    for r in frame.to_dict("records"):
        comparator = "" if r.get("comparator") in (None, "area") else f" ({reference.group_label(str(r['comparator']))})"
        rows.append({
            "Measure": f"{r['label']}{comparator}",
            "Value": _measure_value(r),
            "Base": fmt_number(r["denominator"]) if not pd.isna(r.get("denominator")) else "",
            "Period": r["period_label"],
            "Source": short_source(f"{r['source_document']}, {r['source_section']}") + (" (derived)" if r.get("value_status") == "derived" else ""),
        })
    table = pd.DataFrame(rows)
    if not table["Base"].astype(bool).any():
        table = table.drop(columns=["Base"])
    if table["Period"].nunique() == 1 and str(table["Period"].iloc[0]) in caption:
        table = table.drop(columns=["Period"])
    return md_table(table, caption, table_id)


def profile(plan: Plan) -> str:
    out = [_section("Offending and caseload profile", "sec-profile")]
    found = False
    for topic, title, tid in (
        ("offending_profile", "Offending profile", "tbl-offending-profile"),
        ("caseload_profile", "Caseload profile", "tbl-caseload-profile"),
        ("interventions", "Interventions and outcomes for children", "tbl-interventions"),
        ("population", "Population", "tbl-population"),
    ):
        m = _measures(plan, [topic])
        if m.empty:
            continue
        found = True
        out.append(f"## {title} {{#sec-{tid[4:]}}}\n")
        for period, g in m.groupby("period_label", sort=False):
            out.append(measures_table(g, f"{title}, {period}, {plan.area_name}", f"{tid}-{_slug(period)}"))
    if not found:
        out.append(absent(plan, "profile"))
    return "\n".join(out)


def restorative_justice(plan: Plan) -> str:
    out = [_section("Restorative justice, victims and service users", "sec-rj")]
    m = _measures(plan, ["restorative_justice", "victims", "workforce"])
    if not m.empty:
        out.append(measures_table(m, f"Restorative justice and victims, {plan.area_name}", "tbl-rj"))
    else:
        out.append("No restorative justice or victim figures are published for this area.\n")
    fb = _measures(plan, ["service_user_feedback"])
    if not fb.empty:
        out.append("## Feedback from children, parents and victims {#sec-feedback}\n")
        out.append(measures_table(fb, f"Service-user feedback, {plan.area_name}", "tbl-feedback"))
    text = _content(plan, "restorative_justice", "victims")
    if text:
        out.append(content_block(text))
    return "\n".join(out)


def inspection_section(plan: Plan) -> str:
    ins = plan.data.table("inspections")
    if ins is None or ins.empty:
        return ""
    out = [_section("Inspection findings", "sec-inspection")]
    for record in ins.to_dict("records"):
        standards = plan.data.table("inspection_standards")
        questions = plan.data.table("inspection_key_questions")
        standards = standards[standards["inspection_id"] == record["inspection_id"]]
        questions = questions[questions["inspection_id"] == record["inspection_id"]]
        score = inspection.score_inspection(standards, questions)
        out.append(
            f"{md_escape(record['inspectorate'])} inspected the service (fieldwork {md_escape(record['fieldwork_label'])}; "
            f"{fmt_number(record['court_sample'])} court and {fmt_number(record['ooc_sample'])} out-of-court cases). "
            f"It published a score of **{fmt_number(record['published_score'])}/{fmt_number(record['published_max_score'])}** and an "
            f"overall rating of **{md_escape(record['published_overall_rating'])}**.\n"
        )
        agree = score.total_score == record["published_score"] and score.overall_rating == record["published_overall_rating"]
        out.append(
            f"Applying the inspectorate's scoring rules (Annexe 2 of the report) to the published key-question percentages "
            f"gives **{score.total_score}/{score.max_score}, {md_escape(score.overall_rating)}** — "
            + ("matching the published result." if agree else "which does **not** match the published result; see the table.")
            + "\n"
        )
        rows = []
        for s in score.standards:
            rows.append({
                "Standard": f"{s.standard_id} {s.standard_name}",
                "Lowest key question": "" if s.lowest_pct is None else f"{s.lowest_pct:.0f}%",
                "Computed rating": s.computed_rating or "not computable (no % published)",
                "Published rating": s.published_rating,
                "Score": str(inspection.RATING_SCORES[s.rating_used]),
                "Note": s.discretion_note or ("" if s.agrees in (True, None) else "differs from computed"),
            })
        out.append(md_table(pd.DataFrame(rows), "Inspection standards: rating computed from key questions and published rating", "tbl-inspection"))
        q = questions.dropna(subset=["pct_yes"]).copy()
        if not q.empty:
            q["Band"] = q["pct_yes"].map(inspection.band_for_percentage)
            shown = q[["question_id", "question", "pct_yes", "Band"]].rename(columns={"question_id": "Key question", "question": "Question", "pct_yes": "% yes"})
            shown["% yes"] = shown["% yes"].map(lambda v: f"{v:.0f}%")
            out.append(md_table(shown, "Key questions: % of inspected cases judged sufficient", "tbl-key-questions"))
            out.append(_figure(plan, charts.inspection_chart(questions, _fig_path(plan, "fig-inspection"), plan.area_name)))
    recs = _content(plan, "inspection_recommendations")
    if recs:
        out.append("## Recommendations {#sec-recommendations}\n")
        out.append(content_block(recs))
    return "\n".join(out)


def previous_priorities(plan: Plan) -> str:
    """'Progress on last year's priorities' (carried forward by ``yjplan new-edition``), '' when there are none."""
    carried = plan.content.get("previous_priorities") if isinstance(plan.content, dict) else None
    if not carried:
        return ""
    out = ["## Progress on last year's priorities {#sec-previous-priorities}\n"]
    for item in carried if isinstance(carried, list) else [carried]:
        if isinstance(item, dict):
            title = md_escape(str(item.get("title", "")))
            progress = str(item.get("progress", "") or "")
            marker = " *(to review)*" if progress.startswith("TO REVIEW") else ""
            out.append(f"- **{title}**: {md_escape(progress)}{marker}")
        else:
            out.append(f"- {md_escape(str(item))}")
    return "\n".join(out) + "\n"


def priorities(plan: Plan) -> str:
    out = [_section("Priorities", "sec-priorities")]
    carried = previous_priorities(plan)
    if carried:
        out.append(carried)
    pri = _content(plan, "priorities")
    if not pri:
        out.append("No priorities are recorded in the area's content file.\n")
        return "\n".join(out)
    if isinstance(pri, list):
        for i, p in enumerate(pri, start=1):
            if isinstance(p, dict):
                title = p.get("title", f"Priority {i}")
                out.append(f"## {title} {{#sec-priority-{i}}}\n")
                out.append(content_block({k: v for k, v in p.items() if k != "title"}))
            else:
                out.append(f"{i}. {p}")
        out.append("")
    else:
        out.append(content_block(pri))
    return "\n".join(out)


def risks(plan: Plan) -> str:
    out = [_section("Risks to delivery", "sec-risks")]
    r = _content(plan, "risks", "risks_to_delivery")
    out.append(content_block(r) if r else "No risks are recorded in the area's content file.\n")
    return "\n".join(out)


#: Offending rows listed per warning in the data-quality appendix (the rest are counted).
APPENDIX_ROWS = 20


def data_quality(plan: Plan) -> str:
    report = ValidationReport(list(plan.data.report.outcomes))
    if plan.tracking and plan.tracking.get("report") is not None:
        report.extend(plan.tracking["report"])
    if getattr(plan, "template_report", None) is not None:
        report.extend(plan.template_report)
    summary_ = report.summary()
    out = [_section("Appendix: data quality", "sec-data-quality")]
    out.append(
        f"Every input table was validated against its data contract (Great Expectations suites in `data_contracts/`) "
        f"before any figure was computed: {summary_['expectations']} expectations ran, {summary_['passed']} passed, "
        f"{summary_['warnings']} raised a warning and {summary_['critical']} failed critically. Warnings do not stop the "
        f"plan: they mark published figures that do not reconcile, which are shown as published.\n"
    )
    if report.warnings:
        out.append("## Warnings {#sec-dq-warnings}\n")
        for o in report.warnings:
            details = o.details or [o.observed]
            shown = [f"- {md_escape(d)}" for d in details[:APPENDIX_ROWS]]
            if len(details) > APPENDIX_ROWS:
                shown.append(f"- … and {len(details) - APPENDIX_ROWS:,} more (every one is in the build's validation.json)")
            out.append(f"::: {{.callout-warning}}\n**{md_escape(o.file)}** — {md_escape(o.description)}.\n\n" + "\n".join(shown) + "\n:::\n")
    frame = report.to_frame()
    if not frame.empty:
        frame = frame[["file", "stage", "column", "description", "severity", "status"]]
        frame.columns = ["File", "Stage", "Column", "Expectation", "Severity", "Result"]
        out.append("## Every expectation run {#sec-dq-all}\n")
        out.append(md_table(frame, "Data-contract expectations run for this plan and their results", "tbl-dq"))
    return "\n".join(out)


def sources(plan: Plan) -> str:
    out = [_section("Sources", "sec-sources")]
    docs: dict[str, set[str]] = {}
    for name, table in plan.data.tables.items():
        if table is None or table.empty or "source_document" not in table:
            continue
        for doc, sec in zip(table["source_document"], table["source_section"]):
            docs.setdefault(str(doc), set()).add(str(sec))
    area = plan.data.area
    docs.setdefault(str(area.get("source_document")), set()).add(str(area.get("source_section")))
    for doc in sorted(docs):
        title = reference.source_title(doc)
        secs = "; ".join(sorted(docs[doc]))
        short_title = reference.source_short_title(doc)
        short = f" — cited in tables as *{short_title}*" if short_title else ""
        out.append(f"- **{md_escape(title)}** ({md_code(doc)}{short}): {md_escape(secs)}.")
    out.append(
        "\nFigures are reproduced as published. Derived figures are labelled where they appear. Names of staff and officials "
        "in the source documents are deliberately not reproduced."
    )
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- local tracking

_TRACKING_COLUMNS = {
    "period_start": "From", "period_end": "To", "first_time_entrants": "First-time entrants", "population": "Population 10–17",
    "rate_per_100000": "Rate per 100,000", "lower": "Lower 95%", "upper": "Upper 95%", "cohort": "Cohort", "status": "Status",
    "cohort_size": "Children in cohort", "reoffenders": "Reoffenders", "not_reoffended": "Did not reoffend",
    "rate": "Reoffending rate (%)", "reoffences": "Reoffences", "reoffences_per_reoffender": "Reoffences per reoffender",
    "reoffences_per_child": "Reoffences per child", "previous_cohort": "Previous cohort", "previous_rate": "Previous rate (%)",
    "change_pp": "Change (pp)", "p_value": "p", "test": "Test", "significant": "Significant", "assessment": "Assessment",
    "group": "Group", "measure": "Measure", "count": "Count", "denominator": "Out of", "share": "Share (%)",
    "share_lower": "Lower 95%", "share_upper": "Upper 95%", "rate_per_1000": "Rate per 1,000",
}


def _tracking_cell(value: Any, column: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column == "p_value" and isinstance(value, (int, float)):
        return narrative.p_text(float(value))
    if isinstance(value, (int, float)):
        return fmt_number(value)
    return str(value)


def tracking_table(table: pd.DataFrame, table_id: str, drop: tuple[str, ...] = ()) -> str:
    """A disclosure-controlled tracking table (from ``publication_tables``) as a captioned table with its footnotes."""
    if table is None or table.empty:
        return ""
    shown = table.drop(columns=[c for c in drop if c in table.columns])
    if "provisional" in shown.columns:
        shown = shown.drop(columns=["provisional"])
    shown = pd.DataFrame({_TRACKING_COLUMNS.get(c, c): [_tracking_cell(v, c) for v in shown[c].astype(object)] for c in shown.columns})
    numeric = [c not in ("Cohort", "Status", "Group", "Measure", "Previous cohort", "Test", "Assessment", "From", "To", "Significant") for c in shown.columns]
    out = md_table(shown, table.attrs.get("title", ""), table_id, align="".join("r" if n else "l" for n in numeric))
    notes = [n for n in table.attrs.get("footnotes", []) if not n.startswith("SYNTHETIC")]
    if notes:
        out += "\n" + "\n".join(f"[{n}]{{.footnote-line}}\n" for n in notes)
    return out


def local_tracking(plan: Plan) -> str:
    """The "Local tracking" section: indicators computed from a case-management extract, disclosure-controlled.

    Empty when the build was given no extract. The live tracker (pseudonymous ids) is never shown.
    """
    t = plan.tracking
    if not t:
        return ""
    tables = t["tables"]
    out = [_section("Local tracking from case records", "sec-tracking")]
    if t.get("synthetic") or plan.data.synthetic:
        out.append("::: {.callout-warning}\n**SYNTHETIC DEMONSTRATION DATA.** This section is computed from a generated "
                   "extract for a fictional area; it describes no real child.\n:::\n")
    out.append(
        f"Published national figures arrive one to two years late, so these indicators are computed from the service's "
        f"case-management extract ({md_code(t['extract_name'])}, {fmt_number(t['records'])} proven outcomes, validated against its data contract) "
        f"as of **{t['as_of']}**. First-time entrants and custody cover {t['period_start']} to {t['period_end']}; "
        f"rates use a 10–17 population of {fmt_number(t['population'])}. {disclosure.rule_sentence()}, other cells "
        f"that would reveal them are hidden too (\"{disclosure.SECONDARY_MARKER}\"), and so is every rate built on a hidden count. Cohorts whose follow-up "
        f"or waiting period has not ended are marked provisional.\n"
    )
    out.append("## First-time entrants {#sec-tracking-fte}\n")
    out.append(tracking_table(tables["fte"], "tbl-tracking-fte"))
    out.append("## Proven reoffending cohorts {#sec-tracking-reoffending}\n")
    out.append(tracking_table(tables["reoffending_cohorts"], "tbl-tracking-cohorts", drop=("not_reoffended",)))
    changes = tables["reoffending_changes"]
    if changes is not None and not changes.empty:
        out.append(tracking_table(changes, "tbl-tracking-changes", drop=("lower", "upper")))
        sentences = []
        for r in changes.to_dict("records"):
            if r.get("provisional"):
                sentences.append(f"- {r['cohort']} on {r['previous_cohort']}: provisional cohort, not compared as final.")
            elif r["change_pp"] == disclosure.SECONDARY_MARKER:
                sentences.append(f"- {r['cohort']} on {r['previous_cohort']}: not shown (built on a suppressed count).")
            else:
                direction = "rose" if r["change_pp"] > 0 else "fell" if r["change_pp"] < 0 else "was unchanged"
                sig = "statistically significant" if r["significant"] else "not statistically significant"
                sentences.append(
                    f"- {r['cohort']} on {r['previous_cohort']}: the rate {direction} from {r['previous_rate']:g}% to {r['rate']:g}% "
                    f"({r['change_pp']:+g} percentage points), {r['assessment']}; {sig} (p = {narrative.p_text(r['p_value'])})."
                )
        out.append("\n".join(sentences) + "\n")
    quarterly = tables.get("reoffending_cohorts_quarterly")
    if quarterly is not None and not quarterly.empty:
        out.append(tracking_table(quarterly.tail(8), "tbl-tracking-quarterly",
                                  drop=("not_reoffended", "reoffences", "reoffences_per_reoffender", "reoffences_per_child")))
    for by, label in (("sex", "sex"), ("age_band", "age"), ("ethnicity", "ethnicity")):
        table = tables.get(f"reoffending_by_{by}")
        if table is not None and not table.empty:
            out.append(tracking_table(table, f"tbl-tracking-{by.replace('_', '-')}", drop=("not_reoffended", "lower", "upper")))
    out.append("## Custody and remands {#sec-tracking-custody}\n")
    out.append(tracking_table(tables["custody"], "tbl-tracking-custody"))
    method = [n for n in tables.get("footnotes", []) if not n.startswith(("<5:", "*:", "SYNTHETIC"))]
    if method:
        out.append("## Method {#sec-tracking-method}\n")
        out.append("\n".join(f"- {n}" for n in method) + "\n")
    out.append("The live tracker of the current cohort (pseudonymous ids, days left in follow-up) and the extract's rows that "
               "failed a data-contract rule are for internal use only: they are written to the build's restricted folder and "
               "are not part of this plan or the site.\n")
    return "\n".join(out)
