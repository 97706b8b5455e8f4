"""Data contracts: Great Expectations suites kept as JSON in ``data_contracts/``.

A suite file is a GX Core 1.x expectation suite (``name``, ``expectations``, ``meta``) with two
conventions of ours, documented in ``data_contracts/README.md``:

* columns are declared with ``expect_column_to_exist`` whose ``meta`` gives ``dtype``
  (``str``, ``float``, ``int``, ``date``) and ``nullable``; from those declarations the runner
  adds the matching GX type and non-null expectations, so each column's type is stated once;
* every expectation has a ``severity`` (``critical`` stops the area's build, ``warning`` is
  carried into the plan's data-quality appendix) and ``meta.stage``: ``raw`` expectations run on
  the cells as text (schema, formats, allowed codes), ``typed`` ones on converted values
  (ranges, periods, reconciliation of published totals and rates).

Values such as the list of known area ids are suite parameters (``{"$PARAMETER": "area_ids"}``),
filled in at run time from the data itself, so adding an area needs no change here.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from ..errors import DataContractError
from .loaders import LINE_COLUMN, to_number
from ..paths import contracts_dir

NUMBER_REGEX = r"^-?[0-9][0-9,]*(?:\.[0-9]+)?$"
INT_REGEX = r"^-?[0-9][0-9,]*$"
#: A real calendar date written YYYY-MM-DD, years 1900-2099: month 01-12, the days the month has, 29 February only in
#: leap years (2000 is one, 1900 is not). An impossible date such as 2017-13-45 or 2017-02-30 fails here, in the raw
#: stage, with its file, line and column, instead of failing the conversion to dates.
DATE_REGEX = (
    r"^(?:(?:19|20)[0-9]{2}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:19|20)(?:0[48]|[2468][048]|[13579][26])-02-29|2000-02-29)$"
)
SEVERITIES = ("critical", "warning", "info")

#: Expectations whose verdict on a row depends on that row alone (GX "map" expectations): a run over
#: several parts' rows together, split by row, gives each part what a run on its own rows gives.
ROW_WISE = frozenset({
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
})
#: Expectations on a table's header only: the same verdict for any subset of its rows.
HEADER_ONLY = frozenset({"expect_column_to_exist", "expect_table_columns_to_match_set"})


@dataclass(frozen=True)
class ColumnSpec:
    """A declared column of a table."""

    name: str
    dtype: str = "str"
    nullable: bool = False
    description: str = ""


@dataclass(frozen=True)
class Suite:
    """A contract: the GX suite JSON plus the column declarations read from it."""

    name: str
    path: Path
    table: str
    columns: tuple[ColumnSpec, ...]
    expectations: tuple[dict, ...]
    meta: dict

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class Outcome:
    """The result of one expectation on one table."""

    table: str
    file: str
    expectation: str
    column: str
    severity: str
    stage: str
    success: bool
    description: str
    rows: list[int] = field(default_factory=list)  # file line numbers of offending rows
    details: list[str] = field(default_factory=list)  # one line per offending row or value
    observed: str = ""
    areas: set[str] = field(default_factory=set)
    #: Ids of what a critical failure left out instead of stopping the build (the indicators whose definition rows
    #: failed: ``dataset._validate_areas``). Empty for every other outcome.
    left_out: list[str] = field(default_factory=list)

    @property
    def stops_build(self) -> bool:
        """A critical failure whose rows were not left out: it stops the build of the areas it concerns."""
        return not self.success and self.severity == "critical" and not self.left_out

    @property
    def status(self) -> str:
        if self.success:
            return "passed"
        if self.left_out:
            return "failed: left out"
        return "failed" if self.severity == "critical" else ("warning" if self.severity == "warning" else "info")

    def message(self) -> str:
        where = f"{self.file}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10]) + (" …" if len(self.rows) > 10 else "")
            where += f", line{'s' if len(self.rows) > 1 else ''} {shown}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.description} [{self.expectation}]"
        if self.details:
            text += "; " + "; ".join(self.details[:5]) + (" …" if len(self.details) > 5 else "")
        elif self.observed:
            text += f"; {self.observed}"
        return text


@dataclass
class ValidationReport:
    """Every expectation run over a set of tables, with helpers for the build and the appendix."""

    outcomes: list[Outcome] = field(default_factory=list)

    def extend(self, other: "ValidationReport") -> None:
        self.outcomes.extend(other.outcomes)

    @property
    def critical_failures(self) -> list[Outcome]:
        """Failures that stop the build (critical, and not left out)."""
        return [o for o in self.outcomes if o.stops_build]

    @property
    def warnings(self) -> list[Outcome]:
        """Failures that do not stop the build: warnings, and critical failures whose rows were left out."""
        return [o for o in self.outcomes if not o.success and not o.stops_build]

    @property
    def left_out(self) -> list[Outcome]:
        """Critical failures whose rows were left out (with ``Outcome.left_out`` naming what)."""
        return [o for o in self.outcomes if not o.success and o.left_out]

    def left_out_ids(self, table: str | None = None) -> list[str]:
        """Ids left out by failures (of ``table`` if given), each once, in order."""
        return list(dict.fromkeys(i for o in self.left_out if table is None or o.table == table for i in o.left_out))

    @property
    def ok(self) -> bool:
        return not self.critical_failures

    def summary(self) -> dict[str, int]:
        return {
            "expectations": len(self.outcomes),
            "passed": sum(o.success for o in self.outcomes),
            "warnings": len(self.warnings),
            "critical": len(self.critical_failures),
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "table": o.table,
                    "file": o.file,
                    "stage": o.stage,
                    "expectation": o.expectation,
                    "column": o.column,
                    "severity": o.severity,
                    "status": o.status,
                    "description": o.description,
                    "rows": ", ".join(map(str, o.rows)),
                    "details": "; ".join(o.details) or o.observed,
                }
                for o in self.outcomes
            ]
        )

    def to_json(self) -> list[dict]:
        return [
            {
                "table": o.table,
                "file": o.file,
                "expectation": o.expectation,
                "column": o.column,
                "severity": o.severity,
                "stage": o.stage,
                "success": o.success,
                "description": o.description,
                "rows": o.rows,
                "details": o.details,
                "observed": o.observed,
                "areas": sorted(o.areas),
                "left_out": list(o.left_out),
            }
            for o in self.outcomes
        ]

    @classmethod
    def from_json(cls, items: Iterable[dict]) -> "ValidationReport":
        return cls(
            [
                Outcome(
                    table=i["table"],
                    file=i["file"],
                    expectation=i["expectation"],
                    column=i["column"],
                    severity=i["severity"],
                    stage=i["stage"],
                    success=i["success"],
                    description=i["description"],
                    rows=list(i["rows"]),
                    details=list(i["details"]),
                    observed=i.get("observed", ""),
                    areas=set(i.get("areas", [])),
                    left_out=list(i.get("left_out", [])),
                )
                for i in items
            ]
        )

    def raise_for_critical(self) -> None:
        """Raise DataContractError listing every critical failure (file, rows, column, expectation)."""
        failures = self.critical_failures
        if failures:
            lines = "\n".join(f"  - {o.message()}" for o in failures)
            raise DataContractError(
                f"{len(failures)} critical data-contract failure{'s' if len(failures) > 1 else ''}:\n{lines}",
                report=self,
            )


# --------------------------------------------------------------------------- suites


def suite_path(table: str, base: Path | None = None) -> Path:
    return (base or contracts_dir()) / f"{table}.json"


def load_suite(table: str, base: Path | None = None) -> Suite:
    """Read ``data_contracts/<table>.json`` and its column declarations."""
    path = suite_path(table, base)
    if not path.exists():
        raise DataContractError(f"{path}: no data contract for table '{table}'")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataContractError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    columns = []
    for exp in doc.get("expectations", []):
        if exp.get("severity", "critical") not in SEVERITIES:
            raise DataContractError(f"{path}: expectation {exp.get('type')}: unknown severity {exp.get('severity')!r}")
        if exp["type"] == "expect_column_to_exist":
            meta = exp.get("meta") or {}
            columns.append(
                ColumnSpec(
                    name=exp["kwargs"]["column"],
                    dtype=meta.get("dtype", "str"),
                    nullable=bool(meta.get("nullable", False)),
                    description=meta.get("description", ""),
                )
            )
    return Suite(
        name=doc["name"],
        path=path,
        table=(doc.get("meta") or {}).get("table", table),
        columns=tuple(columns),
        expectations=tuple(doc.get("expectations", [])),
        meta=doc.get("meta") or {},
    )


#: Columns whose values must be known ids from a reference table, with the suite parameter that lists them: checked
#: in every suite that declares the column, whenever the parameter is given (``reference.parameters()``).
REFERENCE_COLUMNS = {
    "source_document": ("source_ids", "source_document must be a source listed in data/sources.csv (its source_id)"),
}


def generated_expectations(suite: Suite, parameters: dict | None = None) -> list[dict]:
    """The type and non-null expectations implied by the suite's column declarations, and the reference checks of
    ``REFERENCE_COLUMNS`` for the columns the suite declares when ``parameters`` lists their known ids."""
    out: list[dict] = []
    for col in suite.columns:
        ref = REFERENCE_COLUMNS.get(col.name)
        if ref is not None and parameters is not None and ref[0] in parameters:
            out.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": col.name, "value_set": {"$PARAMETER": ref[0]}},
                    "severity": "critical",
                    "meta": {"stage": "raw", "description": ref[1], "generated": True,
                             "show_columns": [c for c in (col.name, "source_section") if c in suite.column_names]},
                }
            )
    for col in suite.columns:
        if not col.nullable:
            out.append(
                {
                    "type": "expect_column_values_to_not_match_regex",
                    "kwargs": {"column": col.name, "regex": r"^\s*$"},
                    "severity": "critical",
                    "meta": {"stage": "raw", "description": f"'{col.name}' must not be blank", "generated": True},
                }
            )
        regex = {"float": NUMBER_REGEX, "int": INT_REGEX, "date": DATE_REGEX}.get(col.dtype)
        if regex:
            what = {"float": "a number", "int": "a whole number",
                    "date": "a date written YYYY-MM-DD that exists in the calendar (e.g. 2018-03-31; years 1900-2099)"}[col.dtype]
            out.append(
                {
                    "type": "expect_column_values_to_match_regex",
                    "kwargs": {"column": col.name, "regex": f"^$|{regex}" if col.nullable else regex},
                    "severity": "critical",
                    "meta": {"stage": "raw", "description": f"'{col.name}' must be {what}", "generated": True},
                }
            )
    return out


# --------------------------------------------------------------------------- GX plumbing


def gx_module():
    """Import Great Expectations (quietly, analytics off) and set up its context; cached after the first call."""
    return _gx()


@lru_cache(maxsize=1)
def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("yjplan").add_dataframe_asset("table").add_batch_definition_whole_dataframe("all")
    )
    return gx, ExpectationConfiguration, context, batch_definition


def _run_gx(frame: pd.DataFrame, suite_name: str, expectations: list[dict], parameters: dict) -> list:
    gx, ExpectationConfiguration, context, batch_definition = _gx()
    # Given to the constructor, every expectation is kept as it is: add_expectation would merge
    # "equalish" ones (distinct expect_column_to_exist entries, GX 1.x) and compares each new
    # expectation with all earlier ones (quadratic in the suite's size).
    suite = gx.ExpectationSuite(
        name=f"{suite_name}-{id(expectations)}",
        expectations=[
            ExpectationConfiguration(
                type=exp["type"], kwargs=dict(exp["kwargs"]), meta={**(exp.get("meta") or {}), "_position": position},
                severity=exp.get("severity", "critical"),
            ).to_domain_obj()
            for position, exp in enumerate(expectations)
        ],
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, expectation_parameters=parameters, result_format={"result_format": "COMPLETE"})
    # GX does not keep the suite's order in its results: put each result back beside its expectation.
    ordered = [None] * len(expectations)
    for res in result.results:
        ordered[int(res.expectation_config.meta["_position"])] = res
    return ordered


def _describe(exp: dict) -> str:
    meta = exp.get("meta") or {}
    if meta.get("description"):
        return meta["description"]
    kw = exp["kwargs"]
    return f"{exp['type'].replace('_', ' ')} ({', '.join(f'{k}={v}' for k, v in kw.items() if k not in ('column', 'row_condition', 'condition_parser'))})"


def _column_of(exp: dict) -> str:
    kw = exp["kwargs"]
    if "column" in kw:
        return kw["column"]
    if "column_A" in kw:
        return f"{kw['column_A']}, {kw['column_B']}"
    if "column_list" in kw:
        return ", ".join(kw["column_list"])
    return ""


#: ``redact(column, value)``: None to show a value in a message, else the text shown instead (e.g. "withheld").
Redactor = Callable[[str, Any], "str | None"]


def _row_detail(frame: pd.DataFrame, idx, show: list[str], column: str, redact: Redactor | None = None) -> str:
    row = frame.loc[idx]
    cols = [c for c in show if c in frame.columns] or ([column] if column in frame.columns else [])
    parts = []
    for c in cols:
        hidden = redact(c, row[c]) if redact is not None else None
        if hidden is not None:
            parts.append(f"{c}=({hidden})")
        else:
            parts.append(f"{c}={row[c]!r}" if isinstance(row[c], str) else f"{c}={_fmt(row[c])}")
    return f"line {row[LINE_COLUMN]}: " + ", ".join(parts)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if pd.isna(value):
            return "blank"
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


#: Known values listed in a failure message at most (the rest are counted).
KNOWN_VALUES_SHOWN = 60


def known_values_text(values) -> str:
    """'known values: a, b, c' (at most ``KNOWN_VALUES_SHOWN``; 'none' for an empty list)."""
    values = [str(v) for v in values]
    shown = ", ".join(values[:KNOWN_VALUES_SHOWN]) + (f" … ({len(values)} in all)" if len(values) > KNOWN_VALUES_SHOWN else "")
    return f"known values: {shown or 'none'}"


def _described(exp: dict, parameters: dict | None) -> str:
    """The expectation's sentence; for a failed check against a parameter list (``{"$PARAMETER": name}``), the list."""
    text = _describe(exp)
    value_set = exp["kwargs"].get("value_set")
    if isinstance(value_set, dict) and "$PARAMETER" in value_set and parameters and value_set["$PARAMETER"] in parameters:
        text += f" ({known_values_text(parameters[value_set['$PARAMETER']])})"
    return text


def _outcomes(table: str, file_label: str, frame: pd.DataFrame, expectations: list[dict], results: list, stage: str,
              part_of: bool = False, redact: Redactor | None = None, parameters: dict | None = None) -> list[Outcome]:
    """One outcome per expectation. With ``part_of``, ``results`` came from a run over more rows than
    ``frame`` (see ``validate_frames``): a row-wise expectation then succeeds when none of ``frame``'s
    own rows is unexpected. A failed check against a parameter list names the known values (``parameters``)."""
    outcomes = []
    own = set(frame.index) if part_of else set()
    for exp, res in zip(expectations, results):
        meta = exp.get("meta") or {}
        column = _column_of(exp)
        success = bool(res.success)
        if part_of and exp["type"] in ROW_WISE:
            success = success or not any(
                (i.get("index") if isinstance(i, dict) else i) in own for i in (res.result or {}).get("unexpected_index_list") or []
            )
        out = Outcome(
            table=table,
            file=file_label,
            expectation=exp["type"],
            column=column,
            severity=exp.get("severity", "critical"),
            stage=stage,
            success=success,
            description=_describe(exp),
        )
        if not out.success:
            out.description = _described(exp, parameters)
        info = res.exception_info or {}
        if info.get("raised_exception"):
            out.success = False
            out.observed = f"could not be evaluated: {str(info.get('exception_message', ''))[:200]}"
        result = res.result or {}
        indexes = result.get("unexpected_index_list") or []
        if indexes and not out.success:
            show = meta.get("show_columns") or [c for c in (column.split(", ") if column else [])]
            idx_values = [i if not isinstance(i, dict) else i.get("index") for i in indexes]
            idx_values = [i for i in idx_values if i in frame.index]
            out.rows = [int(frame.loc[i, LINE_COLUMN]) for i in idx_values]
            out.details = [_row_detail(frame, i, show, column, redact) for i in idx_values]
            if "area_id" in frame.columns:
                out.areas = {str(frame.loc[i, "area_id"]) for i in idx_values}
        elif not out.success and not out.observed:
            observed = result.get("observed_value")
            if observed is not None:
                out.observed = f"observed {observed!r}"
            if exp["type"] in ("expect_column_to_exist", "expect_table_columns_to_match_set"):
                out.observed = _column_hint(frame, exp)
        outcomes.append(out)
    return outcomes


def _column_hint(frame: pd.DataFrame, exp: dict) -> str:
    import difflib

    present = [str(c) for c in frame.columns if c != LINE_COLUMN]
    kw = exp["kwargs"]
    if exp["type"] == "expect_column_to_exist":
        close = difflib.get_close_matches(kw["column"], present, n=1, cutoff=0.6)
        hint = f"; found '{close[0]}' — misspelt?" if close else ""
        return f"column '{kw['column']}' is missing (columns present: {', '.join(_shown_column(c) for c in present)}){hint}"
    # ``_line`` is the loader's own column (the file line of each row), never the file's.
    expected = set(kw.get("column_set") or []) - {LINE_COLUMN}
    missing = sorted(expected - set(present))
    extra = [(i, c) for i, c in enumerate(present, start=1) if c not in expected]
    shown = [f"column {i} has no name (a trailing comma?)" if not c.strip() else f"'{c}'" for i, c in extra]
    return f"missing columns: {', '.join(missing) or 'none'}; unexpected columns: {', '.join(shown) or 'none'}"


def _shown_column(name: str) -> str:
    return name if name.strip() else "(a column with no name)"


# --------------------------------------------------------------------------- public API


def _stages(suite: Suite) -> tuple[list[dict], list[dict]]:
    declared = list(suite.expectations)
    raw_exps = [e for e in declared if (e.get("meta") or {}).get("stage", "raw") == "raw"]
    typed_exps = [e for e in declared if (e.get("meta") or {}).get("stage", "raw") == "typed"]
    return raw_exps, typed_exps


def _raw_runnable(suite: Suite, raw_exps: list[dict], present: set[str], parameters: dict | None = None) -> list[dict]:
    """Raw expectations worth running: column existence first; others only on columns that exist."""
    missing = {c.name for c in suite.columns} - present
    return [
        e
        for e in raw_exps + generated_expectations(suite, parameters)
        if e["type"] in ("expect_column_to_exist", "expect_table_columns_to_match_set")
        or not (set(_column_of(e).split(", ")) & missing)
    ]


def validate_frame(
    raw: pd.DataFrame,
    suite: Suite,
    file_label: str,
    parameters: dict | None = None,
    prepare: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None,
    redact: Redactor | None = None,
) -> tuple[ValidationReport, pd.DataFrame | None]:
    """Validate a raw (all-text) frame against a suite; return the report and the typed frame.

    The raw stage runs first (schema, formats, codes). If it has no critical failure the frame
    is converted to the declared types, ``prepare(typed, raw)`` may add reconciliation columns,
    and the typed stage runs. The typed frame is None when the raw stage failed critically.
    ``redact`` withholds values from the messages (record-level data: see ``pipeline.analysis.tracking.extract``).
    """
    parameters = parameters or {}
    report = ValidationReport()
    raw_exps, typed_exps = _stages(suite)
    raw_runnable = _raw_runnable(suite, raw_exps, set(raw.columns), parameters)
    raw_results = _run_gx(raw, suite.name, raw_runnable, parameters)
    report.outcomes += _outcomes(suite.table, file_label, raw, raw_runnable, raw_results, "raw", redact=redact,
                                 parameters=parameters)
    if report.critical_failures:
        return report, None

    typed = typed_frame(raw, suite, prepare)
    typed_results = _run_gx(typed, suite.name, typed_exps, parameters)
    report.outcomes += _outcomes(suite.table, file_label, typed, typed_exps, typed_results, "typed", redact=redact,
                                 parameters=parameters)
    return report, typed


def validate_frames(
    parts: dict[str, pd.DataFrame],
    suite: Suite,
    file_label: str,
    parameters: dict | None = None,
    prepare: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None,
) -> dict[str, tuple[ValidationReport, pd.DataFrame | None]]:
    """``validate_frame`` for each of several parts of one file (each area's rows), in fewer GX runs.

    Header and row-wise expectations run once over all the parts' rows and each part gets the
    verdict on its own rows; the others (uniqueness, aggregates, any with ``mostly``) run on each
    part alone, so every part's report is exactly the one ``validate_frame`` gives it. Where that
    cannot be guaranteed (parts with different columns or dtypes, shared row labels, an expectation
    GX could not evaluate) each part is validated on its own.
    """
    parameters = parameters or {}

    def one_by_one() -> dict:
        return {key: validate_frame(frame, suite, file_label, parameters, prepare) for key, frame in parts.items()}

    if len(parts) < 2:
        return one_by_one()
    raw_exps, typed_exps = _stages(suite)
    first = next(iter(parts.values()))
    raw_outcomes = _run_parts(suite, file_label, parts, _raw_runnable(suite, raw_exps, set(first.columns), parameters),
                              parameters, "raw")
    if raw_outcomes is None:
        return one_by_one()
    results: dict[str, tuple[ValidationReport, pd.DataFrame | None]] = {}
    typed_parts: dict[str, pd.DataFrame] = {}
    for key, outcomes in raw_outcomes.items():
        report = ValidationReport(outcomes)
        if report.critical_failures:
            results[key] = (report, None)
            continue
        typed = typed_frame(parts[key], suite, prepare)
        typed_parts[key] = typed
        results[key] = (report, typed)
    if typed_parts:
        typed_outcomes = _run_parts(suite, file_label, typed_parts, typed_exps, parameters, "typed")
        if typed_outcomes is None:
            return one_by_one()
        for key, outcomes in typed_outcomes.items():
            results[key][0].outcomes.extend(outcomes)
    return {key: results[key] for key in parts}


def header_outcomes(raw: pd.DataFrame, suite: Suite, file_label: str, parameters: dict | None = None) -> list[Outcome]:
    """The outcomes of the suite's header expectations (column existence, the column set) on ``raw``'s header.

    Their verdict is the same for any subset of a file's rows, so an area with no rows in a file gets
    them too: a file-wide schema failure stops every area, not only those with rows in the file.
    """
    raw_exps, _ = _stages(suite)
    exps = [e for e in _raw_runnable(suite, raw_exps, set(raw.columns), parameters) if e["type"] in HEADER_ONLY]
    if not exps:
        return []
    header = raw.iloc[:0]
    return _outcomes(suite.table, file_label, header, exps, _run_gx(header, suite.name, exps, parameters or {}), "raw")


def _splittable(exp: dict) -> bool:
    return (exp["type"] in ROW_WISE or exp["type"] in HEADER_ONLY) and "mostly" not in exp["kwargs"]


def _run_parts(suite: Suite, file_label: str, parts: dict[str, pd.DataFrame], expectations: list[dict],
               parameters: dict, stage: str) -> dict[str, list[Outcome]] | None:
    """Outcomes of ``expectations`` for each part (in order); None when the shared run cannot be split."""
    shared = [i for i, e in enumerate(expectations) if _splittable(e)]
    own = [i for i, e in enumerate(expectations) if not _splittable(e)]
    outcomes: dict[str, list] = {key: [None] * len(expectations) for key in parts}
    if shared:
        frames = list(parts.values())
        columns, dtypes = list(frames[0].columns), list(frames[0].dtypes)
        if any(list(f.columns) != columns or list(f.dtypes) != dtypes for f in frames):
            return None
        combined = pd.concat(frames)
        if not combined.index.is_unique:
            return None
        exps = [expectations[i] for i in shared]
        results = _run_gx(combined, suite.name, exps, parameters)
        for exp, res in zip(exps, results):
            if (res.exception_info or {}).get("raised_exception"):
                return None
            if not res.success and exp["type"] in ROW_WISE and not (res.result or {}).get("unexpected_index_list"):
                return None
        for key, frame in parts.items():
            for i, out in zip(shared, _outcomes(suite.table, file_label, frame, exps, results, stage, part_of=True,
                                                parameters=parameters)):
                outcomes[key][i] = out
    if own:
        exps = [expectations[i] for i in own]
        for key, frame in parts.items():
            for i, out in zip(own, _outcomes(suite.table, file_label, frame, exps, _run_gx(frame, suite.name, exps, parameters), stage,
                                             parameters=parameters)):
                outcomes[key][i] = out
    return outcomes


def typed_frame(raw: pd.DataFrame, suite: Suite,
                prepare: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
    """The raw frame converted to its declared types, with ``prepare``'s reconciliation columns if given."""
    typed = convert_types(raw, suite)
    return prepare(typed, raw) if prepare is not None else typed


def convert_types(raw: pd.DataFrame, suite: Suite) -> pd.DataFrame:
    """Convert declared columns: numbers to float, dates to Timestamps, blanks to missing."""
    typed = raw.copy()
    for col in suite.columns:
        if col.name not in typed.columns:
            continue
        values = typed[col.name]
        if col.dtype in ("float", "int"):
            typed[col.name] = [to_number(v) if isinstance(v, str) and v.strip() else float("nan") for v in values]
            typed[col.name] = typed[col.name].astype(float)
        elif col.dtype == "date":
            given = values.where(values.astype(str).str.strip() != "")
            converted = pd.to_datetime(given, format="%Y-%m-%d", errors="coerce")
            bad = converted.isna() & given.notna()
            if bad.any():  # the raw stage rejects these first; this guards callers that skip it
                lines = ", ".join(str(x) for x in typed.loc[bad, LINE_COLUMN].head(10)) if LINE_COLUMN in typed else "?"
                raise DataContractError(
                    f"{suite.table}: line(s) {lines}, column '{col.name}': not a real calendar date "
                    "(expected YYYY-MM-DD, e.g. 2018-03-31)"
                )
            typed[col.name] = converted
        else:
            typed[col.name] = values.where(values != "", None)
    return typed


def outcomes_for_area(report: ValidationReport, area_id: str) -> ValidationReport:
    """Outcomes that concern an area: table-wide ones and those whose offending rows are the area's."""
    return ValidationReport([o for o in report.outcomes if o.success or not o.areas or area_id in o.areas])


def write_report(report: ValidationReport, path: Path) -> None:
    path.write_text(json.dumps(report.to_json(), indent=1), encoding="utf-8")


def read_report(path: Path) -> ValidationReport:
    return ValidationReport.from_json(json.loads(path.read_text(encoding="utf-8")))
