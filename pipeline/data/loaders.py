"""Reading the curated CSV tables: file-level checks, then typed frames.

File-level problems (missing, empty, not UTF-8, not parseable as CSV) are reported here with
the file and line; everything about columns, types and values is checked by the data contracts
(``pipeline.data.contracts``), which run Great Expectations over the frames read here.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ..paths import data_dir

LINE_COLUMN = "_line"
"""Column added to every frame: the line of the source file the row came from (header = 1)."""


def table_path(table: str, base: Path | None = None) -> Path:
    """Path of a curated table, e.g. ``indicators`` -> ``data/indicators.csv``."""
    return (base or data_dir()) / f"{table}.csv"


def _display(path: Path) -> str:
    """The path as shown in messages: relative to the data folder's parent (``data/indicators.csv``), else to
    the working folder; never an absolute path (messages can reach the published site), only the file name."""
    path = Path(path)
    for base in (data_dir().parent, Path.cwd()):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except (ValueError, OSError):
            continue
    return path.name


#: Signatures of files that are not text: an .xlsx/.xlsm workbook is a zip archive, an old .xls an OLE2 file.
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

CSV_EMPTY = "expected a header row and at least one data row"


def binary_kind(raw: bytes) -> str | None:
    """'an Excel workbook (.xlsx)' / 'an old Excel workbook (.xls)' when the bytes are one, else None."""
    if raw.startswith(_ZIP_MAGIC):
        return "an Excel workbook (.xlsx), or another zip archive"
    if raw.startswith(_OLE2_MAGIC):
        return "an old-style Excel workbook (.xls)"
    return None


def read_text(path: Path, what: str = "table", empty: str = CSV_EMPTY, kind: str = "CSV UTF-8") -> str:
    """The file's text, or a DataFileError naming the file and what is wrong with it.

    ``empty`` says what a file should hold (shown when it is empty); ``kind`` how to re-save a file
    that is not UTF-8 text ('CSV UTF-8' for tables).
    """
    shown = _display(path)
    if not path.exists():
        raise DataFileError(f"{shown}: file not found (expected the {what}; see data/README.md)")
    if path.is_dir():
        raise DataFileError(f"{shown}: is a folder, not a file (expected the {what})")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataFileError(f"{shown}: file is empty ({empty})")
    binary = binary_kind(raw)
    if binary:
        raise DataFileError(
            f"{shown}: line 1, column 1: this file is {binary}, not text, although its name ends "
            f"'{path.suffix}'; open it in Excel and save it as '{kind}' (File > Save As > {kind})"
            if kind == "CSV UTF-8"
            else f"{shown}: line 1, column 1: this file is {binary}, not text (expected the {what} as {kind})"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataFileError(
            f"{shown}: line {line}, character {col}: byte 0x{raw[exc.start]:02x} is not valid UTF-8 "
            f"(expected a UTF-8 encoded file; re-save it as 'CSV UTF-8')"
        ) from None
    return text


def read_raw_table(path: Path) -> pd.DataFrame:
    """All cells as strings (blank cells as ''), with the source line of each row in ``_line``."""
    text = read_text(path, what=f"'{path.stem}' table")
    shown = _display(path)
    try:
        rows = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as exc:
        raise DataFileError(f"{shown}: not a readable CSV file ({exc})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)] if rows else rows
    if not rows:
        raise DataFileError(f"{shown}: file is empty ({CSV_EMPTY})")
    header = [h.strip() for h in rows[0]]
    check_header(header, shown)
    if len(rows) == 1:
        raise DataFileError(f"{shown}: has a header row but no data rows")
    records, lines = [], []
    physical = _physical_lines(text)
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            trailing = len(row) > len(header) and not any(cell.strip() for cell in row[len(header):])
            raise DataFileError(
                f"{shown}: line {physical[i]}: {len(row)} fields, expected {len(header)} "
                f"(one per column: {', '.join(header)}; the first "
                f"{'extra' if len(row) > len(header) else 'missing'} field is column {min(len(row), len(header)) + 1}); "
                + ("remove the trailing comma at the end of the line" if trailing else "quote any value that contains a comma")
            )
        records.append([cell.strip() for cell in row])
        lines.append(physical[i])
    frame = pd.DataFrame(records, columns=header, dtype=object)
    frame[LINE_COLUMN] = lines
    return frame


def check_header(header: list[str], shown: str, line: int = 1) -> None:
    """Raise DataFileError for a header cell with no name (e.g. a trailing comma) or a name given twice."""
    named = [h for h in header if h]
    for position, name in enumerate(header, start=1):
        if not name:
            trailing = all(not h for h in header[position - 1:])
            raise DataFileError(
                f"{shown}: line {line}, column {position}: the header has a column with no name"
                + (" (a trailing comma at the end of the header row?)" if trailing else "")
                + f"; expected one name per column ({', '.join(named)}); remove the extra delimiter or name the column"
            )
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name in seen:
            raise DataFileError(
                f"{shown}: line {line}, column {position}: column '{name}' appears twice (also column {seen[name]}); "
                "expected each column once"
            )
        seen[name] = position


def _physical_lines(text: str) -> list[int]:
    """Line number at which each CSV record starts (records may span lines inside quotes)."""
    starts, line, in_quotes, at_record_start = [], 1, False, True
    for ch in text:
        if at_record_start:
            starts.append(line)
            at_record_start = False
        if ch == '"':
            in_quotes = not in_quotes
        if ch == "\n":
            line += 1
            if not in_quotes:
                at_record_start = True
    # csv.reader drops records that are entirely empty lines; mirror that.
    lines_text = text.split("\n")
    return [s for s in starts if s - 1 < len(lines_text) and lines_text[s - 1].strip(" ,\r")] or starts


def to_number(value: str) -> float:
    """A published number as float: accepts thousands separators and a leading '£'."""
    cleaned = value.replace(",", "").replace("£", "").strip()
    return float(cleaned)


def decimals(value: str) -> int:
    """How many decimal places a published number was printed with ("37.6" -> 1, "240" -> 0)."""
    cleaned = value.replace(",", "").strip()
    if "." not in cleaned:
        return 0
    return len(cleaned.split(".", 1)[1])
