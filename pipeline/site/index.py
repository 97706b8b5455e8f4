"""The site index: every area's plan (HTML, PDF and Word), the comparison, and the build status."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .publish import failure_status, site_dir
from ..data.dataset import is_synthetic, list_areas
from ..fileio import make_public, write_atomic
from ..document.markdown import md_link

#: Index table columns whose cells are Markdown built here (links, bold status words); every
#: other cell (area name, plan period...) is escaped by md_table.
MARKDOWN_COLUMNS = ("HTML", "PDF", "Word", "Data quality")

#: Link text of each output format (Word: the .docx for management-board drafts).
FORMAT_LABELS = {"html": "HTML", "pdf": "PDF", "docx": "Word"}

#: What the index says of a failed stage (never the failure's message: it may quote input).
STAGE_WORDS = {"checking": "checking the area", "validating": "validating the data", "executing": "computing the plan",
               "rendering": "rendering the documents", "publishing": "publishing", "building": "building"}


def _manifest(folder: Path) -> dict | None:
    path = folder / "build.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def _failure_words(failure: dict) -> str:
    stage = STAGE_WORDS.get(failure.get("stage", ""), "building")
    return f"the latest build failed while {stage}" if failure.get("kind") == "environment" else \
        f"**withdrawn**: the data failed while {stage}"


def _row(area: dict, edition, site: Path) -> dict:
    """One edition of an area's plan (``edition``: a pipeline.data.editions.Edition)."""
    folder = site / edition.area_id / edition.edition
    info = _manifest(folder)
    failure = failure_status(edition.key)
    first = {"Area": area["area_name"], "Edition": edition.edition, "Plan period": edition.row.get("plan_period_label", "")}
    if info is None:
        status = f"**build failed** ({_failure_words(failure)}; details in the restricted folder)" if failure else "not built"
        return {**first, "HTML": "—", "PDF": "—", "Word": "—",
                "Last built": failure.get("failed_at", "—") if failure else "—", "Data quality": status}
    outs = info.get("outputs", {})
    warnings = info.get("warnings", 0)
    quality = "all expectations passed" if not warnings else f"{warnings} warning{'s' if warnings != 1 else ''} (see appendix)"
    if failure:
        quality = f"**stale**: {_failure_words(failure)} ({failure.get('failed_at', '')}); this is the last good plan. " + quality
    base = f"{edition.area_id}/{edition.edition}"
    return {
        **first,
        "HTML": md_link("HTML", f"{base}/{outs['html']}") if "html" in outs else "—",
        "PDF": md_link("PDF", f"{base}/{outs['pdf']}") if "pdf" in outs else "—",
        "Word": md_link("Word", f"{base}/{outs['docx']}") if "docx" in outs else "—",
        "Last built": info.get("built_at", "—"),
        "Data quality": quality,
    }


def _rows(areas: list[dict], site: Path) -> list[dict]:
    """Each area's editions, grouped by area (in areas.csv order), newest edition first."""
    from ..data.editions import editions_of, plan_rows

    plans = plan_rows()
    return [_row(a, e, site) for a in areas for e in reversed(editions_of(a["area_id"], plans))]


def index_markdown() -> str:
    """Markdown of the site index, from the build manifests on disk."""
    from ..document.markdown import md_escape, md_table

    site = site_dir()
    areas = list_areas().to_dict("records")
    published = [a for a in areas if not is_synthetic(a)]
    synthetic = [a for a in areas if is_synthetic(a)]
    out = [
        "# Area plans {#sec-plans}\n",
        "Plans rebuilt reproducibly from published documents: validated with data contracts, computed with "
        "confidence intervals and benchmark comparisons, rendered to HTML, PDF and Word. Each area's figures keep their own "
        "period; see each plan's data-quality appendix.\n",
    ]
    if published:
        out.append(md_table(pd.DataFrame(_rows(published, site)), "Area plans (each area's editions, newest first)", "tbl-plans",
                            markdown_columns=MARKDOWN_COLUMNS))
    compare = site / "compare"
    info = _manifest(compare)
    out.append("# Comparison of areas {#sec-compare}\n")
    if info:
        outs = info.get("outputs", {})
        links = " · ".join(md_link(FORMAT_LABELS.get(fmt, fmt.upper()), f"compare/{name}") for fmt, name in outs.items())
        out.append(f"{md_escape(info.get('title', 'Comparison of the areas'))}: {links} (built {md_escape(info.get('built_at', ''))}).\n")
    else:
        out.append("The comparison has not been built yet (`yjplan build --all`).\n")
    extra = sorted(p for p in site.glob("compare-*") if (p / "build.json").exists())
    for folder in extra:
        i = _manifest(folder)
        links = " · ".join(md_link(FORMAT_LABELS.get(fmt, fmt.upper()), f"{folder.name}/{name}")
                           for fmt, name in i.get("outputs", {}).items())
        out.append(f"- {md_escape(i.get('title', folder.name))}: {links}")
    if synthetic:
        out.append("\n# Demonstration (synthetic data) {#sec-demo}\n")
        out.append("::: {.callout-warning}\nThese plans are made from **synthetic** record-level data generated by code with a fixed "
                   "seed, to demonstrate local tracking. They describe no real area.\n:::\n")
        out.append(md_table(pd.DataFrame(_rows(synthetic, site)), "Demonstration plans (synthetic data)", "tbl-demo",
                            markdown_columns=MARKDOWN_COLUMNS))
    return "\n".join(out) + "\n"


def write_index(renderer: str = "auto") -> tuple[Path, bool]:
    """Write build/site/index.md and index.html (public permissions); returns (index.html, whether it changed)."""
    from datetime import date

    from ..render import render_markdown_page

    site = site_dir()
    site.mkdir(parents=True, exist_ok=True)
    text = index_markdown()
    source = site / "index.md"
    page = "---\ntitle: Youth Justice Strategic Plans\n---\n\n" + text
    html = site / "index.html"
    if source.exists() and source.read_text(encoding="utf-8") == page and html.exists():
        return html, False  # nothing changed since the last render
    render_markdown_page(text, html, {"title": "Youth Justice Strategic Plans", "subtitle": "Index of plans and comparison",
                                      "date": date.today().isoformat(), "lang": "en-GB", "synthetic": False}, resource_dir=site)
    write_atomic(source, page.encode("utf-8"))  # written after the page, so a failed render is retried
    make_public(html)
    return html, True
