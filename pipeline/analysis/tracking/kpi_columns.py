"""Optional per-intervention columns of the case-management extract, used by the ten YJB KPIs.

Since April 2023 youth justice services report ten key performance indicators to the YJB besides
the four national ones (``data/kpi_definitions.csv``; ``pipeline/analysis/kpis.py``). Most of them
describe the intervention (order or programme) a child is on: accommodation and education,
training or employment (ETE) at its start and end, SEND, mental-health and substance-misuse need
and support, whether an out-of-court disposal was completed, the victims of the offences.

The extract stays **one row per proven offence and its outcome**; the columns here describe the
intervention the row's outcome belongs to, repeated on each row of it. An intervention is
identified by ``(area_id, child_id, intervention_type, intervention_start_date)``. All the columns
are **optional**: an extract without any of them is read and checked exactly as before (the
contract extension ``data_contracts/case_extract_kpi.json`` is only merged in when at least one of
them is in the file, and only the checks on the columns present are run).

This module is the single Python copy of the codes in ``case_extract_kpi.json``
(``tests/test_kpis.py`` checks that the two agree) and holds the loader's helpers for the
extension: merging the suite, the prepared columns its typed checks use, the canonical dtypes.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from . import codes

TABLE = "case_extract_kpi"

PREVENTION = "prevention"
OUT_OF_COURT = "out_of_court"
COURT_ORDER = "court_order"
CUSTODY = "custody"
RELEASE = "release"
INTERVENTION_TYPES = (PREVENTION, OUT_OF_COURT, COURT_ORDER, CUSTODY, RELEASE)
"""prevention (voluntary work with a child at risk), out_of_court (diversion: a community resolution or caution
with YJS intervention, a youth conditional caution), court_order (referral order, youth rehabilitation order,
reparation order...), custody (the custodial part of a sentence), release (supervision in the community after
release from custody)."""

YES, NO, UNKNOWN = "yes", "no", "unknown"
YES_NO = (YES, NO, UNKNOWN)
"""Codes of every yes/no column; a blank cell means not recorded (counted with ``unknown``)."""

ID_COLUMNS = ("intervention_type", "intervention_start_date", "intervention_end_date")
"""Identify the intervention and its period: present whenever any other KPI column is."""

YES_NO_COLUMNS = (
    "accommodation_suitable_start",
    "accommodation_suitable_end",
    "ete_suitable_start",
    "ete_suitable_end",
    "send_identified",
    "send_formal_plan",
    "mh_screened",
    "mh_need_identified",
    "mh_intervention_offered",
    "mh_intervention_attended",
    "sm_screened",
    "sm_need_identified",
    "sm_intervention_offered",
    "sm_intervention_attended",
    "oocd_completed",
)
HOURS_COLUMNS = ("ete_hours_start", "ete_hours_end")
VICTIM_COLUMNS = ("victims_consented_contact", "victims_contacted", "victims_offered_rj", "victims_participated_rj")

#: (the hours of ETE come after the accommodation and ETE answers they belong with)
COLUMNS = ID_COLUMNS + YES_NO_COLUMNS[:4] + HOURS_COLUMNS + YES_NO_COLUMNS[4:] + VICTIM_COLUMNS
"""The optional KPI columns, in the documented order (after the extract's own columns)."""

DATE_COLUMNS = ID_COLUMNS[1:]
NUMBER_COLUMNS = HOURS_COLUMNS + VICTIM_COLUMNS
DETAIL_COLUMNS = tuple(c for c in COLUMNS if c != "intervention_type")
MAX_ETE_HOURS = 60
INTERVENTION_KEY = ("area_id", "child_id", "intervention_type", "intervention_start_date")

#: Which intervention types an outcome is expected to start (a warning when a row says otherwise).
EXPECTED_OUTCOMES = {
    PREVENTION: (codes.COMMUNITY_RESOLUTION,),
    OUT_OF_COURT: (codes.COMMUNITY_RESOLUTION, codes.YOUTH_CAUTION, codes.YOUTH_CONDITIONAL_CAUTION),
    COURT_ORDER: (codes.COURT_DISPOSAL,),
    CUSTODY: (codes.COURT_DISPOSAL,),
    RELEASE: (codes.COURT_DISPOSAL,),
}


def present(columns) -> list[str]:
    """The KPI columns among ``columns``, in the documented order."""
    have = set(columns)
    return [c for c in COLUMNS if c in have]


# --------------------------------------------------------------------------- the contract extension


def _requires(exp: dict) -> set[str]:
    meta = exp.get("meta") or {}
    if "requires" in meta:
        return set(meta["requires"])
    kw = exp["kwargs"]
    cols = {kw[k] for k in ("column", "column_A", "column_B") if k in kw}
    return {c for c in cols if c in COLUMNS}


def extend_suite(suite, columns, base=None):
    """``suite`` (case_extract) with the KPI extension merged in for the KPI columns among ``columns``.

    Unchanged (the same object) when no KPI column is present, so an extract without them is checked
    exactly as before. Otherwise: the present columns are declared (their types and formats are then
    checked like the others'), the three intervention columns must exist, the documented column set
    includes the present KPI columns, and the extension's checks run whose columns are all present.
    """
    from ...data.contracts import load_suite
    from ...paths import contracts_dir

    have = present(columns)
    if not have:
        return suite
    ext = load_suite(TABLE, base or contracts_dir())
    wanted = set(have) | set(ID_COLUMNS)
    declared = tuple(c for c in ext.columns if c.name in wanted)
    expectations = []
    for exp in suite.expectations:
        if exp["type"] == "expect_table_columns_to_match_set":
            exp = {**exp, "kwargs": {**exp["kwargs"], "column_set": list(exp["kwargs"]["column_set"]) + have}}
        expectations.append(exp)
    for exp in ext.expectations:
        if exp["type"] == "expect_column_to_exist":
            if exp["kwargs"]["column"] in wanted:
                expectations.append(exp)
        elif _requires(exp) <= set(have):
            expectations.append(exp)
    return dataclasses.replace(suite, columns=suite.columns + declared, expectations=tuple(expectations))


def prepare(typed: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The derived columns the extension's typed checks read (only when KPI columns are present)."""
    have = present(typed.columns)
    if not have:
        return typed
    typed = typed.copy()
    blank = {}
    for col in have:
        values = typed[col]
        numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
        blank[col] = values.isna() if numeric else (values.isna() | (values.astype(object).astype(str).str.strip().isin(["", "None", "nan"])))
    kind = typed["intervention_type"].fillna("").astype(str) if "intervention_type" in typed else pd.Series("", index=typed.index)
    has_type = kind != ""
    details = pd.Series(False, index=typed.index)
    for col in have:
        if col != "intervention_type":
            details |= ~blank[col]
    typed["intervention_details_have_type"] = has_type | ~details
    if as_of is not None:
        late = pd.Series(False, index=typed.index)
        for col in DATE_COLUMNS:
            if col in typed:
                late |= typed[col].notna() & (typed[col] > as_of)
        typed["intervention_dated_by_as_of"] = ~late
    else:
        typed["intervention_dated_by_as_of"] = True
    expected = pd.Series(True, index=typed.index)
    custodial = typed["disposal"].isin(codes.CUSTODIAL_DISPOSALS) if "disposal" in typed else pd.Series(False, index=typed.index)
    for itype, outcomes in EXPECTED_OUTCOMES.items():
        rows = kind == itype
        ok = typed["outcome_type"].isin(outcomes)
        if itype == COURT_ORDER:
            ok &= ~custodial
        elif itype in (CUSTODY, RELEASE):
            ok &= custodial
        expected &= ~rows | ok
    typed["intervention_matches_outcome"] = expected
    # the same intervention should carry the same details on every row (its offences)
    if has_type.any() and "intervention_start_date" in typed:
        sub = typed.loc[has_type, [*INTERVENTION_KEY, *[c for c in have if c not in ("intervention_type", "intervention_start_date")]]]
        sub = sub.astype(str)
        key = list(INTERVENTION_KEY)
        varying = sub.groupby(key, sort=False).transform("nunique").max(axis=1) if sub.shape[1] > len(key) else pd.Series(1, index=sub.index)
        consistent = pd.Series(True, index=typed.index)
        consistent.loc[sub.index] = varying.to_numpy() <= 1
        typed["intervention_consistent"] = consistent
    else:
        typed["intervention_consistent"] = True
    # follow-on answers given without the answer they follow from
    follows = pd.Series(True, index=typed.index)
    chains = [
        ("send_identified", "send_formal_plan"),
        ("mh_need_identified", "mh_intervention_offered"),
        ("mh_intervention_offered", "mh_intervention_attended"),
        ("sm_need_identified", "sm_intervention_offered"),
        ("sm_intervention_offered", "sm_intervention_attended"),
    ]
    for first, then in chains:
        if first in typed and then in typed:
            follows &= ~((typed[then].fillna("") == YES) & (typed[first].fillna("") != YES))
    typed["intervention_answers_follow"] = follows
    if "oocd_completed" in typed:
        typed["oocd_completed_for_out_of_court"] = blank["oocd_completed"] | (kind == OUT_OF_COURT)
    else:
        typed["oocd_completed_for_out_of_court"] = True
    return typed


# --------------------------------------------------------------------------- canonical form


def append_canonical(frame: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    """``out`` (the canonical extract columns) with the KPI columns of ``frame`` appended, typed:
    dates datetime64[ns], hours and victim counts float (NaN when blank), codes text ("" when blank).
    ``out`` itself when ``frame`` has none."""
    have = present(frame.columns)
    if not have:
        return out
    extra = {}
    for col in have:
        values = frame[col].reset_index(drop=True)
        if col in DATE_COLUMNS:
            if not pd.api.types.is_datetime64_any_dtype(values):
                text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
                values = pd.to_datetime(values.where(text != ""), format="%Y-%m-%d")
            extra[col] = values.astype("datetime64[ns]")
        elif col in NUMBER_COLUMNS:
            if not pd.api.types.is_numeric_dtype(values):
                text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
                values = pd.to_numeric(text.where(text != ""), errors="raise")
            extra[col] = values.astype("float64")
        else:
            extra[col] = values.fillna("").astype(str)
    return pd.concat([out, pd.DataFrame(extra, index=out.index)], axis=1)


def is_canonical(extract: pd.DataFrame) -> bool:
    """Whether the columns after the extract's own are the present KPI columns, in order and typed."""
    extra = list(extract.columns[len(codes.COLUMNS):])
    if extra != present(extra):
        return False
    for col in extra:
        if col in DATE_COLUMNS and extract[col].dtype != "datetime64[ns]":
            return False
        if col in NUMBER_COLUMNS and extract[col].dtype != "float64":
            return False
    return True
