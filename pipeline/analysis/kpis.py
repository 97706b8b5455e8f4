"""The ten key performance indicators youth justice services report to the YJB (since April 2023).

Besides the four national indicators (first-time entrants, reoffending rate, reoffending frequency,
custody), every youth justice service reports ten KPIs to the Youth Justice Board. Their definitions
are data, in ``data/kpi_definitions.csv`` (contract ``data_contracts/kpi_definitions.json``): the
numerator and denominator, which intervention types are in scope, whether an unknown answer stays in
the denominator, the serious-violence rule, the headline measure, the polarity, the version and the
source, and whether the definition could be confirmed. **A revised definition is a data change**: the
code reads every rule it applies from that table (``KPI_SPECS`` below only says which cells a KPI is
built from). Sources and what could not be confirmed: the ``confirmed`` and ``confirmation_note``
columns.

Data
    * KPIs 1–6 and 10 from the optional per-intervention columns of the case-management extract
      (``data_contracts/case_extract.md``, "Optional KPI columns"; ``tracking/kpi_columns.py``);
    * KPI 9 (serious violence) from the extract's own columns (offence category, gravity score,
      outcome type and date);
    * KPI 7 (management board attendance) and KPI 8 (wider services) from two small per-edition tables,
      ``data/kpi_board_attendance.csv`` and ``data/kpi_wider_services.csv``.

Counting rules (the definitions table states them in words for each KPI)
    * **Children with an intervention ending in the period** (KPIs 1–6): the interventions of the types
      in ``scope_intervention_types`` whose ``intervention_end_date`` falls in the period (both ends
      inclusive). A child is counted once per period, at the intervention that ended last in it (ties:
      the later start, then the later type in ``INTERVENTION_TYPES``); so a year counts a child once even
      when two of their orders ended in it, and a year's count can be less than the sum of its quarters.
    * An intervention is the rows sharing ``(area_id, child_id, intervention_type, intervention_start_date)``;
      its answers are taken from its first row (the contract warns when its rows disagree).
    * ``unknown_in_denominator`` = yes: a blank or ``unknown`` answer stays in the denominator and is not
      in the numerator (the definition counts the children with the thing evidenced); no: it is left out
      of both. Either way a "recorded" measure shows how many answers were given.
    * Victims (KPI 10) are counted, not children: every intervention ending in the period adds its
      victims (no de-duplication: the victims of different interventions are different people).
    * Serious violence (KPI 9): children with at least one offence proven in the period (outcome date) by
      an outcome in ``outcome_types`` whose ``offence_category`` is in ``offence_categories`` and whose
      gravity score is at least ``min_gravity_score``; a rate per ``multiplier`` of the 10–17 population.
    * Periods: financial years (April to March) and their quarters, each fully inside ``[start, end]``.
      Periods that end before the KPIs' collection began (``valid_from``, April 2023) are computed
      (demonstration data) and flagged ``before_collection``.

Statistics (``pipeline.analysis.stats``, PHEindicatormethods style)
    * proportions: Wilson score interval, :func:`wilson_interval` (the same formula as
      :func:`pipeline.analysis.stats.wilson_limits`, for whole arrays at once);
    * rates (KPI 9): :func:`pipeline.analysis.stats.rate_estimate` (exact Poisson below 10, Byar above);
    * start-versus-end change (KPIs with ``has_start_end_change``): the same children at both ends,
      :func:`paired_proportion_change` (McNemar's exact test; Newcombe's hybrid score interval for the
      difference of paired proportions). Polarity is never defaulted: it comes from the definitions.

Disclosure control (``pipeline.analysis.disclosure``: ``THRESHOLD``, ``PRIMARY_MARKER``, ``SECONDARY_MARKER``)
    Every published count of children or victims from 1 to ``THRESHOLD - 1`` is shown as ``<5``; secondary
    suppression (``*``) then hides further cells until no hidden count can be worked out exactly from
    the cells still shown — :func:`suppress_linked`, the rule of
    :func:`pipeline.analysis.disclosure.suppress_table` for any set of sum constraints: each measure's
    denominator = numerator + remainder, a year = the sum of its quarters whenever that holds in the data,
    a cell equal to a cell it may coincide with (children recorded at both ends and at the end), and the
    count of children with an intervention ending, which several KPIs share, hidden in every KPI once it
    is hidden in one. Values, intervals and changes built on a hidden count are hidden too. KPI 7 counts
    meetings, not children (``counts_children`` = no), and is not suppressed.

National comparison
    :func:`national_comparison_statement`: the definitions table carries the YJB's statement on national
    KPI data (its quality and methodology note presents the 2023/24 national figures as illustrative and
    not yet suitable for decision-making), so local figures are published without a national comparison.

Public API: :func:`load_kpi_definitions`, :func:`load_kpi_table`, :func:`kpi_periods`,
:func:`interventions`, :func:`kpi_counts` (unsuppressed: restricted use, never published),
:func:`kpi_changes`, :func:`board_attendance_kpi`, :func:`wider_services_kpi`, :func:`publish_kpis`
(everything a plan may show, suppressed), :func:`suppress_linked`, :func:`wilson_interval`,
:func:`paired_proportion_change` (and :func:`paired_change_arrays`, the same for arrays),
:func:`national_comparison_statement`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as _sps

from . import stats
from .disclosure import PRIMARY_MARKER, SECONDARY_MARKER, THRESHOLD
from .tracking import kpi_columns as kc
from .tracking.extract import ensure_extract

DEFINITIONS_TABLE = "kpi_definitions"
BOARD_TABLE = "kpi_board_attendance"
WIDER_TABLE = "kpi_wider_services"
_EPOCH = np.datetime64("1970-01-01", "D")
_NEVER = np.iinfo(np.int64).max // 4
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

PRIMARY, SECONDARY, DEPENDENT = "primary", "secondary", "dependent"

SYNTHETIC_NOTE = (
    "SYNTHETIC DEMONSTRATION DATA: these KPI figures are computed from a generated extract for a fictional area; "
    "they describe no real child, and its shares are assumptions, not national figures."
)
BEFORE_COLLECTION_NOTE = (
    "Periods before April 2023, when youth justice services began reporting these KPIs, are computed from the "
    "extract for demonstration only: no KPI was reported for them."
)
MARKER_NOTES = {
    PRIMARY: f"{PRIMARY_MARKER}: a count from 1 to {THRESHOLD - 1} is not shown, to protect the children (or victims) it "
             "describes (zero is shown).",
    SECONDARY: f"{SECONDARY_MARKER}: not shown so that a suppressed count cannot be worked out from the other figures, "
               "or because the value, interval or change is built on a suppressed count.",
}


# --------------------------------------------------------------------------- definitions and tables


def _contract_frame(table: str, path: Path | None, parameters: dict | None = None):
    from ..data.contracts import load_suite, validate_frame
    from ..data.loaders import read_raw_table
    from ..paths import data_dir

    path = Path(path) if path is not None else data_dir() / f"{table}.csv"
    raw = read_raw_table(path)
    suite = load_suite(table)
    report, typed = validate_frame(raw, suite, f"data/{path.name}", parameters=parameters or {})
    report.raise_for_critical()
    return typed, report


def load_kpi_definitions(path: str | Path | None = None) -> pd.DataFrame:
    """``data/kpi_definitions.csv`` checked by its contract, one row per KPI, ordered by ``kpi_number``.

    List columns (``scope_intervention_types``, ``offence_categories``, ``outcome_types``, ``breakdowns``)
    stay '|'-separated text; :func:`_definition` splits them.
    """
    typed, report = _contract_frame(DEFINITIONS_TABLE, path)
    frame = typed.drop(columns=["_line"], errors="ignore").copy()
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].fillna("")
    frame["kpi_number"] = frame["kpi_number"].astype(int)
    frame["multiplier"] = frame["multiplier"].astype(float)
    frame = frame.sort_values("kpi_number").reset_index(drop=True)
    frame.attrs["report"] = report.summary()
    return frame


def load_kpi_table(table: str, path: str | Path | None = None) -> pd.DataFrame:
    """``data/kpi_board_attendance.csv`` or ``data/kpi_wider_services.csv`` checked by its contract.

    The known areas and sources (``areas.csv``, ``sources.csv``) are the contract's parameters; every row's
    edition must be one of its area's editions in ``plans.csv``.
    """
    from ..data import reference
    from ..data.dataset import read_areas
    from ..errors import DataContractError
    from ..paths import data_dir

    if table not in (BOARD_TABLE, WIDER_TABLE):
        raise ValueError(f"table must be {BOARD_TABLE!r} or {WIDER_TABLE!r}, not {table!r}")
    parameters = dict(reference.parameters())
    parameters["area_ids"] = sorted(read_areas()["area_id"].astype(str))
    typed, _ = _contract_frame(table, path, parameters)
    plans = pd.read_csv(data_dir() / "plans.csv", dtype=str, keep_default_na=False)
    known = set(zip(plans["area_id"], plans["edition"]))
    bad = [(int(line), a, e) for line, a, e in zip(typed["_line"], typed["area_id"], typed["edition"]) if (a, e) not in known]
    if bad:
        line, area, edition = bad[0]
        raise DataContractError(
            f"data/{table}.csv, line {line}, column 'edition': edition {edition!r} is not an edition of area {area!r} "
            f"in data/plans.csv ({len(bad)} row{'s' if len(bad) > 1 else ''})"
        )
    return typed.reset_index(drop=True)


@dataclass(frozen=True)
class Definition:
    """One KPI's row of the definitions table, with its list columns split."""

    kpi_id: str
    kpi_number: int
    name: str
    short_name: str
    statistic: str
    multiplier: float
    unit: str
    polarity: str
    scope: tuple[str, ...]
    unknown_in_denominator: bool
    offence_categories: tuple[str, ...]
    min_gravity_score: float | None
    outcome_types: tuple[str, ...]
    headline_measure: str
    counts_children: bool
    has_start_end_change: bool
    version: str
    valid_from: pd.Timestamp | None
    data_source: str


def _split(text) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(text or "").split("|") if p.strip())


def _definition(row: pd.Series) -> Definition:
    gravity = row.get("min_gravity_score")
    valid = row.get("valid_from")
    return Definition(
        kpi_id=str(row["kpi_id"]),
        kpi_number=int(row["kpi_number"]),
        name=str(row["name"]),
        short_name=str(row["short_name"]),
        statistic=str(row["statistic"]),
        multiplier=float(row["multiplier"]),
        unit=str(row["unit"]),
        polarity=str(row["polarity"]),
        scope=_split(row.get("scope_intervention_types")),
        unknown_in_denominator=str(row.get("unknown_in_denominator", "")) == "yes",
        offence_categories=_split(row.get("offence_categories")),
        min_gravity_score=None if gravity is None or gravity == "" or pd.isna(gravity) else float(gravity),
        outcome_types=_split(row.get("outcome_types")),
        headline_measure=str(row["headline_measure"]),
        counts_children=str(row.get("counts_children", "yes")) == "yes",
        has_start_end_change=str(row.get("has_start_end_change", "no")) == "yes",
        version=str(row.get("version", "")),
        valid_from=None if valid is None or valid == "" or pd.isna(valid) else pd.Timestamp(valid),
        data_source=str(row.get("data_source", "extract")),
    )


def national_comparison_statement(definitions: pd.DataFrame) -> str:
    """The statement on national comparison the definitions carry (one sentence per distinct statement)."""
    statements = [s for s in dict.fromkeys(definitions["national_comparison"].astype(str)) if s.strip()]
    return " ".join(statements)


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class KpiPeriod:
    frequency: str  # annual or quarterly
    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    year: int  # financial year the period belongs to (its April's calendar year)


def _label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    if start.year == end.year:
        return f"{_MONTHS[start.month - 1]}–{_MONTHS[end.month - 1]} {start.year}"
    return f"{_MONTHS[start.month - 1]} {start.year} – {_MONTHS[end.month - 1]} {end.year}"


def kpi_periods(start, end, start_month: int = 4) -> list[KpiPeriod]:
    """Financial years (from ``start_month``) and their quarters that lie wholly inside ``[start, end]``.

    Ordered by year, each year's annual period first, then its quarters.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise ValueError(f"end {end.date()} is before start {start.date()}")
    if not 1 <= int(start_month) <= 12:
        raise ValueError(f"start_month must be 1 to 12, not {start_month!r}")
    first_year = start.year - (1 if start.month < start_month else 0) - 1
    out = []
    for year in range(first_year, end.year + 1):
        y0 = pd.Timestamp(year, start_month, 1)
        y1 = y0 + pd.DateOffset(years=1) - pd.Timedelta(days=1)
        quarters = []
        for q in range(4):
            q0 = y0 + pd.DateOffset(months=3 * q)
            q1 = q0 + pd.DateOffset(months=3) - pd.Timedelta(days=1)
            if q0 >= start and q1 <= end:
                quarters.append(KpiPeriod("quarterly", _label(q0, q1), q0, q1, year))
        if y0 >= start and y1 <= end:
            out.append(KpiPeriod("annual", _label(y0, y1), y0, y1, year))
        out.extend(quarters)
    return out


# --------------------------------------------------------------------------- statistics


def wilson_interval(count, denominator, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits of O/n for arrays, as fractions; NaN where n = 0.

    The formula of :func:`pipeline.analysis.stats.wilson_limits` (Wilson 1927; Eayres 2008), with
    p = O/n and z = :func:`pipeline.analysis.stats.z_value` (level)::

        limits = (2O + z² ∓ z·√(z² + 4O(1 − p))) / (2(n + z²))

    the lower limit exactly 0 when O = 0 and the upper exactly 1 when O = n.
    """
    o = np.asarray(count, dtype=float)
    n = np.asarray(denominator, dtype=float)
    if np.any(o < 0) or np.any(o > n):
        raise ValueError("counts must be between 0 and their denominators")
    z = stats.z_value(level)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = o / n
        centre = 2 * o + z2
        spread = z * np.sqrt(z2 + 4 * o * (1 - p))
        scale = 2 * (n + z2)
        lower = np.where(o == 0, 0.0, np.maximum(0.0, (centre - spread) / scale))
        upper = np.where(o == n, 1.0, np.minimum(1.0, (centre + spread) / scale))
    bad = n <= 0
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


_direction = stats.change_direction
_assessment = stats.change_assessment


def paired_proportion_change(both, start_only, end_only, neither, *, polarity: str, level: float = 0.95,
                             multiplier: float = 100) -> stats.Change:
    """Change from the start to the end of an intervention in a proportion measured on the same children.

    The 2×2 table of the same n children: ``both`` (a: yes at start and end), ``start_only`` (b: yes at
    the start only), ``end_only`` (c: yes at the end only), ``neither`` (d). p_start = (a + b)/n,
    p_end = (a + c)/n, D = p_end − p_start = (c − b)/n.

    Test: McNemar's exact test — under no change the discordant pairs split evenly, so
    p = two-sided binomial test of c successes in b + c trials with probability ½ (p = 1 when b + c = 0).

    Interval for D: Newcombe's hybrid score interval for paired proportions (Newcombe 1998, Stat Med
    17:2635–2650, method 10), from the Wilson limits (l, u) of p_end and p_start at ``level`` and the
    correlation φ = (ad − bc)/√((a + b)(c + d)(a + c)(b + d)) (0 when that product is 0)::

        δ = √((p_end − l_end)² − 2φ(p_end − l_end)(u_start − p_start) + (u_start − p_start)²)
        ε = √((u_end − p_end)² − 2φ(u_end − p_end)(p_start − l_start) + (p_start − l_start)²)
        D − δ  to  D + ε

    Significant when p < 1 − level. ``polarity`` (from the KPI's definition) is required, keyword-only.
    """
    counts = [stats._whole(name, v) for name, v in (("both", both), ("start_only", start_only), ("end_only", end_only), ("neither", neither))]
    a, b, c, d = counts
    n = a + b + c + d
    if n <= 0:
        raise ValueError("the table must have at least one child (both + start_only + end_only + neither > 0)")
    polarity = stats._polarity(polarity)
    level = stats._level(level)
    p_start, p_end = (a + b) / n, (a + c) / n
    l_s, u_s = stats.wilson_limits(a + b, n, level)
    l_e, u_e = stats.wilson_limits(a + c, n, level)
    prod = (a + b) * (c + d) * (a + c) * (b + d)
    phi = 0.0 if prod == 0 else (a * d - b * c) / math.sqrt(prod)
    diff = p_end - p_start
    delta = math.sqrt(max(0.0, (p_end - l_e) ** 2 - 2 * phi * (p_end - l_e) * (u_s - p_start) + (u_s - p_start) ** 2))
    eps = math.sqrt(max(0.0, (u_e - p_end) ** 2 - 2 * phi * (u_e - p_end) * (p_start - l_s) + (p_start - l_s) ** 2))
    discordant = b + c
    p_value = 1.0 if discordant == 0 else float(_sps.binomtest(c, discordant, 0.5, alternative="two-sided").pvalue)
    absolute = diff * multiplier
    direction = _direction(absolute)
    return stats.Change(
        current=p_end * multiplier,
        previous=p_start * multiplier,
        absolute=absolute,
        relative=None if p_start == 0 else (p_end - p_start) / p_start,
        lower=(diff - delta) * multiplier,
        upper=(diff + eps) * multiplier,
        level=level,
        p_value=p_value,
        test="McNemar's exact test (paired: the same children at the start and the end)",
        significant=p_value < 1 - level,
        direction=direction,
        assessment=_assessment(direction, polarity),
        unit="percentage points" if multiplier == 100 else f"per {multiplier:g}",
        note="interval for the difference: Newcombe hybrid score interval for paired proportions (1998, method 10)"
             + ("; no discordant pairs: p = 1" if discordant == 0 else ""),
    )


# --------------------------------------------------------------------------- disclosure control


def suppress_linked(values, constraints, *, margins=(), forced=(), threshold: int = THRESHOLD) -> np.ndarray:
    """Why each cell is hidden ('' shown, ``primary``, ``secondary``) under linear sum constraints.

    ``values``: the counts (NaN cells take no part and are never hidden). ``constraints``: a list of
    ``(total, parts)`` index pairs, each saying ``values[total] == sum(values[parts])``, or a matrix
    whose rows are linear relations ``A @ values == 0`` a reader may know. ``margins``: cells that are
    totals (hidden last). ``forced``: cells hidden elsewhere (e.g. the same count in another table),
    hidden here as ``secondary``.

    1. Primary: a count from 1 to ``threshold - 1`` is hidden (zero is shown).
    2. Secondary: a hidden cell can be worked out exactly when the relations restricted to the hidden
       cells fix its value — when its unit vector lies in the row space of A_S (A's columns for the
       hidden set S), i.e. when every vector of the null space of A_S is 0 at that cell (the null space
       from the singular value decomposition, tolerance 1e-9). While some hidden cell can be worked out,
       one more cell is hidden: among the shown cells in a relation with any such cell, the smallest positive
       count, inner cells (and quarters) before totals (and years), zeros last (:func:`pipeline.analysis.disclosure.suppress_table`'s
       order). With one total column this is that function's rule.
    Like that function it protects exact values, not the width of what a reader can deduce.
    """
    v = np.asarray(values, dtype=float)
    n = v.size
    if isinstance(constraints, np.ndarray):
        A = np.asarray(constraints, dtype=float).reshape(-1, n)
    else:
        A = np.zeros((len(constraints), n))
        for r, (total, parts) in enumerate(constraints):
            A[r, total] += 1.0
            for p in parts:
                A[r, p] -= 1.0
    present = ~np.isnan(v)
    why = np.full(n, "", dtype=object)
    why[present & (v >= 1) & (v < threshold)] = PRIMARY
    for f in forced:
        if present[f] and not why[f]:
            why[f] = SECONDARY
    A = A[:, :] * present  # a missing cell takes no part
    A = A[np.abs(A).sum(axis=1) > 0] if A.size else A
    margins = set(margins)
    unprotectable: set[int] = set()
    while True:
        hidden = np.flatnonzero(why != "")
        if hidden.size == 0 or A.shape[0] == 0:
            break
        sub = A[:, hidden]
        sub = sub[np.abs(sub).sum(axis=1) > 0]  # relations among shown cells only say nothing about hidden ones
        if sub.shape[0] == 0:
            break
        _, s, vh = np.linalg.svd(sub, full_matrices=True)
        rank = int((s > 1e-9).sum())
        null = vh[rank:].T  # |S| x (|S| - rank)
        free = np.abs(null).max(axis=1) if null.shape[1] else np.zeros(hidden.size)
        fixed = [int(c) for c in hidden[free < 1e-9] if int(c) not in unprotectable]
        if not fixed:
            break
        # the next cell to hide: the best shown cell in a relation with ANY cell that can be worked out (taking
        # the first such cell only would protect it again and again through cells that are about to be hidden
        # anyway, e.g. hide a year's total for one quarter when hiding the other quarters' cells protects all)
        rows = np.flatnonzero((A[:, fixed] != 0).any(axis=1))
        partners = np.flatnonzero((A[rows] != 0).any(axis=0)) if rows.size else np.array([], dtype=int)
        candidates = [(v[j] == 0, j in margins, v[j], j) for j in partners if not why[j] and present[j]]
        if not candidates:
            rows = np.flatnonzero((A[:, hidden] != 0).any(axis=1))
            partners = np.flatnonzero((A[rows] != 0).any(axis=0))
            candidates = [(v[j] == 0, j in margins, v[j], j) for j in partners if not why[j] and present[j]]
        if not candidates:
            unprotectable.update(fixed)
            continue
        why[min(candidates)[3]] = SECONDARY
    return why


# --------------------------------------------------------------------------- KPI specifications


@dataclass(frozen=True)
class Measure:
    """A published proportion (or rate, or mean) of a KPI: numerator / denominator cells, their remainder."""

    measure: str
    label: str
    numerator: str | None
    denominator: str
    remainder: str | None
    polarity: str = "definition"  # 'definition': the KPI's polarity; else a polarity of its own
    statistic: str = "proportion"


@dataclass(frozen=True)
class Spec:
    """Which cells a KPI is built from (the rules themselves are in its definition)."""

    basis: str  # children_ending, victims_ending, serious_violence
    cells: tuple[str, ...]
    measures: tuple[Measure, ...]
    identities: tuple[tuple[str, str], ...] = ()  # pairs that may coincide: linked when equal in the data
    shared: tuple[str, ...] = ()  # cells that are the same count in other KPIs of the same scope
    change: tuple[str, str] | None = None  # (start column, end column) of the start-versus-end change
    mean: tuple[str, str] | None = None  # hour columns: mean at the start and at the end


def _yes_no_spec(start_col: str | None, end_col: str, what: str, change: bool, hours: tuple[str, str] | None = None) -> Spec:
    cells = ["ending", "yes", "not_yes", "recorded", "not_recorded", "no"]
    measures = [
        Measure("headline", f"{what} at the end of the intervention", "yes", "eligible", "not_eligible_yes"),
        Measure("recorded_end", f"{what} recorded at the end (of children with an intervention ending)", "recorded", "ending",
                "not_recorded", polarity="higher_is_better"),
    ]
    identities = []
    if change:
        cells += ["paired", "start_yes", "start_no", "end_yes_paired", "end_no_paired"]
        measures += [
            Measure("start_paired", f"{what} at the start (children with both ends recorded)", "start_yes", "paired", "start_no"),
            Measure("end_paired", f"{what} at the end (children with both ends recorded)", "end_yes_paired", "paired", "end_no_paired"),
        ]
        identities += [("paired", "recorded"), ("end_yes_paired", "yes"), ("end_no_paired", "no")]
    if hours:
        cells += ["hours_n"]
        measures += [
            Measure("hours_start_mean", "mean hours of ETE attended a week at the start (children with hours recorded at both ends)",
                    None, "hours_n", None, polarity="higher_is_better", statistic="mean"),
            Measure("hours_end_mean", "mean hours of ETE attended a week at the end (children with hours recorded at both ends)",
                    None, "hours_n", None, polarity="higher_is_better", statistic="mean"),
        ]
    return Spec("children_ending", tuple(cells), tuple(measures), tuple(identities), ("ending",),
                (start_col, end_col) if change else None, hours)


def _chain_spec(prefix: str, what: str) -> Spec:
    return Spec(
        "children_ending",
        ("ending", "screened", "not_screened", "need", "no_need", "offered", "not_offered", "attended", "not_attended"),
        (
            Measure("headline", f"children with a screened or identified {what} need", "need", "ending", "no_need"),
            Measure("screened", f"children screened for {what} needs", "screened", "ending", "not_screened", polarity="higher_is_better"),
            Measure("offered", f"{what} intervention planned or offered (of children with a need)", "offered", "need", "not_offered",
                    polarity="higher_is_better"),
            Measure("attended", f"{what} intervention attended (of children offered one)", "attended", "offered", "not_attended",
                    polarity="higher_is_better"),
        ),
        (),
        ("ending",),
    )


KPI_SPECS: dict[str, Spec] = {
    "kpi01_accommodation": _yes_no_spec("accommodation_suitable_start", "accommodation_suitable_end", "suitable accommodation", True),
    "kpi02_ete": _yes_no_spec("ete_suitable_start", "ete_suitable_end", "suitable education, training or employment", True,
                              hours=("ete_hours_start", "ete_hours_end")),
    "kpi03_send": Spec(
        "children_ending",
        ("ending", "send", "not_send", "plan", "no_plan", "plan_recorded", "plan_not_recorded"),
        (
            Measure("headline", "formal plan in place (of children with an identified SEND need)", "plan", "send", "no_plan"),
            Measure("send_identified", "children with an identified SEND need (of children with an intervention ending)", "send", "ending",
                    "not_send", polarity="no_judgement"),
            Measure("plan_recorded", "formal plan recorded yes or no (of children with an identified SEND need)", "plan_recorded", "send",
                    "plan_not_recorded", polarity="higher_is_better"),
        ),
        (),
        ("ending",),
    ),
    "kpi04_mental_health": _chain_spec("mh", "mental-health or emotional-wellbeing"),
    "kpi05_substance_misuse": _chain_spec("sm", "substance-misuse"),
    "kpi06_out_of_court": Spec(
        "children_ending",
        ("ending", "yes", "not_yes", "recorded", "not_recorded", "no"),
        (
            Measure("headline", "out-of-court disposal completed successfully", "yes", "eligible", "not_eligible_yes"),
            Measure("recorded_end", "completion recorded (of children with an out-of-court disposal ending)", "recorded", "ending",
                    "not_recorded", polarity="higher_is_better"),
        ),
        (),
        ("ending",),
    ),
    "kpi09_serious_violence": Spec(
        "serious_violence",
        ("children",),
        (Measure("headline", "children with a proven serious violent offence", "children", "population", None, statistic="rate"),),
    ),
    "kpi10_victims": Spec(
        "victims_ending",
        ("consented", "contacted", "not_contacted", "offered", "not_offered", "participated", "not_participated",
         "participated_of_offered_rest"),
        (
            Measure("headline", "victims who took part in restorative justice (of victims who consented to contact)", "participated",
                    "consented", "not_participated"),
            Measure("contacted", "victims contacted and engaged (of victims who consented to contact)", "contacted", "consented",
                    "not_contacted", polarity="higher_is_better"),
            Measure("offered_rj", "victims offered restorative justice (of victims who consented to contact)", "offered", "consented",
                    "not_offered", polarity="higher_is_better"),
            Measure("participated_of_offered", "victims who took part in restorative justice (of those offered it)", "participated",
                    "offered", "participated_of_offered_rest", polarity="higher_is_better"),
        ),
    ),
}
"""Cells and measures of the record-based KPIs, by ``kpi_id`` (KPIs 7 and 8 come from their tables).
``eligible`` / ``not_eligible_yes`` stand for the headline denominator the definition's
``unknown_in_denominator`` chooses: ``ending`` / ``not_yes`` (yes) or ``recorded`` / ``no`` (no)."""

_KPI_COLUMNS = {
    "kpi01_accommodation": ("accommodation_suitable_start", "accommodation_suitable_end"),
    "kpi02_ete": ("ete_suitable_start", "ete_suitable_end"),
    "kpi06_out_of_court": (None, "oocd_completed"),
}


def _resolve(spec: Spec, definition: Definition) -> Spec:
    """The spec with the headline's denominator chosen by ``unknown_in_denominator``."""
    den, rem = ("ending", "not_yes") if definition.unknown_in_denominator else ("recorded", "no")
    measures = tuple(
        Measure(m.measure, m.label, m.numerator, den if m.denominator == "eligible" else m.denominator,
                rem if m.remainder == "not_eligible_yes" else m.remainder, m.polarity, m.statistic)
        for m in spec.measures
    )
    return Spec(spec.basis, spec.cells, measures, spec.identities, spec.shared, spec.change, spec.mean)


# --------------------------------------------------------------------------- interventions


def _days(series: pd.Series) -> np.ndarray:
    values = np.asarray(series.to_numpy()).astype("datetime64[D]")
    out = (values - _EPOCH).astype(np.int64)
    out[np.isnat(values)] = _NEVER
    return out


def _day(value) -> int:
    return int((np.datetime64(pd.Timestamp(value).date(), "D") - _EPOCH).astype(np.int64))


def _intervention_rows(extract: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each intervention in row order, its person code) — person = (area, child) as one int."""
    kind = extract["intervention_type"].to_numpy(dtype=object)
    rows = np.flatnonzero(kind != "")
    if rows.size == 0:
        return rows, rows
    # one int64 per (area, child, type, start): factorised columns combined (fast on a million rows)
    area = pd.factorize(extract["area_id"].to_numpy(dtype=object)[rows])[0].astype(np.int64)
    child = pd.factorize(extract["child_id"].to_numpy(dtype=object)[rows])[0].astype(np.int64)
    itype = pd.factorize(kind[rows])[0].astype(np.int64)
    start = _days(extract["intervention_start_date"])[rows]
    start = np.where(start == _NEVER, -1, start)
    start = start - start.min()
    person = area * (int(child.max()) + 1) + child
    key = (person * 8 + itype) * (int(start.max()) + 1) + start
    codes_, uniques = pd.factorize(key)
    first = np.full(uniques.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes_, np.arange(rows.size))
    first.sort()
    return rows[first], person[first]


def interventions(extract: pd.DataFrame) -> pd.DataFrame:
    """One row per intervention (the rows sharing area, child, type and start date), its first row's values.

    Columns: ``area_id``, ``child_id``, the KPI columns present, and ``first_row`` (the row of the extract
    the values come from). Rows without an intervention type are left out. Empty (with those columns)
    when the extract has no intervention columns.
    """
    extract = ensure_extract(extract)
    have = kc.present(extract.columns)
    if not {"intervention_type", "intervention_start_date"} <= set(have):
        return pd.DataFrame(columns=["area_id", "child_id", *have, "first_row"])
    first, _ = _intervention_rows(extract)
    out = extract.iloc[first][["area_id", "child_id", *have]].reset_index(drop=True)
    out["first_row"] = first
    return out


# --------------------------------------------------------------------------- counting (vectorised)


@dataclass
class _Counts:
    """Cell counts of one KPI: ``cells[name]`` is an (areas × periods) array; ``extra`` other arrays."""

    cells: dict[str, np.ndarray]
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def _period_bounds(periods: list[KpiPeriod], frequency: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = np.array([i for i, p in enumerate(periods) if p.frequency == frequency], dtype=np.int64)
    starts = np.array([_day(periods[i].start) for i in idx], dtype=np.int64)
    ends = np.array([_day(periods[i].end) for i in idx], dtype=np.int64)
    return idx, starts, ends


def _assign(day: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the (sorted, non-overlapping) period containing each day, -1 if none."""
    if starts.size == 0:
        return np.full(day.shape, -1, dtype=np.int64)
    pos = np.searchsorted(starts, day, side="right") - 1
    ok = (pos >= 0) & (day <= ends[np.clip(pos, 0, None)])
    return np.where(ok, pos, -1)


_Y, _N = 1, 2  # yes / no codes of _Prepared.answer


class _Prepared:
    """Arrays shared by every KPI of one computation (built once)."""

    def __init__(self, extract: pd.DataFrame, periods: list[KpiPeriod], areas: list[str]):
        self.extract = extract
        self.periods = periods
        self.areas = areas
        self.n_areas, self.n_periods = len(areas), len(periods)
        self.columns = set(kc.present(extract.columns))
        if {"intervention_type", "intervention_start_date"} <= self.columns:
            self.first, self.iv_child = _intervention_rows(extract)
        else:
            self.first, self.iv_child = np.zeros(0, np.int64), np.zeros(0, np.int64)
            self.columns = set()
        self.n_iv = self.first.size
        area_of = pd.Categorical(extract["area_id"].to_numpy(dtype=object)[self.first], categories=areas)
        self.iv_area = area_of.codes.astype(np.int64)
        self.iv_type = self.values("intervention_type")
        self.iv_start = _days(extract["intervention_start_date"])[self.first] if self.n_iv else np.zeros(0, np.int64)
        self.iv_end = (_days(extract["intervention_end_date"])[self.first] if "intervention_end_date" in self.columns
                       else np.full(self.n_iv, _NEVER))
        self.iv_type_order = pd.Categorical(self.iv_type, categories=list(kc.INTERVENTION_TYPES)).codes.astype(np.int64)
        self._chosen: dict = {}
        self._answers: dict = {}

    def values(self, column: str) -> np.ndarray:
        """A KPI column's values at each intervention (its first row)."""
        return self.extract[column].to_numpy()[self.first] if column in self.columns else np.zeros(0)

    def answer(self, column: str | None, rows: np.ndarray) -> np.ndarray:
        """A yes/no column as codes for ``rows``: 1 yes, 2 no, 0 anything else (blank, unknown, absent)."""
        if column is None or column not in self.columns:
            return np.zeros(rows.size, dtype=np.int8)
        if column not in self._answers:
            values = self.extract[column].to_numpy(dtype=object)[self.first]
            self._answers[column] = np.where(values == kc.YES, _Y, np.where(values == kc.NO, _N, 0)).astype(np.int8)
        return self._answers[column][rows]

    def chosen(self, scope: tuple[str, ...], per_child: bool = True):
        """(interventions, flat area×period group) chosen for each period: one per child (the last ending) when
        ``per_child``; every intervention ending in the period otherwise."""
        key = (scope, per_child)
        if key in self._chosen:
            return self._chosen[key]
        in_scope = np.isin(self.iv_type, list(scope)) & (self.iv_end < _NEVER)
        rows_all, groups_all = [], []
        for frequency in ("annual", "quarterly"):
            idx, starts, ends = _period_bounds(self.periods, frequency)
            pos = _assign(self.iv_end, starts, ends)
            take = np.flatnonzero(in_scope & (pos >= 0))
            pidx = idx[pos[take]] if take.size else np.zeros(0, np.int64)
            group = self.iv_area[take] * self.n_periods + pidx
            if per_child and take.size:
                # per (period, child) the intervention that ended last (then started last, then the later type)
                person = group * (int(self.iv_child.max()) + 1) + self.iv_child[take]
                end, start = self.iv_end[take], self.iv_start[take]
                score = ((end - end.min()) * (int(start.max() - start.min()) + 1) + (start - start.min())) * 8 + self.iv_type_order[take]
                order = np.lexsort((score, person))
                p = person[order]
                last = np.ones(order.size, dtype=bool)
                last[:-1] = p[1:] != p[:-1]
                take, group = take[order][last], group[order][last]
            rows_all.append(take)
            groups_all.append(group)
        result = (np.concatenate(rows_all), np.concatenate(groups_all))
        self._chosen[key] = result
        return result

    def count(self, group: np.ndarray, weights=None) -> np.ndarray:
        size = self.n_areas * self.n_periods
        out = np.bincount(group, weights=weights, minlength=size)[:size] if group.size else np.zeros(size)
        return out.reshape(self.n_areas, self.n_periods)


def _count_children_ending(prep: _Prepared, kpi_id: str, definition: Definition) -> _Counts | None:
    have = prep.columns
    rows, group = prep.chosen(definition.scope)
    cells: dict[str, np.ndarray] = {"ending": prep.count(group)}
    extra: dict[str, np.ndarray] = {}
    if kpi_id in _KPI_COLUMNS:
        start_col, end_col = _KPI_COLUMNS[kpi_id]
        if end_col not in have:
            return None
        end = prep.answer(end_col, rows)
        is_yes, is_rec = end == _Y, end > 0
        cells["yes"] = prep.count(group[is_yes])
        cells["not_yes"] = cells["ending"] - cells["yes"]
        cells["recorded"] = prep.count(group[is_rec])
        cells["not_recorded"] = cells["ending"] - cells["recorded"]
        cells["no"] = cells["recorded"] - cells["yes"]
        if start_col is not None and definition.has_start_end_change:
            start = prep.answer(start_col, rows)
            paired = is_rec & (start > 0)
            a = paired & (start == _Y) & is_yes
            b = paired & (start == _Y) & ~is_yes
            c = paired & (start != _Y) & is_yes
            cells["paired"] = prep.count(group[paired])
            cells["start_yes"] = prep.count(group[a | b])
            cells["start_no"] = cells["paired"] - cells["start_yes"]
            cells["end_yes_paired"] = prep.count(group[a | c])
            cells["end_no_paired"] = cells["paired"] - cells["end_yes_paired"]
            extra["both"], extra["start_only"], extra["end_only"] = prep.count(group[a]), prep.count(group[b]), prep.count(group[c])
            extra["neither"] = cells["paired"] - extra["both"] - extra["start_only"] - extra["end_only"]
        if kpi_id == "kpi02_ete" and {"ete_hours_start", "ete_hours_end"} <= have:
            h0 = prep.values("ete_hours_start").astype(float)[rows]
            h1 = prep.values("ete_hours_end").astype(float)[rows]
            both = ~np.isnan(h0) & ~np.isnan(h1)
            cells["hours_n"] = prep.count(group[both])
            extra["hours_start_sum"] = prep.count(group[both], h0[both])
            extra["hours_end_sum"] = prep.count(group[both], h1[both])
        return _Counts(cells, extra)
    if kpi_id == "kpi03_send":
        if not {"send_identified", "send_formal_plan"} <= have:
            return None
        send = prep.answer("send_identified", rows) == _Y
        plan = prep.answer("send_formal_plan", rows)
        cells["send"] = prep.count(group[send])
        cells["not_send"] = cells["ending"] - cells["send"]
        cells["plan"] = prep.count(group[send & (plan == _Y)])
        cells["no_plan"] = cells["send"] - cells["plan"]
        cells["plan_recorded"] = prep.count(group[send & (plan > 0)])
        cells["plan_not_recorded"] = cells["send"] - cells["plan_recorded"]
        return _Counts(cells, extra)
    if kpi_id in ("kpi04_mental_health", "kpi05_substance_misuse"):
        p = "mh" if kpi_id == "kpi04_mental_health" else "sm"
        cols = (f"{p}_screened", f"{p}_need_identified", f"{p}_intervention_offered", f"{p}_intervention_attended")
        if not set(cols) <= have:
            return None
        screened, need, offered, attended = (prep.answer(c, rows) == _Y for c in cols)
        offered &= need
        attended &= offered
        for name, mask, base, rest in (("screened", screened, "ending", "not_screened"), ("need", need, "ending", "no_need"),
                                       ("offered", offered, "need", "not_offered"), ("attended", attended, "offered", "not_attended")):
            cells[name] = prep.count(group[mask])
            cells[rest] = cells[base] - cells[name]
        return _Counts(cells, extra)
    raise KeyError(f"no counting rule for {kpi_id}")


def _count_victims(prep: _Prepared, definition: Definition) -> _Counts | None:
    if not set(kc.VICTIM_COLUMNS) <= prep.columns:
        return None
    rows, group = prep.chosen(definition.scope, per_child=False)

    def total(col):
        w = np.nan_to_num(prep.values(col).astype(float)[rows])
        return prep.count(group, w)

    consented, contacted = total("victims_consented_contact"), total("victims_contacted")
    offered, participated = total("victims_offered_rj"), total("victims_participated_rj")
    return _Counts({
        "consented": consented, "contacted": contacted, "not_contacted": consented - contacted,
        "offered": offered, "not_offered": consented - offered, "participated": participated,
        "not_participated": consented - participated, "participated_of_offered_rest": offered - participated,
    })


def _count_serious_violence(prep: _Prepared, definition: Definition) -> _Counts:
    x = prep.extract
    ok = x["outcome_type"].isin(definition.outcome_types).to_numpy() & x["offence_category"].isin(definition.offence_categories).to_numpy()
    if definition.min_gravity_score is not None:
        ok = ok & (x["gravity_score"].to_numpy() >= definition.min_gravity_score)
    rows = np.flatnonzero(ok)
    area = pd.Categorical(x["area_id"].to_numpy()[rows], categories=prep.areas).codes.astype(np.int64)
    child = pd.factorize(x["child_id"].to_numpy()[rows])[0].astype(np.int64) if rows.size else np.zeros(0, np.int64)
    day = _days(x["outcome_date"])[rows]
    groups = []
    for frequency in ("annual", "quarterly"):
        idx, starts, ends = _period_bounds(prep.periods, frequency)
        pos = _assign(day, starts, ends)
        keep = pos >= 0
        g = area[keep] * prep.n_periods + idx[pos[keep]]
        key = np.unique(g * (child.max() + 1 if child.size else 1) + child[keep])
        groups.append(key // (child.max() + 1 if child.size else 1))
    return _Counts({"children": prep.count(np.concatenate(groups))})


# --------------------------------------------------------------------------- tables


MEASURE_COLUMNS = [
    "area_id", "kpi_id", "kpi_number", "kpi_short_name", "measure", "measure_label", "headline", "frequency",
    "period_label", "period_start", "period_end", "before_collection", "statistic", "numerator", "denominator",
    "remainder", "value", "lower", "upper", "unit", "multiplier", "level", "polarity", "definition_version", "note",
]
CHANGE_COLUMNS = [
    "area_id", "kpi_id", "kpi_number", "kpi_short_name", "frequency", "period_label", "period_start", "period_end",
    "before_collection", "children", "start_value", "end_value", "change", "lower", "upper", "p_value", "test",
    "significant", "assessment", "unit", "level", "polarity", "definition_version", "note",
]


def _measure_rows(prep: _Prepared, definition: Definition, spec: Spec, counts: _Counts, level: float,
                  population: dict | None) -> pd.DataFrame:
    """The unsuppressed tidy rows of one KPI (every area, period and measure)."""
    n_a, n_p = prep.n_areas, prep.n_periods
    a_idx = np.repeat(np.arange(n_a), n_p)
    p_idx = np.tile(np.arange(n_p), n_a)
    frames = []
    collection = definition.valid_from
    for m in spec.measures:
        if m.denominator not in counts.cells and m.statistic != "rate":
            continue
        num = counts.cells[m.numerator].ravel() if m.numerator else np.full(n_a * n_p, np.nan)
        rem = counts.cells[m.remainder].ravel() if m.remainder else np.full(n_a * n_p, np.nan)
        note = np.full(n_a * n_p, "", dtype=object)
        if m.statistic == "proportion":
            den = counts.cells[m.denominator].ravel()
            lo, hi = wilson_interval(num, den, level)
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(den > 0, num / den * definition.multiplier, np.nan)
            lower, upper = lo * definition.multiplier, hi * definition.multiplier
            note[den == 0] = "no denominator in the period"
            unit, multiplier = definition.unit, definition.multiplier
        elif m.statistic == "rate":
            den = np.array([np.nan if not population or prep.areas[a] not in population else float(population[prep.areas[a]])
                            for a in a_idx])
            value, lower, upper = (np.full(n_a * n_p, np.nan) for _ in range(3))
            for i in range(n_a * n_p):
                if not np.isnan(den[i]) and den[i] > 0:
                    est = _rate(num[i], den[i], level, definition.multiplier)
                    value[i], lower[i], upper[i] = est.value, est.lower, est.upper
                else:
                    note[i] = "no 10–17 population given: rate not calculated"
            unit, multiplier = definition.unit, definition.multiplier
        else:  # mean hours
            den = counts.cells[m.denominator].ravel()
            sums = counts.extra["hours_start_sum" if m.measure.endswith("start_mean") else "hours_end_sum"].ravel()
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(den > 0, sums / den, np.nan)
            lower = upper = np.full(n_a * n_p, np.nan)
            note[:] = "mean of the hours recorded; no interval calculated"
            unit, multiplier = "hours a week", 1.0
        frames.append(pd.DataFrame({
            "area_id": np.asarray(prep.areas, dtype=object)[a_idx],
            "kpi_id": definition.kpi_id,
            "kpi_number": definition.kpi_number,
            "kpi_short_name": definition.short_name,
            "measure": m.measure,
            "measure_label": m.label,
            "headline": m.measure == definition.headline_measure,
            "frequency": [prep.periods[p].frequency for p in p_idx],
            "period_label": [prep.periods[p].label for p in p_idx],
            "period_start": [prep.periods[p].start for p in p_idx],
            "period_end": [prep.periods[p].end for p in p_idx],
            "before_collection": [collection is not None and prep.periods[p].start < collection for p in p_idx],
            "statistic": m.statistic,
            "numerator": num,
            "denominator": den,
            "remainder": rem,
            "value": value,
            "lower": lower,
            "upper": upper,
            "unit": unit,
            "multiplier": multiplier,
            "level": level,
            "polarity": definition.polarity if m.polarity == "definition" else m.polarity,
            "definition_version": definition.version,
            "note": note,
            "_area": a_idx,
            "_period": p_idx,
        }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=MEASURE_COLUMNS + ["_area", "_period"])


_rate_cache: dict = {}


def _rate(count: float, population: float, level: float, multiplier: float) -> stats.Estimate:
    key = (float(count), float(population), float(level), float(multiplier))
    if key not in _rate_cache:
        _rate_cache[key] = stats.rate_estimate(count, population, level=level, multiplier=multiplier)
    return _rate_cache[key]


def _definitions_by_id(definitions: pd.DataFrame) -> dict[str, Definition]:
    return {d.kpi_id: d for d in (_definition(r) for _, r in definitions.iterrows())}


def _areas_of(extract: pd.DataFrame) -> list[str]:
    return sorted(str(a) for a in pd.unique(extract["area_id"]))


def _computed(extract, definitions, start, end, population, level):
    extract = ensure_extract(extract)
    periods = kpi_periods(start, end)
    prep = _Prepared(extract, periods, _areas_of(extract))
    out = []
    for kpi_id, definition in _definitions_by_id(definitions).items():
        if definition.data_source != "extract":
            continue
        if kpi_id not in KPI_SPECS:
            raise KeyError(f"data/kpi_definitions.csv: no counting rule for kpi_id {kpi_id!r} (known: {', '.join(KPI_SPECS)})")
        spec = _resolve(KPI_SPECS[kpi_id], definition)
        if spec.basis == "children_ending":
            counts = _count_children_ending(prep, kpi_id, definition)
        elif spec.basis == "victims_ending":
            counts = _count_victims(prep, definition)
        else:
            counts = _count_serious_violence(prep, definition)
        if counts is None:  # the extract lacks the columns this KPI needs
            continue
        out.append((definition, spec, counts))
    return prep, out


def kpi_counts(extract: pd.DataFrame, definitions: pd.DataFrame, *, start, end, population: dict | float | None = None,
               level: float = 0.95) -> pd.DataFrame:
    """Every record-based KPI measure per area, year and quarter — UNSUPPRESSED: restricted use (checks,
    tests), never published (:func:`publish_kpis` is what a plan shows).

    ``population``: the 10–17 population for KPI 9's rate, one number (a single-area extract) or
    ``{area_id: population}``. KPIs whose columns the extract lacks are left out.
    """
    population = _population(extract, population)
    prep, computed = _computed(extract, definitions, start, end, population, level)
    frames = [_measure_rows(prep, d, s, c, level, population) for d, s, c in computed]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=MEASURE_COLUMNS)
    return frame[MEASURE_COLUMNS].reset_index(drop=True)


def _population(extract, population):
    if population is None or isinstance(population, dict):
        return population
    areas = _areas_of(ensure_extract(extract))
    if len(areas) != 1:
        raise ValueError("a single population was given for an extract of several areas: give {area_id: population}")
    return {areas[0]: float(population)}


def paired_change_arrays(both, start_only, end_only, neither, level: float, multiplier: float = 100) -> dict[str, np.ndarray]:
    """:func:`paired_proportion_change` for whole arrays of 2×2 tables (the same formulas, vectorised):
    ``start``, ``end``, ``change``, ``lower``, ``upper`` (× ``multiplier``) and ``p_value``; NaN where n = 0.

    McNemar's exact p-value for p = ½ is min(1, 2·F(min(b, c); b + c, ½)), F the binomial distribution
    function (the two-sided binomial test of a symmetric distribution), and 1 when b + c = 0.
    """
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, start_only, end_only, neither))
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p_s, p_e = (a + b) / n, (a + c) / n
        l_s, u_s = wilson_interval(a + b, n, level)
        l_e, u_e = wilson_interval(a + c, n, level)
        prod = (a + b) * (c + d) * (a + c) * (b + d)
        phi = np.where(prod == 0, 0.0, (a * d - b * c) / np.sqrt(np.where(prod == 0, 1.0, prod)))
        diff = p_e - p_s
        delta = np.sqrt(np.maximum(0.0, (p_e - l_e) ** 2 - 2 * phi * (p_e - l_e) * (u_s - p_s) + (u_s - p_s) ** 2))
        eps = np.sqrt(np.maximum(0.0, (u_e - p_e) ** 2 - 2 * phi * (u_e - p_e) * (p_s - l_s) + (p_s - l_s) ** 2))
        k = b + c
        p_value = np.where(k == 0, 1.0, np.minimum(1.0, 2 * _sps.binom.cdf(np.minimum(b, c), np.maximum(k, 1), 0.5)))
    empty = n <= 0
    out = {"start": p_s * multiplier, "end": p_e * multiplier, "change": diff * multiplier,
           "lower": (diff - delta) * multiplier, "upper": (diff + eps) * multiplier, "p_value": p_value}
    return {key: np.where(empty, np.nan, value) for key, value in out.items()}


def _change_rows(prep: _Prepared, definition: Definition, counts: _Counts, level: float) -> pd.DataFrame:
    if "both" not in counts.extra:
        return pd.DataFrame(columns=CHANGE_COLUMNS + ["_area", "_period"])
    n_a, n_p = prep.n_areas, prep.n_periods
    a_idx = np.repeat(np.arange(n_a), n_p)
    p_idx = np.tile(np.arange(n_p), n_a)
    tables = [counts.extra[k].ravel() for k in ("both", "start_only", "end_only", "neither")]
    ch = paired_change_arrays(*tables, level=level)
    n = sum(tables)
    direction = np.where(ch["change"] > 0, "increase", np.where(ch["change"] < 0, "decrease", "no change"))
    assessment = np.array([_assessment(x, definition.polarity) for x in direction], dtype=object)
    has = n > 0
    test = "McNemar's exact test (paired: the same children at the start and the end)"
    frame = pd.DataFrame({
        "area_id": np.asarray(prep.areas, dtype=object)[a_idx], "kpi_id": definition.kpi_id, "kpi_number": definition.kpi_number,
        "kpi_short_name": definition.short_name,
        "frequency": [prep.periods[p].frequency for p in p_idx], "period_label": [prep.periods[p].label for p in p_idx],
        "period_start": [prep.periods[p].start for p in p_idx], "period_end": [prep.periods[p].end for p in p_idx],
        "before_collection": [definition.valid_from is not None and prep.periods[p].start < definition.valid_from for p in p_idx],
        "children": n.astype(np.int64), "start_value": ch["start"], "end_value": ch["end"], "change": ch["change"],
        "lower": ch["lower"], "upper": ch["upper"], "p_value": ch["p_value"],
        "test": np.where(has, test, ""), "significant": np.where(has, ch["p_value"] < 1 - level, None).astype(object),
        "assessment": np.where(has, assessment, ""), "unit": "percentage points", "level": level, "polarity": definition.polarity,
        "definition_version": definition.version,
        "note": np.where(has, "interval for the difference: Newcombe hybrid score interval for paired proportions (1998, method 10)",
                         "no child with both ends recorded"),
        "_area": a_idx, "_period": p_idx,
    })
    frame["_small"] = np.any([(t >= 1) & (t < THRESHOLD) for t in tables], axis=0)
    return frame


def kpi_changes(extract: pd.DataFrame, definitions: pd.DataFrame, *, start, end, level: float = 0.95) -> pd.DataFrame:
    """Start-versus-end changes (KPIs with ``has_start_end_change``) per area and period — UNSUPPRESSED."""
    prep, computed = _computed(extract, definitions, start, end, None, level)
    frames = [_change_rows(prep, d, c, level) for d, s, c in computed if d.has_start_end_change]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CHANGE_COLUMNS)
    return frame.reindex(columns=CHANGE_COLUMNS).reset_index(drop=True)


# --------------------------------------------------------------------------- KPIs 7 and 8 (tables)


def board_attendance_kpi(table: pd.DataFrame, definitions: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """KPI 7 from ``data/kpi_board_attendance.csv``: meetings attended ÷ meetings held, per partner and in all.

    Not disclosure-controlled when the definition says ``counts_children`` = no (meetings, not children).
    """
    d = _definitions_by_id(definitions)["kpi07_board_attendance"]
    rows = []
    for (area, edition, p0, p1), g in table.groupby(["area_id", "edition", "period_start", "period_end"], sort=True):
        parts = [(r["partner"], float(r["meetings_attended"]), float(r["meetings_held"])) for _, r in g.iterrows()]
        parts.append(("all_partners", sum(p[1] for p in parts), sum(p[2] for p in parts)))
        for partner, attended, held in parts:
            lo, hi = wilson_interval([attended], [held], level)
            rows.append({
                "area_id": area, "edition": edition, "kpi_id": d.kpi_id, "kpi_number": d.kpi_number, "kpi_short_name": d.short_name,
                "measure": "headline" if partner == "all_partners" else f"partner:{partner}",
                "measure_label": "meetings attended by a senior representative of " + ("every partner" if partner == "all_partners" else partner.replace("_", " ")),
                "headline": partner == "all_partners", "frequency": "edition", "period_start": pd.Timestamp(p0), "period_end": pd.Timestamp(p1),
                "statistic": "proportion", "numerator": attended, "denominator": held, "remainder": held - attended,
                "value": attended / held * d.multiplier if held > 0 else np.nan, "lower": lo[0] * d.multiplier, "upper": hi[0] * d.multiplier,
                "unit": d.unit, "multiplier": d.multiplier, "level": level, "polarity": d.polarity, "definition_version": d.version,
                "note": "" if d.counts_children else "counts of meetings, not of children: not suppressed",
            })
    return pd.DataFrame(rows)


def wider_services_kpi(table: pd.DataFrame, definitions: pd.DataFrame, level: float = 0.95, *, suppress: bool = True) -> pd.DataFrame:
    """KPI 8 from ``data/kpi_wider_services.csv``: children in the cohort supported by each wider service.

    Disclosure-controlled (each service's children and the rest of the cohort, the cohort shared) unless
    ``suppress`` is False (restricted checks only).
    """
    d = _definitions_by_id(definitions)["kpi08_wider_services"]
    out = []
    for (area, edition, p0, p1), g in table.groupby(["area_id", "edition", "period_start", "period_end"], sort=True):
        g = g.reset_index(drop=True)
        cohort = float(g["cohort"].iloc[0])
        children = g["children"].astype(float).to_numpy()
        lo, hi = wilson_interval(children, np.full(children.size, cohort), level)
        frame = pd.DataFrame({
            "area_id": area, "edition": edition, "kpi_id": d.kpi_id, "kpi_number": d.kpi_number, "kpi_short_name": d.short_name,
            "measure": "service:" + g["service"].astype(str),
            "measure_label": "children in the cohort supported by " + g["service"].astype(str).str.replace("_", " "),
            "headline": False, "frequency": "edition", "period_start": pd.Timestamp(p0), "period_end": pd.Timestamp(p1),
            "statistic": "proportion", "numerator": children, "denominator": cohort, "remainder": cohort - children,
            "value": children / cohort * d.multiplier if cohort > 0 else np.nan, "lower": lo * d.multiplier, "upper": hi * d.multiplier,
            "unit": d.unit, "multiplier": d.multiplier, "level": level, "polarity": d.polarity, "definition_version": d.version, "note": "",
        })
        if suppress and d.counts_children:
            k = len(frame)
            values = np.concatenate([[cohort], children, cohort - children])
            constraints = [(0, [1 + i, 1 + k + i]) for i in range(k)]
            why = suppress_linked(values, constraints, margins={0})
            frame = _apply(frame, {"denominator": [why[0]] * k, "numerator": list(why[1:1 + k]), "remainder": list(why[1 + k:])})
        out.append(frame)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _whole_or_float(x):
    """A count as an int (counts are whole); NaN and other values as they are."""
    if isinstance(x, (float, np.floating)) and np.isfinite(x) and float(x).is_integer():
        return int(x)
    return x


def _apply(frame: pd.DataFrame, why: dict[str, list]) -> pd.DataFrame:
    """Markers in place of hidden counts, and their dependent value, lower and upper."""
    frame = frame.copy()
    hidden_any = np.zeros(len(frame), dtype=bool)
    for col, reasons in why.items():
        reasons = np.asarray(reasons, dtype=object)
        mask = reasons != ""
        hidden_any |= mask
        shown = pd.Series([_whole_or_float(x) for x in frame[col].to_numpy()], index=frame.index, dtype=object)
        shown[mask] = np.where(reasons[mask] == PRIMARY, PRIMARY_MARKER, SECONDARY_MARKER)
        frame[col] = shown
    for col in ("value", "lower", "upper"):
        if col in frame:
            shown = frame[col].astype(object)
            shown[hidden_any & frame[col].notna().to_numpy()] = SECONDARY_MARKER
            frame[col] = shown
    return frame


# --------------------------------------------------------------------------- publication


@dataclass
class KpiPublication:
    """Everything a plan may show of the ten KPIs, disclosure-controlled."""

    measures: pd.DataFrame  # tidy: one row per area, KPI, measure, frequency and period
    changes: pd.DataFrame  # start-versus-end changes
    board_attendance: pd.DataFrame  # KPI 7 (not suppressed: meetings)
    wider_services: pd.DataFrame  # KPI 8
    national_comparison: str
    footnotes: list[str]
    data_kind: str
    left_out: list[str]  # KPIs not computed, and why


def _suppress_kpis(prep: _Prepared, computed, frames: list[pd.DataFrame], change_frames: list[pd.DataFrame]):
    """Hide counts in every (area, KPI, financial year) group, sharing hidden 'ending' counts across KPIs."""
    years = sorted({p.year for p in prep.periods})
    by_year = {y: [i for i, p in enumerate(prep.periods) if p.year == y] for y in years}
    shared_hidden: set = set()  # (area, period, scope, cell)
    results: dict = {}

    layout: dict = {}  # k -> (cells, cell index, values array areas x periods x cells)
    templates: dict = {}  # (k, y) -> (fixed constraint rows, margins, identity pairs, annual-sum rows)

    def template(k: int, y: int):
        if (k, y) in templates:
            return templates[(k, y)]
        _, spec, _ = computed[k]
        cells, cidx, _ = layout[k]
        plist, n_c = by_year[y], len(cells)
        size = len(plist) * n_c
        rows, margins, pairs, sums = [], set(), [], []
        for j in range(len(plist)):
            for m in spec.measures:
                if m.numerator in cidx and m.remainder in cidx and m.denominator in cidx:
                    r = np.zeros(size)
                    r[j * n_c + cidx[m.denominator]] += 1
                    r[j * n_c + cidx[m.numerator]] -= 1
                    r[j * n_c + cidx[m.remainder]] -= 1
                    rows.append(r)
                    margins.add(j * n_c + cidx[m.denominator])
            for x, z in spec.identities:
                if x in cidx and z in cidx:
                    pairs.append((j * n_c + cidx[x], j * n_c + cidx[z]))
        annual = [j for j, p in enumerate(plist) if prep.periods[p].frequency == "annual"]
        quarters = [j for j, p in enumerate(plist) if prep.periods[p].frequency == "quarterly"]
        if annual and len(quarters) == 4:
            for c in range(n_c):
                sums.append((annual[0] * n_c + c, [q * n_c + c for q in quarters]))
        # a year's figures are published in preference to its quarters': its cells are hidden last
        margins.update(a * n_c + c for a in annual for c in range(n_c))
        fixed = np.array(rows) if rows else np.zeros((0, size))
        templates[(k, y)] = (fixed, margins, pairs, sums)
        return templates[(k, y)]

    def run(k: int, a: int, y: int, definition: Definition, spec: Spec, counts: _Counts):
        if k not in layout:
            cells = [c for c in spec.cells if c in counts.cells]
            layout[k] = (cells, {c: i for i, c in enumerate(cells)}, np.stack([counts.cells[c] for c in cells], axis=-1))
        cells, cidx, stacked = layout[k]
        plist, n_c = by_year[y], len(cells)
        values = stacked[a, plist].ravel().astype(float)
        forced = [j * n_c + cidx[c] for j, p in enumerate(plist) for c in spec.shared
                  if c in cidx and (a, p, definition.scope, c) in shared_hidden]
        if not forced and not np.any((values >= 1) & (values < THRESHOLD)):
            results[(k, a, y)] = (cells, plist, None)
            return set()
        fixed, margins, pairs, sums = template(k, y)
        extra = []
        for x, z in pairs:  # cells that may coincide, linked where they do
            if values[x] == values[z]:
                r = np.zeros(values.size)
                r[x], r[z] = 1, -1
                extra.append(r)
        margins = set(margins)
        for total, parts in sums:  # a year is the sum of its quarters where that holds in the data
            if values[total] == values[parts].sum():
                r = np.zeros(values.size)
                r[total] = 1
                r[parts] = -1
                extra.append(r)
                margins.add(total)
        A = np.vstack([fixed, *extra]) if extra else fixed
        why = suppress_linked(values, A, margins=margins, forced=forced)
        new_shared = set()
        for j, p in enumerate(plist):
            for c in spec.shared:
                if c in cidx and why[j * n_c + cidx[c]] and (a, p, definition.scope, c) not in shared_hidden:
                    new_shared.add((a, p, definition.scope, c))
        results[(k, a, y)] = (cells, plist, why)
        return new_shared

    todo = [(k, a, y) for k in range(len(computed)) for a in range(prep.n_areas) for y in years]
    while todo:
        added = set()
        for k, a, y in todo:
            definition, spec, counts = computed[k]
            if not definition.counts_children:
                results[(k, a, y)] = None
                continue
            added |= run(k, a, y, definition, spec, counts)
        if not added:
            break
        # a shared count hidden in one KPI is hidden in every KPI that shows it: run those groups again
        shared_hidden |= added
        touched = {(a, prep.periods[p].year, scope) for a, p, scope, _ in added}
        todo = [(k, a, y) for k in range(len(computed)) for a in range(prep.n_areas) for y in years
                if computed[k][0].counts_children and computed[k][1].shared and (a, y, computed[k][0].scope) in touched]
    # reasons per (kpi, area, period, cell)
    reason: dict = {}
    for (k, a, y), res in results.items():
        if res is None:
            continue
        cells, plist, why = res
        if why is None:
            continue
        for j, p in enumerate(plist):
            for i, c in enumerate(cells):
                if why[j * len(cells) + i]:
                    reason[(k, a, p, c)] = why[j * len(cells) + i]
    published = []
    for k, frame in enumerate(frames):
        definition, spec, counts = computed[k]
        if frame.empty:
            continue
        mspec = {m.measure: m for m in spec.measures}
        why_cols = {col: [] for col in ("numerator", "denominator", "remainder")}
        for measure, a, p in zip(frame["measure"], frame["_area"], frame["_period"]):
            m = mspec[measure]
            for col, cell in (("numerator", m.numerator), ("denominator", m.denominator), ("remainder", m.remainder)):
                why_cols[col].append(reason.get((k, a, p, cell), "") if cell else "")
        published.append(_apply(frame, why_cols))
    changes = []
    paired = ("paired", "start_yes", "start_no", "end_yes_paired", "end_no_paired")
    for k, frame in enumerate(change_frames):
        if frame.empty:
            continue
        frame = frame.copy()
        hidden = np.array([any(reason.get((k, a, p, c), "") for c in paired) for a, p in zip(frame["_area"], frame["_period"])], dtype=bool)
        small = frame["_small"].to_numpy(dtype=bool) & ~hidden
        for col in ("children", "start_value", "end_value", "change", "lower", "upper", "p_value", "significant", "assessment", "test", "note"):
            frame[col] = frame[col].astype(object)
        cols = ["children", "start_value", "end_value", "change", "lower", "upper", "p_value", "significant"]
        frame.loc[hidden, cols] = SECONDARY_MARKER
        frame.loc[hidden, "assessment"] = "not shown (built on a suppressed count)"
        frame.loc[hidden, "test"] = ""
        frame.loc[small, ["lower", "upper", "p_value", "significant"]] = SECONDARY_MARKER
        frame.loc[small, "note"] = ("interval and test not shown: they would reveal how many children changed, "
                                    f"a count below {THRESHOLD}")
        changes.append(frame)
    return published, changes


def publish_kpis(extract: pd.DataFrame, definitions: pd.DataFrame, *, start, end, population: dict | float | None = None,
                 board: pd.DataFrame | None = None, wider: pd.DataFrame | None = None, level: float = 0.95) -> KpiPublication:
    """The ten KPIs as a plan may show them: tidy, per area, year and quarter, disclosure-controlled.

    ``start`` / ``end``: the span whose financial years and quarters are computed (wholly inside it).
    ``population``: 10–17 population for KPI 9 (a number, or ``{area_id: population}``).
    ``board`` / ``wider``: the KPI 7 and KPI 8 tables (:func:`load_kpi_table`), optional.
    The national-comparison statement comes from the definitions (:func:`national_comparison_statement`).
    """
    extract = ensure_extract(extract)
    population = _population(extract, population)
    prep, computed = _computed(extract, definitions, start, end, population, level)
    frames = [_measure_rows(prep, d, s, c, level, population) for d, s, c in computed]
    change_frames = [_change_rows(prep, d, c, level) if d.has_start_end_change else pd.DataFrame() for d, s, c in computed]
    measures, changes = _suppress_kpis(prep, computed, frames, change_frames)
    done = {d.kpi_id for d, _, _ in computed}
    left_out = []
    for d in _definitions_by_id(definitions).values():
        if d.data_source == "extract" and d.kpi_id not in done:
            left_out.append(f"{d.kpi_id}: the extract has none of the columns it needs (data_contracts/case_extract.md)")
    kinds = set(extract["data_kind"].unique())
    data_kind = "synthetic" if "synthetic" in kinds or extract.attrs.get("data_kind") == "synthetic" else "case_management"
    measures = pd.concat(measures, ignore_index=True)[MEASURE_COLUMNS] if measures else pd.DataFrame(columns=MEASURE_COLUMNS)
    changes = pd.concat(changes, ignore_index=True).reindex(columns=CHANGE_COLUMNS) if changes else pd.DataFrame(columns=CHANGE_COLUMNS)
    board_t = board_attendance_kpi(board, definitions, level) if board is not None and len(board) else pd.DataFrame()
    wider_t = wider_services_kpi(wider, definitions, level) if wider is not None and len(wider) else pd.DataFrame()
    for name, t in (("kpi07_board_attendance", board_t), ("kpi08_wider_services", wider_t)):
        if t.empty:
            left_out.append(f"{name}: no rows in its table for these areas")
    statement = national_comparison_statement(definitions)
    footnotes = []
    if data_kind == "synthetic":
        footnotes.append(SYNTHETIC_NOTE)
    for marker, reason in ((PRIMARY_MARKER, PRIMARY), (SECONDARY_MARKER, SECONDARY)):
        shown = [t[c] for t in (measures, changes, wider_t) if not t.empty for c in ("numerator", "denominator", "remainder", "children", "value", "lower")
                 if c in t.columns and t[c].dtype == object]
        if any(col.eq(marker).any() for col in shown):
            footnotes.append(MARKER_NOTES[reason])
    if measures["before_collection"].any() if len(measures) else False:
        footnotes.append(BEFORE_COLLECTION_NOTE)
    footnotes.append(statement)
    for t in (measures, changes):
        t.attrs = {"data_kind": data_kind, "footnotes": list(footnotes)}
    return KpiPublication(measures, changes, board_t, wider_t, statement, footnotes, data_kind, left_out)
