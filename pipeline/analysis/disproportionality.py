"""Over-represented children: the relative rate index (RRI) at each stage of the youth justice system.

Part of issue #15. Two functions do the work, both vectorised with numpy and pandas:

* :func:`stage_counts` counts, from a case-management extract (``data_contracts/case_extract.md``), the
  children or outcome occasions at each stage of :data:`STAGES`, by group (ethnicity, sex, age band, or
  care status where the frame records it) and period;
* :func:`relative_rate_index` turns those counts into rates, the ratio of each group's rate to the
  reference group's, and a confidence interval, with small years pooled and small cells suppressed.

Stages and their bases
----------------------
A rate is only as fair as its denominator. As in the relative rate index (RRI) matrix of the US Office of
Juvenile Justice and Delinquency Prevention ("Constructing an RRI matrix", OJJDP Statistical Briefing Book,
https://www.ojjdp.gov/ojstatbb/dmcdb/asp/matrix.asp, after OJJDP's *Disproportionate Minority Contact
Technical Assistance Manual*), the entry stages are rates per 1,000 of the group's 10–17 population, and
each later stage is a rate per 100 of the group's count at the stage that feeds it ("the stage immediately
preceding"), so that disparity already introduced at an earlier decision is not counted again
(:data:`STAGES`). The Youth Justice Board's disproportionality toolkit for youth offending teams (YJB
Toolkits: Disproportionality, v1.0, May 2011) is the English counterpart; its calculation sheets could not
be read for this module, so the bases follow the OJJDP rule::

    first_time_entry  children whose first caution or conviction in the extract is in the period  / population
    proven_outcome    caution or court-sentence occasions                                        / population
    out_of_court      occasions dealt with by youth caution or youth conditional caution         / proven_outcome
    court             court sentencing occasions                                                 / proven_outcome
    remand_eligible   court cases on conditional bail or above (bail supervision, remands)       / court
    remand            court cases remanded to youth detention accommodation                      / remand_eligible
    custody           custodial court sentences (DTO or long-term detention)                     / court

The rules match ``pipeline.analysis.tracking.cohorts``: community resolutions are not proven outcomes; an
occasion is one child's outcome on one date (several offences dealt with together are one occasion, one
for the out-of-court outcomes and one for the court outcome if a child has both on the same day); a
sentence is custodial when any of its rows is; the bail or remand status of a court case is the most
restrictive one of its rows, and a case with no recorded status is not counted as on conditional bail
or above.

The relative rate index
-----------------------
For group g at one stage, with a events out of a base n₁ (population × years, or the count of the feeding
stage), and the reference group r (White by convention) with b out of n₂::

    rate_g = a / n₁ × multiplier          (1,000 a year for population bases, 100 otherwise)
    RRI    = (a / n₁) / (b / n₂)

RRI = 1 is parity; 2 means twice the reference group's rate; 0.5 half of it.

Intervals (``level``, 95% by default; z = Φ⁻¹(1 − α/2), α = 1 − level):

* **log method** (Katz, Baptista, Azen & Pike 1978; the interval ``scipy.stats.contingency.relative_risk``
  and ``statsmodels`` ``confint_proportions_2indep(compare="ratio", method="log")`` give), used when both a
  and b are at least ``min_count``::

      SE(ln RRI) = √(1/a − 1/n₁ + 1/b − 1/n₂)
      limits     = exp(ln RRI ∓ z · SE)

  With a population base the 1/n terms are negligible and this is the usual interval for a ratio of
  Poisson rates, √(1/a + 1/b).
* **exact conditional method**, used when a or b is below ``min_count`` (zero included, where the log
  method fails): given a + b = m, a is binomial(m, π) with π = RRI·n₁ / (RRI·n₁ + n₂); the Clopper–Pearson
  limits of π (Clopper & Pearson 1934) ::

      π_L = Beta⁻¹(α/2; a, b + 1)       (0 when a = 0)
      π_U = Beta⁻¹(1 − α/2; a + 1, b)   (1 when b = 0)

  give RRI limits π/(1 − π) × n₂/n₁ (Breslow & Day 1987; the conditional binomial argument of the
  exact test in ``stats.rate_change``, Przyborowski & Wileński 1940). It is exact for a ratio of
  Poisson rates (population bases). For later stages it treats the counts as Poisson with the feeding
  stage's count as exposure: binomial counts vary less than Poisson ones, so the interval is conservative
  (too wide rather than too narrow), markedly so when the share is large (e.g. most remand-eligible
  cases remanded); ``method`` says so.

Small years, pooled
-------------------
When the group's or the reference group's count in a single period is below ``min_count`` (default
:data:`MIN_COUNT` = 10, the count below which ``stats`` uses exact Poisson limits), that row pools
``pool_years`` periods (default 3: the period and the two before it, fewer at the start of the series,
which the note says): counts, bases and the reference group are all summed over the same periods, so a
population-based rate becomes a yearly average (population × years). If the pooled counts are still
below ``min_count`` the exact method is used. ``pooled_years`` and ``note`` say which rows were pooled.

Disclosure control
------------------
The project's rule (``pipeline.analysis.disclosure``): a count from 1 to THRESHOLD − 1 (1 to 4) is not
shown (``primary``); secondary suppression against the stage total (over all groups, for the same periods)
so that no hidden count can be worked out by subtraction (``secondary``); for later stages also a
complement (base − count, e.g. court sentences that were not custodial) from 1 to 4 (``complement``); and
every rate, ratio or interval built on a hidden count — the group's base or the reference group's — hidden
too (``dependent: …``).

Pooling adds a way in: a pooled three-year count next to the same group's two-year or single-year counts
gives a single year by subtraction. So the whole frame is then audited as a system of linear equations
(``_audit``): the unknowns are the single-year counts of every stage, group and period; a reader knows every
count and count base shown (each a sum of those unknowns over its row's years), the stage totals of every
period (assumed published elsewhere) and the identity proven_outcome = out_of_court + court. Any count of one
group at one stage over one to ``pool_years`` consecutive periods, or its complement, that is from 1 to 4 and
can be worked out exactly (lies in the row space of the equations) is protected by hiding more figures
(``secondary``), the smallest overlapping one first, until none can. Hidden numbers are NaN in the returned
frame, ``count_shown`` carries the marker (``<5`` or ``*``), ``suppressed`` flags the row and
``suppression`` says why. The rule protects exact values, not ranges (as ``disclosure`` says of its own).

References
----------
* Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II. Lyon: IARC; 1987.
* Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of the binomial.
  Biometrika 1934;26:404–413.
* Katz D, Baptista J, Azen SP, Pike MC. Obtaining confidence intervals for the risk ratio in cohort
  studies. Biometrics 1978;34:469–474.
* OJJDP Statistical Briefing Book. Constructing an RRI matrix; What is an RRI?
  https://www.ojjdp.gov/ojstatbb/dmcdb/asp/matrix.asp, .../whatis.asp (denominators from the preceding decision
  point; population-based rates at the first decision point).
* Przyborowski J, Wileński H. Homogeneity of results in testing samples from Poisson series. Biometrika
  1940;31:313–323.
* Youth Justice Board. YJB Toolkits: Disproportionality, version 1.0, May 2011 (not read: see above).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as _sps

from . import stats
from .disclosure import PRIMARY, PRIMARY_MARKER, SECONDARY_MARKER, THRESHOLD, rule_sentence, suppress_table
from .tracking import codes
from .tracking.cohorts import CohortPeriod, as_timestamp, cohort_periods, period_label
from .tracking.extract import ensure_extract

POPULATION = "population"
"""The base of an entry stage: the group's 10–17 population (times the number of years pooled)."""

POPULATION_MULTIPLIER = 1000
"""Rates on a population base are per 1,000 children aged 10–17 a year."""

STAGE_MULTIPLIER = 100
"""Rates on a feeding stage's count are per 100 of that count."""

MIN_COUNT = stats.EXACT_POISSON_BELOW
"""Default smallest count (group's and reference group's) for a single year and for the log method: 10."""

POOL_YEARS = 3
"""Default number of periods pooled when a single period's count is below ``min_count``."""

METHOD_LOG = "log (Katz)"
METHOD_EXACT_RATE = "exact conditional (Clopper–Pearson; ratio of Poisson rates)"
METHOD_EXACT_STAGE = "exact conditional (Clopper–Pearson; counts treated as Poisson, conservative)"
METHOD_REFERENCE = "reference group"
METHOD_NONE = "not calculated"
METHOD_HIDDEN = "not shown (disclosure control)"

CARE_STATUS = "care_status"
"""Name of the care-status column when a frame records one. The extract format (case_extract.md) has no such
column; a frame that carries one (e.g. joined from children's social care records) can be broken down by it."""

BREAKDOWNS = {"ethnicity": codes.ETHNICITIES, "sex": codes.SEXES, "age_band": codes.AGE_BANDS}
"""Characteristics of the extract format, with their documented categories (listed even when empty)."""


@dataclass(frozen=True)
class Stage:
    """One stage: what is counted and what its rate is taken of (``POPULATION`` or another stage's name)."""

    name: str
    label: str
    counted: str
    base: str
    parts: tuple[str, ...] = ()
    """Stages whose counts add up to this one's (an identity a reader knows, so disclosure control allows for it)."""


STAGES: tuple[Stage, ...] = (
    Stage("first_time_entry", "First-time entrants",
          "children whose first caution or conviction in the extract falls in the period", POPULATION),
    Stage("proven_outcome", "Cautions and court sentences",
          "outcome occasions (one child's caution or court sentence on one date)", POPULATION,
          parts=("out_of_court", "court")),
    Stage("out_of_court", "Out-of-court outcomes",
          "occasions dealt with by a youth caution or youth conditional caution", "proven_outcome"),
    Stage("court", "Court sentences", "court sentencing occasions", "proven_outcome"),
    Stage("remand_eligible", "Court cases on conditional bail or above",
          "court cases whose most restrictive bail or remand status is conditional bail or above", "court"),
    Stage("remand", "Remands to youth detention accommodation",
          "court cases remanded to youth detention accommodation", "remand_eligible"),
    Stage("custody", "Custodial sentences",
          "court sentences that include a detention and training order or long-term detention", "court"),
)
"""The stages counted by :func:`stage_counts`, in order, with their bases (see the module docstring)."""

_REMAND_STAGES = ("remand_eligible", "remand")
_EPOCH = np.datetime64("1970-01-01", "D")
_FAR = np.iinfo(np.int64).max // 4

COUNT_COLUMNS = ["by", "period", "period_start", "period_end", "group", "stage", "count"]
RRI_COLUMNS = [
    "by", "period", "period_start", "period_end", "group", "stage", "base_stage",
    "count", "count_shown", "base", "rate", "rate_unit",
    "reference_group", "reference_count", "reference_base", "reference_rate",
    "rri", "lower", "upper", "level", "method",
    "suppressed", "suppression", "pooled_years", "pooled_periods", "note",
]


# --------------------------------------------------------------------------- periods


def annual_periods(extract: pd.DataFrame, *, as_of, start_month: int = 4) -> list[CohortPeriod]:
    """Whole years (April to March by default) that the extract covers and that have ended by ``as_of``.

    The same periods as the annual reoffending cohorts (``tracking.cohort_periods``); consecutive, oldest first,
    as :func:`relative_rate_index` needs for pooling.
    """
    return cohort_periods(ensure_extract(extract), "annual", as_of, start_month)


def _normalise_periods(periods) -> list[CohortPeriod]:
    out = []
    for p in periods:
        if isinstance(p, CohortPeriod):
            out.append(p)
        elif isinstance(p, Mapping):
            out.append(CohortPeriod(str(p["label"]), as_timestamp(p["start"]), as_timestamp(p["end"])))
        else:
            label, start, end = p
            out.append(CohortPeriod(str(label), as_timestamp(start), as_timestamp(end)))
    if not out:
        raise ValueError("periods must list at least one period (label, start, end)")
    for p in out:
        if p.end < p.start:
            raise ValueError(f"period {p.label!r} ends ({p.end.date()}) before it starts ({p.start.date()})")
    for prev, cur in zip(out, out[1:]):
        if cur.start <= prev.end:
            raise ValueError(f"periods must be in order and must not overlap: {prev.label!r} and {cur.label!r}")
    if len({p.label for p in out}) != len(out):
        raise ValueError("period labels must be unique")
    return out


def _days(values) -> np.ndarray:
    arr = np.asarray(pd.to_datetime(pd.Series(values)).to_numpy()).astype("datetime64[D]")
    out = (arr - _EPOCH).astype(np.int64)
    out[np.isnat(arr)] = _FAR
    return out


def _period_index(day: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the period each day falls in, -1 when none."""
    idx = np.searchsorted(starts, day, side="right") - 1
    ok = (idx >= 0) & (day <= ends[np.clip(idx, 0, None)])
    return np.where(ok, idx, -1)


# --------------------------------------------------------------------------- stage counts


def _group_values(raw: pd.DataFrame, ext: pd.DataFrame, by: str) -> tuple[np.ndarray, list[str]]:
    if by in ("ethnicity", "sex"):
        values = ext[by].to_numpy(dtype=object)
        categories = list(BREAKDOWNS[by])
    elif by == "age_band":
        age = ext["age_at_offence"].to_numpy(dtype=np.int64)
        values = np.where(age <= 14, codes.AGE_BANDS[0], codes.AGE_BANDS[1]).astype(object)
        categories = list(codes.AGE_BANDS)
    else:
        if by not in raw.columns:
            recorded = "the extract format (data_contracts/case_extract.md) has no such column"
            raise ValueError(
                f"by must be one of {', '.join(BREAKDOWNS)} or a column of the frame (such as '{CARE_STATUS}' where care "
                f"status is recorded); '{by}' is not recorded: {recorded}"
            )
        text = raw[by].reset_index(drop=True).fillna("").astype(str).str.strip()
        values = text.where(text != "", "unknown").to_numpy(dtype=object)
        categories = sorted(set(values) - {"unknown"}) + ["unknown"]
    extra = [v for v in pd.unique(values) if v not in categories]
    return values, categories + sorted(extra)


def stage_counts(extract: pd.DataFrame, *, by: str, periods: Iterable) -> pd.DataFrame:
    """Counts at each stage of :data:`STAGES`, by group of ``by`` and period: a tidy frame.

    ``extract``: a case-management extract (any frame ``tracking.canonical`` accepts; extra columns such as
    ``care_status`` are kept for ``by``). ``by``: ``ethnicity``, ``sex``, ``age_band`` (age at the offence of the
    counted outcome: 10–14, 15–17) or the name of another column of the frame (``care_status`` where recorded;
    blanks count as ``unknown``). ``periods``: consecutive periods, oldest first, as ``CohortPeriod`` or
    ``(label, start, end)`` (see :func:`annual_periods`); an outcome counts in the period its outcome date falls
    in (both ends inclusive), a first-time entrant in the period of their first caution or conviction.

    Returns one row per stage, period and group (zeros included; every documented category listed), with
    columns :data:`COUNT_COLUMNS`. The group of an occasion is taken from its first row in the extract. When the
    extract records no bail or remand status at all, the two remand stages are left out and
    ``attrs['notes']`` says so; ``attrs`` also holds ``by``, ``stages`` and ``data_kind``.
    """
    plist = _normalise_periods(periods)
    raw = extract.reset_index(drop=True)
    ext = ensure_extract(extract)
    groups, categories = _group_values(raw, ext, by)
    starts = np.array([_days([p.start])[0] for p in plist], dtype=np.int64)
    ends = np.array([_days([p.end])[0] for p in plist], dtype=np.int64)

    key = pd.factorize(ext["area_id"].astype(str) + "\x1f" + ext["child_id"].astype(str))[0].astype(np.int64)
    outcome = _days(ext["outcome_date"])
    offence = _days(ext["offence_date"])
    proven = ext["outcome_type"].isin(codes.PROVEN_OUTCOMES).to_numpy()
    court = (ext["outcome_type"] == codes.COURT_DISPOSAL).to_numpy()
    custodial = court & ext["disposal"].isin(codes.CUSTODIAL_DISPOSALS).to_numpy()
    rank_of = {s: i for i, s in enumerate(codes.REMAND_STATUSES)}
    remand_rank = ext["remand_status"].map(rank_of).fillna(-1).to_numpy(dtype=np.int64)
    remand_recorded = bool((remand_rank >= 0).any())

    pieces: list[pd.DataFrame] = []
    # first-time entrants: each child's first proven outcome (ties: earliest offence, then file order)
    rows = np.flatnonzero(proven)
    if rows.size:
        order = np.lexsort((rows, offence[rows], outcome[rows], key[rows]))
        rows = rows[order]
        first = np.ones(rows.size, dtype=bool)
        first[1:] = key[rows][1:] != key[rows][:-1]
        fte = rows[first]
        pieces.append(pd.DataFrame({"stage": "first_time_entry", "p": _period_index(outcome[fte], starts, ends),
                                    "group": groups[fte]}))
        # occasions: one child's proven outcome(s) of one kind (out of court / court) on one date
        occ = pd.DataFrame({"key": key[rows], "day": outcome[rows], "court": court[rows], "row": rows,
                            "custodial": custodial[rows], "remand": remand_rank[rows]})
        occ = occ.groupby(["key", "day", "court"], sort=False).agg(
            row=("row", "min"), custodial=("custodial", "max"), remand=("remand", "max")).reset_index()
        occ["p"] = _period_index(occ["day"].to_numpy(), starts, ends)
        occ["group"] = groups[occ["row"].to_numpy()]
        is_court = occ["court"].to_numpy(dtype=bool)
        eligible = is_court & (occ["remand"].to_numpy() >= rank_of[codes.REMAND_ELIGIBLE[0]])
        selections = {
            "proven_outcome": np.ones(len(occ), dtype=bool),
            "out_of_court": ~is_court,
            "court": is_court,
            "remand_eligible": eligible,
            "remand": is_court & (occ["remand"].to_numpy() == rank_of[codes.REMAND_CUSTODY]),
            "custody": is_court & occ["custodial"].to_numpy(dtype=bool),
        }
        for name, mask in selections.items():
            pieces.append(pd.DataFrame({"stage": name, "p": occ["p"].to_numpy()[mask],
                                        "group": occ["group"].to_numpy()[mask]}))

    stage_names = [s.name for s in STAGES if remand_recorded or s.name not in _REMAND_STAGES]
    events = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame({"stage": [], "p": [], "group": []})
    events = events[events["p"] >= 0]
    tally = events.groupby(["stage", "p", "group"]).size()
    grid = pd.MultiIndex.from_product([stage_names, range(len(plist)), categories], names=["stage", "p", "group"])
    counted = tally.reindex(grid, fill_value=0).reset_index(name="count")
    out = pd.DataFrame({
        "by": by,
        "period": [plist[i].label for i in counted["p"]],
        "period_start": [plist[i].start for i in counted["p"]],
        "period_end": [plist[i].end for i in counted["p"]],
        "group": counted["group"].astype(object),
        "stage": counted["stage"].astype(object),
        "count": counted["count"].astype(np.int64),
    }, columns=COUNT_COLUMNS)
    notes = [
        "Counted from the extract: a child whose earlier caution or conviction is not in the extract is counted as a "
        "first-time entrant here."
    ]
    if not remand_recorded:
        notes.append("The extract records no bail or remand status, so the remand stages are not counted.")
    elif (court & (remand_rank < 0)).any():
        notes.append("Some court cases have no recorded bail or remand status; they are not counted as on conditional "
                     "bail or above.")
    out.attrs = {"by": by, "stages": stage_names, "notes": notes,
                 "data_kind": ext.attrs.get("data_kind", "")}
    return out


# --------------------------------------------------------------------------- intervals (vectorised)


def katz_limits(a, n1, b, n2, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Log-method (Katz 1978) limits of (a/n₁)/(b/n₂): exp(ln RR ∓ z √(1/a − 1/n₁ + 1/b − 1/n₂)).

    Arrays broadcast; NaN where a or b is 0 (the method needs both counts positive).
    """
    a, n1, b, n2 = (np.asarray(x, dtype=float) for x in (a, n1, b, n2))
    z = stats.z_value(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (a / n1) / (b / n2)
        se = np.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
        ok = (a > 0) & (b > 0) & (n1 > 0) & (n2 > 0)
        lower = np.where(ok, rr * np.exp(-z * se), np.nan)
        upper = np.where(ok, rr * np.exp(z * se), np.nan)
    return lower, upper


def exact_conditional_limits(a, n1, b, n2, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact conditional limits of the rate ratio (a/n₁)/(b/n₂) (Clopper–Pearson on a | a + b).

    π_L = Beta⁻¹(α/2; a, b + 1) (0 when a = 0), π_U = Beta⁻¹(1 − α/2; a + 1, b) (1 when b = 0), and
    limit = π/(1 − π) × n₂/n₁: the lower limit is 0 when a = 0, the upper infinite when b = 0. NaN when a = b = 0.
    """
    a, n1, b, n2 = (np.asarray(x, dtype=float) for x in (a, n1, b, n2))
    alpha = 1 - _level(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        pl = np.where(a > 0, _sps.beta.ppf(alpha / 2, np.maximum(a, 1e-300), b + 1), 0.0)
        pu = np.where(b > 0, _sps.beta.ppf(1 - alpha / 2, a + 1, np.maximum(b, 1e-300)), 1.0)
        scale = n2 / n1
        lower = pl / (1 - pl) * scale
        upper = np.where(pu >= 1, np.inf, pu / (1 - pu) * scale)
        none = (a + b) <= 0
    return np.where(none, np.nan, lower), np.where(none, np.nan, upper)


# --------------------------------------------------------------------------- relative rate index


def _population_array(populations, groups: list[str], periods: list[str], by: str) -> np.ndarray:
    """Population by period and group (NaN where none is given)."""
    out = np.full((len(periods), len(groups)), np.nan)
    if populations is None:
        return out
    if isinstance(populations, Mapping):
        for j, g in enumerate(groups):
            if g in populations and populations[g] is not None:
                out[:, j] = float(populations[g])
    else:
        frame = pd.DataFrame(populations)
        col = "group" if "group" in frame.columns else by
        if col not in frame.columns or "population" not in frame.columns:
            raise ValueError(f"populations must have columns 'group' (or '{by}') and 'population'")
        if "period" in frame.columns:
            p_index = {p: i for i, p in enumerate(periods)}
            for rec in frame.itertuples(index=False):
                g, p = getattr(rec, col), getattr(rec, "period")
                if g in groups and p in p_index:
                    out[p_index[p], groups.index(g)] = float(rec.population)
        else:
            dup = frame[col][frame[col].duplicated()]
            if len(dup):
                raise ValueError(f"populations: more than one population for group {dup.iloc[0]!r} and no 'period' column")
            for rec in frame.itertuples(index=False):
                g = getattr(rec, col)
                if g in groups:
                    out[:, groups.index(g)] = float(rec.population)
    if np.any(out[~np.isnan(out)] <= 0):
        raise ValueError("populations must be positive numbers")
    return out


def _fmt_count(x: float) -> str:
    return f"{x:,.0f}"


def _level(level) -> float:
    stats.z_value(level)  # raises ValueError naming 'level' unless 0 < level < 1
    return float(level)


def _suppression(window: np.ndarray, threshold: int) -> np.ndarray:
    """The disclosure rule on one stage's counts (one per group) against their total: 'ok', 'primary' or 'secondary'."""
    total = "\x00total"
    table = pd.DataFrame({"group": [*(f"g{i}" for i in range(len(window))), total], "count": [*window, window.sum()]})
    shown, _ = suppress_table(table, ["count"], total_row=total, label_column="group", threshold=threshold)
    reasons = shown.attrs["suppressed"].get("count", [""] * len(table))[: len(window)]
    return np.array([x if x else "ok" for x in reasons], dtype=object)


class _RowSpace:
    """The row space of a matrix of equations A: which vectors it fixes, and which rows they need.

    From the eigen-decomposition of AᵀA = V Λ Vᵀ (small: one row and column per unknown): the null space is the
    eigenvectors with λ = 0; with U = A V Λ^(-1/2) over the others, a vector q = Aᵀy has the least-squares
    combination y = A V Λ⁻¹ Vᵀ q, and row k's leverage is Σ U[k]².
    """

    def __init__(self, A: np.ndarray):
        w, V = np.linalg.eigh(A.T @ A)
        keep = w > 1e-9 * max(1.0, float(w[-1]) if w.size else 0.0)
        self.null = V[:, ~keep]  # directions of x the equations leave free
        self.V, self.w = V[:, keep], w[keep]
        self.AV = A @ self.V
        # leverage 1: the row is no combination of the others (it is in no dependency among the rows)
        self.alone = (self.AV**2 / self.w).sum(axis=1) > 1 - 1e-6

    def fixes(self, Q: np.ndarray) -> np.ndarray:
        """Whether each row q of Q is a combination of the rows of A (so q·x is known)."""
        if self.null.shape[1] == 0:
            return np.ones(len(Q), dtype=bool)
        return np.abs(Q @ self.null).max(axis=1) <= 1e-7 * np.maximum(1.0, np.abs(Q).sum(axis=1))

    def uses(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows a combination giving q uses, and those q needs (removing one alone leaves q free).

        A row in no dependency has the same coefficient in every combination, so q needs it when that coefficient
        is not 0; a row in a dependency can be replaced by the others, so q needs none of them alone.
        """
        y = self.AV @ ((self.V.T @ q) / self.w)
        used = np.abs(y) > 1e-7
        return used, used & self.alone


def _audit(cs, s, g, p, length, base_of, r, count_hidden, base_hidden, ref_hidden, parts, threshold, pool_years):
    """Hide more figures until no small count or complement can be worked out from what is shown.

    Unknowns are the single-period counts x[stage, group, period]. Known to a reader: every figure shown (a
    row's count, its base when that is a count, the reference group's count and base in that row — each a sum
    of x over the row's periods), the stage totals of every period (assumed published elsewhere) and the
    identities between stages (``Stage.parts``). A target — a count of one group at one stage over 1 to
    ``pool_years`` consecutive periods, or such a count's complement to its base — from 1 to threshold − 1 is
    disclosed when it lies in the row space of those equations. While one is, the figure whose removal
    protects it is hidden (figures overlapping it first, the smallest first), with every row showing that
    figure. Returns (counts hidden by this audit, base hidden, reference columns hidden), one flag per row.
    """
    S, P1, G = cs.shape
    P = P1 - 1
    # stages tied by an identity are solved together; every other equation involves one stage only
    comp_of = list(range(S))
    for whole, pieces in parts.items():
        for piece in pieces:
            old, new = comp_of[piece], comp_of[whole]
            comp_of = [new if c == old else c for c in comp_of]
    comps = sorted(set(comp_of))
    members = {c: [st for st in range(S) if comp_of[st] == c] for c in comps}
    size = {c: len(members[c]) * G * P for c in comps}

    def vec(key) -> np.ndarray:
        st, gr, pe, L = key
        c = comp_of[st]
        v = np.zeros(size[c])
        first = (members[c].index(st) * G + gr) * P
        v[first + pe - L + 1: first + pe + 1] = 1.0
        return v

    def value(key) -> float:
        st, gr, pe, L = key
        return float(cs[st, pe + 1, gr] - cs[st, pe + 1 - L, gr])

    occurrences: dict[tuple, list[tuple[int, str]]] = {}
    for i in range(len(s)):
        si, gi, pi, li, sb = int(s[i]), int(g[i]), int(p[i]), int(length[i]), int(base_of[s[i]])
        occurrences.setdefault((si, gi, pi, li), []).append((i, "count"))
        occurrences.setdefault((si, r, pi, li), []).append((i, "ref"))
        if sb >= 0:
            occurrences.setdefault((sb, gi, pi, li), []).append((i, "base"))
            occurrences.setdefault((sb, r, pi, li), []).append((i, "ref"))
    vectors = {k: vec(k) for k in occurrences}
    hidden = {"count": np.zeros(len(s), dtype=bool), "base": base_hidden.copy(), "ref": ref_hidden.copy()}

    def shown(key) -> bool:
        return any(not (hidden[f][i] or (f == "count" and count_hidden[i])) for i, f in occurrences[key])

    fixed: dict[int, list[np.ndarray]] = {c: [] for c in comps}
    for st in range(S):
        for t in range(P):
            v = np.zeros(size[comp_of[st]])
            for gr in range(G):
                v += vec((st, gr, t, 1))  # the stage total of the period
            fixed[comp_of[st]].append(v)
    for whole, pieces in parts.items():
        for gr in range(G):
            for t in range(P):
                v = vec((whole, gr, t, 1))
                for piece in pieces:
                    v = v - vec((piece, gr, t, 1))
                fixed[comp_of[whole]].append(v)
    # targets: {component: part of the target's vector there}
    targets: list[dict[int, np.ndarray]] = []
    for st in range(S):
        sb = int(base_of[st])
        for gr in range(G):
            for pe in range(P):
                for L in range(1, min(pool_years, pe + 1) + 1):
                    key = (st, gr, pe, L)
                    if 1 <= value(key) < threshold:
                        targets.append({comp_of[st]: vec(key)})
                    if sb >= 0 and 1 <= value((sb, gr, pe, L)) - value(key) < threshold:
                        target: dict[int, np.ndarray] = {comp_of[sb]: vec((sb, gr, pe, L))}
                        target[comp_of[st]] = target.get(comp_of[st], 0) - vec(key)
                        targets.append(target)
    unprotectable: list[dict[int, np.ndarray]] = []
    spaces: dict[int, tuple[list, _RowSpace]] = {}
    fixed_now: dict[int, dict[int, bool]] = {}
    stale = set(comps)
    while targets:
        for c in stale:
            keys = [k for k in occurrences if comp_of[k[0]] == c and shown(k)]
            spaces[c] = (keys, _RowSpace(np.vstack([*fixed[c], *[vectors[k] for k in keys]])))
            rows = [(i, part) for i, tg in enumerate(targets) for cc, part in tg.items() if cc == c]
            flags = spaces[c][1].fixes(np.array([part for _, part in rows])) if rows else []
            fixed_now[c] = {i: bool(f) for (i, _), f in zip(rows, flags)}
        stale = set()
        leaks = [tg for i, tg in enumerate(targets) if all(fixed_now[c][i] for c in tg)]
        if not leaks:
            break
        chosen_now: set[tuple] = set()
        for leak in leaks:  # one figure for each leak, all hidden before the spaces are worked out again
            chosen = None
            for c, part in leak.items():  # break the part in one component (a complement has two)
                keys, space = spaces[c]
                used, needed = (u[len(fixed[c]):] for u in space.uses(part))
                # a figure the part needs if there is one (it is then protected at once), else one it uses
                pool = [k for k, need in zip(keys, needed) if need] or [k for k, use in zip(keys, used) if use]
                if pool:
                    again = [k for k in pool if k in chosen_now]  # already going: no need to hide another
                    chosen = again[0] if again else min(
                        pool, key=lambda k: (not bool(vectors[k] @ np.abs(part)), value(k)))
                    break
            if chosen is None:  # fixed by the totals and identities alone: nothing shown can protect it
                unprotectable.append(leak)
            else:
                chosen_now.add(chosen)
        if unprotectable:
            targets = [tg for tg in targets if not any(tg is u for u in unprotectable)]
            unprotectable = []
            stale = set(comps)
        for key in chosen_now:
            for i, field in occurrences[key]:
                hidden[field][i] = True
        stale |= {comp_of[key[0]] for key in chosen_now}
    return hidden["count"], hidden["base"], hidden["ref"]


def relative_rate_index(
    counts: pd.DataFrame,
    populations,
    *,
    reference: str,
    level: float = 0.95,
    min_count: int = MIN_COUNT,
    pool_years: int = POOL_YEARS,
    threshold: int = THRESHOLD,
    stages: Sequence[Stage] = STAGES,
) -> pd.DataFrame:
    """Rates, relative rate index and its interval for every group, stage and period of ``counts``.

    ``counts``: a tidy frame like :func:`stage_counts` returns (columns ``period``, ``group``, ``stage``,
    ``count``; ``period_start``/``period_end`` and ``by`` if present): consecutive periods of equal length (ordered
    by ``period_start`` when given, else as they appear; pooling sums neighbours), each with every group and the
    base stage of every later stage. ``populations``: the 10–17 population of each group — a mapping
    ``{group: population}`` used for every period, or a frame with ``group`` (or the ``by`` name) and
    ``population`` and optionally ``period``; ``None`` (or a group left out) gives no rate at population-based
    stages. ``reference``: the group every other is compared with (``"white"`` by convention; no default, it is
    a judgement). ``level``: confidence level of the interval. ``min_count``: a period's count (of the group
    or the reference group) below this is pooled over ``pool_years`` periods, and the exact method replaces the
    log method while a count is still below it. ``threshold``: the disclosure threshold (counts 1 to
    threshold − 1 are hidden). ``stages``: stage definitions (bases).

    Returns one row per row of ``counts`` with columns :data:`RRI_COLUMNS` (see the module docstring for the
    formulas): ``rate`` per 1,000 a year (population bases) or per 100 of the base stage (``rate_unit`` says
    which), ``rri`` with ``lower``/``upper``, the ``method`` of the interval, ``pooled_years`` (1 when not
    pooled) and ``pooled_periods``, ``suppressed``/``suppression``/``count_shown`` (disclosure control), and a
    plain-English ``note``. The reference group's rows have ``rri`` 1 and no interval. ``attrs['footnotes']``
    explains the methods and markers used.
    """
    level = _level(level)
    if int(min_count) != min_count or min_count < 1:
        raise ValueError(f"min_count must be a whole number of at least 1, got {min_count!r}")
    if int(pool_years) != pool_years or pool_years < 1:
        raise ValueError(f"pool_years must be a whole number of at least 1, got {pool_years!r}")
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    missing = [c for c in ("period", "group", "stage", "count") if c not in counts.columns]
    if missing:
        raise ValueError(f"counts is missing column(s) {', '.join(missing)} (see stage_counts)")
    by_values = counts["by"].dropna().unique() if "by" in counts.columns else []
    if len(by_values) > 1:
        raise ValueError(f"counts mixes breakdowns ({', '.join(map(str, by_values))}): give one 'by' at a time")
    by = str(by_values[0]) if len(by_values) else "group"
    values = pd.to_numeric(counts["count"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values != np.floor(values)).any():
        raise ValueError("counts must be whole numbers of at least 0")

    stage_defs = {s.name: s for s in stages}
    present = list(pd.unique(counts["stage"]))
    unknown = [s for s in present if s not in stage_defs]
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(map(str, unknown))}; known: {', '.join(stage_defs)}")
    stage_list = [s.name for s in stages if s.name in present]
    for name in stage_list:
        base = stage_defs[name].base
        if base != POPULATION and base not in stage_list:
            raise ValueError(f"stage '{name}' is a rate per '{base}', which is not in counts")

    if "period_start" in counts.columns:
        order = counts.drop_duplicates("period").sort_values("period_start")
        periods = list(order["period"])
        p_start = dict(zip(order["period"], order["period_start"]))
        p_end = dict(zip(order["period"], order["period_end"])) if "period_end" in counts.columns else {}
    else:
        periods = list(pd.unique(counts["period"]))
        p_start, p_end = {}, {}
    groups = list(pd.unique(counts["group"]))
    if reference not in groups:
        raise ValueError(f"reference group {reference!r} is not among the groups: {', '.join(map(str, groups))}")
    S, P, G = len(stage_list), len(periods), len(groups)
    s_idx = counts["stage"].map({s: i for i, s in enumerate(stage_list)}).to_numpy()
    p_idx = counts["period"].map({p: i for i, p in enumerate(periods)}).to_numpy()
    g_idx = counts["group"].map({g: i for i, g in enumerate(groups)}).to_numpy()
    if pd.DataFrame({"s": s_idx, "p": p_idx, "g": g_idx}).duplicated().any():
        raise ValueError("counts has more than one row for a stage, period and group")
    C = np.full((S, P, G), np.nan)
    C[s_idx, p_idx, g_idx] = values
    if np.isnan(C).any():
        raise ValueError("counts must have a row for every stage, period and group (zeros included)")
    r = groups.index(reference)

    pop = _population_array(populations, groups, periods, by)
    cs = np.concatenate([np.zeros((S, 1, G)), np.cumsum(C, axis=1)], axis=1)  # (S, P+1, G)
    base_of = np.array([-1 if stage_defs[s].base == POPULATION else stage_list.index(stage_defs[s].base)
                        for s in stage_list])

    # one row per (stage, period, group), in the order of ``counts``
    s, p, g = s_idx.astype(np.int64), p_idx.astype(np.int64), g_idx.astype(np.int64)
    is_ref = g == r
    a1, b1 = C[s, p, g], C[s, p, r]
    small = np.where(is_ref, b1 < min_count, np.minimum(a1, b1) < min_count)
    length = np.minimum(np.where(small & (pool_years > 1), pool_years, 1), p + 1)
    a = cs[s, p + 1, g] - cs[s, p + 1 - length, g]
    b = cs[s, p + 1, r] - cs[s, p + 1 - length, r]
    by_pop = base_of[s] < 0
    sb = np.where(by_pop, 0, base_of[s])
    # person-years: the population of each period pooled (missing in any of them: missing)
    pop_g, pop_r = np.zeros(len(s)), np.zeros(len(s))
    for k in range(int(pool_years)):
        inside = k < length
        pop_g += np.where(inside, pop[np.clip(p - k, 0, None), g], 0.0)
        pop_r += np.where(inside, pop[np.clip(p - k, 0, None), r], 0.0)
    n1 = np.where(by_pop, pop_g, cs[sb, p + 1, g] - cs[sb, p + 1 - length, g])
    n2 = np.where(by_pop, pop_r, cs[sb, p + 1, r] - cs[sb, p + 1 - length, r])
    mult = np.where(by_pop, POPULATION_MULTIPLIER, STAGE_MULTIPLIER)

    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n1 > 0, a / n1 * mult, np.nan)
        ref_rate = np.where(n2 > 0, b / n2 * mult, np.nan)
        usable = (n1 > 0) & (n2 > 0) & (b > 0)
        rri = np.where(usable, (a / n1) / (b / n2), np.nan)
    log_ok = usable & (a >= min_count) & (b >= min_count)
    exact_ok = usable & ~log_ok
    k_lo, k_hi = katz_limits(a, n1, b, n2, level)
    e_lo, e_hi = exact_conditional_limits(a, np.where(n1 > 0, n1, 1), b, np.where(n2 > 0, n2, 1), level)
    lower = np.where(log_ok, k_lo, np.where(exact_ok, e_lo, np.nan))
    upper = np.where(log_ok, k_hi, np.where(exact_ok, e_hi, np.nan))
    method = np.where(log_ok, METHOD_LOG, np.where(exact_ok, np.where(by_pop, METHOD_EXACT_RATE, METHOD_EXACT_STAGE),
                                                   METHOD_NONE)).astype(object)
    rri = np.where(is_ref, np.where((n2 > 0) & (b > 0), 1.0, np.nan), rri)
    lower = np.where(is_ref, np.nan, lower)
    upper = np.where(is_ref, np.nan, upper)
    method = np.where(is_ref, METHOD_REFERENCE, method).astype(object)

    # ---- disclosure control. 1: the project's rule on each stage's counts over the same periods, against their total
    # why[stage, period, years pooled, group]: '' (not needed), 'ok' (shown), 'primary' or 'secondary'
    why = np.full((S, P, int(pool_years) + 1, G), "", dtype=object)
    for si, pi, li in set(zip(s.tolist(), p.tolist(), length.tolist())):
        for stage_i in {si, int(base_of[si])} - {-1}:
            if why[stage_i, pi, li, 0] == "":
                why[stage_i, pi, li] = _suppression(cs[stage_i, pi + 1] - cs[stage_i, pi + 1 - li], threshold)
    own = why[s, p, length, g]
    ref_own = why[s, p, length, r]
    base_why = np.where(by_pop, "ok", why[sb, p, length, g])
    ref_base_why = np.where(by_pop, "ok", why[sb, p, length, r])
    complement = ~by_pop & (n1 - a >= 1) & (n1 - a < threshold)
    ref_complement = ~by_pop & ((n2 - b) >= 1) & ((n2 - b) < threshold)
    own_hidden = (own != "ok") | complement
    base_hidden = ~by_pop & ((base_why != "ok") | own_hidden)
    ref_hidden = (ref_own != "ok") | (ref_base_why != "ok") | ref_complement
    # 2: no hidden count (or complement) may be worked out from the figures shown in other rows (other years'
    # pooled figures, bases, the reference group's columns), the stage totals and the identities between stages
    parts = {i: [stage_list.index(x) for x in stage_defs[name].parts] for i, name in enumerate(stage_list)
             if stage_defs[name].parts and all(x in stage_list for x in stage_defs[name].parts)}
    audit_count, base_hidden, ref_hidden = _audit(cs, s, g, p, length, base_of, r, own_hidden, base_hidden, ref_hidden,
                                                  parts, threshold, int(pool_years))
    own_hidden = own_hidden | audit_count
    base_hidden = base_hidden | (~by_pop & own_hidden)
    reason = np.where(own == PRIMARY, "primary", np.where((own != "ok") | audit_count, "secondary", np.where(
        complement, "complement", np.where(base_hidden, "dependent: base", np.where(
            ref_hidden & ~is_ref, "dependent: reference group", ""))))).astype(object)

    count_out = np.where(own_hidden, np.nan, a)
    count_shown = np.where(own == PRIMARY, PRIMARY_MARKER, np.where(own_hidden, SECONDARY_MARKER, None)).astype(object)
    count_shown = np.array([m if m is not None else _fmt_count(v) for m, v in zip(count_shown, a)], dtype=object)
    base_out = np.where(base_hidden, np.nan, n1)
    hide_rate = own_hidden | base_hidden
    rate_out = np.where(hide_rate, np.nan, rate)
    hide_ratio = hide_rate | (ref_hidden & ~is_ref)
    method = np.where(hide_ratio & ~is_ref, METHOD_HIDDEN, method).astype(object)
    rri_out = np.where(hide_ratio, np.nan, rri)
    lower_out = np.where(hide_ratio, np.nan, lower)
    upper_out = np.where(hide_ratio, np.nan, upper)
    ref_count_out = np.where(ref_hidden, np.nan, b)
    ref_base_out = np.where(~by_pop & ref_hidden, np.nan, n2)
    ref_rate_out = np.where(ref_hidden, np.nan, ref_rate)

    # ---- notes, in plain words
    def span(end: int, years: int) -> str:
        """The periods pooled: 'Apr 2016 – Mar 2019' when their dates are known, else 'first to last'."""
        first, last = periods[end - years + 1], periods[end]
        if years == 1:
            return last
        start, finish = p_start.get(first), p_end.get(last)
        if start is not None and finish is not None and not (pd.isna(start) or pd.isna(finish)):
            return period_label(as_timestamp(start), as_timestamp(finish))
        return f"{first} to {last}"

    pooled_periods = [span(int(p[i]), int(length[i])) for i in range(len(s))]
    unit = np.where(by_pop, "per 1,000 children aged 10–17 a year",
                    np.array([f"per 100 {stage_defs[stage_defs[stage_list[i]].base].label.lower()}"
                              if base_of[i] >= 0 else "" for i in range(S)], dtype=object)[s])
    notes = []
    for i in range(len(s)):
        parts = []
        L = int(length[i])
        last_label = periods[p[i]]
        if L > 1 or small[i]:
            who = "this group or the reference group" if not is_ref[i] else "the reference group"
            if L > 1:
                text = (f"Pooled over {L} years ({pooled_periods[i]}) because the count for {who} in "
                        f"{last_label} alone was below {min_count}")
                if L < pool_years:
                    text += f" (only {L} years are available, not {pool_years})"
                parts.append(text + "; counts and bases are summed over those years"
                             + (", so the rate is a yearly average." if by_pop[i] else "."))
            else:
                parts.append(f"The count for {who} in {last_label} is below {min_count} and no earlier year is "
                             "available to pool with it.")
        if by_pop[i] and np.isnan(n1[i]):
            parts.append("No 10–17 population is given for this group, so it has no rate and no ratio.")
        elif by_pop[i] and np.isnan(n2[i]) and not is_ref[i]:
            parts.append("No 10–17 population is given for the reference group, so there is no ratio.")
        # (what the notes say about zeros is only said of figures that are shown)
        if not is_ref[i] and not hide_ratio[i] and not (by_pop[i] and (np.isnan(n1[i]) or np.isnan(n2[i]))):
            if b[i] == 0 and a[i] == 0:
                parts.append("Neither this group nor the reference group has any in these years: no ratio.")
            elif b[i] == 0:
                parts.append("The reference group has none in these years, so there is no ratio.")
            elif not by_pop[i] and n1[i] == 0:
                parts.append("This group has no base count in these years, so it has no rate.")
            elif exact_ok[i]:
                parts.append(f"Exact interval: fewer than {min_count} in this group or the reference group"
                             + (" even after pooling" if L > 1 else "")
                             + ("." if by_pop[i] else "; counts treated as Poisson, so the interval is conservative."))
        if reason[i] == "primary":
            parts.append(f"Suppressed: a count from 1 to {threshold - 1} is not shown, to protect the children it "
                         "describes; so are its rate and ratio.")
        elif reason[i] == "secondary":
            parts.append("Suppressed so that a hidden count cannot be worked out from the totals or the other figures "
                         "shown; so are its rate and ratio.")
        elif reason[i] == "complement":
            parts.append(f"Suppressed: the base minus the count is from 1 to {threshold - 1}, which would be shown "
                         "by subtraction.")
        elif reason[i] == "dependent: base":
            parts.append("Rate and ratio not shown: the base count they are built on is suppressed.")
        elif reason[i] == "dependent: reference group":
            parts.append("Ratio not shown: the reference group's count or base for these years is suppressed.")
        notes.append(" ".join(parts))

    out = pd.DataFrame({
        "by": by,
        "period": [periods[i] for i in p],
        "period_start": [p_start.get(periods[i], pd.NaT) for i in p],
        "period_end": [p_end.get(periods[i], pd.NaT) for i in p],
        "group": [groups[i] for i in g],
        "stage": [stage_list[i] for i in s],
        "base_stage": [stage_defs[stage_list[i]].base for i in s],
        "count": count_out,
        "count_shown": count_shown,
        "base": base_out,
        "rate": rate_out,
        "rate_unit": unit,
        "reference_group": reference,
        "reference_count": ref_count_out,
        "reference_base": ref_base_out,
        "reference_rate": ref_rate_out,
        "rri": rri_out,
        "lower": lower_out,
        "upper": upper_out,
        "level": level,
        "method": method,
        "suppressed": reason != "",
        "suppression": reason,
        "pooled_years": length.astype(np.int64),
        "pooled_periods": pooled_periods,
        "note": notes,
    }, columns=RRI_COLUMNS)
    footnotes = [
        f"Relative rate index: the group's rate divided by the {reference} group's rate at the same stage; 1 is parity.",
        f"{stats.significance_level_label(level)} intervals: {METHOD_LOG} when both counts are at least {min_count}; "
        "otherwise exact conditional (Clopper–Pearson).",
        f"Years with a count below {min_count} are pooled over {pool_years} years (stated in the note).",
    ]
    if out["suppressed"].any():
        footnotes.append(rule_sentence() + "; counts that would reveal them, and rates and ratios built on hidden "
                         'counts, are not shown ("*").')
    out.attrs = {"reference": reference, "level": level, "min_count": int(min_count), "pool_years": int(pool_years),
                 "footnotes": footnotes, "notes": list(counts.attrs.get("notes", []))}
    return out


# --------------------------------------------------------------------------- populations


def census_populations(area_id: str, path: str | Path | None = None) -> dict[str, float]:
    """The 10–17 population of each ethnic group of an area from ``data/populations_ethnicity.csv``.

    The latest period given for the area (by ``period_end``). For Demoshire these are Census 2021 England
    shares applied to its synthetic population of 60,000 (see that file's notes).
    """
    from ..paths import data_dir

    file = Path(path) if path is not None else data_dir() / "populations_ethnicity.csv"
    frame = pd.read_csv(file, dtype=str, keep_default_na=False)
    rows = frame[frame["area_id"] == area_id]
    if rows.empty:
        raise ValueError(f"{file.name}: no populations by ethnicity for area {area_id!r}")
    rows = rows[rows["period_end"] == rows["period_end"].max()]
    return {r.ethnicity: float(str(r.population).replace(",", "")) for r in rows.itertuples(index=False)}
