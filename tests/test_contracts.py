"""Data contracts: every defect named in the issue is caught with file, line, column and expectation."""

from __future__ import annotations

import json

import pytest

from pipeline.data import contracts, dataset
from pipeline.errors import DataContractError, DataFileError, UnknownAreaError

from conftest import replace_in


@pytest.mark.gx
def test_all_areas_pass_without_critical_failures():
    for area in dataset.list_areas()["area_id"]:
        report = dataset.load_area(area, raise_on_critical=False).report
        assert report.critical_failures == [], [o.message() for o in report.critical_failures]
        assert report.summary()["expectations"] > 50


@pytest.mark.gx
def test_oxfordshire_budget_total_warning_is_exact():
    report = dataset.load_area("oxfordshire").report
    budget = [o for o in report.warnings if o.file.endswith("budget.csv")]
    assert budget, "the published total that does not add up must be a warning"
    details = " ".join(budget[0].details)
    assert "amount=1,383,382" in details and "sum_of_rows=1,383,328" in details


@pytest.mark.gx
def test_oxfordshire_other_published_inconsistencies_are_warnings():
    report = dataset.load_area("oxfordshire").report
    text = " ".join(o.message() for o in report.warnings)
    assert "published_change=1.6, change_from_values=1.5" in text  # reoffending change row
    assert "published_unit='per 100,000'" in text  # custody rate unit slip
    assert "role='YJS officers'" in text  # gender counts 4 + 8 for 10 officers


@pytest.mark.gx
def test_clean_areas_have_no_warnings_from_reconciliation():
    report = dataset.load_area("buckinghamshire").report
    assert not [o for o in report.warnings if "total" in o.description]


def _critical(area="oxfordshire") -> DataContractError:
    with pytest.raises(DataContractError) as info:
        dataset.load_area(area)
    return info.value


def test_missing_file(data_copy):
    (data_copy / "budget.csv").unlink()
    with pytest.raises(DataFileError, match=r"budget\.csv: file not found"):
        dataset.load_area("oxfordshire")


def test_empty_file(data_copy):
    (data_copy / "staffing.csv").write_text("")
    with pytest.raises(DataFileError, match=r"staffing\.csv: file is empty"):
        dataset.load_area("oxfordshire")


def test_header_only_file(data_copy):
    header = (data_copy / "staffing.csv").read_text(encoding="utf-8").splitlines()[0]
    (data_copy / "staffing.csv").write_text(header + "\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="no data rows"):
        dataset.load_area("oxfordshire")


def test_non_utf8_file(data_copy):
    path = data_copy / "measures.csv"
    raw = path.read_bytes()
    second_line = raw.index(b"\n") + 1
    path.write_bytes(raw[:second_line] + b"caf\xe9," + raw[second_line:])
    with pytest.raises(DataFileError, match=r"measures\.csv: line 2, character 4: byte 0xe9 is not valid UTF-8"):
        dataset.load_area("oxfordshire")


@pytest.mark.gx
def test_misspelt_column(data_copy):
    path = data_copy / "indicators.csv"
    replace_in(path, "area_id,indicator_id,comparator,comparator_label,period_label,period_start,period_end,value,",
               "area_id,indicator_id,comparator,comparator_label,period_label,period_start,period_end,valeu,")
    err = _critical()
    text = str(err)
    assert "indicators.csv" in text and "column 'value'" in text
    assert "found 'valeu'" in text and "misspelt" in text


@pytest.mark.gx
def test_text_in_numeric_column(data_copy):
    path = data_copy / "indicators.csv"
    replace_in(path, ",240,", ",two hundred and forty,")
    text = str(_critical())
    assert "indicators.csv, line 2, column 'value'" in text
    assert "must be a number" in text and "two hundred and forty" in text


@pytest.mark.gx
def test_negative_count(data_copy):
    path = data_copy / "indicators.csv"
    replace_in(path, '"per 100,000",145,', '"per 100,000",-145,')
    text = str(_critical())
    assert "indicators.csv, line 2, column 'numerator'" in text
    assert "counts are not negative" in text and "numerator=-145" in text


@pytest.mark.gx
def test_percentage_over_100(data_copy):
    path = data_copy / "indicators.csv"
    replace_in(path, ",37.6,%,", ",137.6,%,")
    text = str(_critical())
    assert "indicators.csv" in text and "column 'pct_value'" in text
    assert "percentages lie between 0 and 100" in text and "value=137.6" in text


def test_unknown_area_in_a_data_row(data_copy):
    path = data_copy / "budget.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.append(lines[1].replace("oxfordshire", "narnia", 1))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # the stray row belongs to no known area: validating the whole table reports it
    raw = dataset.read_raw_table(path)
    suite = contracts.load_suite("budget")
    report, _ = contracts.validate_frame(raw, suite, "data/budget.csv", parameters={
        "area_ids": ["oxfordshire", "buckinghamshire", "warwickshire", "demoshire"],
        "editions": ["2016-17", "2018-19", "2018-21", "2019-20", "2024-25"]})
    failure = [o for o in report.critical_failures if o.column == "area_id"]
    assert failure and failure[0].rows == [len(lines)]
    assert "area_id must be an area listed in areas.csv" in failure[0].message()


def test_unknown_area_requested():
    with pytest.raises(UnknownAreaError, match=r"unknown area 'narnia'.*known areas: oxfordshire"):
        dataset.load_area("narnia")


@pytest.mark.gx
def test_period_end_before_start(data_copy):
    path = data_copy / "indicators.csv"
    replace_in(path, "Jan–Dec 2017,2017-01-01,2017-12-31", "Jan–Dec 2017,2017-12-31,2017-01-01")
    text = str(_critical())
    assert "period_end must be after period_start" in text and "line 2" in text


@pytest.mark.gx
def test_bad_date_format(data_copy):
    path = data_copy / "indicators.csv"
    replace_in(path, "Jan–Dec 2017,2017-01-01,", "Jan–Dec 2017,01/01/2017,")
    text = str(_critical())
    assert "column 'period_start'" in text and "a date written YYYY-MM-DD" in text


def test_ragged_row(data_copy):
    path = data_copy / "budget.csv"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("oxfordshire,2018/19,Extra\n")
    with pytest.raises(DataFileError, match=r"budget\.csv: line \d+: 3 fields, expected"):
        dataset.load_area("oxfordshire")


@pytest.mark.gx
def test_failure_in_another_area_does_not_block(data_copy):
    path = data_copy / "indicators.csv"
    text = path.read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if l.startswith("warwickshire,"))
    fields = line.split(",")
    broken = line.replace("," + fields[7] + ",", ",abc,", 1)
    path.write_text(text.replace(line, broken), encoding="utf-8")
    assert dataset.load_area("oxfordshire").report.ok
    with pytest.raises(DataContractError):
        dataset.load_area("warwickshire")


def test_suites_are_valid_gx_json():
    for path in sorted(contracts.suite_path("areas").parent.glob("*.json")):
        doc = json.loads(path.read_text())
        assert doc["name"] and doc["expectations"], path
        for exp in doc["expectations"]:
            assert exp.get("severity") in ("critical", "warning", "info"), (path.name, exp["type"])
            assert exp["meta"].get("description"), (path.name, exp["type"])


@pytest.mark.gx
def test_report_round_trips_through_json(tmp_path):
    report = dataset.load_area("oxfordshire").report
    contracts.write_report(report, tmp_path / "r.json")
    again = contracts.read_report(tmp_path / "r.json")
    assert again.summary() == report.summary()
    assert [o.message() for o in again.warnings] == [o.message() for o in report.warnings]
