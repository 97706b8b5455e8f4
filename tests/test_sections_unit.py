"""What a reader sees when an area has little data: no indicators, one indicator, no budget (sections, comparison, index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.analysis import compare

from pipeline.document import compare_sections, sections
from pipeline.data.contracts import ValidationReport
from pipeline.data.dataset import load_area
from pipeline.analysis.indicators import area_indicators


def _plan(area_id: str, tmp_path: Path, keep=None, edition: str | None = None) -> sections.Plan:
    data = load_area(area_id, report=ValidationReport(), edition=edition)
    if keep is not None:
        ind = data.table("indicators")
        data.tables["indicators"] = ind[keep(ind)]
    ips = area_indicators(data.table("indicators"), data.definitions, data.table("measures"))
    return sections.Plan(data=data, indicators=ips, figures_dir=tmp_path / "figures", build_date="2000-01-01")


def test_area_without_indicators_budget_or_staff_says_so(tmp_path):
    plan = _plan("demoshire", tmp_path, edition="2019-20")
    assert "# Performance on the national indicators" in sections.performance(plan)
    assert "No national indicator figures are available for this area." in sections.performance(plan)
    assert "No national indicator figures are available for this area." in sections.summary(plan)
    # nothing was entered for the synthetic demonstration (no row says its source publishes none)
    assert "No budget table has been entered for this synthetic demonstration (`data/budget.csv`)." in sections.resources(plan)
    assert "No staffing figures have been entered for this synthetic demonstration" in sections.staffing(plan)
    assert "published" not in sections.resources(plan) + sections.staffing(plan)
    assert sections.inspection_section(plan) == ""  # no inspection: no empty heading


def test_one_indicator_gives_one_glance_row_and_its_own_section(tmp_path):
    plan = _plan("oxfordshire", tmp_path, keep=lambda t: t["indicator_id"] == "custody_rate")
    glance = [line for line in sections.glance_table(plan).splitlines() if line.startswith("| ")]
    assert len(glance) == 3  # header, separator, one indicator
    assert "0.15 per 1,000" in glance[2].replace("\\", "")  # Markdown escapes aside
    perf = sections.performance(plan)
    assert "## Custodial sentences per 1,000" in perf
    assert "## First-time entrants" not in perf and "## Proportion of children" not in perf
    assert "No national indicator figures" not in perf


def test_comparison_of_an_area_without_figures_says_not_published(tmp_path):
    summaries = [compare.summarise_area(load_area(a, report=ValidationReport())) for a in ("warwickshire", "demoshire")]
    c = compare_sections.Comparison(summaries, tmp_path / "figures", "2000-01-01")
    money = compare_sections.money_section(c)
    assert "not published" in money and "2,378,000" in money
    assert "no inspection data" in compare_sections.inspection_comparison(c)
    assert "No pair of areas" in compare_sections.differences_section(c)


def test_site_index_before_any_build(build_copy):
    from pipeline import site

    text = site.index_markdown()
    assert "# Area plans" in text and "not built" in text
    assert "The comparison has not been built yet" in text
    assert "synthetic" in text.lower()
