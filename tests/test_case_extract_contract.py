"""The case-management extract contract (data_contracts/case_extract.json) and its loader."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from pipeline.data.contracts import load_suite
from pipeline.errors import DataContractError, DataFileError
from pipeline.synthetic import generate_extract, to_csv_text
from pipeline.analysis.tracking import codes, load_extract

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "data_contracts" / "case_extract.json"
DOC = REPO / "data_contracts" / "case_extract.md"


@pytest.fixture(scope="module")
def good_text() -> str:
    """A small valid extract as CSV text (line 1 is the header, record k is on line k + 1)."""
    frame = generate_extract(seed=31, scale=0.05)
    return to_csv_text(frame)


def write(tmp_path: Path, text: str, name: str = "extract.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edit(text: str, line: int, column: str, value: str) -> str:
    """Set one cell (by file line and column name) of a CSV text."""
    lines = text.split("\n")
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    return "\n".join(lines)


def add_column(text: str, name: str, value: str) -> str:
    lines = text.rstrip("\n").split("\n")
    return "\n".join([lines[0] + "," + name] + [ln + "," + value for ln in lines[1:]]) + "\n"


# --------------------------------------------------------------------------- the suite itself


def test_suite_follows_the_project_conventions():
    doc = json.loads(SUITE.read_text(encoding="utf-8"))
    assert doc["name"] == "case_extract" and doc["meta"]["table"] == "case_extract"
    for exp in doc["expectations"]:
        assert exp["severity"] in ("critical", "warning", "info"), exp
        assert exp["meta"]["stage"] in ("raw", "typed"), exp
        assert len(exp["meta"]["description"]) > 20, exp
        if exp["type"] == "expect_column_to_exist":
            assert exp["meta"]["dtype"] in ("str", "int", "float", "date")
            assert isinstance(exp["meta"]["nullable"], bool)
    suite = load_suite("case_extract")
    assert suite.column_names == list(codes.COLUMNS)


def test_suite_codes_agree_with_the_python_codes():
    doc = json.loads(SUITE.read_text(encoding="utf-8"))
    sets = {}
    for exp in doc["expectations"]:
        if exp["type"] == "expect_column_values_to_be_in_set" and "row_condition" not in exp["kwargs"]:
            sets[exp["kwargs"]["column"]] = set(exp["kwargs"]["value_set"])
    assert sets["sex"] == set(codes.SEXES)
    assert sets["ethnicity"] == set(codes.ETHNICITIES)
    assert sets["outcome_type"] == set(codes.OUTCOME_TYPES)
    assert sets["offence_category"] == set(codes.OFFENCE_CATEGORIES)
    assert sets["remand_status"] == set(codes.REMAND_STATUSES) | {""}
    assert sets["data_kind"] == set(codes.DATA_KINDS)
    court_only = {"type": "comparison", "column": {"name": "outcome_type"}, "operator": "==", "parameter": "court_disposal"}
    court = [e for e in doc["expectations"] if e["kwargs"].get("row_condition") == court_only]
    assert set(court[0]["kwargs"]["value_set"]) == set(codes.COURT_DISPOSALS)
    assert doc["meta"]["optional_columns"] == codes.OPTIONAL_COLUMNS


def test_documented_format_lists_every_column_and_its_example_loads(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    for column in codes.COLUMNS:
        assert f"| `{column}` |" in text
    for code in codes.OUTCOME_TYPES + codes.COURT_DISPOSALS + codes.OFFENCE_CATEGORIES + codes.REMAND_STATUSES:
        assert f"`{code}`" in text, code
    example = re.search(r"```csv\n(.*?)```", text, re.S).group(1)
    frame, report = load_extract(write(tmp_path, example))
    assert report.ok and len(frame) == 5
    assert list(frame["child_id"].unique()) == ["C7K2Q9M", "H3V8X2P", "N4T6W8B"]


# --------------------------------------------------------------------------- loading


def test_valid_extract_loads_typed(tmp_path, good_text):
    frame, report = load_extract(write(tmp_path, good_text))
    assert report.ok and not report.warnings
    assert list(frame.columns) == list(codes.COLUMNS)
    assert frame["offence_date"].dtype.kind == "M" and frame["age_at_offence"].dtype.kind == "i"
    assert frame.attrs["source"].endswith("extract.csv")


def test_optional_columns_may_be_left_out(tmp_path):
    lines = [
        "record_id,area_id,child_id,sex,birth_month,ethnicity,offence_date,outcome_date,outcome_type,disposal,"
        "offence_category,gravity_score",
        "R1,testshire,CH001,female,2002-05,asian,2017-06-01,2017-07-01,youth_caution,,theft_and_handling,2",
        "R2,testshire,CH001,female,2002-05,asian,2017-09-01,2017-11-01,court_disposal,referral_order,robbery,6",
    ]
    frame, report = load_extract(write(tmp_path, "\n".join(lines) + "\n"))
    assert report.ok
    assert list(frame["age_at_offence"]) == [15, 15]  # worked out from the birth month
    assert list(frame["data_kind"]) == ["case_management"] * 2
    notes = {o.column for o in report.outcomes if o.expectation == "optional_column_supplied"}
    assert notes == {"age_at_offence", "release_date", "remand_status", "data_kind"}


def test_excel_extract_loads_like_csv(tmp_path, good_text):
    pytest.importorskip("openpyxl")
    frame = pd.read_csv(write(tmp_path, good_text), dtype=str, keep_default_na=False)
    for col in ("offence_date", "outcome_date"):
        frame[col] = pd.to_datetime(frame[col])  # real Excel date cells
    frame["gravity_score"] = frame["gravity_score"].astype(int)
    xlsx = tmp_path / "extract.xlsx"
    frame.to_excel(xlsx, index=False, sheet_name="extract")
    from_excel, report = load_extract(xlsx)
    from_csv, _ = load_extract(tmp_path / "extract.csv")
    assert report.ok
    pd.testing.assert_frame_equal(from_excel, from_csv, check_like=False)


# --------------------------------------------------------------------------- contract failures


def failure(tmp_path, text) -> str:
    with pytest.raises(DataContractError) as info:
        load_extract(write(tmp_path, text))
    return str(info.value)


def test_bad_code_names_file_line_column_and_expected(tmp_path, good_text):
    msg = failure(tmp_path, edit(good_text, 3, "outcome_type", "final_warning"))
    assert "extract.csv, line 3, column 'outcome_type'" in msg
    assert "community_resolution, youth_caution" in msg and "final_warning" in msg


def test_outcome_before_offence_is_rejected(tmp_path, good_text):
    text = edit(good_text, 4, "offence_date", "2019-03-31")
    text = edit(text, 4, "outcome_date", "2019-01-01")
    msg = failure(tmp_path, text)
    assert "line 4" in msg and "outcome cannot come before the offence" in msg


def test_age_outside_10_to_17_is_rejected(tmp_path, good_text):
    msg = failure(tmp_path, edit(good_text, 5, "age_at_offence", "9"))
    assert "line 5" in msg and "aged 10 to 17" in msg
    msg = failure(tmp_path, edit(edit(good_text, 6, "age_at_offence", "18"), 6, "birth_month", ""))
    assert "line 6" in msg


def test_duplicate_outcome_rows_are_rejected(tmp_path, good_text):
    lines = good_text.rstrip("\n").split("\n")
    text = "\n".join(lines + [lines[2]]) + "\n"
    msg = failure(tmp_path, text)
    assert "no duplicate outcome rows" in msg and f"line {len(lines) + 1}" in msg


def test_court_disposal_needs_its_sentence(tmp_path, good_text):
    lines = good_text.split("\n")
    court = next(i for i, ln in enumerate(lines) if ",court_disposal," in ln) + 1
    msg = failure(tmp_path, edit(good_text, court, "disposal", ""))
    assert f"line {court}" in msg and "must name its sentence" in msg


def test_missing_column_is_named(tmp_path, good_text):
    lines = good_text.rstrip("\n").split("\n")
    header = lines[0].split(",")
    drop = header.index("offence_category")
    text = "\n".join(",".join(c for j, c in enumerate(ln.split(",")) if j != drop) for ln in lines) + "\n"
    msg = failure(tmp_path, text)
    assert "column 'offence_category' is missing" in msg


def test_extra_harmless_column_is_a_warning(tmp_path, good_text):
    frame, report = load_extract(write(tmp_path, add_column(good_text, "worker_team", "north")))
    assert report.ok and any("only the documented columns" in o.description for o in report.warnings)
    assert "worker_team" not in frame.columns


# --------------------------------------------------------------------------- direct identifiers


@pytest.mark.parametrize(
    "column, value, what",
    [
        ("first_name", "Alex", "a name"),
        ("Surname", "Smith", "a name"),
        ("Child Name", "Alex Smith", "a name"),
        ("home_address", "1 High Street", "an address"),
        ("postcode", "OX1 1AA", "an address"),
        ("date_of_birth", "2003-04-05", "a full date of birth"),
        ("DOB", "05/04/2003", "a full date of birth"),
        ("pnc_number", "17/123456A", "a PNC number"),
        ("nhs_number", "9434765919", "another direct identifier"),
        ("notes", "see 17/123456A", "a PNC number"),
        ("contact", "alex@example.org", "an e-mail address"),
        ("area_code", "OX4 2JY", "a postcode"),
    ],
)
def test_identifier_like_columns_are_rejected_with_a_clear_message(tmp_path, good_text, column, value, what):
    msg = failure(tmp_path, add_column(good_text, column, value))
    assert f"column '{column}' is rejected" in msg
    assert what in msg
    assert "direct identifiers" in msg and "child_id" in msg
    assert value not in msg or what == "a name"  # values found by pattern are withheld from the message


def test_full_date_of_birth_in_birth_month_is_rejected(tmp_path, good_text):
    msg = failure(tmp_path, edit(good_text, 2, "birth_month", "2003-04-05"))
    assert "line 2" in msg and "full date of birth is a direct identifier" in msg


def test_pnc_shaped_child_id_is_rejected(tmp_path, good_text):
    msg = failure(tmp_path, edit(good_text, 2, "child_id", "17/123456A"))
    assert re.search(r"looks? like a PNC number", msg) and "17/123456A" not in msg
    msg = failure(tmp_path, edit(good_text, 2, "child_id", "Alex Smith"))
    assert "never a name" in msg


# --------------------------------------------------------------------------- file-level errors


def test_file_level_errors(tmp_path):
    with pytest.raises(DataFileError, match="the case-management extract file nope.csv was not found"):
        load_extract(tmp_path / "nope.csv")
    with pytest.raises(DataFileError, match="empty"):
        load_extract(write(tmp_path, ""))
    (tmp_path / "latin1.csv").write_bytes("record_id,child_id\nR1,Zo\xeb\n".encode("latin-1"))
    with pytest.raises(DataFileError, match="not valid UTF-8"):
        load_extract(tmp_path / "latin1.csv")
    with pytest.raises(DataFileError, match="fields, expected"):
        load_extract(write(tmp_path, "a,b\n1,2,3\n"))
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(DataFileError, match="xlsx"):
        load_extract(tmp_path / "broken.xlsx")
