"""Every service, every year (issue #14), end to end, as data only, through the real CLI.

In a private copy of the data: a new area outside the Thames Valley (Northshire, North East, with its own
police-force-area comparator group, Northumbria), with a reoffending-frequency row and a published custody
count of 0, and a second edition of an existing area (Warwickshire 2019-20, started with
``yjplan new-edition`` and given a newer first-time-entrant figure). Everything is built; then the index,
both Warwickshire editions, Northshire's plan, the comparison and the intervals are checked; then one more
area is added and only its plan is built (the others are up to date).
"""

from __future__ import annotations

import csv
import html as html_lib
import re
from pathlib import Path

import pytest

from conftest import plan_file, run_cli

pytestmark = pytest.mark.integration

SRC = {"source_document": "northshire_plan_2024", "source_section": "Performance table"}


def _append(path: Path, rows: list[dict]) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        for row in rows:
            unknown = set(row) - set(header)
            assert not unknown, f"test setup: {path.name} has no column {unknown}"
            writer.writerow({k: row.get(k, "") for k in header})


def _text(path: Path) -> str:
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", raw)))


def add_area(data: Path, area_id: str, name: str, region: str, force: str | None) -> None:
    """A real-looking area added as data only: area, code, source, comparator group, plan, content."""
    source = f"{area_id}_plan_2024"
    _append(data / "sources.csv", [{"source_id": source, "title": f"{name} Youth Justice Plan 2024–25 (made up for a test)",
                                    "short_title": f"{name} plan", "publisher": f"{name} Youth Justice Service", "kind": "plan"}])
    if force:
        _append(data / "comparator_groups.csv", [{"group_id": force, "label": force.capitalize(), "kind": "police_force_area",
                                                  "source_document": source, "source_section": "Performance table"}])
    _append(data / "areas.csv", [{"area_id": area_id, "area_name": name, "service_name": f"{name} Youth Justice Service",
                                  "service_abbrev": "YJS", "region": region, "police_force_area": force or "thames_valley",
                                  "data_kind": "published", "source_document": source, "source_section": "Title page"}])
    _append(data / "area_codes.csv", [{"area_id": area_id, "ons_code": "E06000099", "valid_from": "2009-04-01",
                                       "source": "made up for a test"}])
    _append(data / "plans.csv", [{
        "area_id": area_id, "edition": "2024-25", "plan_title": f"{name} Youth Justice Plan 2024–25",
        "plan_period_label": "2024–25", "plan_period_start": "2024-04-01", "plan_period_end": "2025-03-31",
        "template": "strategic_plan", "content_file": f"content/{area_id}/2024-25.yml", "data_cutoff": "2024-06-30",
        "stale_after_months": "24", "source_document": source, "source_section": "Title page"}])
    (data / "content" / area_id).mkdir(parents=True, exist_ok=True)
    (data / "content" / area_id / "2024-25.yml").write_text(
        f"summary: {name} is a made-up service added as data only.\n"
        "priorities:\n  - title: Reduce first-time entrants\n    actions: [Divert minor offences]\n", encoding="utf-8")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    import shutil

    from conftest import REPO

    root = tmp_path_factory.mktemp("every-service")
    for name in ("data", "data_contracts", "notebooks"):
        shutil.copytree(REPO / name, root / name)
    env = {"YJPLAN_DATA_DIR": str(root / "data"), "YJPLAN_CONTRACTS_DIR": str(root / "data_contracts"),
           "YJPLAN_NOTEBOOKS_DIR": str(root / "notebooks"), "YJPLAN_BUILD_DIR": str(root / "build")}
    data = root / "data"

    # 1. A new area outside the Thames Valley, with its own police force area as a comparator group.
    add_area(data, "northshire", "Northshire", "north_east", "northumbria")
    row = {"area_id": "northshire", "value_status": "published", "source_document": "northshire_plan_2024",
           "source_section": "Performance table"}
    _append(data / "populations.csv", [{"area_id": "northshire", "period_label": "mid-2023 estimate", "period_start": "2022-07-01",
                                        "period_end": "2023-06-30", "age_band": "10-17", "population": "52000",
                                        "source_document": "northshire_plan_2024", "source_section": "Context"}])
    _append(data / "indicators.csv", [
        {**row, "indicator_id": "fte_rate", "comparator": "area", "comparator_label": "Northshire", "period_label": "2023/24",
         "period_start": "2023-04-01", "period_end": "2024-03-31", "value": "150", "published_unit": "per 100,000",
         "numerator": "78", "numerator_status": "published"},
        {**row, "indicator_id": "fte_rate", "comparator": "northumbria", "comparator_label": "Northumbria",
         "period_label": "2023/24", "period_start": "2023-04-01", "period_end": "2024-03-31", "value": "180",
         "published_unit": "per 100,000"},
        {**row, "indicator_id": "custody_rate", "comparator": "area", "comparator_label": "Northshire", "period_label": "2023/24",
         "period_start": "2023-04-01", "period_end": "2024-03-31", "value": "0", "published_unit": "per 1,000",
         "numerator": "0", "numerator_status": "published"},
        {**row, "indicator_id": "reoffending_frequency", "comparator": "area", "comparator_label": "Northshire",
         "period_label": "Apr 2022 – Mar 2023 cohort", "period_start": "2022-04-01", "period_end": "2023-03-31", "value": "1.2",
         "published_unit": "reoffences per child", "numerator": "96", "denominator": "80",
         "numerator_status": "published", "denominator_status": "published"},
    ])
    # 2. A second edition of an existing area, started from the first, with a newer figure.
    proc = run_cli(["new-edition", "warwickshire", "2019-20"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _append(data / "indicators.csv", [{
        "area_id": "warwickshire", "indicator_id": "fte_rate", "comparator": "area", "comparator_label": "Warwickshire",
        "period_label": "2018/19", "period_start": "2018-04-01", "period_end": "2019-03-31", "value": "190",
        "published_unit": "per 100,000", "value_status": "published", "source_document": "004_c759a724d34c8651.txt",
        "source_section": "made-up later row for a test"}])

    proc = run_cli(["build", "--all", "--format", "html", "--renderer", "embedded"], env, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    return {"env": env, "site": root / "build" / "site", "data": data, "out": proc.stdout}


def test_everything_builds_and_the_index_groups_editions_newest_first(world):
    out, site = world["out"], world["site"]
    for name in ("oxfordshire/2018-21", "buckinghamshire/2016-17", "warwickshire/2018-19", "warwickshire/2019-20",
                 "demoshire/2019-20", "northshire/2024-25", "compare"):
        assert re.search(rf"BUILT\s+{re.escape(name)}:", out), name
    index = (site / "index.md").read_text(encoding="utf-8")
    newer = index.index("warwickshire/2019-20/warwickshire-2019-20-plan.html")
    older = index.index("warwickshire/2018-19/warwickshire-2018-19-plan.html")
    assert newer < older, "editions of an area are listed newest first"
    assert "northshire/2024-25/northshire-2024-25-plan.html" in index
    assert (site / "warwickshire" / "2018-19" / "warwickshire-2018-19-plan.html").is_file()  # the old edition stays


def test_both_editions_are_their_own_plan(world):
    site = world["site"]
    old = _text(site / "warwickshire" / "2018-19" / "warwickshire-2018-19-plan.html")
    new = _text(site / "warwickshire" / "2019-20" / "warwickshire-2019-20-plan.html")
    assert "What changed since the last plan" not in old and "Draft for review" not in old
    assert "What changed since the last plan" in new and "Draft for review" in new
    assert "Progress on last year" in new and "(to review)" in new
    # the new edition's budget has not been entered; the old edition keeps its own
    assert "No budget table has been entered for this edition" in new
    assert "£000" in old and "No budget table" not in old
    # the headline moved from 2017/18 to 2018/19 between the editions, and the change is described
    section = new[new.index("What changed since the last plan"):]
    assert "2017/18" in section and "2018/19" in section and "190 per 100,000" in section


def test_the_new_area_has_its_own_comparator_zero_count_and_frequency(world):
    text = _text(world["site"] / "northshire" / "2024-25" / "northshire-2024-25-plan.html")
    assert "North East" in text and "Northumbria" in text  # region and police force area by their labels
    assert "Northumbria 2023/24 180 per 100,000" in text  # its own police-force comparator, tested against the area
    # a published custody count of 0 gets the exact interval (population 52,000 from populations.csv): 0–0.07 per 1,000
    assert re.search(r"Northshire 2023/24 0(\.00)? per 1,000 0\.00–0\.07", text), text[text.find("Custodial"):][:600]
    assert "Based on 0 events" not in text or "0.00–0.07" in text
    # reoffending frequency: a mean per person with its interval and the clustering caveat
    assert "Reoffending frequency" in text or "reoffences per child" in text
    assert re.search(r"1\.20? reoffences per child", text)


def test_the_comparison_compares_areas_not_editions(world):
    text = _text(world["site"] / "compare" / "compare.html")
    assert "Northshire" in text
    assert text.count("Warwickshire 2018/19 190") <= 1
    start = text.find("Table 1: Areas compared")
    table = text[start:text.find("National indicators side by side", start)]
    assert table.count("Warwickshire Youth Justice Service") == 1, "an area is compared once, never with itself"
    assert "Warwickshire Youth Justice Service 2019–20" in table  # its latest edition
    assert "Northshire Youth Justice Service 2024–25 North East" in table
    assert "different financial years" in text or "same financial year" in text


def test_adding_one_more_area_rebuilds_only_its_plan(world):
    data, env = world["data"], world["env"]
    add_area(data, "southshire", "Southshire", "south_west", None)
    proc = run_cli(["build", "--all", "--format", "html", "--renderer", "embedded"], env, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:]
    built = re.findall(r"^\s+BUILT\s+(\S+):", proc.stdout, re.M)
    cached = re.findall(r"^\s+CACHED\s+(\S+):", proc.stdout, re.M)
    assert "southshire/2024-25" in built
    for name in ("oxfordshire/2018-21", "buckinghamshire/2016-17", "warwickshire/2018-19", "warwickshire/2019-20",
                 "northshire/2024-25", "demoshire/2019-20"):
        assert name in cached, (name, proc.stdout[-3000:])
    print(f"after adding one area: built {built}, up to date {len(cached)}")
