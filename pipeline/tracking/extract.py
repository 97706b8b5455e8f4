"""Reading and validating a case-management extract (``data_contracts/case_extract.md``).

``load_extract`` reads a CSV or Excel (.xlsx) file, rejects columns that look like direct
identifiers, runs the ``case_extract`` data contract through the project's Great Expectations
runner (``pipeline.contracts.validate_frame``) and returns the extract in its canonical form:
one row per proven offence and its outcome, dates as datetime64, ages and gravity scores as
integers, blank optional codes as ``""``.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import pandas as pd

from ..contracts import Outcome, Suite, ValidationReport, load_suite, validate_frame
from ..errors import DataFileError
from ..loaders import LINE_COLUMN, read_raw_table
from ..paths import contracts_dir
from . import codes

DATE_COLUMNS = ("offence_date", "outcome_date", "release_date")
DATE_DTYPE = "datetime64[ns]"
INT_COLUMNS = ("age_at_offence", "gravity_score")
TEXT_COLUMNS = tuple(c for c in codes.COLUMNS if c not in DATE_COLUMNS + INT_COLUMNS)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- reading files


def read_raw_extract(path: str | Path) -> pd.DataFrame:
    """All cells as text with the source line (CSV) or sheet row (Excel) of each row in ``_line``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_raw_excel(path)
    if suffix == ".xls":
        raise DataFileError(f"{_display(path)}: old-style .xls workbooks are not read; save the sheet as .xlsx or 'CSV UTF-8'")
    return read_raw_table(path)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_raw_excel(path: Path) -> pd.DataFrame:
    shown = _display(path)
    if not path.exists():
        raise DataFileError(f"{shown}: file not found (expected a case-management extract; see data_contracts/case_extract.md)")
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the environment
        raise DataFileError(f"{shown}: reading .xlsx files needs the 'openpyxl' package; install it or save the sheet as 'CSV UTF-8'") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise DataFileError(f"{shown}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        names = book.sheetnames
        preferred = [n for n in names if n.strip().lower() in ("case_extract", "extract")]
        sheet = book[preferred[0] if preferred else names[0]]
        rows = [(i, [_cell_text(v) for v in row]) for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()
    rows = [(i, r) for i, r in rows if any(cell for cell in r)]
    if not rows:
        raise DataFileError(f"{shown}: the sheet is empty (expected a header row and at least one data row)")
    header_line, header = rows[0]
    while header and not header[-1]:
        header = header[:-1]
    if len(rows) == 1:
        raise DataFileError(f"{shown}: has a header row but no data rows")
    width = len(header)
    records, lines = [], []
    for line, row in rows[1:]:
        if any(row[width:]):
            raise DataFileError(
                f"{shown}: row {line}: a value stands beyond the last named column ({header[-1]!r}); "
                f"expected {width} columns: {', '.join(header)}"
            )
        records.append((row + [""] * width)[:width])
        lines.append(line)
    frame = pd.DataFrame(records, columns=[h.strip() for h in header], dtype=object)
    frame[LINE_COLUMN] = lines
    return frame


# --------------------------------------------------------------------------- direct identifiers


def _normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def identifier_outcomes(raw: pd.DataFrame, suite: Suite, file_label: str) -> list[Outcome]:
    """One failed outcome per column that looks like a direct identifier (by its name or its values)."""
    rules = suite.meta.get("direct_identifiers") or {}
    declared = set(codes.COLUMNS)
    outcomes = []
    for column in raw.columns:
        if column == LINE_COLUMN or column in declared:
            continue
        header = _normalise_header(column)
        reason, rows, details = None, [], []
        for rule in rules.get("header_rules", []):
            if re.search(rule["pattern"], header):
                reason = f"its name looks like {rule['what']}"
                break
        if reason is None:
            values = raw[column].astype(str)
            for rule in rules.get("value_rules", []):
                hits = values.str.contains(rule["pattern"], regex=True, na=False)
                if hits.any():
                    reason = f"its values look like {rule['what']}"
                    rows = [int(x) for x in raw.loc[hits, LINE_COLUMN].head(10)]
                    details = [f"line {r}: value withheld" for r in rows[:5]]
                    break
        if reason:
            outcomes.append(
                Outcome(
                    table=codes.TABLE,
                    file=file_label,
                    expectation="no_direct_identifiers",
                    column=str(column),
                    severity="critical",
                    stage="raw",
                    success=False,
                    description=(
                        f"column '{column}' is rejected: {reason}. The extract must not contain direct identifiers "
                        "(names, addresses, full dates of birth, PNC or other reference numbers); remove the column "
                        "and identify children only by the pseudonymous child_id"
                    ),
                    rows=rows,
                    details=details,
                )
            )
    return outcomes


# --------------------------------------------------------------------------- contract preparation


def _age_from_birth_month(birth_month: pd.Series, offence_date: pd.Series) -> pd.Series:
    """Completed years on the offence date, taking the birthday as the 1st of the birth month.

    A birth month leaves a year of uncertainty; the 1st is the earliest possible birthday, so
    the age is never understated and a child is never wrongly taken to be under 10.
    """
    parts = birth_month.fillna("").astype(str).str.extract(r"^(\d{4})-(\d{2})$")
    year = pd.to_numeric(parts[0], errors="coerce")
    month = pd.to_numeric(parts[1], errors="coerce")
    off_year = offence_date.dt.year
    off_month = offence_date.dt.month
    return (off_year - year - (off_month < month).astype(float)).astype(float)


def _prepare(typed: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """Derived columns the typed-stage expectations check."""
    typed = typed.copy()
    given = typed["age_at_offence"].astype(float)
    derived = _age_from_birth_month(typed["birth_month"], typed["offence_date"])
    typed["age_difference"] = (derived - given).fillna(0.0)
    typed["age_at_offence"] = given.fillna(derived)
    per_child = typed.groupby(["area_id", "child_id"])[["sex", "ethnicity"]].transform("nunique")
    typed["child_attributes_consistent"] = (per_child["sex"] <= 1) & (per_child["ethnicity"] <= 1)
    return typed


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """The extract with the documented columns and dtypes (text codes, datetime64 dates, int ages).

    Accepts a typed frame from the contract runner, a frame from ``pipeline.synthetic`` or any
    frame with the documented columns (dates may be ISO text).
    """
    missing = [c for c in codes.COLUMNS if c not in frame.columns and c not in codes.OPTIONAL_COLUMNS]
    if missing:
        raise DataFileError(f"case extract: missing columns {', '.join(missing)} (see data_contracts/case_extract.md)")
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for col in codes.COLUMNS:
        if col not in frame.columns:
            values = pd.Series(codes.OPTIONAL_COLUMNS[col], index=out.index)
        else:
            values = frame[col].reset_index(drop=True)
        if col in DATE_COLUMNS:
            if not pd.api.types.is_datetime64_any_dtype(values):
                values = pd.to_datetime(values.where(values.astype(str).str.strip() != ""), format="%Y-%m-%d")
            out[col] = values.astype(DATE_DTYPE)
        elif col in INT_COLUMNS:
            if col == "age_at_offence" and values.isna().any() and "birth_month" in frame.columns:
                values = values.astype(float).fillna(
                    _age_from_birth_month(frame["birth_month"].reset_index(drop=True), out["offence_date"])
                )
            out[col] = values.astype("int64")
        else:
            out[col] = values.fillna("").astype(str)
    out.attrs.update(frame.attrs)
    kinds = set(out["data_kind"].unique())
    out.attrs["data_kind"] = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else codes.OPTIONAL_COLUMNS["data_kind"])
    return out


def ensure_extract(extract: pd.DataFrame) -> pd.DataFrame:
    """``extract`` itself when it is already canonical, else its canonical form."""
    if (
        list(extract.columns) == list(codes.COLUMNS)
        and all(extract[c].dtype == DATE_DTYPE for c in DATE_COLUMNS)
        and all(pd.api.types.is_integer_dtype(extract[c]) for c in INT_COLUMNS)
    ):
        return extract
    return canonical(extract)


# --------------------------------------------------------------------------- public API


def load_extract(path: str | Path, suite: Suite | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Read, check and type a case-management extract (CSV or .xlsx).

    Raises DataFileError for file-level problems (missing, empty, not UTF-8, ragged rows) and
    DataContractError for a column that looks like a direct identifier or any critical
    contract failure; the message names the file, line, column and what was expected.
    Warnings are returned in the report for the plan's data-quality appendix.
    """
    path = Path(path)
    label = _display(path)
    suite = suite or load_suite(codes.TABLE, contracts_dir())
    raw = read_raw_extract(path)
    raw.columns = [str(c).strip() for c in raw.columns]

    report = ValidationReport(identifier_outcomes(raw, suite, label))
    report.raise_for_critical()

    optional = suite.meta.get("optional_columns") or codes.OPTIONAL_COLUMNS
    for column, default in optional.items():
        if column not in raw.columns:
            raw[column] = default
            report.outcomes.append(
                Outcome(
                    table=codes.TABLE,
                    file=label,
                    expectation="optional_column_supplied",
                    column=column,
                    severity="info",
                    stage="raw",
                    success=False,
                    description=f"optional column '{column}' is not in the file; taken as "
                    + (f"'{default}'" if default else "blank")
                    + (" (remand figures are not reported)" if column == "remand_status" else ""),
                )
            )
    ordered = [c for c in codes.COLUMNS if c in raw.columns] + [c for c in raw.columns if c not in codes.COLUMNS]
    raw = raw[ordered]

    contract_report, typed = validate_frame(raw, suite, label, prepare=_prepare)
    report.extend(contract_report)
    report.raise_for_critical()
    extract = canonical(typed)
    extract.attrs["source"] = label
    return extract, report
