"""Plan templates as data: which sections a plan has, in which order, and where each one's content comes from.

``data/plan_templates.csv`` (contract ``data_contracts/plan_templates.json``) lists every template as an
ordered list of sections. A plan edition names its template in ``plans.csv`` (``template``). Two ship:

* ``strategic_plan`` — the shape the three seed plans (2016–2021) were rebuilt in;
* ``yjb_2024`` — the YJB's current structure ("Youth justice plans: guidance for youth justice
  services", updated March 2024), with its appendices.

Each section row names a **renderer** (:data:`RENDERERS`): a function that writes the section as Pandoc
Markdown from the plan's data, its content file, or what the build computed. The row's ``heading`` is
the section's heading in the plan (it replaces the renderer's own, keeping its anchor) and ``level`` its
depth (2: part of the chapter above; the renderer's headings move down with it). The ``content``
renderer shows the row's ``content_keys`` of the edition's content file.

A section marked ``required`` that has none of its content keys and none of its ``data_tables`` is a
validation **warning**, listed in the data-quality appendix (:func:`check_required`), so that a draft
can still be built; the section says what is missing and where to enter it.

Public API: :func:`load_templates`, :func:`template_of`, :func:`document_name`, :func:`check_required`, :func:`render`,
:data:`RENDERERS`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..data.contracts import Outcome, ValidationReport
from ..errors import DataContractError
from . import sections, yjb_sections
from .markdown import md_escape

TABLE = "plan_templates"
#: The template of an edition whose plans.csv row names none.
DEFAULT_TEMPLATE = "strategic_plan"


def _kpi_section():
    from . import kpi_section  # the KPI and over-representation sections (and their charts) load when used

    return kpi_section


def _plain(function: Callable[[sections.Plan], str]) -> Callable:
    return lambda plan, spec: function(plan)


#: Renderer names (``plan_templates.csv`` ``renderer``) and the functions that write their sections.
RENDERERS: dict[str, Callable] = {
    "title_block": _plain(sections.title_block),
    "summary": _plain(sections.summary),
    "governance": _plain(sections.governance),
    "resources": _plain(sections.resources),
    "staffing": _plain(sections.staffing),
    "performance": _plain(sections.performance),
    "changes_since_last_plan": _plain(sections.changes_since_last_plan),
    "profile": _plain(sections.profile),
    "restorative_justice": _plain(sections.restorative_justice),
    "inspection_section": _plain(sections.inspection_section),
    "local_tracking": _plain(sections.local_tracking),
    "priorities": _plain(sections.priorities),
    "risks": _plain(sections.risks),
    "data_quality": _plain(sections.data_quality),
    "sources": _plain(sections.sources),
    "kpis": lambda plan, spec: _kpi_section().kpi_performance(plan),
    "over_represented": lambda plan, spec: _kpi_section().over_represented(plan),
    "content": yjb_sections.content_section,
    "heading": yjb_sections.heading_only,
    "progress": yjb_sections.progress,
    "resources_and_services": yjb_sections.resources_and_services,
    "sign_off": yjb_sections.sign_off,
    "board_membership": yjb_sections.board_membership,
}


@dataclass(frozen=True)
class Template:
    """A plan template: its id and its sections in order."""

    template_id: str
    document_name: str  # what its plans are called in their titles ("Youth Justice Plan")
    sections: tuple[yjb_sections.SectionSpec, ...]

    def section(self, section_id: str) -> yjb_sections.SectionSpec:
        for spec in self.sections:
            if spec.section_id == section_id:
                return spec
        raise KeyError(f"template {self.template_id!r} has no section {section_id!r}")


def _split(value) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(value or "").split("|") if p.strip())


def _identity(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return (str(path), None, None)
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def load_templates(path: str | Path | None = None) -> dict[str, Template]:
    """Every template of ``data/plan_templates.csv``, checked by its contract; a section naming an unknown
    renderer is an error naming the file, line and column.

    Read and validated once per state of the table, its contract and the sources table (the contract's
    parameters): a build asks for the templates in the driver, the tracking step and the notebook.
    """
    from ..data.contracts import suite_path
    from ..data.loaders import table_path
    from ..paths import data_dir

    path = Path(path) if path is not None else data_dir() / f"{TABLE}.csv"
    return dict(_load_templates(tuple(_identity(p) for p in (path, suite_path(TABLE), table_path("sources")))))


@functools.lru_cache(maxsize=8)
def _load_templates(identities: tuple) -> dict[str, Template]:
    from ..data import reference
    from ..data.contracts import load_suite, validate_frame
    from ..data.loaders import read_raw_table

    path = Path(identities[0][0])
    raw = read_raw_table(path)
    report, typed = validate_frame(raw, load_suite(TABLE), f"data/{path.name}", parameters=reference.parameters())
    report.raise_for_critical()
    out: dict[str, list] = {}
    names: dict[str, str] = {}
    for row in typed.sort_values(["template", "position"]).to_dict("records"):
        name = names.setdefault(str(row["template"]), str(row["document_name"]))
        if name != str(row["document_name"]):
            raise DataContractError(
                f"data/{path.name}, line {row.get('_line', '?')}, column 'document_name': {row['document_name']!r} differs from "
                f"{name!r} on the template's other rows (a template has one document name)")
        renderer = str(row["renderer"])
        if renderer not in RENDERERS:
            raise DataContractError(
                f"data/{path.name}, line {row.get('_line', '?')}, column 'renderer': unknown renderer {renderer!r} "
                f"(known: {', '.join(sorted(RENDERERS))})")
        spec = yjb_sections.SectionSpec(
            section_id=str(row["section_id"]), heading=str(row.get("heading") or ""), level=int(row["level"]),
            required=str(row["required"]) == "yes", source=str(row["source"]), renderer=renderer,
            content_keys=_split(row.get("content_keys")), data_tables=_split(row.get("data_tables")))
        out.setdefault(str(row["template"]), []).append(spec)
    return {t: Template(t, names[t], tuple(specs)) for t, specs in out.items()}


def document_name(template_id: str | None) -> str:
    """What plans of a template are called in their titles (the default template's name for a blank id)."""
    templates = load_templates()
    return templates.get(template_id or DEFAULT_TEMPLATE, templates[DEFAULT_TEMPLATE]).document_name


def template_of(plan: sections.Plan, templates: dict[str, Template] | None = None) -> Template:
    """The template the plan's edition names (plans.csv ``template``)."""
    templates = load_templates() if templates is None else templates
    name = str(plan.data.area.get("template") or DEFAULT_TEMPLATE)
    if name not in templates:
        raise DataContractError(f"data/plans.csv, edition {plan.data.edition!r} of {plan.data.area_id!r}, column 'template': "
                                f"unknown template {name!r} (known: {', '.join(sorted(templates))})")
    return templates[name]


def check_required(plan: sections.Plan, template: Template) -> ValidationReport:
    """One outcome per required section: passed when it has content or data, else a warning saying where to add it."""
    content_file = f"data/content/{plan.data.area_id}/{plan.data.edition}.yml"
    outcomes = []
    for spec in template.sections:
        if not spec.required or not (spec.content_keys or spec.data_tables):
            continue
        present = yjb_sections.has_content(plan, spec)
        where = yjb_sections.where_to_enter(plan, spec)
        outcomes.append(Outcome(
            table=TABLE, file=Path(content_file).name, expectation="required_section", column=spec.section_id,
            severity="warning", stage="template", success=present,
            description=f"required section '{spec.heading}' of template {template.template_id} has content",
            details=[] if present else [f"No content for '{spec.heading}': {where}. The plan is built as a draft."]))
    return ValidationReport(outcomes)


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(\s*\{[^{}]*\})?[ \t]*$")


def place(markdown: str, spec: yjb_sections.SectionSpec) -> str:
    """The renderer's Markdown under the template's heading (its first heading's text replaced, its anchor
    kept) and at the template's level (every heading moved down ``level - 1``)."""
    if not markdown.strip():
        return ""
    lines = markdown.split("\n")
    shift = max(spec.level - 1, 0)
    replaced = not spec.heading
    fence = False
    for i, line in enumerate(lines):
        if line.startswith(("```", "~~~")):
            fence = not fence
        if fence:
            continue
        match = _HEADING.match(line)
        if not match:
            continue
        hashes, text, attrs = match.group(1), match.group(2), match.group(3) or ""
        if not replaced:
            text, replaced = md_escape(spec.heading), True
        lines[i] = f"{'#' * min(len(hashes) + shift, 6)} {text}{attrs}"
    return "\n".join(lines)


def render(plan: sections.Plan, template: Template | None = None) -> list[str]:
    """The plan's sections as Markdown, in the template's order (the notebook displays each)."""
    template = template or template_of(plan)
    plan.template_report = check_required(plan, template)
    empty = {o.column for o in plan.template_report.outcomes if not o.success}
    parts = []
    for spec in template.sections:
        text = RENDERERS[spec.renderer](plan, spec)
        if spec.section_id in empty and spec.source == "content" and yjb_sections.NOT_WRITTEN not in text:
            # a required section the analyst has not written: said the same way whatever renderer writes it
            heading, _, rest = text.partition("\n")
            text = f"{heading}\n\n{yjb_sections.missing_note(plan, spec)}\n{rest}"
        text = place(text, spec)
        if text.strip():
            parts.append(text)
    return parts
