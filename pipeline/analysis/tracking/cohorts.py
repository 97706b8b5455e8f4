"""Indicators computed from a case-management extract: vectorised with numpy and pandas.

Rules (documented in ``data_contracts/case_extract.md`` and tested at their edges):

First-time entrants
    A child is a first-time entrant on the date of their first caution (youth caution or youth
    conditional caution) or conviction (court disposal) in the extract. Community resolutions
    do not count. The FTE count of a period is the number of children whose first such outcome
    date falls in it (both ends inclusive); the rate is per 100,000 of the supplied population.

Proven reoffending (Ministry of Justice method)
    * Index events: a caution, a non-custodial conviction (on the outcome date) or a release
      from custody (on ``release_date`` of a custodial sentence). Community resolutions and the
      custodial sentence itself are not index events.
    * A cohort is the children with an index event in the cohort period (annual or quarterly);
      the child's *index date* is their first index event in the period. Ties on that date are
      broken by the earliest offence date, then by the row order of the extract.
    * Follow-up: offences committed on days 1 to 365 after the index date (``offence_date -
      index_date`` in days). Day 365 is inside, day 366 is not; an offence committed on the
      index date itself (day 0) belongs to the index episode and is not a reoffence. Fixed
      365 days are used in leap years too.
    * Waiting period: six calendar months after the end of follow-up,
      ``follow_up_end + pandas.DateOffset(months=6)`` (so it ends on the same day of the month,
      or the month's last day when that day does not exist, e.g. 31 Aug + 6 months = 28/29 Feb).
      A reoffence must be proven by a caution or conviction with ``outcome_date`` on or before
      that day (the last day of the waiting period is inside, the next day is not).
    * Counted: cohort size, reoffenders (children with at least one reoffence), reoffences
      (proven reoffence rows: one row is one offence), the binary rate (reoffenders / cohort,
      %), reoffences per reoffender and per child.
    * Provisional: a cohort is final when ``as_of`` is on or after the end of its waiting
      period (``cohort_end + 365 days + 6 months``): before that later proofs may still come
      in. Only outcomes dated on or before ``as_of`` (and releases on or before it) are used,
      so a computation "as of" an earlier date sees what an extract taken then would have held.
    * Cohort periods start on the first day of ``start_month`` (default April: financial
      years, quarters Apr–Jun, Jul–Sep, ...). The first cohort is the first period that starts
      no earlier than 31 days before the extract's first outcome date (so the extract covers
      it); the last is the latest one that has ended by ``as_of``.

Custody
    Court disposals are counted as sentencing occasions: one child's court outcome on one date
    (several offences sentenced together are one sentence); it is custodial when any of its
    rows is a custodial disposal. Remand episodes are the court cases (same child and outcome
    date) whose most restrictive bail or remand status is conditional bail or above; remands
    to custody are those whose status is ``remand_youth_detention``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from . import codes
from .extract import ensure_extract

FOLLOW_UP_DAYS = 365
WAITING_MONTHS = 6
FIRST_COHORT_GRACE_DAYS = 31
FREQUENCIES = {"annual": 12, "quarterly": 3}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH = np.datetime64("1970-01-01", "D")

# outcome-type codes used internally
_OT = {name: i for i, name in enumerate(codes.OUTCOME_TYPES)}
_PROVEN = np.array([name in codes.PROVEN_OUTCOMES for name in codes.OUTCOME_TYPES])


def _stats():
    from .. import stats

    return stats


def as_timestamp(value) -> pd.Timestamp:
    """A date given as str, date, datetime or Timestamp, as a midnight Timestamp."""
    return pd.Timestamp(value).normalize()


def _day(value) -> int:
    return int((np.datetime64(as_timestamp(value).date(), "D") - _EPOCH).astype(np.int64))


def _days(series: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int64; missing dates as a very large number (never in range)."""
    values = np.asarray(series.to_numpy()).astype("datetime64[D]")  # (to_numpy(dtype=...) boxes every value)
    out = (values - _EPOCH).astype(np.int64)
    out[np.isnat(values)] = np.iinfo(np.int64).max // 4
    return out


def add_waiting(days: np.ndarray) -> np.ndarray:
    """``days + DateOffset(months=WAITING_MONTHS)`` for an array of day numbers."""
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return days.copy()
    uniq, inverse = np.unique(days, return_inverse=True)
    shifted = pd.DatetimeIndex((_EPOCH + uniq.astype("timedelta64[D]")).astype("datetime64[ns]")) + pd.DateOffset(
        months=WAITING_MONTHS
    )
    shifted_days = (shifted.values.astype("datetime64[D]") - _EPOCH).astype(np.int64)
    return shifted_days[inverse.reshape(-1)]


def follow_up_window(index_date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(last day of follow-up, last day of the waiting period) for an index date."""
    start = as_timestamp(index_date)
    follow_up_end = start + pd.Timedelta(days=FOLLOW_UP_DAYS)
    return follow_up_end, follow_up_end + pd.DateOffset(months=WAITING_MONTHS)


# --------------------------------------------------------------------------- cohort periods


@dataclass(frozen=True)
class CohortPeriod:
    label: str
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def follow_up_end(self) -> pd.Timestamp:
        return follow_up_window(self.end)[0]

    @property
    def waiting_end(self) -> pd.Timestamp:
        return follow_up_window(self.end)[1]


def _month_number(ts: pd.Timestamp) -> int:
    return (ts.year - 1970) * 12 + ts.month - 1


def _month_start(m: int) -> pd.Timestamp:
    return pd.Timestamp(1970 + m // 12, m % 12 + 1, 1)


def last_complete_year_end(as_of: pd.Timestamp) -> pd.Timestamp:
    """31 March of the latest financial year that has ended by ``as_of``."""
    year = as_of.year if as_of >= pd.Timestamp(as_of.year, 3, 31) else as_of.year - 1
    return pd.Timestamp(year, 3, 31)


def period_label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """'Apr 2017 – Mar 2018' for a year, 'Apr–Jun 2017' for a quarter within a calendar year."""
    if start.year == end.year:
        return f"{_MONTHS[start.month - 1]}–{_MONTHS[end.month - 1]} {start.year}"
    return f"{_MONTHS[start.month - 1]} {start.year} – {_MONTHS[end.month - 1]} {end.year}"


def _period_geometry(frequency: str, start_month: int) -> tuple[int, int]:
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}")
    if not 1 <= int(start_month) <= 12:
        raise ValueError(f"start_month must be 1 to 12, not {start_month!r}")
    length = FREQUENCIES[frequency]
    return length, (int(start_month) - 1) % length


def cohort_periods(
    extract: pd.DataFrame,
    frequency: str = "annual",
    as_of=None,
    start_month: int = 4,
    first_start=None,
    include_current: bool = False,
) -> list[CohortPeriod]:
    """The cohort periods the extract supports, oldest first (see the module docstring)."""
    length, offset = _period_geometry(frequency, start_month)
    if len(extract) == 0:
        return []
    as_of = as_timestamp(as_of) if as_of is not None else as_timestamp(extract["outcome_date"].max())
    if first_start is not None:
        first = as_timestamp(first_start)
    else:
        first = as_timestamp(extract["outcome_date"].min()) - pd.Timedelta(days=FIRST_COHORT_GRACE_DAYS)
    m = _month_number(first)
    p = (m - offset) // length
    if _month_start(p * length + offset) < first:
        p += 1
    periods = []
    while True:
        start = _month_start(p * length + offset)
        end = _month_start((p + 1) * length + offset) - pd.Timedelta(days=1)
        if start > as_of or (end > as_of and not include_current):
            break
        periods.append(CohortPeriod(period_label(start, end), start, end))
        p += 1
    return periods


# --------------------------------------------------------------------------- prepared arrays


@dataclass
class _Arrays:
    n: int
    key: np.ndarray  # int64: one per (area_id, child_id)
    area_code: np.ndarray
    areas: np.ndarray  # area labels by code
    ot: np.ndarray  # outcome-type code
    custodial: np.ndarray
    offence: np.ndarray  # days
    outcome: np.ndarray
    release: np.ndarray


def _arrays(extract: pd.DataFrame) -> _Arrays:
    area_code, areas = pd.factorize(extract["area_id"], sort=True)
    child_code, children = pd.factorize(extract["child_id"])
    key = area_code.astype(np.int64) * max(len(children), 1) + child_code.astype(np.int64)
    ot_code, ot_names = pd.factorize(extract["outcome_type"])
    ot = np.array([_OT.get(n, -1) for n in ot_names], dtype=np.int64)[ot_code] if len(ot_names) else ot_code.astype(np.int64)
    court = ot == _OT[codes.COURT_DISPOSAL]
    custodial = court & extract["disposal"].isin(codes.CUSTODIAL_DISPOSALS).to_numpy()
    return _Arrays(
        n=len(extract),
        key=key,
        area_code=area_code.astype(np.int64),
        areas=np.asarray(areas, dtype=object),
        ot=ot,
        custodial=custodial,
        offence=_days(extract["offence_date"]),
        outcome=_days(extract["outcome_date"]),
        release=_days(extract["release_date"]),
    )


def _is_proven(ot: np.ndarray) -> np.ndarray:
    return (ot >= 0) & _PROVEN[np.clip(ot, 0, len(_PROVEN) - 1)]


# --------------------------------------------------------------------------- members


def _members(extract: pd.DataFrame, periods: list[CohortPeriod], as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per child per cohort period: index date and event, reoffences counted (vectorised)."""
    a = _arrays(extract)
    asof = _day(as_of)
    columns = [
        "period",
        "row",
        "key",
        "area_id",
        "child_id",
        "index_date",
        "index_event",
        "follow_up_end",
        "waiting_end",
        "reoffences",
        "first_reoffence_date",
    ]
    if not periods or a.n == 0:
        return pd.DataFrame({c: [] for c in columns})
    proven = _is_proven(a.ot)
    outcome_event = proven & ~a.custodial & (a.outcome <= asof)
    release_event = a.custodial & (a.release <= asof)
    rows = np.concatenate([np.flatnonzero(outcome_event), np.flatnonzero(release_event)])
    event_day = np.concatenate([a.outcome[outcome_event], a.release[release_event]])
    is_release = np.concatenate([np.zeros(outcome_event.sum(), bool), np.ones(release_event.sum(), bool)])

    # assign each event to a period by binary search over the (contiguous or not) period bounds
    starts = np.array([_day(p.start) for p in periods], dtype=np.int64)
    ends = np.array([_day(p.end) for p in periods], dtype=np.int64)
    pidx = np.searchsorted(starts, event_day, side="right") - 1
    inside = (pidx >= 0) & (event_day <= ends[np.clip(pidx, 0, None)])
    rows, event_day, is_release, pidx = rows[inside], event_day[inside], is_release[inside], pidx[inside]
    key = a.key[rows]

    order = np.lexsort((rows, a.offence[rows], event_day, pidx, key))
    key, pidx, event_day, rows, is_release = key[order], pidx[order], event_day[order], rows[order], is_release[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = (key[1:] != key[:-1]) | (pidx[1:] != pidx[:-1])
    m_key, m_pidx, m_idx, m_row, m_rel = key[first], pidx[first], event_day[first], rows[first], is_release[first]
    m_fu = m_idx + FOLLOW_UP_DAYS
    m_wait = add_waiting(m_fu)

    # candidate reoffences: proven outcomes known by as_of, sorted by child then offence date
    cand = proven & (a.outcome <= asof)
    c_key, c_off, c_out = a.key[cand], a.offence[cand], a.outcome[cand]
    corder = np.lexsort((c_off, c_key))
    c_key, c_off, c_out = c_key[corder], c_off[corder], c_out[corder]
    lo = np.searchsorted(c_key, m_key, side="left")
    hi = np.searchsorted(c_key, m_key, side="right")
    counts = hi - lo
    total = int(counts.sum())
    member = np.repeat(np.arange(len(m_key)), counts)
    pos = lo[member] + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
    off = c_off[pos]
    hit = (off > m_idx[member]) & (off <= m_fu[member]) & (c_out[pos] <= m_wait[member])
    hit_member = member[hit]
    reoffences = np.bincount(hit_member, minlength=len(m_key))
    first_re = np.full(len(m_key), -1, dtype=np.int64)
    if hit_member.size:
        uniq, first_pos = np.unique(hit_member, return_index=True)
        first_re[uniq] = off[hit][first_pos]

    ot_names = np.array(codes.OUTCOME_TYPES, dtype=object)
    index_event = np.where(m_rel, "custody_release", ot_names[np.clip(a.ot[m_row], 0, None)])

    def dates(d):
        return pd.to_datetime(_EPOCH + d.astype("timedelta64[D]"))

    frame = pd.DataFrame(
        {
            "period": m_pidx,
            "row": m_row,
            "key": m_key,
            "area_id": a.areas[a.area_code[m_row]] if len(a.areas) else np.array([], dtype=object),
            "child_id": extract["child_id"].to_numpy()[m_row],
            "index_date": dates(m_idx),
            "index_event": index_event,
            "follow_up_end": dates(m_fu),
            "waiting_end": dates(m_wait),
            "reoffences": reoffences.astype(np.int64),
            "first_reoffence_date": pd.to_datetime(
                np.where(first_re >= 0, _EPOCH + first_re.astype("timedelta64[D]"), np.datetime64("NaT"))
            ),
        }
    )
    order = np.lexsort((frame["key"].to_numpy(), frame["period"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)


def _attach_characteristics(members: pd.DataFrame, extract: pd.DataFrame) -> pd.DataFrame:
    rows = members["row"].to_numpy(dtype=np.int64)
    out = members.copy()
    out["sex"] = extract["sex"].to_numpy()[rows]
    out["ethnicity"] = extract["ethnicity"].to_numpy()[rows]
    age = extract["age_at_offence"].to_numpy()[rows].astype(np.int64)
    out["age_at_index_offence"] = age
    out["age_band"] = np.where(age <= 14, codes.AGE_BANDS[0], codes.AGE_BANDS[1])
    return out


def cohort_members(
    extract: pd.DataFrame,
    frequency: str = "annual",
    as_of=None,
    start_month: int = 4,
    first_start=None,
    include_current: bool = False,
    periods: list[CohortPeriod] | None = None,
) -> pd.DataFrame:
    """Member-level cohorts: one row per child and cohort period, with the child's reoffences."""
    extract = ensure_extract(extract)
    as_of = as_timestamp(as_of) if as_of is not None else as_timestamp(extract["outcome_date"].max())
    if periods is None:
        periods = cohort_periods(extract, frequency, as_of, start_month, first_start, include_current)
    members = _members(extract, periods, as_of)
    members = _attach_characteristics(members, extract)
    labels = np.array([p.label for p in periods] or [""], dtype=object)
    starts = np.array([p.start for p in periods] or [pd.NaT], dtype="datetime64[ns]")
    pidx = members["period"].to_numpy(dtype=np.int64)
    members.insert(0, "cohort_label", labels[pidx] if len(members) else np.array([], dtype=object))
    members.insert(1, "cohort_start", pd.to_datetime(starts[pidx]) if len(members) else pd.to_datetime([]))
    members["reoffended"] = members["reoffences"] > 0
    return members


# --------------------------------------------------------------------------- cohort tables


def cohort_status(as_of: pd.Timestamp, follow_up_end: pd.Timestamp, waiting_end: pd.Timestamp) -> str:
    if as_of >= waiting_end:
        return "final"
    if as_of < follow_up_end:
        return f"provisional: follow-up runs to {follow_up_end.date().isoformat()}"
    return f"provisional: waiting period runs to {waiting_end.date().isoformat()}"


def _num(value) -> float:
    return float("nan") if value is None else float(value)


@lru_cache(maxsize=65536)
def _proportion(count: int, denominator: int, level: float):
    return _stats().proportion_estimate(count, denominator, level=level, multiplier=100)


def cohort_rates(size: int, reoffenders: int, reoffences: int, level: float) -> dict:
    """A cohort's reoffending rate with its Wilson interval, and reoffences per reoffender and per child."""
    if size <= 0:
        return {"rate": np.nan, "lower": np.nan, "upper": np.nan, "reoffences_per_reoffender": np.nan, "reoffences_per_child": np.nan}
    est = _proportion(int(reoffenders), int(size), float(level))
    return {
        "rate": _num(est.value),
        "lower": _num(est.lower),
        "upper": _num(est.upper),
        "reoffences_per_reoffender": (reoffences / reoffenders) if reoffenders else np.nan,
        "reoffences_per_child": reoffences / size,
    }


COHORT_COLUMNS = [
    "cohort_label",
    "cohort_start",
    "cohort_end",
    "follow_up_end",
    "waiting_end",
    "provisional",
    "status",
    "cohort_size",
    "reoffenders",
    "reoffences",
    "rate",
    "lower",
    "upper",
    "reoffences_per_reoffender",
    "reoffences_per_child",
]


def summarise_members(
    members: pd.DataFrame,
    periods: list[CohortPeriod],
    as_of,
    by_area: bool = False,
    areas: list[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """The cohort table from member rows (shared by the vectorised path and the reference loop)."""
    as_of = as_timestamp(as_of)
    n_p = len(periods)
    pidx = members["period"].to_numpy(dtype=np.int64)
    reoff = members["reoffences"].to_numpy(dtype=np.int64)
    if by_area:
        areas = sorted(areas if areas is not None else set(members["area_id"]))
        a_code = pd.Categorical(members["area_id"], categories=areas).codes.astype(np.int64)
    else:
        areas = [None]
        a_code = np.zeros(len(members), dtype=np.int64)
    group = a_code * n_p + pidx
    n_groups = len(areas) * n_p
    size = np.bincount(group, minlength=n_groups)
    reoffenders = np.bincount(group, weights=(reoff > 0).astype(float), minlength=n_groups).astype(np.int64)
    reoffences = np.bincount(group, weights=reoff.astype(float), minlength=n_groups).astype(np.int64)
    windows = [follow_up_window(p.end) for p in periods]
    records = []
    for ai, area in enumerate(areas):
        for pi, period in enumerate(periods):
            g = ai * n_p + pi
            fu_end, wait_end = windows[pi]
            rec = {"area_id": area} if by_area else {}
            rec.update(
                {
                    "cohort_label": period.label,
                    "cohort_start": period.start,
                    "cohort_end": period.end,
                    "follow_up_end": fu_end,
                    "waiting_end": wait_end,
                    "provisional": bool(as_of < wait_end),
                    "status": cohort_status(as_of, fu_end, wait_end),
                    "cohort_size": int(size[g]),
                    "reoffenders": int(reoffenders[g]),
                    "reoffences": int(reoffences[g]),
                }
            )
            rec.update(cohort_rates(int(size[g]), int(reoffenders[g]), int(reoffences[g]), level))
            records.append(rec)
    columns = (["area_id"] if by_area else []) + COHORT_COLUMNS
    table = pd.DataFrame(records, columns=columns)
    for col in ("cohort_size", "reoffenders", "reoffences"):
        table[col] = table[col].astype(np.int64)
    table["provisional"] = table["provisional"].astype(bool)
    for col in ("cohort_start", "cohort_end", "follow_up_end", "waiting_end"):
        table[col] = pd.to_datetime(table[col])
    table.attrs["as_of"] = as_of
    return table


def reoffending_cohorts(
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
    """One row per cohort: size, reoffenders, reoffences, binary rate with its interval, provisional flag.

    ``as_of`` is the date the extract was taken (default: its latest outcome date).
    ``by_area=True`` gives one row per area and cohort when the extract holds several areas;
    otherwise all rows are one population (children are always told apart by area and id).
    """
    extract = ensure_extract(extract)
    as_of = as_timestamp(as_of) if as_of is not None else as_timestamp(extract["outcome_date"].max())
    periods = cohort_periods(extract, frequency, as_of, start_month, first_start, include_current)
    members = _members(extract, periods, as_of)
    table = summarise_members(
        members, periods, as_of, by_area=by_area, areas=sorted(extract["area_id"].unique()) if by_area else None, level=level
    )
    table.attrs.update({"frequency": frequency, "data_kind": extract.attrs.get("data_kind", "")})
    return table


def reoffending_breakdown(
    extract: pd.DataFrame,
    cohort_start,
    cohort_end,
    by: str = "sex",
    as_of=None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Reoffending of one cohort (children with an index event from cohort_start to cohort_end) by a characteristic.

    ``by`` is ``sex``, ``age_band`` (age at the offence of the index outcome: 10–14, 15–17) or
    ``ethnicity``; the child's value is taken from their index row. Every documented category
    is listed, with zero rows where there are no children.
    """
    categories = {"sex": codes.SEXES, "age_band": codes.AGE_BANDS, "ethnicity": codes.ETHNICITIES}
    if by not in categories:
        raise ValueError(f"by must be one of {', '.join(categories)}, not {by!r}")
    extract = ensure_extract(extract)
    as_of = as_timestamp(as_of) if as_of is not None else as_timestamp(extract["outcome_date"].max())
    start, end = as_timestamp(cohort_start), as_timestamp(cohort_end)
    period = CohortPeriod(period_label(start, end), start, end)
    members = _attach_characteristics(_members(extract, [period], as_of), extract)
    fu_end, wait_end = period.follow_up_end, period.waiting_end
    records = []
    for value in categories[by]:
        sub = members[members[by] == value]
        size, reoffenders, reoffences = len(sub), int((sub["reoffences"] > 0).sum()), int(sub["reoffences"].sum())
        rec = {
            "by": by,
            "group": value,
            "cohort_label": period.label,
            "cohort_size": size,
            "reoffenders": reoffenders,
            "not_reoffended": size - reoffenders,
            "reoffences": reoffences,
        }
        rec.update(cohort_rates(size, reoffenders, reoffences, level))
        rec.update({"provisional": bool(as_of < wait_end), "status": cohort_status(as_of, fu_end, wait_end)})
        records.append(rec)
    return pd.DataFrame(records)


def cohort_changes(cohorts: pd.DataFrame, *, polarity: str, lag: int = 1, level: float = 0.95) -> pd.DataFrame:
    """Change in the reoffending rate between each cohort and the one ``lag`` rows before it.

    ``lag=1`` compares consecutive cohorts; with quarterly cohorts ``lag=4`` compares the same
    quarter a year earlier. Changes are in percentage points, tested with
    ``pipeline.analysis.stats.proportion_change`` with the reoffending indicator's ``polarity`` (from the
    indicator definitions: never assumed here). A change that involves a
    provisional cohort keeps its figures but is flagged and not assessed.
    """
    stats = _stats()
    groups = cohorts.groupby("area_id", sort=False) if "area_id" in cohorts.columns else [(None, cohorts)]
    records = []
    for area, frame in groups:
        frame = frame.sort_values("cohort_start").reset_index(drop=True)
        for i in range(lag, len(frame)):
            cur, prev = frame.iloc[i], frame.iloc[i - lag]
            rec = {"area_id": area} if area is not None else {}
            rec.update({"cohort_label": cur["cohort_label"], "previous_label": prev["cohort_label"]})
            provisional = bool(cur["provisional"] or prev["provisional"])
            if cur["cohort_size"] > 0 and prev["cohort_size"] > 0:
                ch = stats.proportion_change(
                    int(cur["reoffenders"]),
                    int(cur["cohort_size"]),
                    int(prev["reoffenders"]),
                    int(prev["cohort_size"]),
                    level=level,
                    multiplier=100,
                    polarity=polarity,
                )
                rec.update(
                    {
                        "current": ch.current,
                        "previous": ch.previous,
                        "absolute": ch.absolute,
                        "relative": ch.relative,
                        "lower": ch.lower,
                        "upper": ch.upper,
                        "p_value": ch.p_value,
                        "test": ch.test,
                        "significant": bool(ch.significant),
                        "direction": ch.direction,
                        "assessment": ch.assessment,
                        "note": ch.note or "",
                    }
                )
            else:
                rec.update(
                    {
                        "current": cur["rate"],
                        "previous": prev["rate"],
                        "absolute": np.nan,
                        "relative": np.nan,
                        "lower": np.nan,
                        "upper": np.nan,
                        "p_value": np.nan,
                        "test": "",
                        "significant": False,
                        "direction": "",
                        "assessment": "not assessed",
                        "note": "an empty cohort has no rate",
                    }
                )
            rec["provisional"] = provisional
            if provisional:
                rec["assessment"] = "provisional: not assessed"
                rec["note"] = "; ".join(
                    x for x in (rec["note"], "a provisional cohort's rate can still rise as reoffences are proven") if x
                )
            records.append(rec)
    columns = (["area_id"] if "area_id" in cohorts.columns else []) + [
        "cohort_label",
        "previous_label",
        "current",
        "previous",
        "absolute",
        "relative",
        "lower",
        "upper",
        "p_value",
        "test",
        "significant",
        "direction",
        "assessment",
        "provisional",
        "note",
    ]
    return pd.DataFrame(records, columns=columns)


# --------------------------------------------------------------------------- FTE and custody


def _coverage_note(extract: pd.DataFrame, period_start: pd.Timestamp) -> str:
    # No date from the extract here: with few records, its first outcome date is one child's.
    return (
        "Counted from the extract: a child whose earlier caution or conviction is not in the extract is counted as a "
        "first-time entrant here. Published figures use the Police National Computer's full history."
    )


def first_time_entrants(extract: pd.DataFrame, period_start, period_end, population, level: float = 0.95) -> dict:
    """Children whose first caution or conviction in the extract falls in the period, and the rate per 100,000."""
    extract = ensure_extract(extract)
    ps, pe = as_timestamp(period_start), as_timestamp(period_end)
    a = _arrays(extract)
    proven = _is_proven(a.ot)
    first = pd.Series(a.outcome[proven]).groupby(a.key[proven]).min().to_numpy()
    count = int(((first >= _day(ps)) & (first <= _day(pe))).sum())
    estimate = _stats().rate_estimate(count, population, level=level, multiplier=100000)
    return {
        "count": count,
        "estimate": estimate,
        "period_start": ps,
        "period_end": pe,
        "population": population,
        "note": _coverage_note(extract, ps),
    }


def _occasions(extract: pd.DataFrame, a: _Arrays, mask: np.ndarray) -> pd.DataFrame:
    """Court sentencing occasions (child and outcome date) among the rows in mask."""
    remand_rank = {s: i for i, s in enumerate(codes.REMAND_STATUSES)}
    ranks = extract["remand_status"].map(remand_rank).fillna(-1).to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {"key": a.key[mask], "day": a.outcome[mask], "custodial": a.custodial[mask], "remand": ranks[mask]}
    )
    return frame.groupby(["key", "day"], sort=False).agg(custodial=("custodial", "max"), remand=("remand", "max"))


def custody_summary(extract: pd.DataFrame, period_start, period_end, population, level: float = 0.95) -> dict:
    """Custodial sentences as a share of court sentences and per 1,000 population; remands as a share of eligible episodes."""
    stats = _stats()
    extract = ensure_extract(extract)
    ps, pe = as_timestamp(period_start), as_timestamp(period_end)
    a = _arrays(extract)
    in_period = (a.outcome >= _day(ps)) & (a.outcome <= _day(pe))
    court = in_period & (a.ot == _OT[codes.COURT_DISPOSAL])
    occ = _occasions(extract, a, court)
    court_disposals = int(len(occ))
    custodial = int(occ["custodial"].sum()) if court_disposals else 0
    share = stats.proportion_estimate(custodial, court_disposals, level=level, multiplier=100) if court_disposals else None
    rate = stats.rate_estimate(custodial, population, level=level, multiplier=1000)
    recorded = occ[occ["remand"] >= 0] if court_disposals else occ
    eligible_rank = min(codes.REMAND_STATUSES.index(s) for s in codes.REMAND_ELIGIBLE)
    custody_rank = codes.REMAND_STATUSES.index(codes.REMAND_CUSTODY)
    notes = [
        "A court sentence is one child's court outcome on one date; it is custodial when it includes a detention "
        "and training order or long-term detention."
    ]
    if len(recorded):
        eligible = int((recorded["remand"] >= eligible_rank).sum())
        remands = int((recorded["remand"] == custody_rank).sum())
        remand_share = stats.proportion_estimate(remands, eligible, level=level, multiplier=100) if eligible else None
        if len(recorded) < court_disposals:
            notes.append(
                f"Bail or remand status is recorded for {len(recorded)} of {court_disposals} court cases; the remand share uses those."
            )
    else:
        eligible = remands = None
        remand_share = None
        notes.append("The extract records no bail or remand status, so remands are not reported.")
    return {
        "custodial": custodial,
        "court_disposals": court_disposals,
        "share": share,
        "rate": rate,
        "remands": remands,
        "eligible_episodes": eligible,
        "remand_share": remand_share,
        "period_start": ps,
        "period_end": pe,
        "population": population,
        "notes": notes,
    }
