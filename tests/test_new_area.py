"""Adding an area needs data rows and a content file only: it is listed, validated, built and compared."""

from __future__ import annotations

import csv
import shutil

import pytest

from pipeline import cli

from pipeline.data import dataset
from pipeline.analysis.compare import load_summaries, aligned_indicators


def _append(path, rows: list[dict]) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})


SRC = {"source_document": "midshire_plan_2019", "source_section": "table 1"}


def add_made_up_area(data_dir) -> None:
    """An area, its ONS code, its source, one plan edition, figures, a budget and a content file: data only."""
    _append(data_dir / "sources.csv", [{
        "source_id": "midshire_plan_2019", "title": "Midshire Youth Justice Plan 2019/20 (made up for a test)",
        "short_title": "Midshire plan", "publisher": "Midshire Youth Justice Service", "kind": "plan"}])
    _append(data_dir / "areas.csv", [{
        "area_id": "midshire", "area_name": "Midshire", "service_name": "Midshire Youth Justice Service",
        "service_abbrev": "MYJS", "region": "east_midlands", "police_force_area": "thames_valley",
        "data_kind": "published", **SRC}])
    _append(data_dir / "area_codes.csv", [{"area_id": "midshire", "ons_code": "E10000099", "valid_from": "2009-04-01",
                                           "source": "made up for a test"}])
    _append(data_dir / "plans.csv", [{
        "area_id": "midshire", "edition": "2019-20", "plan_title": "Midshire Youth Justice Plan 2019/20",
        "plan_period_label": "2019/20", "plan_period_start": "2019-04-01", "plan_period_end": "2020-03-31",
        "template": "strategic_plan", "content_file": "content/midshire/2019-20.yml", "data_cutoff": "2019-06-30",
        "stale_after_months": "24", **SRC}])
    base = {"area_id": "midshire", "value_status": "published", **SRC}
    _append(data_dir / "indicators.csv", [
        {**base, "indicator_id": "fte_rate", "comparator": "area", "comparator_label": "Midshire", "period_label": "2018/19",
         "period_start": "2018-04-01", "period_end": "2019-03-31", "value": "250", "published_unit": "per 100,000",
         "numerator": "150", "numerator_status": "published"},
        {**base, "indicator_id": "fte_rate", "comparator": "england", "comparator_label": "England", "period_label": "2018/19",
         "period_start": "2018-04-01", "period_end": "2019-03-31", "value": "221", "published_unit": "per 100,000"},
        {**base, "indicator_id": "reoffending_rate", "comparator": "area", "comparator_label": "Midshire", "period_label": "2017/18",
         "period_start": "2017-04-01", "period_end": "2018-03-31", "value": "40", "published_unit": "%",
         "numerator": "80", "denominator": "200", "numerator_status": "published", "denominator_status": "published"},
    ])
    _append(data_dir / "budget.csv", [
        {**base, "edition": "2019-20", "financial_year": "2019/20", "agency": "Local authority", "agency_group": "local_authority",
         "cost_type": "staffing", "amount": "500000", "unit": "GBP", "row_type": "contribution"},
        {**base, "edition": "2019-20", "financial_year": "2019/20", "agency": "YJB grant", "agency_group": "yjb",
         "cost_type": "other_delegated", "amount": "300000", "unit": "GBP", "row_type": "contribution"},
        {**base, "edition": "2019-20", "financial_year": "2019/20", "agency": "Total", "agency_group": "total",
         "cost_type": "total", "amount": "800000", "unit": "GBP", "row_type": "grand_total"},
    ])
    (data_dir / "content" / "midshire").mkdir(parents=True, exist_ok=True)
    (data_dir / "content" / "midshire" / "2019-20.yml").write_text(
        "summary: A made-up area used to test that adding an area needs no code change.\n"
        "priorities:\n  - title: Reduce first-time entrants\n    actions: [Divert minor offences]\n"
        "risks:\n  - risk: Funding\n    mitigation: Review annually\n", encoding="utf-8")


@pytest.mark.gx
def test_new_area_is_listed_validated_and_compared(data_copy, capsys):
    add_made_up_area(data_copy)
    assert cli.main(["list"]) == 0
    assert "midshire" in capsys.readouterr().out
    data = dataset.load_area("midshire")
    assert data.report.ok
    assert data.area["region"] == "east_midlands" and data.edition == "2019-20"
    summaries = load_summaries(["oxfordshire", "midshire"])
    table = aligned_indicators(summaries)
    assert set(table["area"]) == {"Oxfordshire", "Midshire"}
    row = table[(table["area"] == "Midshire") & (table["indicator_id"] == "fte_rate")].iloc[0]
    assert row["value"] == 250 and row["result"] in ("similar", "worse")


def test_new_area_without_content_file_is_refused(data_copy):
    add_made_up_area(data_copy)
    (data_copy / "content" / "midshire" / "2019-20.yml").unlink()
    from pipeline.errors import DataFileError

    with pytest.raises(DataFileError, match=r"midshire/2019-20\.yml: file not found"):
        dataset.load_area("midshire")
