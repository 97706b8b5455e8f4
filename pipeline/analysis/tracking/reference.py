"""The straightforward reference: proven-reoffending cohorts by a plain per-child Python loop.

Kept deliberately simple and independent of the vectorised code in ``cohorts.py`` (it shares
only the list of cohort periods and the statistics call for the interval), so that tests and
``bench/bench_cohorts.py`` can check that the two give identical cohorts. Do not use it for
real work: it is one to two orders of magnitude slower.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import codes
from .cohorts import COHORT_COLUMNS, FOLLOW_UP_DAYS, WAITING_MONTHS, cohort_rates, cohort_status, as_timestamp, cohort_periods
from .extract import ensure_extract


def _date(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value.date() if hasattr(value, "date") else value


def reference_members(extract: pd.DataFrame, periods, as_of) -> list[dict]:
    """One dict per child and cohort period, in the extract's child order."""
    as_of = as_timestamp(as_of).date()
    proven = set(codes.PROVEN_OUTCOMES)
    custodial = set(codes.CUSTODIAL_DISPOSALS)
    children: dict[tuple, list] = {}
    for i, record in enumerate(extract.to_dict("records")):
        row = {
            "i": i,
            "type": record["outcome_type"],
            "disposal": record["disposal"],
            "offence": _date(record["offence_date"]),
            "outcome": _date(record["outcome_date"]),
            "release": _date(record["release_date"]),
            "sex": record["sex"],
            "ethnicity": record["ethnicity"],
            "age": int(record["age_at_offence"]),
        }
        children.setdefault((record["area_id"], record["child_id"]), []).append(row)

    bounds = [(p.start.date(), p.end.date()) for p in periods]
    members = []
    for (area, child), rows in children.items():
        for pi, (start, end) in enumerate(bounds):
            best = None
            for row in rows:
                if row["type"] not in proven:
                    continue
                if row["type"] == codes.COURT_DISPOSAL and row["disposal"] in custodial:
                    if row["release"] is None or row["release"] > as_of:
                        continue
                    day, event = row["release"], "custody_release"
                else:
                    if row["outcome"] > as_of:
                        continue
                    day, event = row["outcome"], row["type"]
                if not start <= day <= end:
                    continue
                rank = (day, row["offence"], row["i"])
                if best is None or rank < best[0]:
                    best = (rank, event, row)
            if best is None:
                continue
            (index, _, _), event, index_row = best
            follow_up_end = index + dt.timedelta(days=FOLLOW_UP_DAYS)
            waiting_end = (pd.Timestamp(follow_up_end) + pd.DateOffset(months=WAITING_MONTHS)).date()
            reoffences, first = 0, None
            for row in rows:
                if row["type"] not in proven or row["outcome"] > as_of:
                    continue
                if index < row["offence"] <= follow_up_end and row["outcome"] <= waiting_end:
                    reoffences += 1
                    if first is None or row["offence"] < first:
                        first = row["offence"]
            members.append(
                {
                    "period": pi,
                    "area_id": area,
                    "child_id": child,
                    "index_date": index,
                    "index_event": event,
                    "follow_up_end": follow_up_end,
                    "waiting_end": waiting_end,
                    "reoffences": reoffences,
                    "first_reoffence_date": first,
                    "sex": index_row["sex"],
                    "ethnicity": index_row["ethnicity"],
                    "age_at_index_offence": index_row["age"],
                }
            )
    return members


def reference_cohorts(
    extract: pd.DataFrame,
    frequency: str = "annual",
    as_of=None,
    *,
    start_month: int = 4,
    first_start=None,
    include_current: bool = False,
    by_area: bool = False,
    level: float = 0.95,
) -> pd.DataFrame:
    """The same table as ``reoffending_cohorts``, computed child by child."""
    extract = ensure_extract(extract)
    as_of = as_timestamp(as_of) if as_of is not None else as_timestamp(extract["outcome_date"].max())
    periods = cohort_periods(extract, frequency, as_of, start_month, first_start, include_current)
    members = reference_members(extract, periods, as_of)
    areas = sorted(set(extract["area_id"])) if by_area else [None]
    totals = {}
    for m in members:
        k = (m["area_id"] if by_area else None, m["period"])
        size, reoffenders, reoffences = totals.get(k, (0, 0, 0))
        totals[k] = (size + 1, reoffenders + (m["reoffences"] > 0), reoffences + m["reoffences"])
    records = []
    for area in areas:
        for pi, period in enumerate(periods):
            size, reoffenders, reoffences = totals.get((area, pi), (0, 0, 0))
            rec = {"area_id": area} if by_area else {}
            fu_end, wait_end = period.follow_up_end, period.waiting_end
            rec.update(
                {
                    "cohort_label": period.label,
                    "cohort_start": period.start,
                    "cohort_end": period.end,
                    "follow_up_end": fu_end,
                    "waiting_end": wait_end,
                    "provisional": as_of < wait_end,
                    "status": cohort_status(as_of, fu_end, wait_end),
                    "cohort_size": size,
                    "reoffenders": reoffenders,
                    "reoffences": reoffences,
                }
            )
            rec.update(cohort_rates(size, reoffenders, reoffences, level))
            records.append(rec)
    table = pd.DataFrame(records, columns=(["area_id"] if by_area else []) + COHORT_COLUMNS)
    for col in ("cohort_size", "reoffenders", "reoffences"):
        table[col] = table[col].astype("int64")
    table["provisional"] = table["provisional"].astype(bool)
    for col in ("cohort_start", "cohort_end", "follow_up_end", "waiting_end"):
        table[col] = pd.to_datetime(table[col])
    table.attrs["as_of"] = as_of
    return table
