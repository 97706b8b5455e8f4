"""Plan editions: an area publishes a plan every year; every edition stays buildable.

Fast tests of the edition model (plans.csv, cut-offs, edition tables, ONS codes by date, starting a
new edition, what changed since the last plan). The end-to-end acceptance test (a new area outside the
Thames Valley, a second edition, everything built) is ``tests/test_every_service.py``.
"""

from __future__ import annotations

import csv
import re
from datetime import date

import pandas as pd
import pytest
import yaml

from conftest import replace_in
from pipeline import cli
from pipeline.data import editions
from pipeline.data.contracts import ValidationReport
from pipeline.data.dataset import load_area
from pipeline.errors import DataFileError, PipelineError


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _append(path, rows: list[dict]) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with open(path, "a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})


# ------------------------------------------------------------------------------------------- ids and periods


@pytest.mark.parametrize("good", ["2025-26", "2018-21", "2019", "2024-2027"])
def test_edition_ids(good):
    assert editions.check_edition(good) == good


@pytest.mark.parametrize("bad", ["", "25-26", "2025/26", "../2025", "2025-", "2025-26-27", "latest", None, 2025])
def test_bad_edition_ids_are_refused_before_any_path(bad):
    with pytest.raises(editions.InvalidEditionError, match="invalid edition"):
        editions.check_edition(bad)


def test_targets_and_periods():
    assert editions.split_target("oxfordshire") == ("oxfordshire", None)
    assert editions.split_target("oxfordshire/2018-21") == ("oxfordshire", "2018-21")
    with pytest.raises(PipelineError):
        editions.split_target("oxfordshire/../../x")
    assert editions._period_of("2025-26") == ("2025–26", "2025-04-01", "2026-03-31")
    assert editions._period_of("2018-21") == ("2018–2021", "2018-04-01", "2021-03-31")
    assert editions._period_of("1999-00") == ("1999–00", "1999-04-01", "2000-03-31")


def test_every_seed_area_has_one_edition_and_it_is_its_latest():
    plans = editions.plan_rows()
    for area, edition in {"oxfordshire": "2018-21", "buckinghamshire": "2016-17", "warwickshire": "2018-19"}.items():
        assert [e.edition for e in editions.editions_of(area, plans)] == [edition]
        assert editions.resolve_edition(area, None, plans).key == f"{area}/{edition}"
    # the synthetic demonstration has a second edition in the YJB's current template (issue #15)
    assert [e.edition for e in editions.editions_of("demoshire", plans)] == ["2019-20", "2024-25"]
    assert editions.resolve_edition("demoshire", None, plans).template == "yjb_2024"


def test_unknown_edition_names_the_known_ones():
    with pytest.raises(editions.UnknownEditionError, match=r"no edition '2030-31'.*its editions: 2018-21"):
        editions.resolve_edition("oxfordshire", "2030-31")


def test_ons_code_follows_the_date():
    """Buckinghamshire County Council (E10000002) became Buckinghamshire Council (E06000060) in April 2020."""
    assert editions.ons_code_on("buckinghamshire", date(2016, 4, 1)) == "E10000002"
    assert editions.ons_code_on("buckinghamshire", date(2020, 4, 1)) == "E06000060"
    data = load_area("buckinghamshire", report=ValidationReport())
    assert data.area["ons_code"] == "E10000002" and data.edition == "2016-17"


# ------------------------------------------------------------------------------------------- what an edition shows


def test_an_edition_shows_only_figures_known_at_its_cutoff(data_copy):
    """A figure of a period ending after the cut-off is left out of the edition (it was not known then)."""
    _append(data_copy / "indicators.csv", [{
        "area_id": "warwickshire", "indicator_id": "fte_rate", "comparator": "area", "comparator_label": "Warwickshire",
        "period_label": "2019/20", "period_start": "2019-04-01", "period_end": "2020-03-31", "value": "150",
        "published_unit": "per 100,000", "value_status": "published", "source_document": "004_c759a724d34c8651.txt",
        "source_section": "made-up later row"}])
    data = load_area("warwickshire", report=ValidationReport())
    fte = data.table("indicators")
    fte = fte[fte["indicator_id"] == "fte_rate"]
    assert "2019/20" not in set(fte["period_label"])  # period ends 2020-03-31, after the 2019-03-31 cut-off
    assert pd.Timestamp(data.area["data_cutoff"]) == pd.Timestamp("2019-03-31")
    replace_in(data_copy / "plans.csv", "content/warwickshire/2018-19.yml,2019-03-31", "content/warwickshire/2018-19.yml,2020-06-30")
    later = load_area("warwickshire", report=ValidationReport()).table("indicators")
    assert "2019/20" in set(later["period_label"])


def test_edition_tables_hold_only_the_editions_rows(data_copy):
    data = load_area("oxfordshire", report=ValidationReport())
    assert set(data.table("budget")["edition"]) == {"2018-21"}
    assert set(data.table("staffing")["edition"]) == {"2018-21"}


def test_a_row_of_an_edition_the_area_does_not_have_stops_the_build(data_copy):
    replace_in(data_copy / "budget.csv", "oxfordshire,2018-21,2018/19,Local authority*", "oxfordshire,2016-17,2018/19,Local authority*")
    with pytest.raises(DataFileError, match=r"budget\.csv, line \d+, column 'edition': '2016-17' is not an edition of 'oxfordshire'"):
        load_area("oxfordshire", report=ValidationReport())


# ------------------------------------------------------------------------------------------- next year's plan


def test_new_edition_starts_from_the_latest_and_marks_everything_for_review(data_copy, capsys):
    assert cli.main(["new-edition", "oxfordshire", "2021-22"]) == 0
    out = capsys.readouterr().out
    assert "Started oxfordshire/2021-22" in out and "yjplan build oxfordshire/2021-22" in out
    row = _rows(data_copy / "plans.csv")[-1]
    assert row["area_id"] == "oxfordshire" and row["edition"] == "2021-22"
    assert (row["plan_period_start"], row["plan_period_end"], row["data_cutoff"]) == ("2021-04-01", "2022-03-31", "2021-06-30")
    assert row["content_file"] == "content/oxfordshire/2021-22.yml" and row["note"].startswith("TO REVIEW")
    content = yaml.safe_load((data_copy / "content" / "oxfordshire" / "2021-22.yml").read_text(encoding="utf-8"))
    previous = yaml.safe_load((data_copy / "content" / "oxfordshire" / "2018-21.yml").read_text(encoding="utf-8"))
    assert content["review"]["status"] == "to_review" and content["review"]["carried_from"] == "2018-21"
    assert [p["title"] for p in content["previous_priorities"]] == [p["title"] for p in previous["priorities"]]
    assert all(p["progress"].startswith("TO REVIEW") for p in content["previous_priorities"])
    assert content["summary"] == previous["summary"]  # the text is carried forward for review
    # both editions build; the new one has no budget yet and says it was not entered
    assert [e.edition for e in editions.editions_of("oxfordshire")] == ["2018-21", "2021-22"]
    new = load_area("oxfordshire", report=ValidationReport())
    assert new.edition == "2021-22" and new.table("budget").empty
    old = load_area("oxfordshire", report=ValidationReport(), edition="2018-21")
    assert not old.table("budget").empty
    # a second time: refused, nothing written
    before = (data_copy / "plans.csv").read_bytes()
    assert cli.main(["new-edition", "oxfordshire", "2021-22"]) == 1
    assert "already has an edition '2021-22'" in capsys.readouterr().out
    assert (data_copy / "plans.csv").read_bytes() == before


def _plan(area: str, edition: str | None = None):
    from pipeline.analysis.indicators import area_indicators
    from pipeline.document import sections

    data = load_area(area, report=ValidationReport(), edition=edition)
    return sections.Plan(data=data, indicators=area_indicators(data.table("indicators"), data.definitions, data.table("measures")),
                         figures_dir=data_copy_figures(), build_date="2000-01-01")


def data_copy_figures():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="yjplan-figs-"))


def test_new_edition_words_review_notice_and_previous_priorities(data_copy):
    from pipeline.document import sections

    assert cli.main(["new-edition", "warwickshire", "2019-20"]) == 0
    plan = _plan("warwickshire")
    assert "Draft for review" in sections.title_block(plan)
    text = sections.priorities(plan)
    assert "Progress on last year's priorities" in text and "*(to review)*" in text
    assert "No budget table has been entered for this edition" in sections.resources(plan)
    assert "not published" not in sections.resources(plan)
    # the first edition has no review notice and no "what changed" section
    first = _plan("warwickshire", "2018-19")
    assert "Draft for review" not in sections.title_block(first)
    assert sections.changes_since_last_plan(first) == ""


def test_not_published_is_said_only_when_a_row_records_it(data_copy):
    from pipeline.document import sections

    assert cli.main(["new-edition", "warwickshire", "2019-20"]) == 0
    text = sections.resources(_plan("warwickshire"))
    assert "No budget table has been entered for this edition" in text and "publishes no" not in text
    _append(data_copy / "not_published.csv", [{"area_id": "warwickshire", "edition": "2019-20", "topic": "budget",
                                               "source_document": "004_c759a724d34c8651.txt",
                                               "source_section": "(ii) Resources",
                                               "note": "Only a chart."}])
    text = sections.resources(_plan("warwickshire"))
    assert "The source document publishes no budget table" in text and "Only a chart." in text
    assert "has been entered" not in text


def test_what_changed_since_the_last_plan_tests_the_headline_change(data_copy):
    """A second edition with a newer FTE count: the change between the editions' headlines is tested."""
    from pipeline.document import sections

    assert cli.main(["new-edition", "buckinghamshire", "2017-18"]) == 0
    _append(data_copy / "indicators.csv", [{
        "area_id": "buckinghamshire", "indicator_id": "fte_rate", "comparator": "area", "comparator_label": "Buckinghamshire",
        "period_label": "Jul 2016 – Jun 2017", "period_start": "2016-07-01", "period_end": "2017-06-30", "value": "150",
        "published_unit": "per 100,000", "numerator": "80", "numerator_status": "published", "value_status": "published",
        "source_document": "002_4b24d57fc4b0d66d.txt", "source_section": "made-up later row for a test"}])
    plan = _plan("buckinghamshire")
    text = sections.changes_since_last_plan(plan)
    assert "What changed since the last plan" in text and "2016-17 edition" in text
    assert "Oct 2014 – Sep 2015" in text and "Jul 2016 – Jun 2017" in text  # previous headline and this one
    fte_line = next(line for line in text.splitlines() if line.startswith("- The first-time entrant rate"))
    # both periods have counts (the population derived from count and rate): the change is tested
    assert re.search(r"improvement; (not )?significant \(.*p = ", fte_line), fte_line
    assert "tbl-changes" in text


def test_title_says_what_the_plan_was_rebuilt_from_by_the_kind_of_its_source(data_copy):
    from pipeline.document import sections

    assert "rebuilt reproducibly from the published plan" in sections.title_block(_plan("warwickshire"))
    assert "(edition 2018-19, figures known by 31 March 2019)" in sections.title_block(_plan("warwickshire"))
    _append(data_copy / "sources.csv", [{"source_id": "warks_cabinet_minutes", "title": "Cabinet minutes (made up)",
                                         "publisher": "Warwickshire County Council", "kind": "committee_report"}])
    replace_in(data_copy / "plans.csv", "content/warwickshire/2018-19.yml,2019-03-31,24,004_c759a724d34c8651.txt",
               "content/warwickshire/2018-19.yml,2019-03-31,24,warks_cabinet_minutes")
    text = sections.title_block(_plan("warwickshire"))
    assert "rebuilt reproducibly from the committee report" in text and "published plan" not in text


def test_an_edition_report_keeps_only_its_own_failing_rows():
    """A warning on another edition's rows is not this plan's (validation runs over all of an area's rows)."""
    from pipeline.data.contracts import Outcome
    from pipeline.paths import data_dir

    with (data_dir() / "budget.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    line_of = {i + 2: (r["area_id"], r["edition"]) for i, r in enumerate(rows)}  # line 1 is the header
    new = [line for line, key in line_of.items() if key == ("demoshire", "2024-25")][:2]
    other = [line for line, key in line_of.items() if key[0] == "oxfordshire"][:1]
    assert len(new) == 2 and other

    def warning(lines):
        return Outcome(table="budget", file="data/budget.csv", expectation="e", column="amount", severity="warning",
                       stage="reconciled", success=False, description="rows add up",
                       rows=list(lines), details=[f"line {n}: does not add up" for n in lines])

    passed = Outcome(table="budget", file="data/budget.csv", expectation="p", column="amount", severity="critical",
                     stage="raw", success=True, description="amount is a number")
    other_table = Outcome(table="indicators", file="data/indicators.csv", expectation="i", column="value",
                          severity="warning", stage="raw", success=False, description="x", rows=[2], details=["line 2"])
    report = ValidationReport([warning(new), warning(new[:1] + other), passed, other_table])
    first = editions.edition_report(report, "demoshire", "2019-20")
    assert [o.expectation for o in first.outcomes] == ["p", "i"]  # passed and non-edition outcomes stay
    second = editions.edition_report(report, "demoshire", "2024-25")
    assert [len(o.rows) for o in second.outcomes if o.expectation == "e"] == [2, 1]
    assert second.outcomes[1].details == [f"line {new[0]}: does not add up"]
