"""Reading the curated CSV tables: file-level checks, then typed frames.

File-level problems (missing, empty, not UTF-8, not parseable as CSV) are reported here with
the file and line; everything about columns, types and values is checked by the data contracts
(``pipeline.contracts``), which run Great Expectations over the frames read here.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from .errors import DataFileError
from .paths import data_dir

LINE_COLUMN = "_line"
"""Column added to every frame: the line of the source file the row came from (header = 1)."""


def table_path(table: str, base: Path | None = None) -> Path:
    """Path of a curated table, e.g. ``indicators`` -> ``data/indicators.csv``."""
    return (base or data_dir()) / f"{table}.csv"


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_text(path: Path, what: str = "table") -> str:
    """The file's text, or a DataFileError naming the file and what is wrong with it."""
    shown = _display(path)
    if not path.exists():
        raise DataFileError(f"{shown}: file not found (expected the {what}; see data/README.md)")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataFileError(f"{shown}: file is empty (expected a header row and at least one data row)")
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
        raise DataFileError(f"{shown}: file is empty (expected a header row and at least one data row)")
    header = [h.strip() for h in rows[0]]
    if len(rows) == 1:
        raise DataFileError(f"{shown}: has a header row but no data rows")
    records, lines = [], []
    physical = _physical_lines(text)
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise DataFileError(
                f"{shown}: line {physical[i]}: {len(row)} fields, expected {len(header)} "
                f"(one per column: {', '.join(header)}); quote any value that contains a comma"
            )
        records.append([cell.strip() for cell in row])
        lines.append(physical[i])
    frame = pd.DataFrame(records, columns=header, dtype=object)
    frame[LINE_COLUMN] = lines
    return frame


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
