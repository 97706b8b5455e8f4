"""Open reference data: comparator groups, sources and populations.

Three curated tables that other tables point at:

* ``data/comparator_groups.csv`` — every comparator group (``group_id``, ``label``, ``kind``): the known
  values of ``comparator`` in ``indicators.csv`` / ``measures.csv`` (besides ``area``, the area itself)
  and of an area's region, police force area and YJB family in ``areas.csv``;
* ``data/sources.csv`` — every source a row's ``source_document`` may name (``source_id``, the title
  and short title the plans print, publisher, date, URL, file, kind);
* ``data/populations.csv`` — published 10–17 populations of each area, with their period and source.

The lookups here read the raw (text) tables, memoised on each file's path, size and modification time,
so that a test's private copy of ``data/`` (``YJPLAN_DATA_DIR``) is read afresh. They never validate:
``yjplan validate`` and the build run the tables' data contracts (``data_contracts/<table>.json``), and
``parameters()`` gives the contracts the known ids (``group_ids``, ``comparator_ids``, ``source_ids``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from .loaders import LINE_COLUMN, read_raw_table, table_path

#: Group kinds (``comparator_groups.csv`` ``kind``), in the order a reader meets them.
GROUP_KINDS = ("england", "england_wales", "region", "police_force_area", "yjb_family", "statistical_neighbours", "other")
#: The ``comparator`` of a row about the area itself (never a group id).
AREA = "area"
#: Source kinds (``sources.csv`` ``kind``).
SOURCE_KINDS = ("plan", "inspection_report", "press_release", "committee_report", "statistics", "guidance", "reference",
                "generated", "other")
#: The age band of the populations the indicators use.
YOUTH_AGE_BAND = "10-17"


@functools.lru_cache(maxsize=32)
def _read(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    return read_raw_table(Path(path))


def _raw(table: str, base: Path | None = None) -> pd.DataFrame:
    path = table_path(table, base)
    if not path.exists():
        return read_raw_table(path)  # raises DataFileError naming the missing file
    st = path.stat()
    return _read(str(path.resolve()), st.st_size, st.st_mtime_ns).copy()


# --------------------------------------------------------------------------- comparator groups


def comparator_groups(base: Path | None = None) -> pd.DataFrame:
    """The comparator groups table as text (``group_id``, ``label``, ``kind``, ``note``, source columns)."""
    return _raw("comparator_groups", base)


def _groups_by_id(base: Path | None = None) -> dict[str, dict]:
    frame = comparator_groups(base)
    if "group_id" not in frame:
        return {}
    return {r["group_id"]: {k: v for k, v in r.items() if k != LINE_COLUMN} for r in frame.to_dict("records")}


def group_ids(base: Path | None = None, kind: str | None = None) -> list[str]:
    """Known group ids (of one ``kind`` if given), in the table's order."""
    return [g for g, row in _groups_by_id(base).items() if kind is None or row.get("kind") == kind]


def comparator_group(group_id: str, base: Path | None = None) -> dict | None:
    """A group's row (text values), or None for an unknown id (and for ``area``)."""
    return _groups_by_id(base).get(str(group_id))


def group_kind(comparator: str, base: Path | None = None) -> str:
    """The kind of a ``comparator`` value: ``area`` for the area itself, the group's ``kind`` for a known group.

    An unknown value is returned unchanged (rows built by hand in tests and notebooks may still use a kind, such
    as ``england`` or ``region``, as their comparator); the data contracts reject unknown values in the tables.
    """
    if comparator == AREA:
        return AREA
    row = comparator_group(comparator, base)
    return str(row["kind"]) if row and row.get("kind") else str(comparator)


def group_label(group_id: str, base: Path | None = None) -> str:
    """A group's label (``South East``), or the id with spaces for an unknown one."""
    row = comparator_group(group_id, base)
    return str(row["label"]) if row and row.get("label") else str(group_id).replace("_", " ")


# --------------------------------------------------------------------------- sources


def sources(base: Path | None = None) -> pd.DataFrame:
    """The sources table as text (``source_id``, ``title``, ``short_title``, ``publisher``, ``date``, ``url``, ``file``,
    ``kind``, ``note``)."""
    return _raw("sources", base)


def _sources_by_id(base: Path | None = None) -> dict[str, dict]:
    frame = sources(base)
    if "source_id" not in frame:
        return {}
    return {r["source_id"]: {k: v for k, v in r.items() if k != LINE_COLUMN} for r in frame.to_dict("records")}


def source_ids(base: Path | None = None) -> list[str]:
    """Known source ids, in the table's order."""
    return list(_sources_by_id(base))


def source(source_id: str, base: Path | None = None) -> dict | None:
    """A source's row (text values), or None for an unknown id."""
    return _sources_by_id(base).get(str(source_id))


def source_title(source_id: str, base: Path | None = None) -> str:
    """The title printed in a Sources list; the id itself for an unknown source."""
    row = source(source_id, base)
    return str(row["title"]) if row and row.get("title") else str(source_id)


def source_short_title(source_id: str, base: Path | None = None) -> str | None:
    """The short title tables cite (``Oxfordshire plan``), or None when the source has none (or is unknown)."""
    row = source(source_id, base)
    return str(row["short_title"]) if row and row.get("short_title") else None


def short_titles(base: Path | None = None) -> dict[str, str]:
    """Source id -> short title, for the sources that have one."""
    return {sid: row["short_title"] for sid, row in _sources_by_id(base).items() if row.get("short_title")}


def short_source(text: str, base: Path | None = None) -> str:
    """'000_f1cb….txt, 6.2 c. Reducing custody' -> 'Oxfordshire plan, 6.2 c. Reducing custody': every source id
    with a short title is replaced by it (the Sources section lists the ids)."""
    text = str(text)
    # Longer ids first, so an id that contains another is replaced whole.
    for sid, short in sorted(short_titles(base).items(), key=lambda kv: -len(kv[0])):
        text = text.replace(sid, short)
    return text


# --------------------------------------------------------------------------- populations


def populations(base: Path | None = None) -> pd.DataFrame:
    """The populations table, typed: ``population`` a number, ``period_start`` / ``period_end`` dates.

    Rows whose cells do not convert are left out (the data contract reports them); an empty frame with the
    columns when the file has no usable row.
    """
    raw = _raw("populations", base)
    return typed_populations(raw)


def typed_populations(raw: pd.DataFrame) -> pd.DataFrame:
    """A raw (text) or typed populations frame with numbers and dates (unconvertible rows dropped)."""
    out = raw.copy()
    for column in ("population",):
        if column in out:
            out[column] = pd.to_numeric(out[column].astype(str).str.replace(",", "", regex=False), errors="coerce")
    for column in ("period_start", "period_end"):
        if column in out:
            out[column] = pd.to_datetime(out[column], format="%Y-%m-%d", errors="coerce")
    needed = [c for c in ("population", "period_start", "period_end") if c in out]
    return out.dropna(subset=needed) if needed else out


#: A population is used for a period it does not fall in only when its reference date is at most this many days
#: from the period (the plans' annual periods and a mid-year estimate are at most a year apart).
POPULATION_NEAR_DAYS = 366


def population_for_period(frame: pd.DataFrame | None, area_id: str | None, start, end,
                          age_band: str = YOUTH_AGE_BAND) -> dict | None:
    """The area's published population for a period, or None.

    A population whose reference date (``period_end``) falls within ``start``–``end`` is preferred (``same_period``
    True); otherwise the nearest one whose reference date is at most ``POPULATION_NEAR_DAYS`` days from the
    period (``same_period`` False; its ``distance_days`` says how far). The result has ``population``,
    ``period_label``, ``reference_date``, ``same_period``, ``distance_days``, ``line``, ``source_document``,
    ``source_section`` and ``text`` — a description naming the row and its source.
    """
    if frame is None or frame.empty or "population" not in frame:
        return None
    pops = typed_populations(frame) if not pd.api.types.is_datetime64_any_dtype(frame.get("period_end")) else frame
    if area_id is not None and "area_id" in pops:
        pops = pops[pops["area_id"] == area_id]
    if "age_band" in pops:
        pops = pops[pops["age_band"].astype(str) == age_band]
    pops = pops.dropna(subset=["population", "period_end"])
    if pops.empty:
        return None
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    ref = pops["period_end"]
    distance = ((start - ref).dt.days.clip(lower=0) + (ref - end).dt.days.clip(lower=0))
    near = distance[distance <= POPULATION_NEAR_DAYS]
    if near.empty:
        return None
    idx = near.sort_values(kind="stable").index[0]
    row = pops.loc[idx].to_dict()
    days = int(near.loc[idx])
    line = row.get(LINE_COLUMN)
    where = f"data/populations.csv line {int(line)}; " if line is not None and not pd.isna(line) else "data/populations.csv; "
    section = str(row.get("source_section", "")).split(" (")[0].split(";")[0].strip()
    cited = ", ".join(p for p in (short_source(str(row.get("source_document", ""))), section) if p)
    text = f"10–17 population {float(row['population']):,.0f} ({row.get('period_label', '')}; {where}{cited})"
    return {
        "population": float(row["population"]),
        "period_label": str(row.get("period_label", "")),
        "reference_date": row["period_end"],
        "same_period": days == 0,
        "distance_days": days,
        "line": None if line is None or pd.isna(line) else int(line),
        "source_document": str(row.get("source_document", "")),
        "source_section": str(row.get("source_section", "")),
        "text": text,
    }


# --------------------------------------------------------------------------- contract parameters


def parameters(base: Path | None = None) -> dict[str, list[str]]:
    """Suite parameters from the reference tables (``{"$PARAMETER": name}`` in ``data_contracts/*.json``):

    * ``group_ids`` — every comparator group id (an area's region, police force area and YJB family are group ids);
    * ``group_ids_<kind>`` — the ids of one kind (``group_ids_region``, ``group_ids_police_force_area``,
      ``group_ids_yjb_family``, …);
    * ``comparator_ids`` — ``area`` and every group id (the values of ``comparator`` in indicators.csv and measures.csv);
    * ``source_ids`` — every source id (the values of ``source_document`` in every table);
    * ``template_ids`` — every plan template of ``data/plan_templates.csv`` (the values of ``template`` in plans.csv).

    A missing or unreadable table gives empty lists (its own contract reports the file).
    """
    from ..errors import DataFileError

    try:
        groups = _groups_by_id(base)
    except DataFileError:
        groups = {}
    try:
        known_sources = list(_sources_by_id(base))
    except DataFileError:
        known_sources = []
    try:
        templates = _raw("plan_templates", base)
        template_ids = sorted(set(templates["template"].astype(str))) if "template" in templates else []
    except DataFileError:
        template_ids = []
    out = {
        "template_ids": template_ids,
        "group_ids": sorted(groups),
        "comparator_ids": [AREA] + sorted(groups),
        "source_ids": sorted(known_sources),
    }
    for kind in GROUP_KINDS:
        out[f"group_ids_{kind}"] = sorted(g for g, row in groups.items() if row.get("kind") == kind)
    return out
