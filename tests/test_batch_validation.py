"""Validating several areas in one pass (``dataset.validate_areas``) gives each area exactly the report of
validating it alone (``dataset.validate_area``): clean data, and defects that concern one area only,
every area, or rows of two areas that would clash if the file were checked as a whole."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from pipeline.data import contracts, dataset

from conftest import replace_in

pytestmark = pytest.mark.gx  # every test here runs Great Expectations over all the areas' tables

AREAS = ["oxfordshire", "buckinghamshire", "warwickshire", "demoshire"]


def _assert_same_as_one_by_one(areas=AREAS) -> dict:
    together = dataset.validate_areas(areas)
    assert list(together) == list(areas)
    for area in areas:
        alone = dataset.validate_area(area)
        assert together[area].to_json() == alone.to_json(), f"{area}: one-pass report differs from its own validation"
    return together


def _append_rows(path, rows: list[dict]) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())


def _rows(path, **match) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if all(r[k] == v for k, v in match.items())]


def test_clean_data_one_pass_equals_one_by_one(data_copy):
    reports = _assert_same_as_one_by_one()
    assert reports["oxfordshire"].summary()["warnings"] == 4
    assert all(r.ok for r in reports.values())


def test_defects_in_some_areas_stay_in_those_areas(data_copy):
    # oxfordshire: text in a numeric column (critical, raw stage: its typed stage is skipped)
    replace_in(data_copy / "indicators.csv", "Jan–Dec 2017,2017-01-01,2017-12-31,240,", "Jan–Dec 2017,2017-01-01,2017-12-31,two hundred and forty,")
    # warwickshire: a value out of range (typed stage)
    replace_in(data_copy / "indicators.csv", "2017/18,2017-04-01,2018-03-31,125,", "2017/18,2017-04-01,2018-03-31,-125,")
    # buckinghamshire: a duplicated row (uniqueness, checked per area)
    dup = _rows(data_copy / "indicators.csv", area_id="buckinghamshire")[:1]
    _append_rows(data_copy / "indicators.csv", dup)
    reports = _assert_same_as_one_by_one()
    assert not reports["oxfordshire"].ok and not reports["buckinghamshire"].ok
    assert reports["demoshire"].ok
    ox = " ".join(o.message() for o in reports["oxfordshire"].critical_failures)
    assert "two hundred and forty" in ox and "warwickshire" not in ox
    assert not any(o.stage == "typed" for o in reports["oxfordshire"].outcomes if o.table == "indicators")
    bu = [o for o in reports["buckinghamshire"].outcomes if o.table == "indicators" and not o.success]
    assert [o.expectation for o in bu] == ["expect_compound_columns_to_be_unique"]
    wa = [o for o in reports["warwickshire"].outcomes if o.table == "indicators" and not o.success]
    assert wa and all(o.areas == {"warwickshire"} for o in wa)
    assert any("value=-125" in o.message() for o in wa)


def test_rows_that_clash_only_across_areas_are_judged_per_area(data_copy):
    # The same inspection id under two areas: each area's rows are unique on their own (the area's
    # report must not depend on another area's rows, or its cached validation would go stale).
    row = _rows(data_copy / "inspections.csv", area_id="oxfordshire")[0]
    _append_rows(data_copy / "inspections.csv", [{**row, "area_id": "buckinghamshire"}])
    reports = _assert_same_as_one_by_one()
    assert reports["buckinghamshire"].ok and reports["oxfordshire"].ok


def test_a_missing_column_fails_every_area(data_copy):
    replace_in(data_copy / "staffing.csv", "count_basis", "countbasis")
    reports = _assert_same_as_one_by_one(["oxfordshire", "buckinghamshire", "warwickshire"])
    for area in ("oxfordshire", "buckinghamshire"):  # the areas with staffing rows
        assert any("countbasis" in o.message() and "misspelt" in o.message() for o in reports[area].critical_failures)


def test_validate_areas_names_an_unknown_area(data_copy):
    from pipeline.errors import UnknownAreaError

    with pytest.raises(UnknownAreaError, match="narnia"):
        dataset.validate_areas(["oxfordshire", "narnia"])


def _suite() -> contracts.Suite:
    return contracts.load_suite("indicator_definitions")


def test_validate_frames_falls_back_when_parts_cannot_be_combined():
    raw = dataset.read_raw_table(dataset.table_path("indicator_definitions"))
    one, two = raw.iloc[:2], raw.iloc[2:].copy()
    # shared row labels: a combined run could not tell the parts' rows apart
    overlapping = {"a": one, "b": one.copy()}
    out = contracts.validate_frames(overlapping, _suite(), "defs.csv")
    alone = contracts.validate_frame(one, _suite(), "defs.csv")
    for key in overlapping:
        assert out[key][0].to_json() == alone[0].to_json()
        pd.testing.assert_frame_equal(out[key][1], alone[1])
    # different columns
    extra = {"a": one, "b": two.assign(extra="x")}
    out = contracts.validate_frames(extra, _suite(), "defs.csv")
    assert out["b"][0].to_json() == contracts.validate_frame(two.assign(extra="x"), _suite(), "defs.csv")[0].to_json()
    assert out["a"][0].to_json() == contracts.validate_frame(one, _suite(), "defs.csv")[0].to_json()


def test_validate_frames_splits_row_verdicts_between_parts():
    raw = dataset.read_raw_table(dataset.table_path("indicator_definitions"))
    good, bad = raw.iloc[:2], raw.iloc[2:].copy()
    bad.loc[bad.index[0], "polarity"] = "sideways"
    out = contracts.validate_frames({"good": good, "bad": bad}, _suite(), "defs.csv")
    assert out["good"][0].ok and out["good"][1] is not None
    failing = [o for o in out["bad"][0].critical_failures if o.column == "polarity"]
    assert failing and failing[0].rows == [int(bad.loc[bad.index[0], "_line"])]
    assert out["bad"][0].to_json() == contracts.validate_frame(bad, _suite(), "defs.csv")[0].to_json()


def test_driver_prevalidation_caches_the_passing_areas_only(data_copy, build_copy):
    from pipeline.build import cache

    replace_in(data_copy / "indicators.csv", "2017/18,2017-04-01,2018-03-31,125,", "2017/18,2017-04-01,2018-03-31,-125,")
    cache.prevalidate(["oxfordshire", "warwickshire", "buckinghamshire", "oxfordshire"])
    for area in ("oxfordshire", "buckinghamshire"):
        cached = cache.validation_cache(area)
        assert cached.is_file(), f"{area}: its report should be cached by the driver"
        assert contracts.read_report(cached).to_json() == dataset.validate_area(area).to_json()
    assert not cache.validation_cache("warwickshire").exists(), "a failing report is not cached"
    assert not cache.validation_cache("demoshire").exists(), "only the areas asked for are validated"
    report = cache.validated_report("warwickshire")  # the area's own build validates it again and sees why
    assert any("value=-125" in o.message() for o in report.critical_failures)
