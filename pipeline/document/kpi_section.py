"""The plan sections "Key performance indicators" and "Over-represented children" as Pandoc Markdown.

:func:`kpi_performance` and :func:`over_represented` take a ``sections.Plan`` whose ``tracking["tables"]``
holds the tables of ``pipeline.analysis.plan_kpis.kpi_summary`` (computed by the build from the extract,
disclosure-controlled, read back from ``tracking.json``). Without them each section says plainly that no
case-management extract (with the KPI columns) was given for the edition. Each starts with a level-1
heading with an id (``sec-kpis``, ``sec-over-represented``; the plan template may retitle and demote it);
sub-headings are level 2 with ids under the section's own.

Every data and content string reaches the Markdown through ``md_escape`` (``md_table`` escapes every cell),
so nothing in the data or the content file can add HTML or raw blocks. Numbers are formatted from the
values alone (NaN and None alike, whole floats as integers), so the Markdown is the same before and after
the JSON round trip. Charts: ``kpi_charts``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from . import kpi_charts, narrative, sections
from .markdown import join_and, md_escape
from .sections import md_table
from ..analysis import disclosure, stats
from ..analysis import disproportionality as dp
from ..analysis.indicators import fmt_number, number_or_none
from ..analysis.tracking import codes

KPI_KEYS = ("kpi_measures", "kpi_notes", "kpi_definitions")
RRI_KEYS = ("rri", "rri_notes")
HIDDEN = (disclosure.PRIMARY_MARKER, disclosure.SECONDARY_MARKER)
POLARITY_WORDS = {"higher_is_better": "higher is better", "lower_is_better": "lower is better",
                  "no_judgement": "no judgement is made on its direction"}
BY_WORDS = {"ethnicity": "ethnicity", "sex": "sex", "age_band": "age band", dp.CARE_STATUS: "care status"}
STAGE_LABELS = {s.name: s.label for s in dp.STAGES}
METHOD_SHORT = {dp.METHOD_LOG: "log (Katz)", dp.METHOD_EXACT_RATE: "exact", dp.METHOD_EXACT_STAGE: "exact (conservative)",
                dp.METHOD_REFERENCE: "reference group", dp.METHOD_NONE: "not calculated", dp.METHOD_HIDDEN: "not shown"}
WHERE = ("`data/tracking.yml`", "`data_contracts/case_extract.md`")


# --------------------------------------------------------------------------- cells


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _num(value: Any) -> float | None:
    """A number, or None for a marker, a blank, NaN, None or a bool."""
    if isinstance(value, bool) or (isinstance(value, str) and value in HIDDEN):
        return None
    return number_or_none(value)


def _count(value: Any) -> str:
    if isinstance(value, str) and value in HIDDEN:
        return value
    n = _num(value)
    return "–" if n is None else fmt_number(round(n))


def _decimals(unit: str) -> int:
    return 1 if unit == "%" else 2


def _value(value: Any, unit: str) -> str:
    if isinstance(value, str) and value in HIDDEN:
        return value
    n = _num(value)
    if n is None:
        return "–"
    text = fmt_number(n, _decimals(unit))
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def _interval(lower: Any, upper: Any, unit: str) -> str:
    if any(isinstance(v, str) and v in HIDDEN for v in (lower, upper)):
        return disclosure.SECONDARY_MARKER
    lo, hi = _num(lower), _num(upper)
    if lo is None or hi is None:
        return "not calculated"
    d = _decimals(unit)
    return f"{fmt_number(lo, d)}–{fmt_number(hi, d)}" + ("%" if unit == "%" else "")


def _date(value: Any) -> str:
    """'2023-04-01' -> '1 April 2023' (text that is not a date stays as it is)."""
    try:
        d = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return str(value)
    return str(value) if pd.isna(d) else f"{d.day} {d.strftime('%B %Y')}"


def _span(start: Any, end: Any) -> str:
    return f"{_date(start)} to {_date(end)}"


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))


def _level(frame: pd.DataFrame | None) -> str:
    if frame is not None and len(frame) and "level" in frame.columns:
        n = _num(frame["level"].iloc[0])
        if n is not None:
            return stats.significance_level_label(n)
    return stats.significance_level_label(0.95)


def _tables(plan) -> dict:
    t = plan.tracking or {}
    return t.get("tables") or {}


def _synthetic(plan, data_kind: str = "") -> bool:
    return bool(plan.data.synthetic or (plan.tracking or {}).get("synthetic") or data_kind == "synthetic")


def _callout() -> str:
    return ("::: {.callout-warning}\n**SYNTHETIC DEMONSTRATION DATA.** This section is computed from a generated extract "
            "for a fictional area; it describes no real child.\n:::\n")


def _no_extract(plan, which: str, consequence: str, format_words: str) -> list[str]:
    """What a section says when the build computed none of its tables (the synthetic callout first, where it applies)."""
    return ([_callout()] if _synthetic(plan) else []) + [
        f"No case-management extract {which}was given for this edition, so {consequence}. An extract is configured in "
        f"{WHERE[0]}; its format, {format_words}is described in {WHERE[1]}.\n"]


def _bullets(items) -> str:
    items = [md_escape(i) for i in items if str(i).strip()]
    return "\n".join(f"- {i}" for i in items) + "\n" if items else ""


def _escaped_content(value: Any) -> Any:
    """Analyst content with every text escaped (paragraphs kept) before ``sections.content_block`` lays it out."""
    if isinstance(value, str):
        return "\n\n".join(md_escape(p) for p in re.split(r"\n\s*\n", value.strip()) if p.strip())
    if isinstance(value, list):
        return [_escaped_content(v) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in ("source", "sources") else _escaped_content(v)) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- key performance indicators


def _definitions(tables: dict) -> list[dict]:
    d = tables.get("kpi_definitions")
    if d is None or len(d) == 0:
        return []
    return sorted(d.to_dict("records"), key=lambda r: int(_num(r["kpi_number"]) or 0))


def _polarity_words(polarity: Any, kpi: str) -> str:
    if polarity not in POLARITY_WORDS:
        raise ValueError(f"{kpi}: the KPI definitions give no polarity ({polarity!r}); a change cannot be judged without one")
    return POLARITY_WORDS[polarity]


def _latest_annual(measures: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    annual = measures[measures["frequency"] == "annual"]
    if annual.empty:
        return "", annual
    latest = str(annual.sort_values("period_end")["period_label"].iloc[-1])
    return latest, annual[annual["period_label"] == latest]


def _summary_row(d: dict, head: dict | None, left_out: dict, kind: str) -> dict:
    number = int(_num(d["kpi_number"]) or 0)
    row = {"KPI": str(number), "Name": str(d["name"]), "Headline measure": "", "Value": "not computed",
           "95% interval": "", "Numerator / denominator": "", "Definition confirmed": str(d.get("confirmed") or ""), "Note": ""}
    if head is None:
        row["Note"] = left_out.get(str(d["kpi_id"]), "no figure for the latest period")
        return row
    unit = str(head.get("unit") or d.get("unit") or "")
    row["Headline measure"] = str(head.get("measure_label") or "")
    row["Value"] = _value(head["value"], unit)
    row["95% interval"] = _interval(head["lower"], head["upper"], unit)
    den = _count(head["denominator"])
    row["Numerator / denominator"] = f"{_count(head['numerator'])} / {den}" + (
        " (10–17 population)" if head.get("statistic") == "rate" else "")
    notes = []
    if kind == "board":
        notes.append(f"period {_span(head['period_start'], head['period_end'])}; meetings, not children")
    if _flag(head.get("before_collection")):
        notes.append("before KPI collection began (demonstration)")
    if head.get("statistic") == "rate":
        notes.append("interval for a rate: exact Poisson below 10 children, Byar's method above")
    if not _missing(head.get("note")) and kind != "board":
        notes.append(str(head["note"]))
    row["Note"] = "; ".join(notes)
    return row


def _summary_table(tables: dict, latest: str, latest_rows: pd.DataFrame, level: str) -> str:
    left_out = (tables.get("kpi_notes") or {}).get("left_out") or {}
    board, wider = tables.get("kpi_board"), tables.get("kpi_wider")
    rows = []
    for d in _definitions(tables):
        kpi_id = str(d["kpi_id"])
        head, kind = None, "extract"
        match = latest_rows[(latest_rows["kpi_id"] == kpi_id) & latest_rows["headline"].map(_flag)] if len(latest_rows) else latest_rows
        if len(match):
            head = match.iloc[0].to_dict()
        elif board is not None and len(board) and kpi_id in set(board["kpi_id"]):
            b = board[(board["kpi_id"] == kpi_id) & board["headline"].map(_flag)].sort_values("period_end")
            head, kind = (b.iloc[-1].to_dict() if len(b) else None), "board"
        elif wider is not None and len(wider) and kpi_id in set(wider["kpi_id"]):
            w = wider[wider["kpi_id"] == kpi_id].sort_values("period_end")
            last = w[w["period_end"] == w["period_end"].iloc[-1]]
            row = _summary_row(d, None, {}, "wider")
            row["Headline measure"] = "children in the cohort supported by each wider service"
            row["Value"] = "one per service"
            row["Numerator / denominator"] = f"cohort of {_count(last['denominator'].iloc[0])}"
            row["Note"] = f"period {_span(last['period_start'].iloc[0], last['period_end'].iloc[0])}; see the wider services table"
            rows.append(row)
            continue
        rows.append(_summary_row(d, head, left_out, kind))
    frame = pd.DataFrame(rows).rename(columns={"95% interval": f"{level} interval"})
    return md_table(frame, f"The ten key performance indicators: headline measure, {latest or 'latest period'}",
                    "tbl-kpis-summary", align="rllrrrll")


def _quarter_table(measures: pd.DataFrame, latest_rows: pd.DataFrame) -> str:
    if latest_rows.empty:
        return ""
    start, end = latest_rows["period_start"].iloc[0], latest_rows["period_end"].iloc[0]
    q = measures[(measures["frequency"] == "quarterly") & measures["headline"].map(_flag)
                 & (measures["period_start"] >= start) & (measures["period_end"] <= end)]
    if q.empty:
        return ""
    quarters = list(dict.fromkeys(q.sort_values("period_start")["period_label"]))
    rows = []
    for number, g in q.sort_values(["kpi_number", "period_start"]).groupby("kpi_number", sort=True):
        first = g.iloc[0]
        row = {"KPI": f"{int(_num(number) or 0)} {first['kpi_short_name']}"}
        cells = {r["period_label"]: r for r in g.to_dict("records")}
        for label in quarters:
            r = cells.get(label)
            row[label] = "" if r is None else (f"{_value(r['value'], str(r['unit']))} "
                                               f"({_count(r['numerator'])} / {_count(r['denominator'])})")
        rows.append(row)
    return md_table(pd.DataFrame(rows), f"Headline measure of each KPI by quarter, {latest_rows['period_label'].iloc[0]} "
                    "(value, numerator / denominator)", "tbl-kpis-quarters", align="l" + "r" * len(quarters))


def _change_sentences(tables: dict, level: str) -> str:
    changes = tables.get("kpi_changes")
    if changes is None or changes.empty:
        return ""
    polarity = {str(d["kpi_id"]): d.get("polarity") for d in _definitions(tables)}
    annual = changes[changes["frequency"] == "annual"].sort_values(["kpi_number", "period_start"])
    out = []
    for r in annual.to_dict("records"):
        kpi = f"KPI {int(_num(r['kpi_number']) or 0)} ({r['kpi_short_name']})"
        words = _polarity_words(polarity.get(str(r["kpi_id"])), kpi)
        head = f"{kpi}, {r['period_label']}"
        if any(isinstance(r[c], str) and r[c] in HIDDEN for c in ("children", "change")):
            out.append(f"{head}: not shown (built on a suppressed count).")
            continue
        children = _num(r["children"])
        if not children:
            out.append(f"{head}: no child had both ends of an intervention recorded.")
            continue
        start, end, change = _num(r["start_value"]), _num(r["end_value"]), _num(r["change"])
        text = (f"{head}: of {_count(r['children'])} children with both ends recorded, {fmt_number(start, 1)}% at the start "
                f"and {fmt_number(end, 1)}% at the end of their intervention, a change of {change:+.1f} percentage points")
        if _num(r["lower"]) is not None and _num(r["upper"]) is not None:
            text += f" ({level} interval {fmt_number(_num(r['lower']), 1)} to {fmt_number(_num(r['upper']), 1)})"
        text += f": {r['assessment']} ({words})"
        p = _num(r["p_value"])
        if p is not None and not (isinstance(r["significant"], str) and r["significant"] in HIDDEN):
            sig = "statistically significant" if _flag(r["significant"]) else "not statistically significant"
            test = str(r["test"]).split(" (", 1)[0]
            text += f"; {sig} ({test}, p = {narrative.p_text(p)})"
        elif not _missing(r.get("note")):
            text += f"; {r['note']}"
        if _flag(r.get("before_collection")):
            text += " (before KPI collection began: demonstration)"
        out.append(text + ".")
    return _bullets(out)


#: Words for the partner and service codes of the KPI 7 and KPI 8 tables (their contracts list the codes).
CODE_WORDS = {"police": "Police", "probation": "Probation", "health": "Health", "education": "Education",
              "childrens_social_care": "Children's social care", "other": "Other", "early_help": "Early help",
              "child_in_need": "Child in need", "child_protection": "Child protection", "looked_after": "Looked after",
              "care_leaver": "Care leaver"}


def _code_words(measure) -> str:
    code = str(measure).split(":", 1)[-1]
    return CODE_WORDS.get(code, code.replace("_", " ").capitalize())


def _board_table(board: pd.DataFrame | None, level: str) -> str:
    if board is None or board.empty:
        return "No management board attendance has been entered for this edition (`data/kpi_board_attendance.csv`).\n"
    rows = []
    for r in board.sort_values(["period_end", "headline"]).to_dict("records"):
        partner = "All partners" if _flag(r["headline"]) else _code_words(r["measure"])
        rows.append({"Partner": partner, "Meetings attended / held": f"{_count(r['numerator'])} / {_count(r['denominator'])}",
                     "Attendance": _value(r["value"], str(r["unit"])),
                     f"{level} interval": _interval(r["lower"], r["upper"], str(r["unit"]))})
    last = board.iloc[-1]
    return md_table(pd.DataFrame(rows), f"KPI 7: management board meetings attended by a senior representative of each "
                    f"partner, {_span(last['period_start'], last['period_end'])}", "tbl-kpis-board", align="lrrr")


def _wider_table(wider: pd.DataFrame | None, level: str) -> str:
    if wider is None or wider.empty:
        return "No wider services figures have been entered for this edition (`data/kpi_wider_services.csv`).\n"
    rows = []
    for r in wider.to_dict("records"):
        rows.append({"Service": _code_words(r["measure"]),
                     "Children supported / cohort": f"{_count(r['numerator'])} / {_count(r['denominator'])}",
                     "Share": _value(r["value"], str(r["unit"])),
                     f"{level} interval": _interval(r["lower"], r["upper"], str(r["unit"]))})
    last = wider.iloc[-1]
    out = md_table(pd.DataFrame(rows), f"KPI 8: children in the youth justice cohort supported by each wider service, "
                   f"{_span(last['period_start'], last['period_end'])}", "tbl-kpis-wider", align="lrrr")
    notes = [n for n in wider.attrs.get("footnotes", []) if n]
    return out + ("\n" + _bullets(notes) if notes else "")


def _definitions_table(tables: dict) -> str:
    rows = [{"KPI": str(int(_num(d["kpi_number"]) or 0)), "Name": str(d["name"]), "Version": str(d.get("version") or ""),
             "Source": str(d.get("source_title") or ""), "Confirmed": str(d.get("confirmed") or "")}
            for d in _definitions(tables)]
    if not rows:
        return ""
    return md_table(pd.DataFrame(rows), "Definitions of the key performance indicators used in this plan",
                    "tbl-kpis-definitions", align="rllll")


def kpi_performance(plan) -> str:
    """The "Key performance indicators" section: the ten YJB KPIs from the extract and the KPI 7 and 8 tables."""
    out = [sections._section("Key performance indicators", "sec-kpis")]
    tables = _tables(plan)
    notes = tables.get("kpi_notes") if isinstance(tables.get("kpi_notes"), dict) else None
    if notes is None or any(k not in tables for k in KPI_KEYS):
        return "\n".join(out + _no_extract(plan, "with the KPI columns ", "the key performance indicators cannot be shown",
                                            "with the optional KPI columns, "))
    measures = tables["kpi_measures"]
    if _synthetic(plan, str(notes.get("data_kind", ""))):
        out.append(_callout())
    latest, latest_rows = _latest_annual(measures) if len(measures) else ("", measures)
    level = _level(measures if len(measures) else tables.get("kpi_board"))
    if len(measures):
        out.append(
            "Since April 2023 every youth justice service reports ten key performance indicators (KPIs) to the Youth "
            "Justice Board. KPIs 1–6, 9 and 10 are computed here from the service's case-management extract for the "
            f"financial years {md_escape(_span(notes.get('period_start', ''), notes.get('period_end', '')))} "
            f"and their quarters; the latest year is **{md_escape(latest)}**. KPIs 7 and 8 come from the service's own "
            f"tables for this edition. {md_escape(disclosure.rule_sentence())}; other counts that would reveal them are hidden too "
            f"(\"{md_escape(disclosure.SECONDARY_MARKER)}\"), and so is every value built on a hidden count.\n")
    else:
        out.append("No case-management extract with the KPI columns was given for this edition, so KPIs 1–6, 9 and 10 "
                   f"cannot be computed (an extract is configured in {WHERE[0]}; the KPI columns are described in "
                   f"{WHERE[1]}). KPIs 7 and 8 come from the service's own tables for this edition.\n")
    statement = str(notes.get("national_comparison") or "")
    if statement:
        out.append(f"*National comparison.* {md_escape(statement)}\n")
    out.append("## Summary {#sec-kpis-summary}\n")
    out.append(_summary_table(tables, latest, latest_rows, level))
    fig = kpi_charts.kpi_chart(measures, tables.get("kpi_board"), sections._fig_path(plan, "fig-kpis"), plan.area_name,
                               synthetic=_synthetic(plan, str(notes.get("data_kind", ""))), fig_id="fig-kpis")
    if fig is not None:
        out.append(sections._figure(plan, fig))
    quarters = _quarter_table(measures, latest_rows) if len(measures) else ""
    if quarters:
        out.append("## By quarter {#sec-kpis-quarters}\n")
        out.append(quarters)
    changes = _change_sentences(tables, level)
    if changes:
        out.append("## From the start to the end of the intervention {#sec-kpis-change}\n")
        out.append("For the KPIs measured at both ends of an intervention, the same children at the start and at the end "
                   "(McNemar's exact test; Newcombe's interval for the difference). Whether a change is an improvement "
                   "follows each KPI's polarity in its definition.\n")
        out.append(changes)
    out.append("## Management board attendance (KPI 7) {#sec-kpis-board}\n")
    out.append(_board_table(tables.get("kpi_board"), level))
    out.append("## Wider services (KPI 8) {#sec-kpis-wider}\n")
    out.append(_wider_table(tables.get("kpi_wider"), level))
    footnotes = [n for n in notes.get("footnotes", []) if n != statement and not str(n).startswith("SYNTHETIC")]
    if footnotes:
        out.append("## Notes {#sec-kpis-notes}\n")
        out.append(_bullets(footnotes))
    definitions = _definitions_table(tables)
    if definitions:
        out.append("## KPI definitions {#sec-kpis-definitions}\n")
        out.append(definitions)
    return "\n".join(out)


# --------------------------------------------------------------------------- over-represented children


def _group_label(group: Any) -> str:
    return codes.LABELS.get(str(group), str(group).replace("_", " "))


def _rri_cell(r: dict) -> str:
    value = _num(r["rri"])
    if r["group"] == r["reference_group"]:
        return "1 (reference)" if value is not None else (disclosure.SECONDARY_MARKER if _flag(r["suppressed"]) else "–")
    if value is None:
        return disclosure.SECONDARY_MARKER if _flag(r["suppressed"]) else "–"
    return fmt_number(value, 2)


def _rri_interval(r: dict) -> str:
    lo, hi = _num(r["lower"]), _num(r["upper"])
    if r["group"] == r["reference_group"]:
        return ""
    if lo is None or hi is None:
        return disclosure.SECONDARY_MARKER if _flag(r["suppressed"]) and _num(r["rri"]) is None else "–"
    return f"{fmt_number(lo, 2)}–{fmt_number(hi, 2)}"


def _rate_cell(r: dict) -> str:
    rate = _num(r["rate"])
    if rate is None:
        return disclosure.SECONDARY_MARKER if _flag(r["suppressed"]) and str(r["suppression"]) != "dependent: reference group" else "–"
    per = "per 1,000" if r["base_stage"] == dp.POPULATION else "per 100"
    return f"{fmt_number(rate, 2)} {per}"


_SENTENCE_BREAK = re.compile(r"(?<=\.)\s+(?=[A-Z])")


def _note_letter(index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < len(letters) else _note_letter(index // len(letters) - 1) + letters[index % len(letters)]


def _rri_table(rows: pd.DataFrame, by: str, period: str, level: str) -> str:
    """The index table; each row's notes are letters, explained once under the table (a note repeated on every row
    made the table pages long)."""
    shown, letters = [], {}
    for r in rows.to_dict("records"):
        parts = [] if _missing(r["note"]) else [p.strip() for p in _SENTENCE_BREAK.split(str(r["note"])) if p.strip()]
        keys = [letters.setdefault(p, _note_letter(len(letters))) for p in parts]
        shown.append({"Stage": STAGE_LABELS.get(r["stage"], str(r["stage"])), "Group": _group_label(r["group"]),
                      "Count": str(r["count_shown"]) if not _missing(r["count_shown"]) else _count(r["count"]),
                      "Rate": _rate_cell(r), "RRI": _rri_cell(r), f"{level} interval": _rri_interval(r),
                      "Method": METHOD_SHORT.get(str(r["method"]), str(r["method"])),
                      "Notes": ", ".join(keys)})
    table = md_table(pd.DataFrame(shown), f"Relative rate index by {BY_WORDS.get(by, by)} at each stage, {period}",
                     f"tbl-rri-{by.replace('_', '-')}", align="llrrrrll")
    if letters:
        table += "\n" + "\n".join(f"- *{key}*: {md_escape(text)}" for text, key in letters.items()) + "\n"
    return table


def _above_sentences(rows: pd.DataFrame, level: str) -> str:
    out = []
    for stage in [s for s in STAGE_LABELS if s in set(rows["stage"])]:
        g = rows[(rows["stage"] == stage) & (rows["group"] != rows["reference_group"])]
        above = []
        for r in g.to_dict("records"):
            lo, hi, value = _num(r["lower"]), _num(r["upper"]), _num(r["rri"])
            if lo is not None and hi is not None and value is not None and lo > 1:
                pooled = f", {r['pooled_periods']}" if int(_num(r["pooled_years"]) or 1) > 1 else ""
                above.append(f"{_group_label(r['group'])} children (RRI {fmt_number(value, 2)}, {level} interval "
                             f"{fmt_number(lo, 2)}–{fmt_number(hi, 2)}{pooled})")
        label = STAGE_LABELS[stage]
        if above:
            out.append(f"{label}: the interval lies wholly above 1 for {join_and(above)}: over-represented at this stage.")
        else:
            out.append(f"{label}: no group's interval lies wholly above 1.")
    return _bullets(out)


def over_represented(plan) -> str:
    """The "Over-represented children" section: the relative rate index by stage and group, latest year."""
    out = [sections._section("Over-represented children", "sec-over-represented")]
    text = plan.content.get("over_represented_children") if isinstance(plan.content, dict) else None
    if text:
        out.append(sections.content_block(_escaped_content(text)))
    tables = _tables(plan)
    notes = tables.get("rri_notes") if isinstance(tables.get("rri_notes"), dict) else None
    rri = tables.get("rri")
    if notes is None or rri is None or any(k not in tables for k in RRI_KEYS):
        return "\n".join(out + _no_extract(plan, "", "how often children of each group reach each stage of the youth "
                                            "justice system cannot be compared", ""))
    synthetic = _synthetic(plan, str(rri.attrs.get("data_kind", "")))
    if synthetic:
        out.append(_callout())
    latest = str(notes.get("latest_period") or "")
    reference = notes.get("reference") or {}
    level = _level(rri)
    refs = join_and([f"{md_escape(_group_label(g))} for {md_escape(BY_WORDS.get(by, by))}" for by, g in reference.items()]) \
        if reference else "none"
    out.append(
        "The relative rate index (RRI) compares how often the children of each group reach each stage of the youth justice "
        f"system with a reference group ({refs}): 1 is parity, 2 twice the reference group's rate, 0.5 half of it. "
        "First-time entrants and proven outcomes are rates per 1,000 children aged 10–17 in the group a year; each later "
        "stage is a rate per 100 of the stage that feeds it, so that a disparity introduced at an earlier decision is not "
        f"counted again. Computed from the case-management extract for **{md_escape(latest)}**; where a group's count in "
        "that year alone is small, its row is pooled over up to three years, and its note says so. "
        f"{md_escape(disclosure.rule_sentence())}; other figures that would reveal them, and rates and ratios built on hidden counts, "
        f"are not shown (\"{md_escape(disclosure.SECONDARY_MARKER)}\").\n")
    if rri.empty or not latest:
        out.append("The extract has no whole financial year in the three years before it was taken: no ratio is computed.\n")
    for by in notes.get("breakdowns", []):
        rows = rri[(rri["by"] == by) & (rri["period"] == latest)]
        if rows.empty:
            continue
        slug = by.replace("_", "-")
        out.append(f"## By {md_escape(BY_WORDS.get(by, by))} {{#sec-over-represented-{slug}}}\n")
        out.append(_above_sentences(rows, level))
        out.append(_rri_table(rows, by, latest, level))
        fig = kpi_charts.rri_chart(rows, sections._fig_path(plan, f"fig-rri-{slug}"), plan.area_name,
                                   by_words=BY_WORDS.get(by, by), period=latest, reference=str(reference.get(by, "")),
                                   stage_labels=STAGE_LABELS, group_label=_group_label, synthetic=synthetic,
                                   fig_id=f"fig-rri-{slug}")
        if fig is not None:
            out.append(sections._figure(plan, fig))
    method = notes.get("method") or []
    if method:
        out.append("## Method {#sec-over-represented-method}\n")
        out.append(_bullets(method))
    footnotes = list(notes.get("footnotes") or []) + list(notes.get("notes") or [])
    if footnotes:
        out.append("## Notes {#sec-over-represented-notes}\n")
        out.append(_bullets(footnotes))
    return "\n".join(out)

