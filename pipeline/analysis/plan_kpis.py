"""The published KPI and over-representation tables of a plan, from a validated record-level extract.

:func:`kpi_summary` is what the build process calls (beside ``tracking_section.tracking_summary``) to
compute, from the typed case-management extract, everything the plan sections "Key performance
indicators" and "Over-represented children" (``pipeline.document.kpi_section``) show:

* the ten YJB key performance indicators (:func:`pipeline.analysis.kpis.publish_kpis`) for the financial
  years, and their quarters, of the three years ending at the last financial year complete by ``as_of``
  (:func:`pipeline.analysis.tracking.cohorts.last_complete_year_end`);
* the relative rate index of each group at each stage of the youth justice system
  (:func:`pipeline.analysis.disproportionality.stage_counts` and
  :func:`~pipeline.analysis.disproportionality.relative_rate_index`) over the same three years, by
  ethnicity (reference group: white, rates per 1,000 of the census populations by ethnicity), by sex
  (reference: male), by age band (reference: 15–17) and by care status where the extract records it
  (reference: the group with most proven outcomes in the three years).

Only disclosure-controlled output leaves this module: the tables of ``publish_kpis`` and
``relative_rate_index`` (counts from 1 to 4 shown as ``<5``, further cells ``*``), never ``kpi_counts``,
no row of the extract, no child id. Dates are ISO text, rates and ratios rounded, table ``attrs`` hold only
``title``, ``footnotes`` and ``data_kind``, and the notes are plain text, so the result survives the JSON
round trip of ``tracking_section.write_summary`` / ``load_summary`` unchanged.

The three characteristic breakdowns are counted in one pass (:func:`stage_counts_together`, the same frames
as three ``stage_counts`` calls); ``bench/plan_kpis_bench.py`` times the whole on a million-row extract.

Public API: :func:`kpi_summary`, :func:`summary_window`, :func:`has_kpi_columns`, :func:`stage_counts_together`,
:data:`SUMMARY_KEYS`, :data:`DEFINITION_COLUMNS`, :data:`REFERENCE_GROUPS`.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from . import disproportionality as dp
from . import kpis
from .disclosure import PRIMARY_MARKER, SECONDARY_MARKER
from .tracking import codes
from .tracking import kpi_columns as kc
from .tracking.cohorts import last_complete_year_end
from .tracking.extract import ensure_extract

#: Keys of the dict :func:`kpi_summary` returns (they join the Local tracking tables in ``summary["tables"]``).
SUMMARY_KEYS = ("kpi_measures", "kpi_changes", "kpi_board", "kpi_wider", "kpi_definitions", "kpi_notes", "rri", "rri_notes")

#: The columns of the KPI definitions a plan publishes.
DEFINITION_COLUMNS = ["kpi_id", "kpi_number", "name", "short_name", "numerator", "denominator", "unit", "polarity", "version",
                      "valid_from", "source_title", "confirmed", "confirmation_note"]

#: The reference group of each breakdown of the relative rate index (care status: chosen from the data, see below).
REFERENCE_GROUPS = {"ethnicity": "white", "sex": "male", "age_band": codes.AGE_BANDS[1]}

#: Years the summary covers, ending at the last complete financial year.
YEARS = 3

#: The columns the extract needs for the record-based KPIs (``data_contracts/case_extract.md``, "Optional KPI columns").
KPI_KEY_COLUMNS = ("intervention_type", "intervention_start_date", "intervention_end_date")

NO_KPI_COLUMNS = ("the case-management extract has no KPI columns (data_contracts/case_extract.md, "
                  "\"Optional KPI columns\")")

BY_WORDS = {"ethnicity": "ethnicity", "sex": "sex", "age_band": "age band", dp.CARE_STATUS: "care status"}


def summary_window(as_of) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(1 April, 31 March) of the ``YEARS`` financial years ending at the last one complete by ``as_of`` (today if blank)."""
    as_of_date = pd.Timestamp(as_of) if as_of not in (None, "") else pd.Timestamp(date.today())
    end = last_complete_year_end(as_of_date)
    start = pd.Timestamp(end.year - YEARS, 4, 1)
    return start, end


def kpi_summary(frame: pd.DataFrame, *, as_of, population, board: pd.DataFrame | None, wider: pd.DataFrame | None,
                definitions: pd.DataFrame, ethnic_populations: dict | None, level: float = 0.95) -> dict:
    """The disclosure-controlled KPI and relative-rate-index tables of a plan (keys :data:`SUMMARY_KEYS`).

    ``frame``: the typed, validated extract (``tracking.load_extract``); without the KPI columns no KPI is
    computed from it and ``kpi_notes['left_out']`` says so. ``as_of``: date the extract was taken.
    ``population``: the 10–17 population (a number; ``{area_id: population}`` for a multi-area extract).
    ``board`` / ``wider``: the KPI 7 and KPI 8 tables already filtered to the area and edition (None or empty:
    left out). ``definitions``: ``kpis.load_kpi_definitions()``. ``ethnic_populations``: ``{group: population}``
    (``disproportionality.census_populations``) or None (no rates per population by ethnicity).

    Returns ``kpi_measures``, ``kpi_changes``, ``kpi_board``, ``kpi_wider``, ``kpi_definitions``, ``rri``
    (DataFrames) and ``kpi_notes`` (``national_comparison``, ``footnotes``, ``left_out`` {kpi_id: reason},
    ``period_start``, ``period_end``, ``latest_period``, ``data_kind``) and ``rri_notes`` (``footnotes``,
    ``notes``, ``reference`` {breakdown: group}, ``method``, ``breakdowns``, ``periods``, ``latest_period``),
    plain text.
    """
    extract = ensure_extract(frame)
    start, end = summary_window(as_of)
    kinds = set(extract["data_kind"].unique()) if len(extract) else set()
    data_kind = ("synthetic" if "synthetic" in kinds or frame.attrs.get("data_kind") == "synthetic"
                 or extract.attrs.get("data_kind") == "synthetic" else "case_management")
    out = _kpi_tables(extract, definitions, start, end, population, board, wider, level, data_kind)
    out.update(_rri_tables(frame, extract, start, end, ethnic_populations, level, data_kind))
    return out


# --------------------------------------------------------------------------- the ten KPIs


def has_kpi_columns(extract: pd.DataFrame) -> bool:
    """Whether the extract carries the intervention columns the record-based KPIs are built on."""
    return set(KPI_KEY_COLUMNS) <= set(kc.present(extract.columns))


def _kpi_tables(extract, definitions, start, end, population, board, wider, level, data_kind) -> dict:
    board = board if board is not None and len(board) else None
    wider = wider if wider is not None and len(wider) else None
    pub = kpis.publish_kpis(extract, definitions, start=start, end=end, population=population, board=board, wider=wider,
                            level=level)
    by_id = {str(r["kpi_id"]): r for r in definitions.to_dict("records")}
    left_out: dict[str, str] = {}
    measures, changes, footnotes = pub.measures, pub.changes, list(pub.footnotes)
    if not has_kpi_columns(extract):
        measures = pd.DataFrame(columns=kpis.MEASURE_COLUMNS)
        changes = pd.DataFrame(columns=kpis.CHANGE_COLUMNS)
        for kpi_id, row in by_id.items():
            if str(row.get("data_source", "extract")) == "extract":
                left_out[kpi_id] = NO_KPI_COLUMNS
        hidden = _markers(pub.wider_services)
        footnotes = [n for n in footnotes if n != kpis.BEFORE_COLLECTION_NOTE
                     and not (n == kpis.MARKER_NOTES[kpis.PRIMARY] and PRIMARY_MARKER not in hidden)
                     and not (n == kpis.MARKER_NOTES[kpis.SECONDARY] and SECONDARY_MARKER not in hidden)]
    for item in pub.left_out:
        kpi_id, _, reason = item.partition(": ")
        source = str(by_id.get(kpi_id, {}).get("data_source", "extract"))
        if source != "extract":
            reason = f"no rows for this area and edition in data/{source}.csv"
        left_out.setdefault(kpi_id, reason)
    order = {k: int(by_id[k]["kpi_number"]) if k in by_id else 99 for k in left_out}
    left_out = {k: left_out[k] for k in sorted(left_out, key=lambda k: (order[k], k))}
    annual = measures[measures["frequency"] == "annual"] if len(measures) else measures
    latest = ""
    if len(annual):
        last = annual.sort_values("period_end").iloc[-1]
        latest = str(last["period_label"])
    notes = {
        "national_comparison": str(pub.national_comparison),
        "footnotes": [str(n) for n in footnotes],
        "left_out": left_out,
        "period_start": start.date().isoformat(),
        "period_end": end.date().isoformat(),
        "latest_period": latest,
        "data_kind": data_kind,
    }
    return {
        "kpi_measures": _publish(measures, "Key performance indicators by year and quarter", footnotes, data_kind,
                                 rounding={"value": 2, "lower": 2, "upper": 2}),
        "kpi_changes": _publish(changes, "Key performance indicators: change from the start to the end of the intervention",
                                footnotes, data_kind,
                                rounding={"start_value": 2, "end_value": 2, "change": 2, "lower": 2, "upper": 2, "p_value": 6}),
        "kpi_board": _publish(pub.board_attendance, "KPI 7: management board attendance", [], data_kind,
                              rounding={"value": 2, "lower": 2, "upper": 2}),
        "kpi_wider": _publish(pub.wider_services, "KPI 8: children supported by wider services",
                              [kpis.MARKER_NOTES[k] for k, m in ((kpis.PRIMARY, PRIMARY_MARKER), (kpis.SECONDARY, SECONDARY_MARKER))
                               if m in _markers(pub.wider_services)], data_kind,
                              rounding={"value": 2, "lower": 2, "upper": 2}),
        "kpi_definitions": _publish(_definitions(definitions), "Definitions of the ten key performance indicators", [], data_kind),
        "kpi_notes": notes,
    }


def _definitions(definitions: pd.DataFrame) -> pd.DataFrame:
    table = definitions.reindex(columns=DEFINITION_COLUMNS).copy()
    table["kpi_number"] = table["kpi_number"].astype(int)
    for col in DEFINITION_COLUMNS:
        if col != "kpi_number":
            table[col] = [_text(v) for v in table[col]]
    return table.sort_values("kpi_number").reset_index(drop=True)


def _markers(table: pd.DataFrame) -> set[str]:
    if table is None or table.empty:
        return set()
    found = set()
    for col in ("numerator", "denominator", "remainder", "value", "lower", "upper"):
        if col in table.columns:
            found |= set(table[col].astype(object)[table[col].isin([PRIMARY_MARKER, SECONDARY_MARKER])])
    return found


# --------------------------------------------------------------------------- relative rate index


def _care_status_recorded(frame: pd.DataFrame) -> bool:
    if dp.CARE_STATUS not in frame.columns:
        return False
    text = frame[dp.CARE_STATUS].fillna("").astype(str).str.strip()
    return bool((text != "").any())


def _largest_group(counts: pd.DataFrame) -> str | None:
    """The group with most proven outcomes over every period (ties: by name), 'unknown' left aside."""
    proven = counts[(counts["stage"] == "proven_outcome") & (counts["group"] != "unknown")]
    if proven.empty:
        return None
    totals = proven.groupby("group")["count"].sum()
    best = totals.max()
    return sorted(str(g) for g, v in totals.items() if v == best)[0]


def _stage_method() -> list[str]:
    out = []
    for s in dp.STAGES:
        if s.base == dp.POPULATION:
            per = "per 1,000 children aged 10–17 in the group a year"
        else:
            base = next(b for b in dp.STAGES if b.name == s.base)
            per = f"per 100 {base.label.lower()} of the group"
        out.append(f"{s.label}: {s.counted}, {per}.")
    out.append(f"Interval {dp.METHOD_LOG}: the log method, used when the group's and the reference group's counts are both "
               f"at least {dp.MIN_COUNT}.")
    out.append(f"Interval {dp.METHOD_EXACT_RATE}: used for rates per population when a count is below {dp.MIN_COUNT}.")
    out.append(f"Interval {dp.METHOD_EXACT_STAGE}: used for later stages when a count is below {dp.MIN_COUNT}; "
               "it is wider than needed.")
    return out


#: The column :func:`stage_counts_together` groups by (ethnicity, sex and age band of each row in one code).
_GROUP_COLUMN = "_plan_kpis_group"


def stage_counts_together(extract: pd.DataFrame, periods) -> dict[str, pd.DataFrame]:
    """``disproportionality.stage_counts`` by ethnicity, by sex and by age band, from one counting pass.

    The extract is counted once by a column combining the three characteristics of each row (the documented
    ``by`` of another column), and each breakdown's counts are the sums over the other two: an occasion's group
    is taken from the same first row whichever characteristic is asked for, so the frames (rows, order, columns,
    ``attrs``) are those of three calls of ``stage_counts``, in about a third of the time on a large extract.
    """
    extract = ensure_extract(extract)
    band = np.where(extract["age_at_offence"].to_numpy(dtype=np.int64) <= 14, codes.AGE_BANDS[0], codes.AGE_BANDS[1])
    parts = {"ethnicity": extract["ethnicity"].to_numpy(dtype=object), "sex": extract["sex"].to_numpy(dtype=object),
             "age_band": band.astype(object)}
    combined = np.zeros(len(extract), dtype=np.int64)
    uniques = {}
    for by, values in parts.items():
        code, uniques[by] = pd.factorize(values)
        combined = combined * (len(uniques[by]) + 1) + code
    labels, keys = pd.factorize(combined)
    names = np.array([f"g{i}" for i in range(len(keys))], dtype=object)
    decode: dict[str, tuple] = {}
    for i, key in enumerate(keys):
        key, parts_of = int(key), []
        for by in reversed(list(parts)):
            key, code = divmod(key, len(uniques[by]) + 1)
            parts_of.append(uniques[by][code])
        decode[names[i]] = tuple(reversed(parts_of))
    frame = extract[list(codes.COLUMNS)].copy(deep=False)  # the KPI columns play no part: not converted again
    frame[_GROUP_COLUMN] = names[labels]
    counts = dp.stage_counts(frame, by=_GROUP_COLUMN, periods=periods)
    stages, period_order, attrs = counts.attrs["stages"], list(dict.fromkeys(counts["period"])), counts.attrs
    counts = counts[counts["group"].isin(decode)]  # the 'unknown' (blank) group of a column: none here
    dates = counts.drop_duplicates("period").set_index("period")[["period_start", "period_end"]]
    out = {}
    for i, by in enumerate(parts):
        documented = list(dp.BREAKDOWNS[by])
        categories = documented + sorted(v for v in pd.unique(parts[by]) if v not in documented)
        component = np.array([decode[g][i] for g in counts["group"]], dtype=object)
        tally = pd.DataFrame({"stage": counts["stage"], "period": counts["period"], "group": component,
                              "count": counts["count"]}).groupby(["stage", "period", "group"], sort=False)["count"].sum()
        grid = pd.MultiIndex.from_product([stages, period_order, categories], names=["stage", "period", "group"])
        counted = tally.reindex(grid, fill_value=0).reset_index(name="count")
        table = pd.DataFrame({
            "by": by,
            "period": counted["period"].astype(object).to_numpy(),
            "period_start": dates.loc[counted["period"], "period_start"].to_numpy(),
            "period_end": dates.loc[counted["period"], "period_end"].to_numpy(),
            "group": counted["group"].astype(object),
            "stage": counted["stage"].astype(object),
            "count": counted["count"].astype(np.int64),
        }, columns=dp.COUNT_COLUMNS)
        table.attrs = {**attrs, "by": by, "notes": list(attrs.get("notes", []))}
        out[by] = table
    return out


def _rri_tables(frame, extract, start, end, ethnic_populations, level, data_kind) -> dict:
    periods = [(p.label, p.start, p.end) for p in kpis.kpi_periods(start, end) if p.frequency == "annual"]
    labels = [p[0] for p in periods]
    breakdowns: list[tuple[str, str | None, dict | None, pd.DataFrame]] = [
        ("ethnicity", REFERENCE_GROUPS["ethnicity"], ethnic_populations, extract),
        ("sex", REFERENCE_GROUPS["sex"], None, extract),
        ("age_band", REFERENCE_GROUPS["age_band"], None, extract),
    ]
    if _care_status_recorded(frame):
        breakdowns.append((dp.CARE_STATUS, None, None, frame))
    frames, footnotes, notes, reference = [], [], [], {}

    def add(items, into):
        for n in items:
            if n and n not in into:
                into.append(str(n))

    if not periods:
        notes.append("No whole financial year falls in the three years before the extract was taken: no ratio is computed.")
    together = stage_counts_together(extract, periods) if periods else {}
    for by, ref, pops, source in breakdowns if periods else []:
        counts = together[by] if by in together else dp.stage_counts(source, by=by, periods=periods)
        if ref is None:
            ref = _largest_group(counts)
            if ref is None:
                add([f"No proven outcome has a recorded {BY_WORDS[by]}: no ratio by {BY_WORDS[by]}."], notes)
                continue
        table = dp.relative_rate_index(counts, pops, reference=ref, level=level)
        reference[by] = str(ref)
        add([f for f in table.attrs.get("footnotes", []) if not f.startswith("Relative rate index:")], footnotes)
        add(table.attrs.get("notes", []) + counts.attrs.get("notes", []), notes)
        frames.append(table)
    refs = "; ".join(f"{BY_WORDS.get(by, by)}: {codes.LABELS.get(g, g)}" for by, g in reference.items())
    if reference:
        footnotes.insert(0, "Relative rate index (RRI): a group's rate divided by the reference group's rate at the same "
                            f"stage and in the same years ({refs}); 1 is parity.")
    if ethnic_populations is None:
        notes.append("No 10–17 population by ethnicity was given, so first-time entrants and proven outcomes have no rate "
                     "and no ratio by ethnicity.")
    no_pop = [BY_WORDS[by] for by, _, pops, _ in breakdowns[1:] if pops is None and by in reference]
    if no_pop:
        notes.append(f"No 10–17 population by {' or by '.join(no_pop)} is given, so first-time entrants and proven outcomes "
                     f"are compared per population by ethnicity only; the later stages are compared for every breakdown.")
    rri = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=dp.RRI_COLUMNS)
    for col in ("lower", "upper", "rri", "rate", "reference_rate"):
        if col in rri.columns and len(rri):
            values = pd.to_numeric(rri[col], errors="coerce")
            rri[col] = values.where(np.isfinite(values))
    return {
        "rri": _publish(rri, "Relative rate index by stage and group", footnotes, data_kind,
                        rounding={"rate": 2, "reference_rate": 2, "rri": 3, "lower": 3, "upper": 3}),
        "rri_notes": {
            "footnotes": footnotes,
            "notes": notes,
            "reference": reference,
            "method": _stage_method(),
            "breakdowns": list(reference),
            "periods": labels,
            "latest_period": labels[-1] if labels else "",
        },
    }


# --------------------------------------------------------------------------- JSON-plain tables


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _rounded(series: pd.Series, decimals: int) -> pd.Series:
    """Numbers rounded (markers and blanks kept); a numeric column stays numeric."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.round(decimals)
    return series.map(lambda v: round(float(v), decimals)
                      if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                      and math.isfinite(float(v)) else v)


def _publish(table: pd.DataFrame | None, title: str, footnotes: list[str], data_kind: str,
             rounding: dict[str, int] | None = None) -> pd.DataFrame:
    """A published table: private columns dropped, dates as ISO text, numbers rounded, only public attrs."""
    table = pd.DataFrame() if table is None else table.copy()
    table = table[[c for c in table.columns if not str(c).startswith("_")]].reset_index(drop=True)
    for col in table.columns:
        s = table[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            table[col] = [None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in s]
        elif s.dtype == object and s.map(lambda v: isinstance(v, pd.Timestamp)).any():
            table[col] = [v.date().isoformat() if isinstance(v, pd.Timestamp) else v for v in s]
    for col, decimals in (rounding or {}).items():
        if col in table.columns and len(table):
            table[col] = _rounded(table[col], decimals)
    table.attrs = {"title": title, "footnotes": [str(n) for n in footnotes], "data_kind": data_kind}
    return table
