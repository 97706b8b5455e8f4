"""The Local tracking step: from a record-level extract to aggregate tables, in the build process.

The extract is validated (once per file state, cached owner-only), the disclosure-controlled
tables are computed here and written beside the notebook as ``tracking.json``; the notebook never
sees a record. Restricted outputs — the live tracker and the row-level validation detail —
are written under ``build/restricted/<area>/``, owner-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..data.contracts import ValidationReport
from ..errors import DataFileError
from ..fileio import write_restricted
from .cache import validated_extract
from .context import AreaContext
from ..site.publish import restricted_dir

SUMMARY_FILE = "tracking.json"
#: Failing rows listed per rule in the restricted validation detail (the count is always given).
DETAIL_ROWS = 200


#: The indicator whose definition (polarity) the tracking cohorts' changes follow.
REOFFENDING_INDICATOR = "reoffending_rate"


def _polarity(indicator_id: str) -> str:
    """An indicator's polarity from data/indicator_definitions.csv (validated with the area's data)."""
    from ..data.loaders import table_path
    from .cache import read_raw_once

    raw = read_raw_once(table_path("indicator_definitions"))
    rows = raw[raw["indicator_id"] == indicator_id] if "indicator_id" in raw.columns else raw.iloc[0:0]
    if rows.empty or "polarity" not in raw.columns:
        raise DataFileError(f"indicator_definitions.csv: no row for '{indicator_id}' with a polarity "
                            "(the Local tracking section needs it to judge changes)")
    return str(rows.iloc[0]["polarity"])


@dataclass
class TrackingData:
    frame: pd.DataFrame
    report: ValidationReport
    as_of: str


def load(ctx: AreaContext) -> TrackingData | None:
    """The area's validated extract, or None when it has no Local tracking section."""
    settings = ctx.tracking
    if settings is None:
        return None
    from ..analysis.tracking import load_extract

    frame, report = validated_extract(
        settings.extract, lambda path: load_extract(path, area_id=ctx.area_id, as_of=settings.as_of or None),
        key={"area_id": ctx.area_id, "as_of": settings.as_of})
    return TrackingData(frame=frame, report=report, as_of=settings.as_of)


def write_summary(ctx: AreaContext, data: TrackingData, staging: Path) -> str:
    """Compute the published tables into ``staging/tracking.json``; return its name for the notebook."""
    from ..document.tracking_section import tracking_summary, write_summary as write

    polarity = _polarity(REOFFENDING_INDICATOR)
    summary = tracking_summary(data.frame, data.report, ctx.tracking.population, data.as_of, ctx.tracking.extract.name,
                               reoffending_polarity=polarity)
    if shows_kpis(ctx):
        summary["tables"].update(kpi_tables(ctx, data))
    write(summary, staging / SUMMARY_FILE)
    return SUMMARY_FILE


#: Renderers of sections that show what ``kpi_tables`` computes (``data/plan_templates.csv``).
KPI_RENDERERS = ("kpis", "over_represented")


def shows_kpis(ctx: AreaContext) -> bool:
    """Whether the edition's template has a section showing the KPIs or the relative rate index."""
    from ..document.templates import DEFAULT_TEMPLATE, load_templates

    name = (ctx.edition.template if ctx.edition else "") or DEFAULT_TEMPLATE
    template = load_templates().get(name)
    return bool(template) and any(spec.renderer in KPI_RENDERERS for spec in template.sections)


def kpi_tables(ctx: AreaContext, data: TrackingData) -> dict:
    """The ten KPIs and the relative rate index of the edition, disclosure-controlled (``analysis.plan_kpis``)."""
    from ..analysis import kpis
    from ..analysis.disproportionality import census_populations
    from ..analysis.plan_kpis import kpi_summary

    def edition_rows(table: str) -> pd.DataFrame:
        frame = kpis.load_kpi_table(table)
        mine = (frame["area_id"] == ctx.area_id) & (frame["edition"] == (ctx.edition.edition if ctx.edition else ""))
        return frame[mine].reset_index(drop=True)

    try:
        ethnic = census_populations(ctx.area_id)
    except ValueError:  # no populations by ethnicity for the area: the index is not computed, and the section says so
        ethnic = None
    return kpi_summary(data.frame, as_of=data.as_of, population=ctx.tracking.population,
                       board=edition_rows(kpis.BOARD_TABLE), wider=edition_rows(kpis.WIDER_TABLE),
                       definitions=kpis.load_kpi_definitions(), ethnic_populations=ethnic)


def write_restricted_outputs(ctx: AreaContext, data: TrackingData) -> list[Path]:
    """The live tracker and the extract's row-level validation detail, under ``build/restricted/<area>/``."""
    from ..analysis.tracking.tracker import RESTRICTED_NOTICE, tracker_csv

    folder = restricted_dir() / ctx.area_id
    name, text = tracker_csv(data.frame, pd.Timestamp(data.as_of) if data.as_of else pd.Timestamp.today())
    written = [write_restricted(folder / name, text.encode("utf-8"))]
    detail = []
    for o in data.report.outcomes:
        if o.success:
            continue
        detail.append({"file": o.file, "column": o.column, "expectation": o.expectation, "severity": o.severity,
                       "description": o.description, "failing_rows": len(o.rows) or len(o.details),
                       "rows_listed": o.rows[:DETAIL_ROWS], "details_listed": o.details[:DETAIL_ROWS]})
    written.append(write_restricted(folder / "extract_validation_detail.json", json.dumps(detail, indent=1).encode("utf-8")))
    readme = RESTRICTED_NOTICE + README_DETAIL
    written.append(write_restricted(folder / "README_RESTRICTED.txt", readme.encode("utf-8")))
    return written


README_DETAIL = (
    "\n\nThe live tracker lists the children of the current reoffending cohort by pseudonymous id, whether they have "
    "reoffended so far and the days left in their 12-month follow-up. extract_validation_detail.json lists the "
    "extract's rows that failed a data-contract rule (the published plan gives only the count per rule).\n"
)
