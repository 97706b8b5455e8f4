"""Sections of the YJB's current plan structure that the seed plans did not have.

Each renderer takes the ``Plan`` and its template row (:class:`SectionSpec`) and returns Pandoc Markdown
whose first heading the template engine (``templates.place``) titles and levels. Analyst text comes from
the edition's content file; data fields are escaped (content is text, never code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..analysis.money import budget_years
from .markdown import join_and, md_escape, md_table
from .sections import Plan, absent, content_block, previous_priorities

#: Prefix of a ``data_tables`` entry naming a table the build computed from the case-management extract.
TRACKING_PREFIX = "tracking:"


@dataclass(frozen=True)
class SectionSpec:
    """One row of ``data/plan_templates.csv``: a section of a template."""

    section_id: str
    heading: str
    level: int
    required: bool
    source: str
    renderer: str
    content_keys: tuple[str, ...] = ()
    data_tables: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        return "sec-" + self.section_id.replace("_", "-")


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict, tuple)):
        return len(value) > 0
    return True


def _table(plan: Plan, name: str) -> pd.DataFrame | None:
    if name.startswith(TRACKING_PREFIX):
        tables = (plan.tracking or {}).get("tables") or {}
        table = tables.get(name[len(TRACKING_PREFIX):])
    else:
        table = plan.data.tables.get(name)
    return table if isinstance(table, pd.DataFrame) else None


def has_content(plan: Plan, spec: SectionSpec) -> bool:
    """Whether any of the section's content keys is filled in, or any of its tables has rows."""
    if any(_filled(plan.content.get(key)) for key in spec.content_keys):
        return True
    return any((t := _table(plan, name)) is not None and not t.empty for name in spec.data_tables)


def content_file(plan: Plan) -> str:
    return f"data/content/{plan.data.area_id}/{plan.data.edition}.yml"


def where_to_enter(plan: Plan, spec: SectionSpec) -> str:
    """Where an analyst adds what the section is missing, in words."""
    places = []
    if spec.content_keys:
        keys = join_and([f"'{k}'" for k in spec.content_keys]).replace(" and ", " or ")
        places.append(f"add the key {keys} to {content_file(plan)}")
    tables = [t for t in spec.data_tables if not t.startswith(TRACKING_PREFIX)]
    if tables:
        places.append("enter this edition's rows in " + join_and([f"data/{t}.csv" for t in tables]))
    if any(t.startswith(TRACKING_PREFIX) for t in spec.data_tables):
        places.append("give the edition a case-management extract with the columns it needs (data/tracking.yml; "
                      "data_contracts/case_extract.md)")
    return "; or ".join(places)


#: The words that open the note of a required section with nothing in it.
NOT_WRITTEN = "**Not yet written.**"


def missing_note(plan: Plan, spec: SectionSpec) -> str:
    kind = "this synthetic demonstration" if plan.data.synthetic else "this edition"
    return (f"::: {{.callout-note}}\n{NOT_WRITTEN} No content has been entered for this section in {kind}: "
            f"{md_escape(where_to_enter(plan, spec))}.\n:::\n")


def _heading(spec: SectionSpec) -> str:
    return f"# {md_escape(spec.heading)} {{#{spec.anchor}}}\n"


def heading_only(plan: Plan, spec: SectionSpec) -> str:
    """A chapter heading whose content is the level-2 sections after it."""
    return _heading(spec)


def content_section(plan: Plan, spec: SectionSpec) -> str:
    """The section's content keys, in the template's order; a 'not yet written' note when none is filled in."""
    parts = [_heading(spec)]
    filled = [plan.content[k] for k in spec.content_keys if _filled(plan.content.get(k))]
    parts.extend(content_block(value) for value in filled)
    if not filled:
        parts.append(missing_note(plan, spec))
    return "\n".join(parts)


def _opening(plan: Plan, spec: SectionSpec, key: str) -> list[str]:
    """The section's heading and, when the analyst wrote it, the text of ``key``."""
    text = plan.content.get(key)
    return [_heading(spec)] + ([content_block(text)] if _filled(text) else [])


def progress(plan: Plan, spec: SectionSpec) -> str:
    """Progress on the previous plan: the analyst's account, then each carried-forward priority with its progress."""
    parts = _opening(plan, spec, "progress_on_previous_plan")
    carried = previous_priorities(plan)
    if carried:
        parts.append(carried)
    if len(parts) == 1:
        parts.append(missing_note(plan, spec))
    return "\n".join(parts)


def resources_and_services(plan: Plan, spec: SectionSpec) -> str:
    """The analyst's account of resources and services, and the budget's published total for each year."""
    parts = _opening(plan, spec, "resources_and_services")
    years = budget_years(plan.data.table("budget"))
    if not years:
        parts.append(absent(plan, "budget"))
    for by in years:
        partners = by.per_agency["agency"].nunique() if "agency" in by.per_agency else 0
        if by.published_total is None:
            parts.append(f"The budget for {md_escape(by.year)} has no published total; its partner contributions are in the "
                         "appendix (@sec-resources).\n")
            continue
        parts.append(f"The published total budget for {md_escape(by.year)} is **£{by.published_total:,.0f}** from "
                     f"{partners} partner{'s' if partners != 1 else ''}; each partner's contribution is in the appendix "
                     "(@sec-resources).\n")
    return "\n".join(parts)


def _date(value: Any) -> str:
    try:
        return pd.Timestamp(str(value)).strftime("%-d %B %Y")
    except (ValueError, TypeError):
        return str(value)


#: A line to sign or date on, in every format (escaped: literal underscores).
SIGNATURE_LINE = "_" * 30
DATE_LINE = "_" * 14


def sign_off(plan: Plan, spec: SectionSpec) -> str:
    """Who agreed the plan and when, its submission and approval, and signature lines (PDF and Word are signed)."""
    parts = [_heading(spec)]
    detail = plan.content.get("sign_off")
    if not isinstance(detail, dict) or not _filled(detail):
        parts.append(missing_note(plan, spec))
        detail = {}
    else:
        role = detail.get("chair_role") or detail.get("chair") or ""
        board = detail.get("board") or ""
        sentence = "The plan was agreed"
        if board:
            sentence += f" by the {md_escape(board)}"
        if detail.get("date"):
            sentence += f" on {md_escape(_date(detail['date']))}"
        if role:
            sentence += f" and signed by the {md_escape(role)}"
        parts.append(sentence + ".\n")
        facts = []
        if detail.get("submitted_to_yjb"):
            facts.append(f"- Submitted to the Youth Justice Board: {md_escape(_date(detail['submitted_to_yjb']))}")
        if detail.get("council_approval"):
            facts.append(f"- Approval: {md_escape(detail['council_approval'])}")
        for key, value in detail.items():
            if key not in ("chair_role", "chair", "board", "date", "submitted_to_yjb", "council_approval") and _filled(value):
                facts.append(f"- {md_escape(str(key).replace('_', ' ').capitalize())}: {md_escape(value)}")
        if facts:
            parts.append("\n".join(facts) + "\n")
    role = detail.get("chair_role") or detail.get("chair") or "Chair of the youth justice management board"
    lines = pd.DataFrame([
        {"Signed for": str(role), "Signature": SIGNATURE_LINE, "Date": DATE_LINE},
        {"Signed for": "Director of Children's Services (for the local authority)", "Signature": SIGNATURE_LINE, "Date": DATE_LINE},
    ])
    parts.append(md_table(lines, "Signature lines", "tbl-sign-off"))
    return "\n".join(parts)


def board_membership(plan: Plan, spec: SectionSpec) -> str:
    """The management board by role and agency (names of people are not reproduced)."""
    parts = [_heading(spec)]
    members = plan.content.get("board_membership")
    if not _filled(members):
        parts.append(missing_note(plan, spec))
        return "\n".join(parts)
    if isinstance(members, list) and all(isinstance(m, dict) for m in members):
        frame = pd.DataFrame([{"Role": m.get("role", ""), "Agency": m.get("agency", ""),
                               "Note": m.get("attendance_note") or m.get("note") or ""} for m in members])
        if not frame["Note"].astype(bool).any():
            frame = frame.drop(columns=["Note"])
        parts.append(md_table(frame, "Youth justice management board membership by role and agency", "tbl-board"))
        parts.append("Board attendance by partner (KPI 7) is in the Key performance indicators section.\n")
    else:
        parts.append(content_block(members))
    return "\n".join(parts)


__all__ = ["SectionSpec", "NOT_WRITTEN", "missing_note", "has_content", "where_to_enter", "content_file", "heading_only", "content_section", "progress",
           "resources_and_services", "sign_off", "board_membership"]
