"""Reading and validating a case-management extract (``data_contracts/case_extract.md``).

``load_extract`` reads a CSV or Excel (.xlsx) file, rejects columns that look like direct
identifiers, runs the ``case_extract`` data contract through the project's Great Expectations
runner (``pipeline.data.contracts.validate_frame``) and returns the extract in its canonical form:
one row per proven offence and its outcome, dates as datetime64, ages and gravity scores as
integers, blank optional codes as ``""``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import re
from pathlib import Path

import pandas as pd

from ...data.contracts import Outcome, Suite, ValidationReport, load_suite, validate_frame
from ...errors import DataFileError
from ...data.ids import check_area_id
from ...data.loaders import LINE_COLUMN, binary_kind, check_header, read_raw_table
from ...paths import contracts_dir, data_dir
from . import codes, kpi_columns

DATE_COLUMNS = ("offence_date", "outcome_date", "release_date")
DATE_DTYPE = "datetime64[ns]"
INT_COLUMNS = ("age_at_offence", "gravity_score")


TRACKING_CONFIG = "data/tracking.yml"


def _display(path: Path) -> str:
    """How an extract is named in messages, which can reach the published site: its path relative to the data
    folder (as ``data/tracking.yml`` gives it) when it lies beside the data, else only its file name."""
    path = Path(path)
    try:
        resolved, data = path.resolve(), data_dir().resolve()
        if resolved.is_relative_to(data.parent):
            return os.path.relpath(resolved, data)
    except (OSError, ValueError):
        pass
    return path.name


# --------------------------------------------------------------------------- reading files


def read_raw_extract(path: str | Path) -> pd.DataFrame:
    """All cells as text with the source line (CSV) or sheet row (Excel) of each row in ``_line``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_raw_excel(path)
    if path.is_file():
        with path.open("rb") as fh:
            binary = binary_kind(fh.read(8))
        if binary:
            raise DataFileError(
                f"{_display(path)}: line 1, column 1: this file is {binary}, not text, although its name ends '{path.suffix}'; "
                "open it in Excel and save it as 'CSV UTF-8', or give it the .xlsx extension"
            )
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
    check_header([h.strip() for h in header], shown, line=header_line)
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
    """A column name as lower-case words joined by '_': 'ChildName' -> 'child_name', 'Young Person' ->
    'young_person', 'PNCNumber' -> 'pnc_number', 'date-of-birth' -> 'date_of_birth'."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", str(name))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


#: Columns whose values are screened for identifiers although they are part of the format: free codes that the
#: contract checks only for their shape (an NHS number or a date would pass it).
SCREENED_ID_COLUMNS = ("record_id", "child_id")

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: A full date this many years or more before the offence is a date of birth (children are 10 to 17).
DOB_MIN_YEARS = 8


def _nhs_ok(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if len(digits) != 10:
        return False
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == digits[9]


def _upn_ok(text: str) -> bool:
    text = text.upper()
    values = [int(c) if c.isdigit() else _UPN_LETTERS.find(c) for c in text[1:]]
    if len(text) != 13 or any(v < 0 for v in values):
        return False
    return _UPN_LETTERS[sum(v * w for v, w in zip(values, range(2, 14))) % 23] == text[0]


def _date_years(text: str) -> list[int]:
    """Years of the full dates written in ``text`` (ISO, day/month/year either way round, '5 April 2003')."""
    years = []
    for y, m, d in re.findall(r"(?<![0-9])([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?![0-9])", text):
        years.append((int(y), int(m), int(d)))
    for a, b, y in re.findall(r"(?<![0-9])([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4}|[0-9]{2})(?![0-9])", text):
        year = int(y) if len(y) == 4 else 2000 + int(y) if int(y) < 50 else 1900 + int(y)
        years += [(year, int(b), int(a)), (year, int(a), int(b))]
    for d, mon, y in re.findall(r"(?<![0-9])([0-9]{1,2})(?:st|nd|rd|th)? ([A-Za-z]{3})[a-z]* ([0-9]{4})(?![0-9])", text):
        if mon.lower() in _MONTHS:
            years.append((int(y), _MONTHS.index(mon.lower()) + 1, int(d)))
    out = []
    for y, m, d in years:
        try:
            out.append(_dt.date(y, m, d).year)
        except ValueError:
            continue
    return out


def _reference_years(raw: pd.DataFrame, as_of) -> pd.Series:
    """Per row, the year a date of birth is compared with: the offence date's, else as_of's (else this year's)."""
    fallback = pd.Timestamp(as_of).year if as_of is not None else _dt.date.today().year
    if "offence_date" not in raw.columns:
        return pd.Series(fallback, index=raw.index)
    years = pd.to_datetime(raw["offence_date"].astype(str).str.strip(), format="%Y-%m-%d", errors="coerce").dt.year
    return years.fillna(fallback).astype(int)


def _value_hits(values: pd.Series, rule: dict, reference_years: pd.Series) -> pd.Series:
    """Which cells match a value rule (confirmed by its ``check``)."""
    found = values.str.contains(rule["pattern"], regex=True, na=False, flags=re.IGNORECASE if rule.get("check") == "date_of_birth" else 0)
    check = rule.get("check")
    if not found.any() or not check:
        return found
    confirmed = pd.Series(False, index=values.index)
    for idx in found[found].index:
        text = values[idx]
        if check == "nhs_modulus_11":
            confirmed[idx] = any(_nhs_ok(m) for m in re.findall(rule["pattern"], text))
        elif check == "upn_check_letter":
            confirmed[idx] = any(_upn_ok(m) or not m[-1].isdigit() for m in re.findall(rule["pattern"], text))
        elif check == "date_of_birth":
            confirmed[idx] = any(year <= reference_years[idx] - DOB_MIN_YEARS for year in _date_years(text))
        else:
            raise ValueError(f"case_extract.json: unknown identifier check {check!r}")
    return confirmed


def looks_like_identifier(value, rules: dict | None = None, dates: bool = True) -> str | None:
    """What kind of direct identifier a single value looks like (any value rule; with ``dates``, any full
    date counts as a date of birth), or None. Used to withhold values from messages."""
    if not isinstance(value, str) or not value.strip():
        return None
    rules = rules if rules is not None else _rules()
    cell = pd.Series([value])
    year = pd.Series([9999 + DOB_MIN_YEARS])  # any full date counts here
    for rule in rules.get("value_rules", []):
        if rule.get("check") == "date_of_birth" and not dates:
            continue
        if _value_hits(cell, rule, year).iloc[0]:
            return rule["what"]
    return None


def _rules() -> dict:
    return load_suite(codes.TABLE, contracts_dir()).meta.get("direct_identifiers") or {}


def identifier_outcomes(raw: pd.DataFrame, suite: Suite, file_label: str, as_of=None) -> list[Outcome]:
    """One failed outcome per column that looks like it holds a direct identifier, by its name or its values.

    Columns outside the format are screened by name (split into words, so 'ChildName' is a name) and by
    value; the free-text id columns of the format (``SCREENED_ID_COLUMNS``) by value. A message names the
    file, column, line numbers and the kind of identifier, never the value (it is a child's data).
    """
    rules = suite.meta.get("direct_identifiers") or {}
    declared = set(codes.COLUMNS)
    reference_years = _reference_years(raw, as_of)
    outcomes = []
    for column in raw.columns:
        if column == LINE_COLUMN or (column in declared and column not in SCREENED_ID_COLUMNS):
            continue
        free_text = column not in declared
        reason, rows = None, []
        if free_text:
            header = _normalise_header(column)
            for rule in rules.get("header_rules", []):
                if re.search(rule["pattern"], header) or re.search(rule["pattern"], header.replace("_", "")):
                    reason = f"its name looks like {rule['what']}"
                    break
        if reason is None:
            values = raw[column].astype(str)
            for rule in rules.get("value_rules", []):
                if rule.get("free_text_only") and not free_text:
                    continue
                hits = _value_hits(values, rule, reference_years)
                if hits.any():
                    reason = f"its values look like {rule['what']}"
                    rows = [int(x) for x in raw.loc[hits, LINE_COLUMN]]
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
                        f"column '{column}' is rejected: {reason}"
                        + (" (the values are not repeated here)" if rows else "")
                        + ". The extract must not contain direct identifiers (names, addresses, postcodes, full dates of "
                        "birth, PNC, NHS or unique pupil numbers, e-mail addresses); "
                        + ("remove the column and identify children only by the pseudonymous child_id" if free_text else
                           f"replace the {column} values with pseudonymous codes")
                    ),
                    rows=rows,
                    details=[],
                )
            )
    return outcomes


def _redactor(rules: dict):
    """Withholds from contract messages the values of child-level columns and any value shaped like an identifier."""
    def redact(column: str, value) -> str | None:
        if column in ("child_id", "birth_month"):
            return "withheld"
        kind = looks_like_identifier(value, rules, dates=column not in DATE_COLUMNS)
        return f"withheld: looks like {kind}" if kind else None
    return redact


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


def _prepare(typed: pd.DataFrame, raw: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Derived columns the typed-stage expectations check."""
    typed = typed.copy()
    if as_of is not None:
        late = pd.Series(False, index=typed.index)
        for col in DATE_COLUMNS:
            late |= typed[col].notna() & (typed[col] > as_of)
        typed["dated_by_as_of"] = ~late
    else:
        typed["dated_by_as_of"] = True
    birth = pd.to_datetime(typed["birth_month"].fillna("").astype(str) + "-01", format="%Y-%m-%d", errors="coerce")
    typed["offence_after_birth"] = ~(birth.notna() & typed["offence_date"].notna() & (typed["offence_date"] < birth))
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
    out = kpi_columns.append_canonical(frame, out)  # the optional KPI columns, when the frame has them
    out.attrs.update(frame.attrs)
    kinds = set(out["data_kind"].unique())
    out.attrs["data_kind"] = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else codes.OPTIONAL_COLUMNS["data_kind"])
    return out


def ensure_extract(extract: pd.DataFrame) -> pd.DataFrame:
    """``extract`` itself when it is already canonical, else its canonical form."""
    if (
        list(extract.columns[: len(codes.COLUMNS)]) == list(codes.COLUMNS)
        and kpi_columns.is_canonical(extract)
        and all(extract[c].dtype == DATE_DTYPE for c in DATE_COLUMNS)
        and all(pd.api.types.is_integer_dtype(extract[c]) for c in INT_COLUMNS)
    ):
        return extract
    return canonical(extract)


# --------------------------------------------------------------------------- public API


def _as_of(as_of, area_id: str | None) -> pd.Timestamp | None:
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return None
    try:
        value = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        value = pd.NaT
    if pd.isna(value):
        where = f" for area '{area_id}'" if area_id else ""
        raise DataFileError(f"{TRACKING_CONFIG}{where}: as_of {str(as_of)[:40]!r} is not a date (expected YYYY-MM-DD, "
                            "the date the extract was taken)")
    return value.normalize()


def load_extract(path: str | Path, suite: Suite | None = None, *, area_id: str | None = None,
                 as_of=None) -> tuple[pd.DataFrame, ValidationReport]:
    """Read, check and type a case-management extract (CSV or .xlsx).

    ``area_id``: the area whose plan is being built; rows of another area are a critical failure.
    ``as_of``: the date the extract was taken (``data/tracking.yml``, a date or 'YYYY-MM-DD'); a record
    dated after it is a critical failure. Either may be None (no check), e.g. for multi-area test extracts.

    Raises DataFileError for file-level problems (missing, empty, not UTF-8, an Excel file named .csv,
    ragged rows) and DataContractError for a column that looks like a direct identifier or any critical
    contract failure; the message names the file, line, column and what was expected, and never repeats
    a value that looks like an identifier. Warnings are returned in the report for the plan's
    data-quality appendix.
    """
    path = Path(path)
    label = _display(path)
    if area_id is not None:
        check_area_id(area_id)
    as_of_date = _as_of(as_of, area_id)
    if not path.is_file():
        configured = f", configured in {TRACKING_CONFIG} for area '{area_id}'" if area_id else ""
        raise DataFileError(
            f"the case-management extract file {label} was not found{configured} "
            "(paths in data/tracking.yml are relative to data/; see data_contracts/case_extract.md)"
        )
    suite = suite or load_suite(codes.TABLE, contracts_dir())
    raw = read_raw_extract(path)
    raw.columns = [str(c).strip() for c in raw.columns]

    report = ValidationReport(identifier_outcomes(raw, suite, label, as_of=as_of_date))
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

    suite = kpi_columns.extend_suite(suite, raw.columns)  # the same suite when the file has no KPI column
    parameters = {}
    if area_id is not None:
        parameters["extract_area_ids"] = [area_id]
    else:  # no area to compare with: the check is not run
        suite = dataclasses.replace(suite, expectations=tuple(
            e for e in suite.expectations
            if not (isinstance(e["kwargs"].get("value_set"), dict) and e["kwargs"]["value_set"].get("$PARAMETER") == "extract_area_ids")
        ))
    contract_report, typed = validate_frame(
        raw, suite, label, parameters=parameters, prepare=lambda t, r: kpi_columns.prepare(_prepare(t, r, as_of_date), as_of_date),
        redact=_redactor(suite.meta.get("direct_identifiers") or {}),
    )
    for outcome in contract_report.outcomes:
        if outcome.column == "dated_by_as_of" and as_of_date is not None:
            outcome.description += f" (as_of {as_of_date.date().isoformat()})"
    report.extend(contract_report)
    report.raise_for_critical()
    extract = canonical(typed)
    extract.attrs["source"] = label
    return extract, report
