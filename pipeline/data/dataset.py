"""Loading and validating everything one area's plan needs.

``load_area`` reads each curated table, keeps the area's rows, validates them against the
table's data contract (Great Expectations) and returns typed frames together with the full
validation report. A critical failure raises DataContractError naming file, line, column and
expectation; warnings travel with the data into the plan's data-quality appendix.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from . import reconcile, reference
from .contracts import (HEADER_ONLY, Outcome, ValidationReport, header_outcomes, load_suite, outcomes_for_area,
                        typed_frame, validate_frames)
from ..errors import DataContractError, DataFileError, UnknownAreaError
from .ids import ID_RULE, InvalidIdError, check_area_id
from .loaders import LINE_COLUMN, read_raw_table, read_text, table_path
from ..paths import content_dir, contracts_dir, data_dir

AREA_TABLES = (
    "populations",  # before indicators: a rate published without its population uses the area's population
    "indicators",
    "budget",
    "grant_expenditure",
    "staffing",
    "measures",
    "inspections",
    "inspection_standards",
    "inspection_key_questions",
    "not_published",
)
SHARED_TABLES = ("areas", "plans", "area_codes", "indicator_definitions", "comparator_groups", "sources")
#: Shared reference tables whose ids other tables use (``reference.parameters``): validated once, for every area.
REFERENCE_TABLES = ("comparator_groups", "sources")
ALL_TABLES = SHARED_TABLES + AREA_TABLES


@dataclass
class AreaData:
    """Validated, typed inputs of one edition of an area's plan.

    ``area`` is the area's row of areas.csv merged with the edition's row of plans.csv (title,
    period, template, data cut-off...), its ``edition`` and the ONS code valid at the start of the
    plan period. The tables hold what the edition shows: its own budget, staffing and grant rows,
    and the area's indicator, measure and inspection rows on or before its data cut-off.
    """

    area: dict
    definitions: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    content: dict
    report: ValidationReport
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def area_id(self) -> str:
        return self.area["area_id"]

    @property
    def edition(self) -> str:
        return str(self.area.get("edition") or "")

    @property
    def synthetic(self) -> bool:
        return self.area.get("data_kind") == "synthetic"

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(data_dir().parent))
    except ValueError:
        return str(path)


def read_areas(base: Path | None = None) -> pd.DataFrame:
    """The raw areas table (all text), for listing and for the known-area check."""
    return read_raw_table(table_path("areas", base))


def list_areas(base: Path | None = None) -> pd.DataFrame:
    """Area id, name, service, region and data kind of every area in areas.csv (editions: data.editions)."""
    raw = read_areas(base)
    cols = [c for c in ("area_id", "area_name", "service_name", "region", "data_kind") if c in raw]
    return raw[cols].reset_index(drop=True)


def check_area(area_id: str, base: Path | None = None) -> None:
    """Raise InvalidIdError for an id that breaks the id rule (``pipeline.data.ids``), UnknownAreaError unless the
    area is listed in areas.csv."""
    check_area_id(area_id)
    raw = read_areas(base)
    known = list(raw["area_id"]) if "area_id" in raw else []
    if area_id not in known:
        path = table_path("areas", base)
        raise UnknownAreaError(
            f"unknown area '{area_id}': it is not listed in {_label(path)} (known areas: {', '.join(known) or 'none'})"
        )


def area_row(area_id: str) -> dict:
    """An area's row of areas.csv, as text (names, region, data kind)."""
    check_area(area_id)
    raw = read_areas()
    return {k: v for k, v in raw[raw["area_id"] == area_id].iloc[0].to_dict().items() if k != LINE_COLUMN}


def read_content(area_id: str, edition: str) -> dict:
    """The analyst-edited narrative of an edition (``data/content/<area_id>/<edition>.yml``)."""
    from .editions import check_edition

    path = content_dir() / check_area_id(area_id) / f"{check_edition(edition)}.yml"
    text = read_text(
        path,
        what=f"narrative content file for '{area_id}' (a YAML file; see data/README.md)",
        empty="expected a YAML mapping of the plan's sections: summary, achievements, governance, priorities, risks, …",
        kind="a UTF-8 text (YAML) file",
    )
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DataFileError(f"{_label(path)}: {where}not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(doc, dict):
        raise DataFileError(f"{_label(path)}: expected a YAML mapping of sections (summary, priorities, risks, …)")
    return doc


def _validate_parts(table: str, parts: dict[str, pd.DataFrame], parameters: dict, definitions: pd.DataFrame | None,
                    run_gx: bool = True, **context) -> dict[str, tuple[ValidationReport, pd.DataFrame | None]]:
    """Each part (an area's rows of ``table``) validated against the table's contract, or only typed.

    ``context`` goes to the table's reconciliation (``reconcile.PREPARERS``), e.g. ``populations`` for indicators."""
    suite = load_suite(table, contracts_dir())
    preparer = reconcile.PREPARERS.get(table)
    prepare = (lambda typed, raw_: preparer(typed, raw_, definitions, **context)) if preparer else None
    if not run_gx:
        return {key: (ValidationReport(), typed_frame(raw, suite, prepare)) for key, raw in parts.items()}
    return validate_frames(parts, suite, _label(table_path(table)), parameters=parameters, prepare=prepare)


_ORPHANS = "\0rows of no listed area"


def _definitions(raw: pd.DataFrame, parameters: dict, run_gx: bool, given: ValidationReport | None
                 ) -> tuple[ValidationReport, pd.DataFrame | None, list[str]]:
    """The indicator definitions validated; an indicator whose row fails critically is left out, not every area.

    The failing rows' indicators are taken out and the rest validated again (until no row fails). Each failure
    stays in the report, naming file, line and column, with ``Outcome.left_out`` = the indicators it leaves out:
    it no longer stops the build (``ValidationReport.critical_failures`` skips it) and the plans say the indicator
    could not be shown. A failure without offending rows (a missing or extra column) still stops every area.
    Without GX (``run_gx`` False) the indicators ``given`` says were left out are taken out before typing.
    Returns the report, the typed definitions kept (None after a file-wide failure) and the ids left out.
    """
    table = "indicator_definitions"
    has_ids = "indicator_id" in raw.columns
    if not run_gx:
        left = given.left_out_ids(table) if given is not None else []
        kept = raw[~raw["indicator_id"].isin(left)] if left and has_ids else raw
        suite = load_suite(table, contracts_dir())
        try:
            typed = typed_frame(kept, suite)
        except (ValueError, DataContractError):  # a row that does not convert (only without a prior validation)
            rows = []
            for i in range(len(kept)):
                try:
                    typed_frame(kept.iloc[i:i + 1], suite)
                    rows.append(i)
                except (ValueError, DataContractError):
                    left.append(str(kept.iloc[i]["indicator_id"]) if has_ids else "")
            typed = typed_frame(kept.iloc[rows], suite)
        return ValidationReport(), typed, left
    left: list[str] = []
    failed: list[Outcome] = []
    current = raw
    while True:
        report, typed = _validate_parts(table, {"": current}, parameters, None, True)[""]
        critical = report.critical_failures
        if not critical or not has_ids or any(not o.rows for o in critical):
            break
        lines = {line for o in critical for line in o.rows}
        bad = [i for i in dict.fromkeys(current.loc[current[LINE_COLUMN].isin(lines), "indicator_id"].astype(str)) if i not in left]
        if not bad:
            break
        line_ids = dict(zip(current[LINE_COLUMN], current["indicator_id"].astype(str)))
        for o in _copies(critical):
            o.left_out = list(dict.fromkeys(line_ids[r] for r in o.rows if r in line_ids))
            names = ", ".join(f"'{i}'" for i in o.left_out)
            o.description += (f" — indicator {names} left out: {'its' if len(o.left_out) == 1 else 'their'} figures are not "
                              "shown in any plan; every other indicator is")
            failed.append(o)
        left += bad
        current = current[~current["indicator_id"].astype(str).isin(left)]
        if current.empty:
            report = ValidationReport()
            typed = typed_frame(current, load_suite(table, contracts_dir()))
            break
    if failed:
        # Each failed expectation replaces its passing outcome from the run without the failing rows.
        outcomes = list(report.outcomes)
        for o in failed:
            same = next((i for i, p in enumerate(outcomes) if p.success and p.expectation == o.expectation
                         and p.column == o.column and p.stage == o.stage and o.description.startswith(p.description)), None)
            if same is None:
                outcomes.append(o)
            else:
                outcomes[same] = o
        report = ValidationReport(outcomes)
    return report, typed, left


def _copies(outcomes: list[Outcome]) -> list[Outcome]:
    return [dataclasses.replace(o, rows=list(o.rows), details=list(o.details), areas=set(o.areas)) for o in outcomes]


def _file_wide(failures: list[Outcome], known: list[str]) -> list[Outcome]:
    """Critical failures of rows whose area_id is not a listed area, made file-wide (they concern every area)."""
    out = []
    for o in _copies(failures):
        if o.column == "area_id" and o.expectation == "expect_column_values_to_be_in_set":
            o.description = (
                "area_id must be an area listed in areas.csv: rows of an unknown area would be left out of every "
                f"plan (known areas: {', '.join(known) or 'none'})"
            )
        o.areas = set()
        out.append(o)
    return out


@dataclass
class _Validated:
    report: ValidationReport
    tables: dict[str, pd.DataFrame]
    area_row: dict
    definitions: pd.DataFrame | None
    plans: pd.DataFrame | None = None


def _validate_areas(area_ids: list[str], run_gx: bool = True, given: ValidationReport | None = None) -> dict[str, _Validated]:
    """Every table of each area validated (one GX run per table and stage for all of them), or only typed.

    The shared tables are validated once; each area's rows of the other tables are validated as
    if on their own (``contracts.validate_frames``), so an area's report never depends on another
    area's rows. A definitions row that fails critically leaves out its indicator only (``_definitions``):
    the indicator's rows are left out of every plan and the failure is reported. Raises DataContractError
    only when the definitions file fails as a whole (a missing or extra column: nothing can be checked).
    ``given`` is the report of a validation already run (``run_gx`` False): it says which indicators were left out.
    """
    areas_raw = read_areas()
    definitions_raw = read_raw_table(table_path("indicator_definitions"))
    plans_raw = read_raw_table(table_path("plans"))
    codes_raw = read_raw_table(table_path("area_codes"))
    parameters = {
        "area_ids": sorted(set(areas_raw["area_id"])) if "area_id" in areas_raw else [],
        "indicator_ids": sorted(set(definitions_raw["indicator_id"])) if "indicator_id" in definitions_raw else [],
        "editions": sorted(set(plans_raw["edition"])) if "edition" in plans_raw else [],
    }
    parameters.update(reference.parameters())  # group_ids, group_ids_<kind>, comparator_ids, source_ids
    reference_reports = [_validate_parts(t, {"": read_raw_table(table_path(t))}, parameters, None, run_gx)[""][0]
                         for t in REFERENCE_TABLES]
    areas_report, areas_typed = _validate_parts("areas", {"": areas_raw}, parameters, None, run_gx)[""]
    plans_report, plans_typed = _validate_parts("plans", {"": plans_raw}, parameters, None, run_gx)[""]
    codes_report, _codes = _validate_parts("area_codes", {"": codes_raw}, parameters, None, run_gx)[""]
    defs_report, definitions, left_out = _definitions(definitions_raw, parameters, run_gx, given)
    reports = {a: ValidationReport() for a in area_ids}
    for a in area_ids:
        for shared_report in (areas_report, plans_report, codes_report):
            reports[a].extend(outcomes_for_area(shared_report, a))
        reports[a].extend(ValidationReport(_copies(defs_report.outcomes)))
        for reference_report in reference_reports:
            reports[a].extend(ValidationReport(_copies(reference_report.outcomes)))
    if definitions is None:
        reports[area_ids[0]].raise_for_critical()

    tables: dict[str, dict[str, pd.DataFrame]] = {a: {} for a in area_ids}
    for table in AREA_TABLES:
        raw_all = read_raw_table(table_path(table))
        if table == "indicators" and left_out and "indicator_id" in raw_all.columns:
            raw_all = raw_all[~raw_all["indicator_id"].isin(left_out)]  # their definitions failed: left out
        parts, empty = {}, []
        for a in area_ids:
            raw = raw_all[raw_all["area_id"] == a] if "area_id" in raw_all.columns else raw_all
            if raw.empty and "area_id" in raw_all.columns:
                tables[a][table] = pd.DataFrame(columns=list(raw_all.columns))
                empty.append(a)
            else:
                parts[a] = raw
        # Rows of no listed area (a mistyped area_id) belong to no plan: validated as a part of their own,
        # their critical failures stop every area instead of the rows being left out silently.
        orphans = (raw_all[~raw_all["area_id"].isin(parameters["area_ids"])]
                   if run_gx and "area_id" in raw_all.columns else raw_all.iloc[:0])
        if not orphans.empty:
            parts[_ORPHANS] = orphans
        context = {"populations": reference.populations()} if table == "indicators" else {}
        validated = _validate_parts(table, parts, parameters, definitions, run_gx, **context)
        shared: list[Outcome] = []
        if _ORPHANS in validated:
            shared = _file_wide(validated.pop(_ORPHANS)[0].critical_failures, parameters["area_ids"])
            parts.pop(_ORPHANS)
        for a, (table_report, typed) in validated.items():
            reports[a].extend(table_report)
            reports[a].extend(ValidationReport(_copies(shared)))
            tables[a][table] = typed if typed is not None else parts[a]
        if empty and run_gx:
            # The header's verdict (columns missing, misspelt or extra) is the same for every subset of the
            # file's rows: an area with no rows here gets it too, so a broken file stops every area.
            header = next(([o for o in validated[a][0].outcomes if o.expectation in HEADER_ONLY and o.stage == "raw"]
                           for a in validated), None)
            if header is None:
                header = header_outcomes(raw_all, load_suite(table, contracts_dir()), _label(table_path(table)), parameters)
            for a in empty:
                reports[a].extend(ValidationReport(_copies(header) + _copies(shared)))

    return {
        a: _Validated(
            report=reports[a],
            tables=tables[a],
            area_row=areas_typed[areas_typed["area_id"] == a].iloc[0].to_dict() if areas_typed is not None else {},
            definitions=definitions,
            plans=plans_typed[plans_typed["area_id"] == a] if plans_typed is not None else None,
        )
        for a in area_ids
    }


def load_area(area_id: str, raise_on_critical: bool = True, report: ValidationReport | None = None,
              edition: str | None = None) -> AreaData:
    """Validated inputs of one edition of an area (its latest when ``edition`` is None); raises on an
    unknown area or edition, bad files or critical contract failures.

    With ``report`` (a validation already run by the build driver over the same inputs) Great
    Expectations is not run again: the tables are only converted and reconciled, and the given
    report travels with the data. Validation covers every row of the area (all its editions); the data's report keeps
    the outcomes that concern this edition (``editions.edition_report``).
    """
    from .editions import edition_report, resolve_edition

    check_area(area_id)
    chosen = resolve_edition(area_id, edition)
    if report is not None and not report.ok:
        report.raise_for_critical()
    validated = _validate_areas([area_id], run_gx=report is None, given=report)[area_id]
    report = report if report is not None else validated.report
    if raise_on_critical:
        report.raise_for_critical()
    check_edition_rows(area_id, validated.tables)
    area = edition_row(validated, chosen)
    return AreaData(
        area=area,
        definitions=validated.definitions,
        tables=edition_tables(validated.tables, chosen.edition, area["data_cutoff"]),
        content=read_content(area_id, chosen.edition),
        report=edition_report(report, area_id, chosen.edition),
        files={t: table_path(t) for t in ALL_TABLES},
    )


def edition_row(validated: "_Validated", chosen) -> dict:
    """The area's row merged with the edition's typed row of plans.csv, the edition and its ONS code."""
    from .editions import ons_code_on

    plans = validated.plans
    row: dict = {}
    if plans is not None and not plans.empty:
        match = plans[plans["edition"] == chosen.edition]
        if not match.empty:
            row = {k: v for k, v in match.iloc[0].to_dict().items() if k != LINE_COLUMN}
    if not row:  # the plans table failed to type (a critical failure was reported): use the text
        row = dict(chosen.row)
    merged = {**validated.area_row, **{k: v for k, v in row.items() if k not in ("area_id", "source_document", "source_section", "note")}}
    merged["edition"] = chosen.edition
    merged["plan_source_document"] = row.get("source_document", "")
    merged["plan_source_section"] = row.get("source_section", "")
    merged["plan_note"] = row.get("note", "")
    merged["data_cutoff"] = pd.Timestamp(row.get("data_cutoff") or chosen.cutoff)
    merged["ons_code"] = ons_code_on(chosen.area_id, chosen.period_start)
    return merged


def check_edition_rows(area_id: str, tables: dict[str, pd.DataFrame]) -> None:
    """Rows of an edition table must name one of the area's editions (plans.csv): a row of another
    edition would be left out of every plan, so it stops the build, naming file, line and column."""
    from .editions import EDITION_TABLES, editions_of

    known = {e.edition for e in editions_of(area_id)}
    for name in EDITION_TABLES:
        t = tables.get(name)
        if t is None or t.empty or "edition" not in t.columns:
            continue
        bad = t[~t["edition"].astype(str).isin(known)]
        if not bad.empty:
            lines = ", ".join(str(v) for v in bad[LINE_COLUMN].head(10)) if LINE_COLUMN in bad else "?"
            raise DataFileError(
                f"{_label(table_path(name))}, line {lines}, column 'edition': {bad['edition'].iloc[0]!r} is not an edition "
                f"of '{area_id}' in data/plans.csv (its editions: {', '.join(sorted(known)) or 'none'})")


#: Area-level tables shown up to an edition's cut-off, and the date column that decides.
CUTOFF_COLUMNS = {"indicators": "period_end", "measures": "period_end", "inspections": "published_date"}


def edition_tables(tables: dict[str, pd.DataFrame], edition: str, cutoff) -> dict[str, pd.DataFrame]:
    """What an edition shows: its own rows of the edition tables; the area's rows of the dated tables
    on or before ``cutoff`` (inspection detail follows its inspection)."""
    from .editions import EDITION_TABLES

    cutoff = pd.Timestamp(cutoff)
    out = dict(tables)
    for name in EDITION_TABLES:
        t = tables.get(name)
        if t is not None and "edition" in t.columns:
            out[name] = t[t["edition"].astype(str) == edition].reset_index(drop=True)
    for name, column in CUTOFF_COLUMNS.items():
        t = tables.get(name)
        if t is not None and column in t.columns and not t.empty:
            dates = pd.to_datetime(t[column], errors="coerce")
            out[name] = t[dates.isna() | (dates <= cutoff)].reset_index(drop=True)
    inspections = out.get("inspections")
    if inspections is not None and "inspection_id" in inspections.columns:
        kept = set(inspections["inspection_id"].astype(str))
        for name in ("inspection_standards", "inspection_key_questions"):
            t = out.get(name)
            if t is not None and "inspection_id" in t.columns:
                out[name] = t[t["inspection_id"].astype(str).isin(kept)].reset_index(drop=True)
    return out


def validate_area(area_id: str) -> ValidationReport:
    """The validation report for an area without raising on critical failures."""
    try:
        return load_area(area_id, raise_on_critical=False).report
    except DataContractError as exc:
        return exc.report or ValidationReport()


def validate_areas(area_ids: list[str]) -> dict[str, ValidationReport]:
    """The validation reports of several areas, as ``validate_area`` gives each, in one pass over the files.

    Unknown areas, unreadable files and failing indicator definitions raise, as in ``load_area``.
    """
    for a in area_ids:
        check_area(a)
    if not area_ids:
        return {}
    return {a: v.report for a, v in _validate_areas(list(area_ids)).items()}


def is_synthetic(area: dict) -> bool:
    """Whether an area (a row of areas.csv) is a demonstration made from synthetic data (``data_kind``).

    The one place that decides it: plans, the comparison, the index and the CLI all ask here.
    """
    return str(area.get("data_kind", "published")).strip() == "synthetic"


#: Pounds per unit of the ``unit`` column of budget.csv (Warwickshire publishes in £000).
GBP_PER_UNIT = {"GBP": 1.0, "GBP_thousands": 1000.0}


def budget_in_pounds(budget: pd.DataFrame) -> pd.DataFrame:
    """A copy of a typed money table (budget, grant expenditure) with ``amount_gbp``: every amount in pounds
    (the one conversion)."""
    b = budget.copy()
    b["amount_gbp"] = b["amount"] * b["unit"].map(GBP_PER_UNIT)
    return b
