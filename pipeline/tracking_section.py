"""Inputs of the optional "Local tracking" section: a record-level extract, computed in the kernel.

The published plan receives only disclosure-controlled tables; the live tracker (pseudonymous
ids) is written to the restricted folder, never into the plan or the site.
"""

from __future__ import annotations

import pickle
from datetime import date
from pathlib import Path

import pandas as pd


def tracking_inputs(extract: str, population: float, as_of: str, restricted_dir: str = "", validated: str = "") -> dict | None:
    """Everything the Local tracking section shows, or None when no extract is configured.

    ``validated`` is the build driver's pickle of the extract it already validated (typed frame and
    report), so Great Expectations is not imported in the kernel; without it the extract is
    validated here.
    """
    if not extract:
        return None
    from .tracking import load_extract, publication_tables, write_restricted_tracker

    if validated:
        with open(validated, "rb") as fh:
            frame, report = pickle.load(fh)
    else:
        frame, report = load_extract(extract)
    as_of_date = pd.Timestamp(as_of) if as_of else pd.Timestamp(date.today())
    period_end = _last_complete_year_end(as_of_date)
    period_start = period_end - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    tables = publication_tables(frame, population, as_of_date, period_start, period_end)
    tracker = write_restricted_tracker(frame, as_of_date, Path(restricted_dir)) if restricted_dir else None
    return {
        "tables": tables,
        "report": report,
        "extract_name": Path(extract).name,
        "records": int(len(frame)),
        "as_of": as_of_date.date().isoformat(),
        "period_start": period_start.date().isoformat(),
        "period_end": period_end.date().isoformat(),
        "population": population,
        "restricted_tracker_written": tracker is not None,
        "synthetic": "synthetic" in Path(extract).name,
    }


def _last_complete_year_end(as_of: pd.Timestamp) -> pd.Timestamp:
    """31 March of the latest financial year that has ended by ``as_of``."""
    year = as_of.year if as_of >= pd.Timestamp(as_of.year, 3, 31) else as_of.year - 1
    return pd.Timestamp(year, 3, 31)
