"""End to end: the real CLI builds every plan, the comparison and the index (papermill, GX, pandoc, typst).

Figures from the seed documents are asserted in the HTML text and in the PDF text (pypdf).
"""

from __future__ import annotations

import csv
import html as html_lib
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from conftest import plan_file, plan_folder

pytestmark = pytest.mark.integration

AREAS = ("oxfordshire", "buckinghamshire", "warwickshire")

# Figures a reader must find in each plan, from the seed documents.
SEED_FIGURES = {
    "oxfordshire": [
        "240 per 100,000",  # FTE rate, Jan–Dec 2017
        "Jan–Dec 2017",
        "292 per 100,000",  # national
        "37.6%",  # reoffending, Jul 15 – Jun 16 cohort
        "36.1%",  # previous cohort
        "Jul 15 – Jun 16",
        "a deterioration of 1.5 percentage points",
        "£1,383,382",  # published budget total
        "28/36, Good",  # inspection score reproduced from key questions
    ],
    "buckinghamshire": ["£1,531,381"],
    "warwickshire": ["33.23%", "35.76%"],
}

SECTION_ORDER = [
    "Summary and key achievements",
    "Structures and governance",
    "Resources and value for money",
    "Staffing",
    "Performance on the national indicators",
    "Offending and caseload profile",
    "Restorative justice, victims and service users",
    "Priorities",
    "Risks to delivery",
    "Appendix: data quality",
    "Sources",
]


def norm(text: str) -> str:
    """Whitespace collapsed, soft hyphens and typographic joins removed: what a reader sees as one phrase."""
    text = text.replace("\u00ad", "").replace("\u2060", "").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text)


def html_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    raw = re.sub(r"<img\b[^>]*>", " ", raw)
    return norm(html_lib.unescape(re.sub(r"<[^>]+>", " ", raw)))


def pdf_text(path: Path) -> str:
    return norm(" ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages))


@pytest.fixture(scope="module")
def texts(built_site) -> dict[str, dict[str, str]]:
    out = {}
    for area in (*AREAS, "demoshire"):
        out[area] = {"html": html_text(plan_file(built_site, area, "html")), "pdf": pdf_text(plan_file(built_site, area, "pdf"))}
    out["compare"] = {"html": html_text(built_site / "compare" / "compare.html"), "pdf": pdf_text(built_site / "compare" / "compare.pdf")}
    return out


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_seed_figures_appear_in_html_and_pdf(texts, area, fmt):
    text = texts[area][fmt]
    missing = [f for f in SEED_FIGURES[area] if f not in text]
    assert not missing, f"{area} {fmt}: figures from the seeds not found: {missing}"


@pytest.mark.parametrize("area", AREAS)
def test_plan_has_the_sections_of_a_real_plan_in_order(texts, area):
    for fmt in ("html", "pdf"):
        text = texts[area][fmt]
        toc_end = text.find("Sources") + len("Sources")  # the table of contents ends with Sources
        assert toc_end > len("Sources"), f"{area} {fmt}: no table of contents"
        pos = toc_end
        for title in SECTION_ORDER:
            found = text.find(title, pos)
            assert found >= 0, f"{area} {fmt}: section '{title}' missing or out of order"
            pos = found + len(title)


def test_oxfordshire_comparisons_are_worded_with_polarity(texts):
    text = texts["oxfordshire"]["html"]
    assert "The reoffending rate rose from 36.1% (Jul 14 – Jun 15 cohort) to 37.6%" in text
    assert "a deterioration of 1.5 percentage points" in text and "since lower is better" in text
    assert "not tested" in text  # no cohort sizes published: significance is not claimed
    # Custody: 0.15 per 1,000 against 0.38 nationally, with an exact Poisson interval (9 events).
    assert "0.15 per 1,000 is significantly better than national (0.38 per 1,000)" in text
    assert "exact Poisson" in text


def test_oxfordshire_budget_warning_is_in_the_data_quality_appendix(texts):
    for fmt in ("html", "pdf"):
        text = texts["oxfordshire"][fmt]
        appendix = text[text.rfind("Appendix: data quality"):text.rfind("Sources")]
        assert "1,383,382" in appendix and "1,383,328" in appendix, f"{fmt}: budget warning missing from the appendix"
        assert re.search(r"\b4 raised a warning\b", appendix), f"{fmt}: expected 4 warnings in the appendix summary"
        assert "0 failed critically" in appendix


def test_warwickshire_budget_is_converted_from_thousands(texts):
    text = texts["warwickshire"]["html"]
    assert "£000" in text and "converted to pounds" in text


def test_every_plan_keeps_its_executed_notebook_and_validation(built_site):
    for area in (*AREAS, "demoshire"):
        folder = plan_folder(built_site, area)
        nb = json.loads((folder / "plan.ipynb").read_text(encoding="utf-8"))
        assert nb["metadata"]["papermill"]["parameters"]["area_id"] == area
        assert nb["metadata"]["papermill"]["parameters"]["edition"] == folder.name
        assert not any(o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", []))
        manifest = json.loads((folder / "build.json").read_text())
        assert manifest["status"] == "built" and set(manifest["outputs"]) == {"html", "pdf", "docx"}
        assert (folder / "validation.json").is_file()


def test_index_links_every_output_and_lists_the_demo_separately(built_site):
    index = (built_site / "index.html").read_text(encoding="utf-8")
    for area in (*AREAS, "demoshire"):
        for ext in ("html", "pdf", "docx"):
            assert f'href="{plan_file(built_site, area, ext).relative_to(built_site).as_posix()}"' in index
    assert 'href="compare/compare.html"' in index and 'href="compare/compare.pdf"' in index
    assert 'href="compare/compare.docx"' in index
    text = html_text(built_site / "index.html")
    demo_at = text.find("Demonstration (synthetic data)")
    assert demo_at > text.find("Oxfordshire") > 0
    assert text.find("Demoshire") > demo_at, "the synthetic demo must be listed under its own heading"
    assert "restricted" not in index.lower()


def test_demo_plan_is_labelled_synthetic_everywhere_and_suppressed(built_site, texts):
    html, pdf = texts["demoshire"]["html"], texts["demoshire"]["pdf"]
    for text in (html, pdf):
        assert "SYNTHETIC" in text
        assert "Local tracking from case records" in text
        assert "<5" in text, "small counts must be suppressed in the published tables"
    reader = PdfReader(str(plan_file(built_site, "demoshire", "pdf")))
    pages = [norm(p.extract_text() or "") for p in reader.pages]
    assert all("SYNTHETIC" in p for p in pages), "every PDF page carries the synthetic watermark line"
    assert "(synthetic)" in (reader.metadata.title or "")
    # The live tracker is written only to the restricted folder, outside the site.
    restricted = built_site.parent / "restricted"
    assert any(restricted.glob("demoshire/RESTRICTED_live_tracker_demoshire_*_synthetic.csv"))
    assert not list(built_site.rglob("*live_tracker*"))
    # No pseudonymous child id reaches a published page.
    tracker = next(restricted.glob("demoshire/RESTRICTED_live_tracker_demoshire_*_synthetic.csv"))
    with tracker.open(encoding="utf-8") as fh:
        ids = {row["child_id"] for row in csv.DictReader(fh)}
    assert ids, "the tracker should list pseudonymous ids"
    leaked = [i for i in ids if i in html or i in pdf]
    assert not leaked, f"child ids leaked into the plan: {leaked[:3]}"


def test_no_real_plan_mentions_synthetic_tracking(texts):
    for area in AREAS:
        assert "Local tracking from case records" not in texts[area]["html"]
        assert "SYNTHETIC DATA" not in texts[area]["html"]


def test_comparison_shows_each_area_with_its_own_period(texts):
    for fmt in ("html", "pdf"):
        text = texts["compare"][fmt]
        for name in ("Oxfordshire", "Buckinghamshire", "Warwickshire"):
            assert name in text
        assert "not like for like" in text
        assert "1,531,381" in text  # Buckinghamshire total, as published (column in £)


def test_cli_summary_reports_every_output(built_site):
    log = (built_site.parent / "cli.log").read_text(encoding="utf-8")
    for name in (*(plan_folder(built_site, a).relative_to(built_site).as_posix() for a in (*AREAS, "demoshire")), "compare"):
        assert re.search(rf"BUILT\s+{re.escape(name)}:", log), f"summary does not report {name}"
    assert "0 failed" in log
    assert "[oxfordshire/2018-21] validating" in log and "[oxfordshire/2018-21] executing" in log
    assert "[oxfordshire/2018-21] rendering" in log


def test_comparison_of_a_subset_renders_in_html_and_pdf_and_joins_the_index(built_site):
    from conftest import run_cli

    proc = run_cli(["compare", "oxfordshire", "warwickshire", "--renderer", "embedded"], {"YJPLAN_BUILD_DIR": str(built_site.parent)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = built_site / "compare-oxfordshire-warwickshire"
    html = html_text(folder / "compare-oxfordshire-warwickshire.html")
    pdf = pdf_text(folder / "compare-oxfordshire-warwickshire.pdf")
    for text in (html, pdf):
        assert "Oxfordshire" in text and "Warwickshire" in text
        assert "Buckinghamshire" not in text
        assert "33.23%" in text
    index = (built_site / "index.html").read_text(encoding="utf-8")
    assert 'href="compare-oxfordshire-warwickshire/compare-oxfordshire-warwickshire.pdf"' in index
