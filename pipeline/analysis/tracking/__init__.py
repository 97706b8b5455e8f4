"""Local tracking from a case-management extract: first-time entrants, proven reoffending and custody.

The extract (``data_contracts/case_extract.md``) is a pseudonymised record-level file from the
service's case-management system: one row per proven offence and its outcome. From it the
indicators that national statistics publish one to two years late are computed now, with
cohort-on-cohort changes, in the way the YJB's reoffending "live tracker" spreadsheet did.

Modules: ``extract`` (reading and the data contract), ``cohorts`` (the vectorised
computations and their rules), ``reference`` (a plain per-child loop used to check them),
``tracker`` (the restricted live tracker), ``publication`` (disclosure-controlled tables).
"""

from __future__ import annotations

from .cohorts import (
    FOLLOW_UP_DAYS,
    WAITING_MONTHS,
    CohortPeriod,
    cohort_changes,
    cohort_members,
    cohort_periods,
    custody_summary,
    first_time_entrants,
    follow_up_window,
    reoffending_breakdown,
    reoffending_cohorts,
)
from .extract import canonical, load_extract
from .publication import publication_tables
from .tracker import live_tracker, write_restricted_tracker

__all__ = [
    "FOLLOW_UP_DAYS",
    "WAITING_MONTHS",
    "CohortPeriod",
    "canonical",
    "cohort_changes",
    "cohort_members",
    "cohort_periods",
    "custody_summary",
    "first_time_entrants",
    "follow_up_window",
    "live_tracker",
    "load_extract",
    "publication_tables",
    "reoffending_breakdown",
    "reoffending_cohorts",
    "write_restricted_tracker",
]
