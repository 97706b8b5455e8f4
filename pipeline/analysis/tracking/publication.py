"""Everything a published plan shows from a case-management extract, disclosure-controlled.

``publication_tables`` returns small frames whose counts from 1 to 4 are shown as "<5", with
secondary suppression against totals and complements (e.g. children who did not reoffend),
and every rate, interval or ratio built on a hidden count hidden too (``pipeline.analysis.disclosure``).
No table carries a child id. The live tracker is not among them: see ``tracker.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..disclosure import PRIMARY_MARKER, SECONDARY_MARKER, suppress_table
from . import codes
from .cohorts import (
    cohort_rates,
    as_timestamp,
    cohort_changes,
    custody_summary,
    first_time_entrants,
    reoffending_breakdown,
    reoffending_cohorts,
)
from .extract import ensure_extract

SYNTHETIC_NOTE = (
    "SYNTHETIC DEMONSTRATION DATA: these figures are computed from a generated extract for a fictional area; "
    "they describe no real child."
)
BREAKDOWNS = ("sex", "age_band", "ethnicity")
_RATE_DEPS = ["reoffenders", "not_reoffended", "cohort_size"]


def _round(frame: pd.DataFrame, digits: dict[str, int]) -> pd.DataFrame:
    for col, d in digits.items():
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").round(d)
    return frame


def _visible(table: pd.DataFrame, note: str) -> bool:
    """False for a marker footnote whose marker no longer appears in the table."""
    for marker in (PRIMARY_MARKER, SECONDARY_MARKER):
        if note.startswith(marker + ":"):
            plain = pd.DataFrame({c: table[c].to_numpy(dtype=object) for c in table.columns})
            return bool(plain.isin([marker]).any().any())
    return True


def _finish(table: pd.DataFrame, title: str, footnotes: list[str], data_kind: str, drop: list[str] = ()) -> pd.DataFrame:
    suppressed = {k: v for k, v in (table.attrs.get("suppressed") or {}).items() if k not in drop}
    table = table.drop(columns=list(drop), errors="ignore").reset_index(drop=True)
    footnotes = [n for n in footnotes if _visible(table, n)]
    table.attrs = {
        "title": title + (" (synthetic)" if data_kind == "synthetic" else ""),
        "footnotes": list(footnotes),
        "data_kind": data_kind,
        "suppressed": suppressed,
    }
    return table


def _cohort_table(cohorts: pd.DataFrame, data_kind: str, title: str) -> tuple[pd.DataFrame, list[str]]:
    t = pd.DataFrame(
        {
            "cohort": cohorts["cohort_label"],
            "status": np.where(cohorts["provisional"], "provisional", "final"),
            "cohort_size": cohorts["cohort_size"],
            "reoffenders": cohorts["reoffenders"],
            "not_reoffended": cohorts["cohort_size"] - cohorts["reoffenders"],
            "rate": cohorts["rate"],
            "lower": cohorts["lower"],
            "upper": cohorts["upper"],
            "reoffences": cohorts["reoffences"],
            "reoffences_per_reoffender": cohorts["reoffences_per_reoffender"],
            "reoffences_per_child": cohorts["reoffences_per_child"],
        }
    )
    t = _round(t, {"rate": 1, "lower": 1, "upper": 1, "reoffences_per_reoffender": 2, "reoffences_per_child": 2})
    out, notes = suppress_table(
        t,
        ["cohort_size", "reoffenders", "not_reoffended", "reoffences"],
        total_column="cohort_size",
        row_parts=["reoffenders", "not_reoffended"],
        rate_columns={
            "rate": _RATE_DEPS,
            "lower": _RATE_DEPS,
            "upper": _RATE_DEPS,
            "reoffences_per_reoffender": ["reoffences", "reoffenders"],
            "reoffences_per_child": ["reoffences", "cohort_size"],
        },
    )
    out = _finish(out, title, notes, data_kind)
    return out, out.attrs["footnotes"]


def _changes_table(cohorts: pd.DataFrame, published: pd.DataFrame, data_kind: str, polarity: str) -> tuple[pd.DataFrame, list[str]]:
    changes = cohort_changes(cohorts, polarity=polarity)
    rate_why = published.attrs["suppressed"].get("rate", [""] * len(published))
    hidden_rate = {label: bool(why) for label, why in zip(published["cohort"], rate_why)}
    t = pd.DataFrame(
        {
            "cohort": changes["cohort_label"],
            "previous_cohort": changes["previous_label"],
            "rate": changes["current"],
            "previous_rate": changes["previous"],
            "change_pp": changes["absolute"],
            "lower": changes["lower"],
            "upper": changes["upper"],
            "p_value": changes["p_value"],
            "test": changes["test"],
            "significant": changes["significant"],
            "assessment": changes["assessment"],
            "provisional": changes["provisional"],
        }
    )
    t = _round(t, {"rate": 1, "previous_rate": 1, "change_pp": 1, "lower": 1, "upper": 1, "p_value": 3})
    t["significant"] = t["significant"].astype(object).where(~t["provisional"].astype(bool), None)  # not assessed
    hide = np.array(
        [hidden_rate.get(c, False) or hidden_rate.get(p, False) for c, p in zip(t["cohort"], t["previous_cohort"])],
        dtype=bool,
    )
    notes = []
    suppressed = {}
    if hide.any():
        for col in ("rate", "previous_rate", "change_pp", "lower", "upper", "p_value", "significant"):
            t[col] = t[col].astype(object)
            t.loc[hide, col] = SECONDARY_MARKER
            suppressed[col] = ["dependent" if h else "" for h in hide]
        t["test"] = t["test"].astype(object)
        t.loc[hide, "test"] = ""
        t["assessment"] = t["assessment"].astype(object)
        t.loc[hide, "assessment"] = "not shown (built on a suppressed count)"
        notes.append("*: not shown because the change is built on a suppressed count.")
    t.attrs["suppressed"] = suppressed
    t = _finish(t, "Change in the proven reoffending rate on the previous cohort", notes, data_kind)
    return t, t.attrs["footnotes"]


def _breakdown_table(extract, start, end, by, as_of, data_kind) -> tuple[pd.DataFrame, list[str]]:
    b = reoffending_breakdown(extract, start, end, by=by, as_of=as_of)
    total = {
        "group": "Total",
        "cohort_size": int(b["cohort_size"].sum()),
        "reoffenders": int(b["reoffenders"].sum()),
        "not_reoffended": int(b["not_reoffended"].sum()),
        "reoffences": int(b["reoffences"].sum()),
    }
    t = pd.DataFrame(
        {
            "group": [codes.LABELS.get(g, g) for g in b["group"]],
            "cohort_size": b["cohort_size"],
            "reoffenders": b["reoffenders"],
            "not_reoffended": b["not_reoffended"],
            "rate": b["rate"],
            "lower": b["lower"],
            "upper": b["upper"],
            "reoffences": b["reoffences"],
            "reoffences_per_child": b["reoffences_per_child"],
        }
    )
    total.update(cohort_rates(total["cohort_size"], total["reoffenders"], total["reoffences"], 0.95))
    total.pop("reoffences_per_reoffender")
    t = pd.concat([t, pd.DataFrame([total])], ignore_index=True)
    t = _round(t, {"rate": 1, "lower": 1, "upper": 1, "reoffences_per_child": 2})
    out, notes = suppress_table(
        t,
        ["cohort_size", "reoffenders", "not_reoffended", "reoffences"],
        total_row="Total",
        total_column="cohort_size",
        label_column="group",
        row_parts=["reoffenders", "not_reoffended"],
        rate_columns={
            "rate": _RATE_DEPS,
            "lower": _RATE_DEPS,
            "upper": _RATE_DEPS,
            "reoffences_per_child": ["reoffences", "cohort_size"],
        },
    )
    label = {"sex": "sex", "age_band": "age at the index offence", "ethnicity": "ethnic group"}[by]
    status = "provisional" if bool(b["provisional"].iloc[0]) else "final"
    out = _finish(out, f"Proven reoffending by {label}, cohort {b['cohort_label'].iloc[0]} ({status})", notes, data_kind)
    return out, out.attrs["footnotes"]


def _custody_table(extract, period_start, period_end, population, data_kind) -> tuple[pd.DataFrame, list[str], list[str]]:
    s = custody_summary(extract, period_start, period_end, population)
    rows = [
        {
            "measure": "Custodial sentences (of court sentences)",
            "count": s["custodial"],
            "denominator": s["court_disposals"],
            "remainder": s["court_disposals"] - s["custodial"],
            "share": s["share"].value if s["share"] is not None else np.nan,
            "share_lower": s["share"].lower if s["share"] is not None else np.nan,
            "share_upper": s["share"].upper if s["share"] is not None else np.nan,
            "rate_per_1000": s["rate"].value,
        }
    ]
    if s["remands"] is not None:
        rows.append(
            {
                "measure": "Remands to custody (of eligible bail and remand episodes)",
                "count": s["remands"],
                "denominator": s["eligible_episodes"],
                "remainder": s["eligible_episodes"] - s["remands"],
                "share": s["remand_share"].value if s["remand_share"] is not None else np.nan,
                "share_lower": s["remand_share"].lower if s["remand_share"] is not None else np.nan,
                "share_upper": s["remand_share"].upper if s["remand_share"] is not None else np.nan,
                "rate_per_1000": np.nan,
            }
        )
    t = _round(pd.DataFrame(rows), {"share": 1, "share_lower": 1, "share_upper": 1, "rate_per_1000": 2})
    deps = ["count", "remainder", "denominator"]
    out, notes = suppress_table(
        t,
        ["count", "remainder", "denominator"],
        total_column="denominator",
        row_parts=["count", "remainder"],
        rate_columns={"share": deps, "share_lower": deps, "share_upper": deps, "rate_per_1000": ["count"]},
    )
    out = _finish(out, "Custody and remands", notes, data_kind, drop=["remainder"])
    return out, out.attrs["footnotes"], s["notes"]


def publication_tables(extract: pd.DataFrame, population, as_of, period_start, period_end, *, reoffending_polarity: str) -> dict:
    """Every table a published plan shows from the extract, already disclosure-controlled.

    ``reoffending_polarity`` is the reoffending-rate indicator's polarity from the indicator
    definitions (it decides whether a change is an improvement).

    Keys: ``fte``, ``reoffending_cohorts`` (annual), ``reoffending_cohorts_quarterly``,
    ``reoffending_changes`` (annual, consecutive cohorts), ``reoffending_by_sex``,
    ``reoffending_by_age_band``, ``reoffending_by_ethnicity`` (the latest final annual cohort,
    or the latest provisional one when none is final), ``custody`` (period_start to
    period_end), and ``footnotes``: a list of every footnote the tables need (markers, method,
    provisional cohorts, synthetic data). Each table's ``attrs`` hold its ``title``, its own
    ``footnotes`` and ``suppressed`` (why each hidden cell was hidden).
    """
    extract = ensure_extract(extract)
    as_of = as_timestamp(as_of)
    kinds = set(extract["data_kind"].unique())
    data_kind = "synthetic" if "synthetic" in kinds or extract.attrs.get("data_kind") == "synthetic" else "case_management"
    footnotes: list[str] = []

    def add(notes):
        for n in notes:
            if n not in footnotes:
                footnotes.append(n)

    if data_kind == "synthetic":
        add([SYNTHETIC_NOTE])
    tables: dict = {}

    fte = first_time_entrants(extract, period_start, period_end, population)
    est = fte["estimate"]
    t = pd.DataFrame(
        [
            {
                "period_start": fte["period_start"].date().isoformat(),
                "period_end": fte["period_end"].date().isoformat(),
                "first_time_entrants": fte["count"],
                "population": population,
                "rate_per_100000": est.value,
                "lower": est.lower,
                "upper": est.upper,
            }
        ]
    )
    t = _round(t, {"rate_per_100000": 0, "lower": 0, "upper": 0})
    out, notes = suppress_table(
        t, ["first_time_entrants"], rate_columns={c: ["first_time_entrants"] for c in ("rate_per_100000", "lower", "upper")}
    )
    tables["fte"] = _finish(out, "First-time entrants (from the case-management extract)", notes + [fte["note"]], data_kind)
    add([n for n in tables["fte"].attrs["footnotes"] if n != fte["note"]])
    add(["First-time entrants: children whose first youth caution, youth conditional caution or conviction falls in the "
         "period (community resolutions do not count), per 100,000 children aged 10 to 17. " + fte["note"]])

    annual = reoffending_cohorts(extract, "annual", as_of)
    tables["reoffending_cohorts"], notes = _cohort_table(annual, data_kind, "Proven reoffending, annual cohorts")
    add(notes)
    quarterly = reoffending_cohorts(extract, "quarterly", as_of)
    tables["reoffending_cohorts_quarterly"], notes = _cohort_table(quarterly, data_kind, "Proven reoffending, quarterly cohorts")
    add(notes)
    tables["reoffending_changes"], notes = _changes_table(annual, tables["reoffending_cohorts"], data_kind, reoffending_polarity)
    add(notes)
    add(
        [
            "Proven reoffending (Ministry of Justice method): children cautioned, convicted or released from custody in "
            "the cohort period; a reoffence is an offence committed within 12 months (365 days) of the child's first such "
            "event in the period and proven by caution or conviction within that year or a further 6-month waiting period.",
            "A provisional cohort's follow-up or waiting period had not ended on "
            f"{as_of.date().isoformat()}: its rate can still rise and it is not compared as final.",
            "Changes between cohorts are in percentage points; 'significant' means the difference is statistically "
            "significant at the 95% level.",
        ]
    )

    final = annual[~annual["provisional"]]
    chosen = final.iloc[-1] if len(final) else (annual.iloc[-1] if len(annual) else None)
    for by in BREAKDOWNS:
        if chosen is None:
            tables[f"reoffending_by_{by}"] = pd.DataFrame()
            continue
        tables[f"reoffending_by_{by}"], notes = _breakdown_table(
            extract, chosen["cohort_start"], chosen["cohort_end"], by, as_of, data_kind
        )
        add(notes)

    tables["custody"], notes, method = _custody_table(extract, period_start, period_end, population, data_kind)
    add(notes)
    add(method)
    tables["footnotes"] = footnotes
    return tables
