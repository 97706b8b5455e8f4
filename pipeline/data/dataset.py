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

from . import reconcile
from .contracts import (HEADER_ONLY, Outcome, ValidationReport, header_outcomes, load_suite, outcomes_for_area,
                        typed_frame, validate_frames)
from ..errors import DataContractError, DataFileError, UnknownAreaError
from .ids import ID_RULE, InvalidIdError, check_area_id
from .loaders import LINE_COLUMN, read_raw_table, read_text, table_path
from ..paths import content_dir, contracts_dir, data_dir

AREA_TABLES = (
    "indicators",
    "budget",
    "grant_expenditure",
    "staffing",
    "measures",
    "inspections",
    "inspection_standards",
    "inspection_key_questions",
)
SHARED_TABLES = ("areas", "indicator_definitions")
ALL_TABLES = SHARED_TABLES + AREA_TABLES


@dataclass
class AreaData:
    """Validated, typed inputs of one area's plan."""

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
    """Area id, name, service, region, plan period and data kind of every area in areas.csv."""
    raw = read_areas(base)
    cols = [c for c in ("area_id", "area_name", "service_name", "region", "plan_period_label", "data_kind") if c in raw]
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
    """An area's row of areas.csv, as text (names, plan period, data kind)."""
    check_area(area_id)
    raw = read_areas()
    return {k: v for k, v in raw[raw["area_id"] == area_id].iloc[0].to_dict().items() if k != LINE_COLUMN}


def read_content(area_id: str) -> dict:
    """The analyst-edited narrative for an area (``data/content/<area_id>.yml``)."""
    path = content_dir() / f"{check_area_id(area_id)}.yml"
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
                    run_gx: bool = True) -> dict[str, tuple[ValidationReport, pd.DataFrame | None]]:
    """Each part (an area's rows of ``table``) validated against the table's contract, or only typed."""
    suite = load_suite(table, contracts_dir())
    preparer = reconcile.PREPARERS.get(table)
    prepare = (lambda typed, raw_: preparer(typed, raw_, definitions)) if preparer else None
    if not run_gx:
        return {key: (ValidationReport(), typed_frame(raw, suite, prepare)) for key, raw in parts.items()}
    return validate_frames(parts, suite, _label(table_path(table)), parameters=parameters, prepare=prepare)


_ORPHANS = "\0rows of no listed area"


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


def _validate_areas(area_ids: list[str], run_gx: bool = True) -> dict[str, _Validated]:
    """Every table of each area validated (one GX run per table and stage for all of them), or only typed.

    The shared tables are validated once; each area's rows of the other tables are validated as
    if on their own (``contracts.validate_frames``), so an area's report never depends on another
    area's rows. Raises DataContractError when the indicator definitions fail critically (nothing
    else can be checked without them).
    """
    areas_raw = read_areas()
    definitions_raw = read_raw_table(table_path("indicator_definitions"))
    parameters = {
        "area_ids": sorted(set(areas_raw["area_id"])) if "area_id" in areas_raw else [],
        "indicator_ids": sorted(set(definitions_raw["indicator_id"])) if "indicator_id" in definitions_raw else [],
    }
    areas_report, areas_typed = _validate_parts("areas", {"": areas_raw}, parameters, None, run_gx)[""]
    defs_report, definitions = _validate_parts("indicator_definitions", {"": definitions_raw}, parameters, None, run_gx)[""]
    reports = {a: ValidationReport() for a in area_ids}
    for a in area_ids:
        reports[a].extend(outcomes_for_area(areas_report, a))
        reports[a].extend(ValidationReport(list(defs_report.outcomes)))
    if definitions is None:
        reports[area_ids[0]].raise_for_critical()

    tables: dict[str, dict[str, pd.DataFrame]] = {a: {} for a in area_ids}
    for table in AREA_TABLES:
        raw_all = read_raw_table(table_path(table))
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
        validated = _validate_parts(table, parts, parameters, definitions, run_gx)
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
        )
        for a in area_ids
    }


def load_area(area_id: str, raise_on_critical: bool = True, report: ValidationReport | None = None) -> AreaData:
    """Validated inputs of one area; raises on unknown area, bad files or critical contract failures.

    With ``report`` (a validation already run by the build driver over the same inputs) Great
    Expectations is not run again: the tables are only converted and reconciled, and the given
    report travels with the data.
    """
    check_area(area_id)
    if report is not None and not report.ok:
        report.raise_for_critical()
    validated = _validate_areas([area_id], run_gx=report is None)[area_id]
    report = report if report is not None else validated.report
    if raise_on_critical:
        report.raise_for_critical()
    return AreaData(
        area=validated.area_row,
        definitions=validated.definitions,
        tables=validated.tables,
        content=read_content(area_id),
        report=report,
        files={t: table_path(t) for t in ALL_TABLES},
    )


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
