"""Guards: fast tests that fail when a protection users rely on is switched off.

* disclosure control of the published reoffending tables (no suppressed count recoverable);
* the secondary-suppression tie-break "inner cells before totals";
* the build cache key following the content file, the contracts and the package code.
"""

from __future__ import annotations

import inspect
import shutil

import pandas as pd
import pytest

from conftest import REPO, replace_in
from pipeline.analysis.disclosure import suppress_table
from pipeline.analysis.tracking import canonical, publication_tables

MARKERS = {"<5", "*"}
COUNTS = ("cohort_size", "reoffenders", "not_reoffended", "reoffences")
RATES = ("rate", "lower", "upper")
# the reoffending polarity, where publication_tables asks for it (from indicator_definitions.csv)
POLARITY = ({"reoffending_polarity": "lower_is_better"}
            if "reoffending_polarity" in inspect.signature(publication_tables).parameters else {})


def _hidden(value) -> bool:
    return isinstance(value, str) and value in MARKERS


# --------------------------------------------------------------------------- disclosure of the reoffending tables


def _row(n: int, child: str, offence: str, outcome: str) -> dict:
    return {
        "record_id": f"G{n:05d}", "area_id": "testshire", "child_id": child, "sex": "male", "age_at_offence": 15,
        "birth_month": "", "ethnicity": "white", "offence_date": offence, "outcome_date": outcome,
        "outcome_type": "youth_caution", "disposal": "", "release_date": "", "offence_category": "theft_and_handling",
        "gravity_score": 2, "remand_status": "", "data_kind": "case_management",
    }


def small_extract() -> pd.DataFrame:
    """2015/16 cohort: 20 children, 10 reoffend; 2016/17 cohort: 9 children, 4 reoffend (4/9 = 44.4%)."""
    rows = [_row(0, "EARLY", "2014-01-02", "2014-01-15")]  # the extract starts early enough for a complete 2015/16 cohort
    for year, size, reoffenders in ((2015, 20, 10), (2016, 9, 4)):
        for k in range(size):
            child = f"Y{year}C{k:02d}"
            rows.append(_row(len(rows), child, f"{year}-05-{k + 1:02d}", f"{year}-06-{k + 1:02d}"))
            if k < reoffenders:  # a reoffence a month later, proven within the same cohort year
                rows.append(_row(len(rows), child, f"{year}-07-{k + 1:02d}", f"{year}-08-{k + 1:02d}"))
    return canonical(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def small_tables() -> dict:
    return publication_tables(small_extract(), 20000.0, "2020-12-31", "2016-04-01", "2017-03-31", **POLARITY)


def test_small_extract_has_the_cohorts_the_guard_is_about():
    from pipeline.analysis.tracking import reoffending_cohorts

    c = reoffending_cohorts(small_extract(), "annual", "2020-12-31")
    c = c.set_index("cohort_label")
    assert (c.loc["Apr 2016 – Mar 2017", "cohort_size"], c.loc["Apr 2016 – Mar 2017", "reoffenders"]) == (9, 4)
    assert (c.loc["Apr 2015 – Mar 2016", "cohort_size"], c.loc["Apr 2015 – Mar 2016", "reoffenders"]) == (20, 10)


@pytest.mark.parametrize("name", ["reoffending_cohorts", "reoffending_cohorts_quarterly"])
def test_no_small_count_and_no_rate_on_a_hidden_count_in_cohort_tables(small_tables, name):
    t = small_tables[name]
    for r in t.to_dict("records"):
        for c in COUNTS:
            v = r.get(c)
            assert _hidden(v) or pd.isna(v) or not (1 <= v <= 4), f"{name} {r['cohort']}: {c} = {v} is shown"
        if any(_hidden(r.get(c)) for c in ("cohort_size", "reoffenders", "not_reoffended")):
            shown = {c: r[c] for c in RATES if not _hidden(r[c])}
            assert not shown, f"{name} {r['cohort']}: rate shown on a suppressed count: {shown}"
        # reoffenders = cohort size - children who did not reoffend: never both of these shown around a hidden one
        if _hidden(r["reoffenders"]):
            assert _hidden(r["cohort_size"]) or _hidden(r.get("not_reoffended", "*")), r


def test_change_table_never_shows_a_rate_whose_count_is_suppressed(small_tables):
    """A rate of 44.4% beside a cohort of 9 gives away 4 reoffenders, whatever the cohort table hides."""
    cohorts = small_tables["reoffending_cohorts"].set_index("cohort")
    hidden = {label for label, r in cohorts.iterrows() if any(_hidden(r[c]) for c in ("cohort_size", "reoffenders", "not_reoffended"))}
    assert "Apr 2016 – Mar 2017" in hidden  # 4 reoffenders: suppressed
    changes = small_tables["reoffending_changes"]
    assert len(changes)
    for r in changes.to_dict("records"):
        if r["cohort"] in hidden or r["previous_cohort"] in hidden:
            for c in ("rate", "previous_rate", "change_pp"):
                assert _hidden(r[c]), f"change {r['cohort']} on {r['previous_cohort']}: {c} = {r[c]} is shown"
    every_cell = {str(v) for t in small_tables.values() if isinstance(t, pd.DataFrame) for c in t.columns for v in t[c]}
    assert "44.4" not in every_cell


# --------------------------------------------------------------------------- the tie-break: inner cells before totals


def test_secondary_suppression_hides_inner_cells_before_totals():
    """Known answer: with the tie-break removed the two row totals (12 and 5) are hidden instead."""
    df = pd.DataFrame({"group": ["g0", "g1", "Total"], "c0": [6, 2, 8], "c1": [6, 3, 9], "total": [12, 5, 17]})
    out, _ = suppress_table(df, ["c0", "c1", "total"], total_row="Total", total_column="total", label_column="group")
    shown = out.astype(str).set_index("group")
    assert shown.loc["g1", ["c0", "c1"]].tolist() == ["<5", "<5"]
    assert shown.loc["g0", ["c0", "c1"]].tolist() == ["*", "*"]
    assert shown["total"].tolist() == ["12", "5", "17"]  # every total still shown
    assert shown.loc["Total"].tolist() == ["8", "9", "17"]


# --------------------------------------------------------------------------- the cache key


@pytest.fixture
def plan_key(data_copy, build_copy):
    from pipeline.build import resolve_area
    from pipeline.build.driver import area_fingerprint

    def _key(area: str = "oxfordshire") -> str:
        return area_fingerprint(resolve_area(area), "embedded", ("html", "pdf"))
    return _key


def test_cache_key_follows_the_content_file(plan_key, data_copy):
    before = plan_key()
    with open(data_copy / "content" / "oxfordshire" / "2018-21.yml", "a", encoding="utf-8") as fh:
        fh.write("\n# edited\n")
    assert plan_key() != before


def test_cache_key_follows_the_contracts(plan_key, tmp_path, monkeypatch):
    before = plan_key()
    contracts = tmp_path / "contracts"
    shutil.copytree(REPO / "data_contracts", contracts)
    monkeypatch.setenv("YJPLAN_CONTRACTS_DIR", str(contracts))
    assert plan_key() == before  # same contracts elsewhere: same key
    path = contracts / "budget.json"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert plan_key() != before


def test_cache_key_follows_the_package_code(plan_key, tmp_path, monkeypatch):
    from pipeline.build import cache

    before = plan_key()
    package = tmp_path / "pipeline"
    shutil.copytree(REPO / "pipeline", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE_DIR", package)
    cache.code_fingerprint.cache_clear()
    try:
        assert plan_key() == before  # an identical copy of the code: same key
        replace_in(package / "data" / "dataset.py", "GBP_PER_UNIT = {", "GBP_PER_UNIT = {  # edited\n    ", 1)
        cache.code_fingerprint.cache_clear()
        assert plan_key() != before
        cache.code_fingerprint.cache_clear()
        template = next(p for p in (package / "templates").rglob("*") if p.suffix in (".lua", ".typ", ".css", ".html"))
        template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        replace_in(package / "data" / "dataset.py", "GBP_PER_UNIT = {  # edited\n    ", "GBP_PER_UNIT = {", 1)
        assert plan_key() != before  # a template alone changes it too
    finally:
        monkeypatch.undo()
        cache.code_fingerprint.cache_clear()
