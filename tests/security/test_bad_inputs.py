"""Bad inputs are never silently wrong and always get a message naming file, line, column and expectation.

Covers the "silently wrong data" and "messages" parts of the publication-safety issue: identifier screening of
case extracts (item 5), rows of an unknown area and file-wide schema failures (13), impossible dates (14), counts
above their denominator (15), an extract of another area, records after ``as_of`` and offences before birth (16),
and the wording of file-level errors. Crafted inputs only: a private copy of data/ (``data_copy``) or small
synthetic extracts written here.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from pipeline.data import dataset
from pipeline.errors import DataContractError, DataFileError, PipelineError
from pipeline.synthetic import generate_extract, to_csv_text
from pipeline.analysis.tracking import load_extract

from conftest import replace_in, run_cli

KNOWN = ("buckinghamshire", "demoshire", "oxfordshire", "warwickshire")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def good_text() -> str:
    """A small valid synthetic extract (area demoshire, dates up to 2019-03-26); record k is on line k + 1."""
    return to_csv_text(generate_extract(seed=31, scale=0.05))


def write(tmp_path: Path, text: str, name: str = "extract.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def to_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def set_cell(text: str, line: int, column: str, value: str) -> str:
    rows = rows_of(text)
    rows[line - 1][rows[0].index(column)] = value
    return to_text(rows)


def add_column(text: str, name: str, values) -> str:
    """Add a column; ``values(line)`` gives the cell of each data line (line 2 is the first)."""
    rows = rows_of(text)
    return to_text([rows[0] + [name]] + [r + [values(i)] for i, r in enumerate(rows[1:], start=2)])


def extract_failure(path: Path, **kwargs) -> str:
    with pytest.raises(DataContractError) as info:
        load_extract(path, **kwargs)
    return str(info.value)


def set_table_cell(path: Path, line: int, column: str, value: str) -> None:
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def first_line_of(path: Path, area_id: str) -> int:
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    return next(i for i, r in enumerate(rows, start=1) if i > 1 and r[rows[0].index("area_id")] == area_id)


def critical_messages(report) -> str:
    return "\n".join(o.message() for o in report.critical_failures)


def upn(body12: str) -> str:
    """A unique pupil number with its check letter (DfE: weights 2..13, sum mod 23, letters without I O S)."""
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    return letters[sum(int(c) * w for c, w in zip(body12, range(2, 14))) % 23] + body12


# --------------------------------------------------------------------------- item 5: identifiers


@pytest.mark.parametrize(
    "column, value, kind",
    [
        ("ChildName", "Alex", "a name"),  # camelCase header: the word 'name'
        ("Young Person", "Alex Smith", "a name"),  # header says nothing, the values are names
        ("birth_dt", "2003-04-05", "a full date of birth"),
        ("ref_dt", "05/04/2003", "a full date of birth"),  # any header: a date years before the offence
        ("misc", "lives near OX4 2JY", "a postcode"),
        ("ref", "943 476 5919", "an NHS number"),  # valid check digit
        ("pupil", upn("823456789012"), "a unique pupil number"),
        ("extra", "see 17/123456A", "a PNC number"),
    ],
)
def test_identifier_columns_are_rejected_without_echoing_values(tmp_path, good_text, column, value, kind):
    msg = extract_failure(write(tmp_path, add_column(good_text, column, lambda line: value if line in (3, 5) else "")))
    assert f"column '{column}'" in msg and kind in msg
    assert "extract.csv" in msg and "direct identifiers" in msg
    if "its values" in msg:
        assert "lines 3, 5" in msg
    for part in re.split(r"[ /,]+", value):
        if len(part) > 3:
            assert part not in msg, f"the message repeats the value {part!r}: {msg}"


def test_identifiers_in_id_columns_are_rejected(tmp_path, good_text):
    msg = extract_failure(write(tmp_path, set_cell(good_text, 4, "child_id", "9434765919")))
    assert "column 'child_id'" in msg and "an NHS number" in msg and "line 4" in msg and "9434765919" not in msg


def test_harmless_extra_columns_are_not_identifiers(tmp_path, good_text):
    text = add_column(good_text, "referral_dt", lambda line: "2018-01-05")  # a date, not years before the offence
    text = add_column(text, "team", lambda line: "north")
    text = add_column(text, "ref", lambda line: "943 476 5918")  # wrong NHS check digit
    frame, report = load_extract(write(tmp_path, text))
    assert report.ok and any("only the documented columns" in o.description for o in report.warnings)


def test_format_values_that_look_like_identifiers_are_withheld_from_messages(tmp_path, good_text):
    msg = extract_failure(write(tmp_path, set_cell(good_text, 3, "birth_month", "2003-04-05")))
    assert "line 3" in msg and "column 'birth_month'" in msg and "2003-04-05" not in msg
    msg = extract_failure(write(tmp_path, set_cell(good_text, 3, "sex", "Alex Smith")))
    assert "line 3" in msg and "column 'sex'" in msg and "Alex Smith" not in msg


def test_documented_identifier_rules():
    text = (Path(__file__).resolve().parents[2] / "data_contracts" / "case_extract.md").read_text(encoding="utf-8")
    for words in ("ChildName", "NHS number", "unique pupil number", "two or more capitalised words", "not repeated"):
        assert words in text, words


# --------------------------------------------------------------------------- item 13: unknown areas, file-wide failures


@pytest.mark.gx
def test_rows_of_an_unknown_area_stop_every_area(data_copy):
    path = data_copy / "indicators.csv"
    line = first_line_of(path, "oxfordshire")
    set_table_cell(path, line, "area_id", "oxfordshre")
    reports = dataset.validate_areas(list(KNOWN))
    for area, report in reports.items():
        text = critical_messages(report)
        assert f"indicators.csv, line {line}, column 'area_id'" in text, (area, text)
        assert "oxfordshre" in text and ", ".join(KNOWN) in text
    with pytest.raises(DataContractError, match="oxfordshre"):
        dataset.load_area("warwickshire")


@pytest.mark.gx
def test_missing_required_column_stops_areas_without_rows_in_the_file(data_copy):
    path = data_copy / "inspections.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    drop = rows[0].index("published_date")
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([r[:drop] + r[drop + 1:] for r in rows])
    assert not any(r[rows[0].index("area_id")] == "warwickshire" for r in rows[1:])  # the premise of the test
    for report in (dataset.validate_area("warwickshire"), dataset.validate_areas(["warwickshire", "oxfordshire"])["warwickshire"]):
        text = critical_messages(report)
        assert "inspections.csv" in text and "column 'published_date' is missing" in text
        assert "_line" not in text


# --------------------------------------------------------------------------- item 14: impossible dates


@pytest.mark.parametrize(
    "table, column, value",
    [
        ("indicators", "period_start", "2017-02-30"),
        ("measures", "period_end", "2017-13-45"),
        ("inspections", "published_date", "2020-02-30"),
        ("plans", "plan_period_start", "2018-04-31"),
        ("plans", "data_cutoff", "2020-02-30"),
    ],
)
@pytest.mark.gx
def test_impossible_dates_are_critical_with_file_line_column(data_copy, table, column, value):
    path = data_copy / f"{table}.csv"
    line = first_line_of(path, "oxfordshire")
    set_table_cell(path, line, column, value)
    with pytest.raises(DataContractError) as info:
        dataset.load_area("oxfordshire")
    msg = str(info.value)
    assert f"{table}.csv, line {line}, column '{column}'" in msg and "date written YYYY-MM-DD" in msg


def test_leap_days_are_real_dates():
    from pipeline.data.contracts import DATE_REGEX

    assert re.match(DATE_REGEX, "2016-02-29") and re.match(DATE_REGEX, "2000-02-29")
    assert not re.match(DATE_REGEX, "2017-02-29") and not re.match(DATE_REGEX, "1900-02-29")


def test_impossible_date_in_an_extract(tmp_path, good_text):
    msg = extract_failure(write(tmp_path, set_cell(good_text, 4, "offence_date", "2017-02-30")))
    assert "extract.csv, line 4, column 'offence_date'" in msg and "date written YYYY-MM-DD" in msg


@pytest.mark.gx
def test_validate_prints_no_traceback_for_an_impossible_date(data_copy):
    path = data_copy / "indicators.csv"
    set_table_cell(path, first_line_of(path, "oxfordshire"), "period_start", "2017-13-45")
    proc = run_cli(["validate", "oxfordshire"], {"YJPLAN_DATA_DIR": str(data_copy)})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "column 'period_start'" in proc.stdout and "CRITICAL" in proc.stdout


# --------------------------------------------------------------------------- item 15: count above its denominator


@pytest.mark.gx
def test_rate_count_above_denominator_is_critical(data_copy):
    path = data_copy / "indicators.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    h = rows[0]
    line = next(i for i, r in enumerate(rows, start=1)
                if i > 1 and r[h.index("indicator_id")] == "fte_rate" and r[h.index("numerator")] and r[h.index("area_id")] == "oxfordshire")
    set_table_cell(path, line, "denominator", "100")  # 145 first-time entrants of a population of 100
    with pytest.raises(DataContractError) as info:
        dataset.load_area("oxfordshire")
    assert f"line {line}, column 'denominator, numerator': a count cannot exceed its denominator" in str(info.value)


# --------------------------------------------------------------------------- item 16: extract for this area, dated by as_of


def test_extract_of_another_area_is_rejected(tmp_path, good_text):
    path = write(tmp_path, good_text)
    msg = extract_failure(path, area_id="oxfordshire")
    assert "column 'area_id'" in msg and "area whose plan is being built" in msg and "demoshire" in msg
    frame, report = load_extract(path, area_id="demoshire")
    assert report.ok


def test_records_after_as_of_are_rejected(tmp_path, good_text):
    path = write(tmp_path, set_cell(good_text, 5, "outcome_date", "2019-04-02"))
    msg = extract_failure(path, area_id="demoshire", as_of="2019-03-31")
    assert "line 5" in msg and "column 'dated_by_as_of'" in msg and "as_of 2019-03-31" in msg
    frame, report = load_extract(write(tmp_path, good_text), area_id="demoshire", as_of="2019-03-31")
    assert report.ok


def test_offence_before_birth_month_is_critical(tmp_path, good_text):
    rows = rows_of(good_text)
    h = rows[0]
    line = next(i for i, r in enumerate(rows, start=1) if i > 1 and r[h.index("birth_month")] and r[h.index("age_at_offence")])
    offence = rows[line - 1][h.index("offence_date")]
    text = set_cell(good_text, line, "birth_month", f"{int(offence[:4]) + 1}-01")
    msg = extract_failure(write(tmp_path, text))
    assert f"line {line}" in msg and "offence cannot come before the child's birth month" in msg


def test_missing_extract_names_the_config_not_a_table_nor_an_absolute_path(data_copy):
    with pytest.raises(DataFileError) as info:
        load_extract(data_copy / ".." / "restricted" / "nope.csv", area_id="oxfordshire", as_of="2019-03-31")
    msg = str(info.value)
    assert "the case-management extract file ../restricted/nope.csv was not found" in msg
    assert "configured in data/tracking.yml for area 'oxfordshire'" in msg
    assert str(data_copy.parent) not in msg and "table" not in msg


def test_invalid_area_id_and_as_of_for_an_extract(tmp_path, good_text):
    path = write(tmp_path, good_text)
    with pytest.raises(PipelineError, match="invalid area id"):
        load_extract(path, area_id="../demoshire")
    with pytest.raises(DataFileError, match=r"data/tracking.yml for area 'demoshire': as_of '2019-02-30' is not a date"):
        load_extract(path, area_id="demoshire", as_of="2019-02-30")


# --------------------------------------------------------------------------- messages


def test_line_column_is_never_reported_missing(tmp_path, good_text):
    rows = rows_of(good_text)
    drop = rows[0].index("offence_category")
    msg = extract_failure(write(tmp_path, to_text([r[:drop] + r[drop + 1:] for r in rows])))
    assert "column 'offence_category' is missing" in msg and "_line" not in msg


def test_trailing_delimiter_is_named(data_copy, tmp_path, good_text):
    path = data_copy / "staffing.csv"
    path.write_text("".join(ln + ",\n" for ln in path.read_text(encoding="utf-8").splitlines()), encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        dataset.load_area("oxfordshire")
    msg = str(info.value)
    assert "staffing.csv: line 1, column 13" in msg and "trailing comma" in msg and "unexpected columns: none" not in msg
    text = "".join(ln + ",\n" for ln in good_text.splitlines())
    with pytest.raises(DataFileError, match=r"extract.csv: line 1, column 17: .*trailing comma"):
        load_extract(write(tmp_path, text))
    text = good_text.splitlines()
    text[2] += ","
    with pytest.raises(DataFileError, match=r"line 3: 17 fields, expected 16 .*remove the trailing comma"):
        load_extract(write(tmp_path, "\n".join(text) + "\n"))


@pytest.mark.parametrize("bad", ["Oxfordshire", "../oxfordshire", "", "ox/../x", "1area", "a" * 65])
def test_invalid_area_ids(bad):
    with pytest.raises(PipelineError) as info:
        dataset.check_area(bad)
    msg = str(info.value)
    assert "invalid area id" in msg and "lower-case letters, digits, '_' or '-', starting with a letter" in msg
    assert "not found" not in msg and "content" not in msg
    with pytest.raises(PipelineError, match="invalid area id"):
        dataset.read_content(bad, "2018-21")
    with pytest.raises(PipelineError, match="invalid edition"):
        dataset.read_content("oxfordshire", "../2018-21")


def test_cli_invalid_area_id_is_not_a_missing_file():
    proc = run_cli(["validate", "../Oxfordshire"], {})
    assert proc.returncode == 1 and "invalid area id" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr and "not found" not in proc.stdout + proc.stderr


def _xlsx_bytes(tmp_path: Path) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["area_id", "value"])
    book.active.append(["oxfordshire", 1])
    book.save(tmp_path / "book.xlsx")
    return (tmp_path / "book.xlsx").read_bytes()


def test_excel_workbook_named_csv(data_copy, tmp_path):
    (data_copy / "budget.csv").write_bytes(_xlsx_bytes(tmp_path))
    with pytest.raises(DataFileError) as info:
        dataset.load_area("oxfordshire")
    msg = str(info.value)
    assert "budget.csv" in msg and "Excel workbook" in msg and "CSV UTF-8" in msg and "UTF-8 (" not in msg
    extract = tmp_path / "extract.csv"
    extract.write_bytes(_xlsx_bytes(tmp_path))
    with pytest.raises(DataFileError, match=r"extract.csv: line 1, column 1: this file is an Excel workbook"):
        load_extract(extract)


def test_empty_yaml_content_file_says_yaml(data_copy):
    (data_copy / "content" / "oxfordshire" / "2018-21.yml").write_text("\n", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        dataset.read_content("oxfordshire", "2018-21")
    msg = str(info.value)
    assert "content/oxfordshire/2018-21.yml" in msg and "YAML" in msg and "header row" not in msg


def test_messages_carry_no_absolute_paths(data_copy):
    (data_copy / "budget.csv").unlink()
    with pytest.raises(DataFileError) as info:
        dataset.load_area("oxfordshire")
    assert str(data_copy) not in str(info.value) and "budget.csv: file not found" in str(info.value)
