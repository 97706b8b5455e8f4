"""Golden figures: the key figures of every plan and of the comparison, exactly as a reader sees them.

``tests/golden/figures.csv`` holds one row per figure: the output (an edition ``<area_id>/<edition>``, or
``compare``), a figure id,
the text expected as printed, and its source (seed document and section; ``synthetic`` for Demoshire).
The real figures were checked against the seed documents by hand when the table was written; a
change to any of them must be a deliberate edit of the table, never a regeneration.

Two layers read the same table:

* **fast** (no marker, a few seconds): each figure must appear in the Markdown that the section
  functions of ``pipeline.document.sections`` / ``pipeline.document.compare_sections`` compute from the data (what the
  notebooks display), without papermill, Great Expectations or rendering. A change of the £000
  factor, an interval method, a benchmark rule or the wording of a figure fails here.
* **integration**: every plan is built once per session (``yjplan build --all``) and each figure must
  appear in the HTML text, the PDF text and the executed notebook's outputs.

Text is compared after normalisation (``canonical``): tags and Markdown markup removed, whitespace
and hyphens/minus signs dropped (PDF line breaks and hyphenation put them anywhere). Figures keep
their digits, separators, units, en dashes and words.
"""

from __future__ import annotations

import csv
import html as html_lib
import json
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

GOLDEN = Path(__file__).resolve().parent / "golden" / "figures.csv"
PLANS = ("oxfordshire/2018-21", "buckinghamshire/2016-17", "warwickshire/2018-19")
DEMO = "demoshire/2019-20"
OUTPUTS = (*PLANS, DEMO, "compare")
DEMO_POPULATION = 60000.0  # data/tracking.yml (demoshire)
DEMO_AS_OF = "2019-03-31"
DEMO_PERIOD = ("2018-04-01", "2019-03-31")


# --------------------------------------------------------------------------- golden table and normalisation


def golden_rows() -> list[dict]:
    with open(GOLDEN, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _ids(rows):
    return [f"{r['output']}:{r['figure_id']}" for r in rows]


_HYPHENS = re.compile(r"[\s\u00ad\u2060\-\u2010\u2011\u2212]+")


def canonical(text: str) -> str:
    """Whitespace, soft hyphens and hyphen/minus signs removed; non-breaking spaces too."""
    return _HYPHENS.sub("", text.replace("\u00a0", " "))


def html_text(raw: str) -> str:
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    raw = re.sub(r"<img\b[^>]*>", " ", raw)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", raw))


def markdown_text(md: str) -> str:
    """What a reader sees of Pandoc Markdown: spans' words, table cells, no emphasis markers or separators.

    Backslash-escaped characters are literal text (as pandoc reads them): an escaped span stays as
    typed, so a span that would show its markup to the reader does not pass for its word.
    """
    literals: list[str] = []

    def protect(m: re.Match) -> str:
        literals.append(m.group(1))
        return f"\x00{len(literals) - 1}\x00"

    md = re.sub(r"\\(.)", protect, md)
    md = re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1", md)  # [Better]{.cmp-better} -> Better
    md = re.sub(r"^\|?(\s*:?-{3,}:?\s*\|)+\s*$", " ", md, flags=re.M)  # table separator lines
    md = md.replace("|", " ").replace("**", "").replace("*", "")
    return re.sub("\x00(\\d+)\x00", lambda m: literals[int(m.group(1))], md)


def missing_figures(rows: list[dict], text: str) -> list[str]:
    """Golden rows whose expected text is not in ``text`` (after normalisation)."""
    haystack = canonical(text)
    return [f"{r['figure_id']}: {r['expected']!r}" for r in rows if canonical(r["expected"]) not in haystack]


def rows_for(output: str) -> list[dict]:
    return [r for r in golden_rows() if r["output"] == output]


def test_golden_table_is_well_formed():
    rows = golden_rows()
    assert {r["output"] for r in rows} == set(OUTPUTS)
    keys = _ids(rows)
    assert len(keys) == len(set(keys)), "duplicate figure ids"
    for r in rows:
        assert r["expected"].strip() == r["expected"] and r["expected"], r
        if r["output"] == DEMO:
            assert r["source"] == "synthetic", r
        else:
            assert re.match(r"00\d_[0-9a-f]{16}\.txt, \S", r["source"]), f"real figure without a seed source: {r}"
    # the figures users look for first are all there
    ids = set(keys)
    for area in PLANS:
        assert any(k.startswith(f"{area}:budget_total/") for k in ids), area
        assert any(k.startswith(f"{area}:indicator/") for k in ids), area
    assert "oxfordshire/2018-21:inspection/oxfordshire_hmip_2020/computed" in ids


# --------------------------------------------------------------------------- fast layer: the section functions


@lru_cache(maxsize=None)
def _plan_markdown(output: str, figures_dir: str) -> str:
    """The sections that carry the key figures, computed from the data without GX, papermill or rendering."""
    from pipeline.document import sections
    from pipeline.data.contracts import ValidationReport
    from pipeline.data.dataset import load_area
    from pipeline.analysis.indicators import area_indicators

    area_id, edition = output.split("/")
    data = load_area(area_id, report=ValidationReport(), edition=edition)  # an empty (passing) report: types and reconciles only
    plan = sections.Plan(data=data, indicators=area_indicators(data.table("indicators"), data.definitions, data.table("measures")),
                         figures_dir=Path(figures_dir), build_date="2000-01-01")
    parts = [sections.summary(plan), sections.resources(plan), sections.performance(plan), sections.inspection_section(plan)]
    return markdown_text("\n".join(parts))


@lru_cache(maxsize=None)
def _demo_markdown(figures_dir: str) -> str:
    from pipeline.document import sections
    from pipeline.data.contracts import ValidationReport
    from pipeline.data.dataset import load_area
    from pipeline.synthetic import generate_extract
    from pipeline.analysis.tracking import publication_tables
    from pipeline.analysis.tracking.extract import canonical as canonical_extract

    data = load_area("demoshire", report=ValidationReport(), edition=DEMO.split("/")[1])
    frame = canonical_extract(generate_extract())  # the demonstration extract: fixed seed, the build's defaults
    as_of = pd.Timestamp(DEMO_AS_OF)
    start, end = pd.Timestamp(DEMO_PERIOD[0]), pd.Timestamp(DEMO_PERIOD[1])  # the last financial year ended by as_of
    tracking = {
        "tables": publication_tables(frame, DEMO_POPULATION, as_of, start, end, reoffending_polarity="lower_is_better"), "report": None,
        "extract_name": "demoshire_extract_synthetic.csv", "records": len(frame), "as_of": DEMO_AS_OF,
        "period_start": start.date().isoformat(), "period_end": end.date().isoformat(), "population": DEMO_POPULATION,
        "restricted_tracker_written": False, "synthetic": True,
    }
    plan = sections.Plan(data=data, indicators=[], figures_dir=Path(figures_dir), build_date="2000-01-01", tracking=tracking)
    return markdown_text(sections.local_tracking(plan))


@lru_cache(maxsize=None)
def _compare_markdown(figures_dir: str) -> str:
    from pipeline.analysis import compare
    from pipeline.document import compare_sections
    from pipeline.data.contracts import ValidationReport
    from pipeline.data.dataset import load_area

    summaries = [compare.summarise_area(load_area(a.split("/")[0], report=ValidationReport())) for a in PLANS]  # latest editions
    c = compare_sections.Comparison(summaries, Path(figures_dir), "2000-01-01")
    parts = [compare_sections.indicators_section(c), compare_sections.money_section(c), compare_sections.inspection_comparison(c)]
    return markdown_text("\n".join(parts))


def section_markdown(output: str, figures_dir: Path) -> str:
    if output == "compare":
        return _compare_markdown(str(figures_dir))
    if output == DEMO:
        return _demo_markdown(str(figures_dir))
    return _plan_markdown(output, str(figures_dir))


@pytest.fixture(scope="module")
def fast_figures_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("golden-figures")


@pytest.mark.parametrize("output", OUTPUTS)
def test_golden_figures_computed_by_the_sections(output, fast_figures_dir):
    """Fast: every golden figure is in what the section functions compute (no build)."""
    missing = missing_figures(rows_for(output), section_markdown(output, fast_figures_dir))
    assert not missing, f"{output}: golden figures not computed as expected:\n" + "\n".join(missing)


# --------------------------------------------------------------------------- integration: HTML, PDF, notebook


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _notebook_text(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for kind in ("text/markdown", "text/plain"):
                if kind in data:
                    value = data[kind]
                    parts.append(value if isinstance(value, str) else "".join(value))
                    break
            if out.get("output_type") == "stream":
                text = out.get("text", "")
                parts.append(text if isinstance(text, str) else "".join(text))
    return markdown_text("\n".join(parts))


def _output_files(site: Path, output: str) -> dict[str, Path]:
    if output == "compare":
        folder = site / "compare"
        return {"html": folder / "compare.html", "pdf": folder / "compare.pdf", "notebook": folder / "compare.ipynb"}
    folder = site / output
    stem = output.replace("/", "-") + "-plan"
    return {"html": folder / f"{stem}.html", "pdf": folder / f"{stem}.pdf", "notebook": folder / "plan.ipynb"}


@pytest.fixture(scope="module")
def built_texts(built_site) -> dict[tuple[str, str], str]:
    """(output, format) -> text a reader sees, from one build of every plan (conftest.built_site, once per session)."""
    out = {}
    for output in OUTPUTS:
        files = _output_files(built_site, output)
        for kind, path in files.items():
            assert path.exists(), f"not built: {path}"
        out[(output, "html")] = html_text(files["html"].read_text(encoding="utf-8"))
        out[(output, "pdf")] = _pdf_text(files["pdf"])
        out[(output, "notebook")] = _notebook_text(files["notebook"])
    return out


@pytest.mark.integration
@pytest.mark.parametrize("kind", ("html", "pdf", "notebook"))
@pytest.mark.parametrize("output", OUTPUTS)
def test_golden_figures_in_built_outputs(output, kind, built_texts):
    missing = missing_figures(rows_for(output), built_texts[(output, kind)])
    assert not missing, f"{output} {kind}: golden figures missing or changed:\n" + "\n".join(missing)
