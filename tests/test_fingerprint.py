"""The cache key of a plan changes with every input that can change the plan, and with nothing else."""

from __future__ import annotations

import shutil

import pytest

from conftest import REPO, replace_in
from pipeline.build import cache, prepare_inputs, resolve_area
from pipeline.build.driver import area_fingerprint


@pytest.fixture
def key(data_copy, build_copy):
    def _key(area: str = "warwickshire", renderer: str = "embedded", formats=("html", "pdf")) -> str:
        ctx = resolve_area(area)
        prepare_inputs([ctx])
        return area_fingerprint(ctx, renderer, tuple(formats))
    return _key


def test_same_inputs_same_key(key):
    assert key() == key()


def test_each_kind_of_input_changes_only_its_own_keys(key, data_copy):
    before = {a: key(a) for a in ("oxfordshire", "warwickshire")}
    replace_in(data_copy / "indicators.csv", "See the 2017/18 row.", "See the 2017/18 row (checked).")  # a Warwickshire row
    assert key("warwickshire") != before["warwickshire"]
    assert key("oxfordshire") == before["oxfordshire"]
    before = {a: key(a) for a in ("oxfordshire", "warwickshire")}
    # Another area's details in areas.csv or plans.csv do not matter.
    replace_in(data_copy / "plans.csv", "Oxfordshire Youth Justice Service Strategic Plan 2018–2021",
               "Oxfordshire Youth Justice Service Strategic Plan 2018-2021")
    assert key("warwickshire") == before["warwickshire"] and key("oxfordshire") != before["oxfordshire"]


def test_adding_an_area_or_an_edition_changes_only_its_own_keys(key, data_copy):
    """Adding an area (its areas.csv and plans.csv rows) or another area's edition rebuilds nothing else."""
    before = {a: key(a) for a in ("oxfordshire", "warwickshire", "buckinghamshire")}
    with open(data_copy / "areas.csv", "a", encoding="utf-8") as fh:
        fh.write("northshire,Northshire,Northshire Youth Justice Service,YJS,north_east,thames_valley,,published,"
                 "000_f1cbd793753f05a1.txt,made-up row for a test\n")
    with open(data_copy / "plans.csv", "a", encoding="utf-8") as fh:
        fh.write("northshire,2024-25,Northshire Youth Justice Plan 2024–25,2024–25,2024-04-01,2025-03-31,strategic_plan,"
                 "content/northshire/2024-25.yml,2024-06-30,24,000_f1cbd793753f05a1.txt,made-up row,\n"
                 "oxfordshire,2021-22,Oxfordshire Youth Justice Plan 2021–22,2021–22,2021-04-01,2022-03-31,strategic_plan,"
                 "content/oxfordshire/2021-22.yml,2021-06-30,24,000_f1cbd793753f05a1.txt,made-up row,\n")
    assert key("warwickshire") == before["warwickshire"]
    assert key("buckinghamshire") == before["buckinghamshire"]
    assert key("oxfordshire") != before["oxfordshire"]  # its own editions changed (the new one is its latest)


def test_formats_renderer_and_its_version_are_in_the_key(key, monkeypatch):
    base = key()
    assert key(formats=("html",)) != base
    import pipeline.render as render  # build.fingerprint looks the versions up here at call time

    original = render.renderer_versions
    monkeypatch.setattr(render, "renderer_versions", lambda r: {**original(r), "typst": "99.0"})
    assert key() != base


def test_tracking_extract_and_its_settings_are_in_the_key(key, data_copy, build_copy):
    base = key("demoshire")
    extract = resolve_area("demoshire").tracking.extract
    with open(extract, "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert key("demoshire") != base
    changed = key("demoshire")
    replace_in(data_copy / "tracking.yml", "    generate: synthetic\n    population: 60000", "    generate: synthetic\n    population: 61000")
    assert key("demoshire") != changed


def test_validation_key_follows_rows_contracts_but_not_content(data_copy, tmp_path, monkeypatch):
    contracts = tmp_path / "contracts"
    shutil.copytree(REPO / "data_contracts", contracts)
    monkeypatch.setenv("YJPLAN_CONTRACTS_DIR", str(contracts))
    base = cache.validation_key("oxfordshire")
    (data_copy / "content" / "oxfordshire.yml").write_text("summary: edited\n", encoding="utf-8")
    assert cache.validation_key("oxfordshire") == base
    replace_in(contracts / "budget.json", '"expectations"', '"notes": "reviewed", "expectations"')
    assert cache.validation_key("oxfordshire") != base


def test_the_renderer_chosen_is_in_the_key(key, monkeypatch):
    import pipeline.render as render

    monkeypatch.setattr(render, "renderer_versions", lambda r: {"renderer": r, "version": "1"})
    assert key(renderer="quarto") != key(renderer="embedded")
