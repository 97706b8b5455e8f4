"""Open reference data: comparator groups, sources and populations are tables with their own contracts.

* comparator groups: ``comparator`` of indicators.csv / measures.csv is ``area`` or a group id, checked against the
  groups table (the message lists the known ids); ``BenchmarkResult.comparator`` stays the group's kind;
* sources: every ``source_document`` is a source id; titles and short titles come from sources.csv, unchanged;
* indicator definitions accept any declared unit and multiplier; a bad definitions row leaves out that indicator only;
* populations: a rate without its population gets one from populations.csv (or from another indicator of the same
  period), says so, and a zero count gets its exact interval; counts that imply an odd population are warned about.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from pipeline.analysis import stats
from pipeline.analysis.indicators import area_indicators, interval_text
from pipeline.data import dataset, reference
from pipeline.data.contracts import ValidationReport
from pipeline.data.loaders import read_raw_table, table_path
from pipeline.errors import DataContractError

from conftest import replace_in

DEFS = read_raw_table(table_path("indicator_definitions")).drop(columns=["_line"])

#: The titles and short titles the plans printed before sources.csv existed (sections.SEED_TITLES / SEED_SHORT):
#: the table must keep them, so golden figures and texts do not change.
PRINTED_TITLES = {
    "000_f1cbd793753f05a1.txt": ("Oxfordshire Youth Justice Service Strategic Plan 2018–2021", "Oxfordshire plan"),
    "001_180bddaeaa683fd4.txt": ("HM Inspectorate of Probation, inspection of youth offending services in Oxfordshire (May 2020)",
                                 "Inspection report"),
    "002_4b24d57fc4b0d66d.txt": ("Buckinghamshire YOS Youth Justice Strategic Plan 2016–17", "Buckinghamshire plan"),
    "003_d2a9845bdf0a587e.txt": ("HM Inspectorate of Probation press release on the Oxfordshire inspection (May 2020)",
                                 "Inspection press release"),
    "004_c759a724d34c8651.txt": ("Warwickshire Youth Justice Service Strategic Plan 2018/19 (with its cabinet report)",
                                 "Warwickshire plan"),
}


# --------------------------------------------------------------------------- lookups (no GX)


def test_sources_keep_the_printed_titles_and_short_titles():
    for source_id, (title, short) in PRINTED_TITLES.items():
        assert reference.source_title(source_id) == title
        assert reference.source_short_title(source_id) == short
    assert reference.source_short_title("pipeline/synthetic.py") is None  # cited by its id, as before
    assert reference.source("pipeline/synthetic.py")["kind"] == "generated"
    assert reference.source_title("999_unknown.txt") == "999_unknown.txt"
    text = "000_f1cbd793753f05a1.txt, 6.2 c. Reducing custody; 001_180bddaeaa683fd4.txt, Contextual facts"
    assert reference.short_source(text) == "Oxfordshire plan, 6.2 c. Reducing custody; Inspection report, Contextual facts"


def test_every_source_document_in_the_data_is_a_known_source():
    known = set(reference.source_ids())
    for path in sorted(table_path("areas").parent.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        if rows and "source_document" in rows[0]:
            unknown = {r["source_document"] for r in rows} - known
            assert not unknown, f"{path.name}: unknown sources {unknown}"


def test_comparator_group_lookup_gives_kinds_and_labels():
    assert reference.group_kind("area") == "area"
    assert reference.group_kind("south_east") == "region"
    assert reference.group_kind("thames_valley") == "police_force_area"
    assert reference.group_kind("oxfordshire_yjb_family") == "yjb_family"
    assert reference.group_kind("oxfordshire_statistical_neighbours") == "statistical_neighbours"
    assert reference.group_kind("england_wales") == "england_wales"
    assert reference.group_kind("made_up") == "made_up"  # unknown: unchanged (the contract rejects it in the tables)
    assert reference.group_label("south_east") == "South East"
    params = reference.parameters()
    assert "area" not in params["group_ids"] and params["comparator_ids"][0] == "area"
    assert {"south_east", "west_midlands"} <= set(params["group_ids_region"])
    assert set(params["group_ids_police_force_area"]) >= {"thames_valley", "warwickshire_police_force_area"}
    assert "000_f1cbd793753f05a1.txt" in params["source_ids"]


def test_indicator_comparators_are_group_ids_and_benchmarks_keep_the_kind():
    data = dataset.load_area("oxfordshire", report=ValidationReport())
    assert set(data.table("indicators")["comparator"]) <= set(reference.parameters()["comparator_ids"])
    ips = area_indicators(data.table("indicators"), data.definitions, data.table("measures"))
    benchmarks = {(b.comparator, b.group) for ip in ips for b in ip.benchmarks}
    assert ("yjb_family", "oxfordshire_yjb_family") in benchmarks
    assert ("region", "south_east") in benchmarks
    assert ("police_force_area", "thames_valley") in benchmarks
    assert ("england", "england") in benchmarks


def test_definitions_accept_a_mean_per_person():
    row = DEFS[DEFS["indicator_id"] == "reoffending_frequency"].iloc[0]
    assert (row["statistic"], row["unit"], row["multiplier"], row["polarity"]) == (
        "mean_per_person", "reoffences per child", "1", "lower_is_better")
    assert row["source_document"] in reference.source_ids()


# --------------------------------------------------------------------------- populations (no GX)


def _row(indicator_id, period, start, end, value, numerator=None, denominator=None, comparator="area"):
    return {
        "area_id": "testshire", "indicator_id": indicator_id, "comparator": comparator, "comparator_label": "Testshire",
        "period_label": period, "period_start": pd.Timestamp(start), "period_end": pd.Timestamp(end), "value": value,
        "numerator": numerator, "denominator": denominator,
        "numerator_status": "published" if numerator is not None else None,
        "denominator_status": "published" if denominator is not None else None,
        "published_change": None, "value_status": "published", "note": "", "source_document": "test.txt",
        "source_section": "table 1",
    }


def _indicators(rows):
    frame = pd.DataFrame(rows)
    for col in ("value", "numerator", "denominator", "published_change"):
        frame[col] = pd.to_numeric(frame[col])
    return {(ip.definition.indicator_id, ip.period_label): ip for ip in area_indicators(frame, DEFS)}


FTE = ("fte_rate", "2017/18", "2017-04-01", "2018-03-31")
CUSTODY = ("custody_rate", "2017/18", "2017-04-01", "2018-03-31")


def test_zero_count_gets_the_exact_interval_with_the_same_year_population_of_another_indicator():
    published_zero = _indicators([_row(*FTE, 200, numerator=100), _row(*CUSTODY, 0, numerator=0)])[("custody_rate", "2017/18")]
    no_count = _indicators([_row(*FTE, 200, numerator=100), _row(*CUSTODY, 0)])[("custody_rate", "2017/18")]
    upper = stats.poisson_count_limits(0)[1] / 50000 * 1000  # 3.69 events in a population of 50,000, per 1,000
    for ip in (published_zero, no_count):
        assert ip.estimate.has_interval and ip.estimate.method == "exact Poisson"
        assert ip.estimate.lower == 0 and ip.estimate.upper == pytest.approx(upper)
        assert ip.denominator == 50000 and ip.denominator_status == "derived from another indicator"
        assert ip.small_numbers  # a real (wide) interval beside the caution
        text = " ".join(ip.derivations)
        assert "50,000" in text and "implied by the same period's first-time entrant rate" in text
        assert "100 first-time entrants ÷ 200 per 100,000" in text and "test.txt, table 1" in text
    # Publishing the 0 never gives a worse answer than leaving it out.
    assert interval_text(published_zero.estimate, published_zero.definition) == interval_text(no_count.estimate, no_count.definition)
    assert no_count.numerator == 0 and no_count.numerator_status == "derived"
    assert published_zero.numerator_status == "published"


def test_zero_count_without_any_population_has_no_interval_and_no_small_numbers_caution():
    ip = _indicators([_row(*CUSTODY, 0, numerator=0)])[("custody_rate", "2017/18")]
    assert not ip.estimate.has_interval
    assert not ip.small_numbers


def test_population_of_another_period_is_not_used_as_the_same_year():
    ips = _indicators([_row("fte_rate", "2016/17", "2016-04-01", "2017-03-31", 200, numerator=100), _row(*CUSTODY, 0.1)])
    assert not ips[("custody_rate", "2017/18")].estimate.has_interval


def test_rate_without_count_uses_the_populations_table_and_says_so():
    data = dataset.load_area("oxfordshire", report=ValidationReport())
    ips = {(ip.definition.indicator_id, ip.period_label): ip
           for ip in area_indicators(data.table("indicators"), data.definitions, data.table("measures"))}
    ip = ips[("fte_rate", "April 2018 to March 2019")]
    assert ip.numerator == 126 and ip.numerator_status == "derived"
    assert ip.denominator == 62607 and ip.denominator_status == "published elsewhere"
    text = " ".join(ip.derivations)
    assert "201 per 100,000 × 62,607 ÷ 100,000 = 126" in text
    assert "mid-2018 estimate; data/populations.csv line 2; Inspection report, Contextual facts" in text
    assert interval_text(ip.estimate, ip.definition) == "168–240"
    # a rate published with its count keeps count ÷ rate as its population
    assert ips[("custody_rate", "2017/18")].denominator == 60000


def test_population_of_a_different_date_is_labelled(data_copy):
    with (data_copy / "populations.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["warwickshire", "mid-2016 estimate", "2015-07-01", "2016-06-30", "10-17", "50000",
                                 "004_c759a724d34c8651.txt", "made-up test row", "test"])
    data = dataset.load_area("warwickshire", report=ValidationReport())
    ips = {(ip.definition.indicator_id, ip.period_label): ip
           for ip in area_indicators(data.table("indicators"), data.definitions, data.table("measures"))}
    ip = ips[("fte_rate", "2017/18")]  # reference date 30 June 2016: 275 days before the period
    assert ip.numerator == 62 and ip.denominator_status == "published elsewhere, another date"
    assert "of a different date than the period" in " ".join(ip.derivations)
    assert "data/populations.csv line 3" in " ".join(ip.derivations)


# --------------------------------------------------------------------------- contracts (GX)


def _failure(area: str = "oxfordshire") -> str:
    with pytest.raises(DataContractError) as info:
        dataset.load_area(area)
    return str(info.value)


@pytest.mark.gx
def test_unknown_comparator_lists_the_known_group_ids(data_copy):
    replace_in(data_copy / "indicators.csv", ",oxfordshire_yjb_family,", ",yot_family,")
    message = _failure()
    assert "data/indicators.csv, line" in message and "column 'comparator'" in message
    assert "comparator must be 'area' (the area itself) or a comparator group listed in comparator_groups.csv" in message
    assert "known values: area, " in message and "oxfordshire_yjb_family" in message and "south_east" in message
    assert "comparator='yot_family'" in message


@pytest.mark.gx
def test_unknown_source_lists_the_known_sources(data_copy):
    replace_in(data_copy / "measures.csv", ",004_c759a724d34c8651.txt,", ",005_not_a_seed.txt,")
    message = _failure("warwickshire")
    assert "data/measures.csv, line" in message and "column 'source_document'" in message
    assert "source_document must be a source listed in data/sources.csv" in message
    assert "known values: " in message and "000_f1cbd793753f05a1.txt" in message and "pipeline/synthetic.py" in message
    assert "source_document='005_not_a_seed.txt'" in message
    assert dataset.load_area("oxfordshire").report.ok  # another area's bad row does not stop this one


@pytest.mark.gx
def test_unknown_measure_unit_lists_the_declared_units(data_copy):
    replace_in(data_copy / "measures.csv", ",cases per FTE case manager,", ",cases per manager,")
    message = _failure()
    assert "column 'unit'" in message and "unit must be one of the declared units: 'count', '%'" in message
    assert "'cases per FTE case manager'" in message and "unit='cases per manager'" in message


@pytest.mark.gx
def test_bad_definitions_row_leaves_out_that_indicator_only(data_copy, tmp_path):
    from pipeline.document import sections

    path = data_copy / "indicator_definitions.csv"
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                if text.startswith("reoffending_rate,"))
    replace_in(path, ",proportion,%,100,lower_is_better,reoffenders,", ",proportion,%,0,lower_is_better,reoffenders,")
    data = dataset.load_area("oxfordshire")  # does not raise
    report = data.report
    assert report.ok and report.left_out_ids("indicator_definitions") == ["reoffending_rate"]
    failures = [o for o in report.left_out if o.table == "indicator_definitions"]
    assert failures and all(o.status == "failed: left out" for o in failures)
    messages = " ".join(o.message() for o in failures)
    assert f"data/indicator_definitions.csv, line {line}, column 'multiplier'" in messages
    assert "indicator 'reoffending_rate' left out" in messages
    assert all(o in report.warnings for o in failures) and not report.critical_failures
    # the indicator's rows are left out; every other indicator is there
    shown = set(data.table("indicators")["indicator_id"])
    assert "reoffending_rate" not in shown and {"fte_rate", "custody_rate", "custody_share", "remand_share"} <= shown
    assert "reoffending_rate" not in set(data.definitions["indicator_id"])
    ips = area_indicators(data.table("indicators"), data.definitions, data.table("measures"))
    plan = sections.Plan(data=data, indicators=ips, figures_dir=tmp_path / "figures", build_date="2000-01-01")
    text = sections.performance(plan)
    assert "could not be shown" in text and "`reoffending_rate`" in text and "First-time entrants" in text
    # the build's second pass (typing only, with the report) leaves out the same indicator
    again = dataset.load_area("oxfordshire", report=report)
    assert "reoffending_rate" not in set(again.table("indicators")["indicator_id"])
    # other areas build too
    assert dataset.load_area("warwickshire").report.ok


@pytest.mark.gx
def test_definitions_statistic_must_match_unit_and_multiplier(data_copy):
    path = data_copy / "indicator_definitions.csv"
    replace_in(path, ",mean_per_person,reoffences per child,1,", ",mean_per_person,%,100,")
    report = dataset.load_area("oxfordshire").report
    assert report.ok and report.left_out_ids("indicator_definitions") == ["reoffending_frequency"]
    text = " ".join(o.message() for o in report.left_out)
    assert "unit '%' is only for a proportion" in text


@pytest.mark.gx
def test_comparator_groups_contract(data_copy):
    with (data_copy / "comparator_groups.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["Bad Group", "A bad group", "county", "", "000_f1cbd793753f05a1.txt", "test"])
    message = _failure()
    assert "data/comparator_groups.csv, line" in message
    assert "column 'group_id'" in message and "column 'kind'" in message
    assert "kind is one of: england, england_wales, region, police_force_area, yjb_family, statistical_neighbours, other" in message


@pytest.mark.gx
def test_population_far_from_the_count_and_rate_is_a_warning(data_copy):
    with (data_copy / "populations.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["buckinghamshire", "mid-2015 estimate", "2014-07-01", "2015-06-30", "10-17", "80000",
                                 "002_4b24d57fc4b0d66d.txt", "made-up test row", "test"])
    report = dataset.load_area("buckinghamshire").report
    assert report.ok
    warned = [o for o in report.warnings if o.column == "population_tolerance, population_gap"]
    assert warned, [o.message() for o in report.warnings]
    text = warned[0].message()
    assert "within 10%" in text and "indicator_id='fte_rate'" in text
    assert "implied_population=52,136.8" in text and "reference_population=80,000" in text
    assert "populations.csv: 10–17 population 80,000 (mid-2015 estimate" in text


@pytest.mark.gx
def test_counts_implying_different_populations_in_other_years_are_a_warning(data_copy):
    # Buckinghamshire: 6 custodial sentences at 0.11 per 1,000 imply about 54,500 children, like the FTE figures
    # (52,137); 16 would imply 145,000.
    replace_in(data_copy / "indicators.csv", ',0.11,"per 1,000",6,', ',0.11,"per 1,000",16,')
    report = dataset.load_area("buckinghamshire").report
    warned = [o for o in report.warnings if o.column == "population_tolerance, population_gap"]
    assert warned
    text = warned[0].message()
    assert "indicator_id='custody_rate'" in text and "median of the populations implied by fte_rate" in text


@pytest.mark.gx
def test_real_data_has_no_population_warning():
    for area in ("oxfordshire", "buckinghamshire"):
        report = dataset.load_area(area).report
        assert not [o for o in report.warnings if o.column == "population_tolerance, population_gap"], area


def test_mean_per_person_indicator_is_estimated_with_the_clustering_caveat():
    ips = _indicators([
        _row("reoffending_frequency", "2016/17", "2016-04-01", "2017-03-31", 1.1, numerator=110, denominator=100),
        _row("reoffending_frequency", "2017/18", "2017-04-01", "2018-03-31", 0.8, numerator=80),
    ])
    latest = ips[("reoffending_frequency", "2017/18")]
    assert latest.denominator == 100 and latest.denominator_status == "derived"  # 80 reoffences ÷ 0.8 per child
    assert "Children in the cohort derived as 80 ÷ 0.8 reoffences per child = 100" in latest.derivations
    assert latest.estimate.has_interval  # exact Poisson on the events ÷ children, a lower bound on the uncertainty
    expected = stats.mean_per_person_estimate(80, 100)
    assert (latest.estimate.lower, latest.estimate.upper) == (expected.lower, expected.upper)
    # the change is tested on the event counts (stats.mean_per_person_change), saying the test is too ready
    assert latest.change is not None and latest.change.significant is not None and latest.change.p_value is not None
    assert "cluster" in latest.change.note
    assert latest.change.direction == "decrease" and latest.change.assessment == "improvement"


@pytest.mark.gx
def test_mean_per_person_count_may_exceed_the_cohort(data_copy):
    with (data_copy / "indicators.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["oxfordshire", "reoffending_frequency", "area", "Oxfordshire", "Jul 15 – Jun 16 cohort",
                                 "2015-07-01", "2016-06-30", "1.5", "reoffences per child", "150", "100", "published",
                                 "published", "", "published", "made-up test row", "000_f1cbd793753f05a1.txt", "test"])
    data = dataset.load_area("oxfordshire")
    assert data.report.ok, [o.message() for o in data.report.critical_failures]
    assert not [o for o in data.report.warnings if "reoffending_frequency" in " ".join(o.details)]
    ips = area_indicators(data.table("indicators"), data.definitions, data.table("measures"))
    ip = next(ip for ip in ips if ip.definition.indicator_id == "reoffending_frequency")
    assert ip.numerator == 150 and ip.denominator == 100


def test_populations_table_given_explicitly_to_a_hand_built_table():
    populations = pd.DataFrame([{"area_id": "testshire", "period_label": "mid-2017 estimate", "period_start": "2016-07-01",
                                 "period_end": "2017-06-30", "age_band": "10-17", "population": "40,000",
                                 "source_document": "test.txt", "source_section": "population table", "note": ""}])
    frame = pd.DataFrame([_row(*CUSTODY, 0.25)])
    for col in ("value", "numerator", "denominator", "published_change"):
        frame[col] = pd.to_numeric(frame[col])
    ip = area_indicators(frame, DEFS, populations=populations)[0]
    assert ip.numerator == 10 and ip.denominator == 40000 and ip.denominator_status == "published elsewhere"
    assert "10–17 population 40,000 (mid-2017 estimate; data/populations.csv; test.txt, population table)" in ip.derivations[0]
