"""The "Local tracking" section's inputs: disclosure-controlled tables made from a record-level extract.

The build process (``pipeline.build.tracking_step``) computes them from the validated extract and
writes ``tracking.json`` beside the notebook: aggregate, disclosure-controlled tables and a
validation summary that counts failing rows per rule. The notebook reads only that file, so no
record, child id, extract path or row detail reaches the executed notebook, the plan or the site.
The live tracker (pseudonymous ids) and row-level validation detail go to ``build/restricted/``.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd

from ..analysis.tracking.cohorts import last_complete_year_end
from ..data.contracts import Outcome, ValidationReport

#: Table attributes that are published with a table (``suppressed`` explains hidden cells: not published).
PUBLIC_ATTRS = ("title", "footnotes", "data_kind")


def public_report(report: ValidationReport) -> ValidationReport:
    """The extract's validation outcomes with no row detail: each failing rule with its count of rows."""
    out = []
    for o in report.outcomes:
        count = len(o.rows) or len(o.details)
        note = [] if o.success else [f"{count} row{'s' if count != 1 else ''} of the extract failed this rule; "
                                     "row detail is kept in the restricted folder" if count else
                                     "row detail is kept in the restricted folder"]
        out.append(Outcome(table=o.table, file=Path(o.file).name, expectation=o.expectation, column=o.column,
                           severity=o.severity, stage=o.stage, success=o.success, description=o.description,
                           rows=[], details=note, observed=""))
    return ValidationReport(out)


def tracking_summary(frame: pd.DataFrame, report: ValidationReport, population: float, as_of: str,
                     extract_name: str, reoffending_polarity: str) -> dict:
    """Everything the Local tracking section shows, computed from the typed extract.

    ``reoffending_polarity``: the reoffending-rate indicator's polarity from the definitions table.
    """
    from ..analysis.tracking import publication_tables

    as_of_date = pd.Timestamp(as_of) if as_of else pd.Timestamp(date.today())
    period_end = last_complete_year_end(as_of_date)
    period_start = period_end - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    tables = publication_tables(frame, population, as_of_date, period_start, period_end,
                                reoffending_polarity=reoffending_polarity)
    return {
        "tables": tables,
        "report": public_report(report),
        "extract_name": Path(extract_name).name,
        "records": int(len(frame)),
        "as_of": as_of_date.date().isoformat(),
        "period_start": period_start.date().isoformat(),
        "period_end": period_end.date().isoformat(),
        "population": population,
        "restricted_tracker_written": True,
        "synthetic": frame.attrs.get("data_kind") == "synthetic",
    }


def _cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return value


def _table_json(table: pd.DataFrame) -> dict:
    return {"columns": [str(c) for c in table.columns],
            "rows": [[_cell(v) for v in row] for row in table.astype(object).itertuples(index=False)],
            "attrs": {k: table.attrs[k] for k in PUBLIC_ATTRS if k in table.attrs}}


def _table_from_json(item: dict) -> pd.DataFrame:
    table = pd.DataFrame(item["rows"], columns=item["columns"])
    table.attrs.update(item.get("attrs", {}))
    return table


def write_summary(summary: dict, path: Path) -> Path:
    """Write ``summary`` (from ``tracking_summary``) as JSON: aggregate tables, counts per rule."""
    tables = {k: (_table_json(v) if isinstance(v, pd.DataFrame) else v) for k, v in summary["tables"].items()}
    doc = {**summary, "tables": tables, "report": summary["report"].to_json()}
    Path(path).write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    return Path(path)


def load_summary(path: str) -> dict | None:
    """The Local tracking section's inputs written by the build (None when the plan has no such section)."""
    if not path:
        return None
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    doc["tables"] = {k: (_table_from_json(v) if isinstance(v, dict) and "columns" in v else v) for k, v in doc["tables"].items()}
    doc["report"] = ValidationReport.from_json(doc["report"])
    return doc
