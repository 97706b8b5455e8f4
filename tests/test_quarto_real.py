"""The Quarto back-end against a real Quarto (1.7.x), checked against the embedded back-end.

Skipped, with the reason printed (``-rs``), when no ``quarto`` executable is found on PATH or in
$QUARTO_PATH. The fake-quarto tests in test_render.py only check argument plumbing; these run the
real thing:

* Oxfordshire (real data) and Demoshire (synthetic) built with both renderers must be the same
  plan: A4 pages, page counts within 15%, the same headings, the same number of figures (each with
  alt text), the golden figures in the HTML, PDF (pypdf) and Word (python-docx) text, the synthetic
  footer on every PDF page of the synthetic plan only, self-contained HTML, tagged PDF/UA-1 PDFs
  showing the document title, and no console error in headless Chromium;
* ``quarto render`` at the root of a copy of the repository builds the website from what
  ``yjplan build`` wrote without changing anything under build/ or any tracked file, with every
  link in ``_site`` resolving.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import REPO, run_cli
from pipeline.document.wording import SYNTHETIC_TEXT
from pipeline.render import find_quarto

QUARTO = find_quarto()

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(QUARTO is None, reason="no `quarto` executable on PATH or in $QUARTO_PATH: the real-Quarto "
                       "tests need Quarto 1.7 (README: 'Rendering with Quarto')"),
]

AREAS = ("oxfordshire", "demoshire")
EDITIONS = {"oxfordshire": "2018-21", "demoshire": "2019-20"}
RENDERERS = ("embedded", "quarto")
A4 = (595.28, 841.89)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """renderer -> build folder with Oxfordshire, Demoshire (default formats) and the index."""
    out = {}
    for renderer in RENDERERS:
        build = tmp_path_factory.mktemp(f"real-{renderer}") / "build"
        proc = run_cli(["build", *AREAS, "--renderer", renderer], {"YJPLAN_BUILD_DIR": str(build)})
        assert proc.returncode == 0, f"{renderer} build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
        out[renderer] = build
    return out


def _files(build: Path, area: str) -> dict[str, Path]:
    folder = build / "site" / area / EDITIONS[area]
    info = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    return {fmt: folder / name for fmt, name in info["outputs"].items()}


def _pdf(path: Path):
    from pypdf import PdfReader

    return PdfReader(str(path))


def _pdf_page_texts(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in _pdf(path).pages]


def _outline_titles(reader) -> list[str]:
    titles: list[str] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(re.sub(r"\s+", " ", item.title).strip())

    walk(reader.outline)
    return titles


_HEADING = re.compile(r"<h([12])\b[^>]*>(.*?)</h\1>", re.S)


def _html_headings(html: str) -> list[str]:
    """Section headings of the document body (h1/h2 inside <main> or the body, without the title)."""
    body = html.split("<main", 1)[-1]
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    skip = {"Contents", re.sub(r"\s+", " ", title.group(1)).strip() if title else ""}
    out = []
    for _, inner in _HEADING.findall(body):
        text = re.sub(r"<[^>]+>", " ", inner)
        text = re.sub(r"\s+", " ", text).strip()
        if text and text not in skip:
            out.append(text)
    return out


def _docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------- the same plan


@pytest.mark.parametrize("area", AREAS)
def test_pdfs_are_the_same_plan(builds, area):
    readers = {r: _pdf(_files(builds[r], area)["pdf"]) for r in RENDERERS}
    for renderer, reader in readers.items():
        for n, page in enumerate(reader.pages, 1):
            size = (float(page.mediabox.width), float(page.mediabox.height))
            assert abs(size[0] - A4[0]) < 1 and abs(size[1] - A4[1]) < 1, f"{renderer} page {n} is not A4: {size}"
    pages = {r: len(reader.pages) for r, reader in readers.items()}
    assert abs(pages["quarto"] - pages["embedded"]) <= 0.15 * pages["embedded"], pages
    outlines = {r: _outline_titles(reader) for r, reader in readers.items()}
    assert outlines["quarto"] == outlines["embedded"], "PDF bookmarks (headings) differ"
    assert len(outlines["embedded"]) >= 10
    images = {r: sum(len(page.images) for page in reader.pages) for r, reader in readers.items()}
    assert images["quarto"] == images["embedded"], images
    assert images["embedded"] > 0 or area == "demoshire", images  # the synthetic demo has no charts


@pytest.mark.parametrize("area", AREAS)
def test_pdfs_are_tagged_pdf_ua_with_their_title(builds, area):
    title = json.loads((_files(builds["embedded"], area)["html"].parent / "build.json").read_text(encoding="utf-8"))["title"]
    for renderer in RENDERERS:
        reader = _pdf(_files(builds[renderer], area)["pdf"])
        root = reader.trailer["/Root"]
        assert "/StructTreeRoot" in root, f"{renderer}: PDF not tagged"
        assert bool(root["/MarkInfo"]["/Marked"]), f"{renderer}: not marked as tagged"
        assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]), f"{renderer}: the title is not shown"
        xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
        assert re.search(r"pdfuaid:part(>|=\")1", xmp), f"{renderer}: no PDF/UA-1 declaration"
        assert reader.metadata.title == title
        assert str(root["/Lang"]) == "en-GB"


@pytest.mark.parametrize("area", AREAS)
def test_synthetic_footer_on_every_page_of_the_synthetic_plan_only(builds, area):
    marker = SYNTHETIC_TEXT.split("—")[0].strip()  # "SYNTHETIC DATA"
    for renderer in RENDERERS:
        texts = _pdf_page_texts(_files(builds[renderer], area)["pdf"])
        with_marker = sum(marker in t for t in texts)
        expected = len(texts) if area == "demoshire" else 0
        assert with_marker == expected, f"{renderer}: synthetic marker on {with_marker} of {len(texts)} pages"


@pytest.mark.parametrize("area", AREAS)
def test_html_is_the_same_plan_and_self_contained(builds, area):
    from test_golden_figures import html_text, missing_figures, rows_for

    htmls = {r: _files(builds[r], area)["html"].read_text(encoding="utf-8") for r in RENDERERS}
    headings = {r: _html_headings(h) for r, h in htmls.items()}
    assert headings["quarto"] == headings["embedded"], "HTML headings differ"
    for renderer, html in htmls.items():
        images = re.findall(r"<img\b[^>]*>", html)
        assert images or area == "demoshire", f"{renderer}: no figures"
        assert all('src="data:' in img for img in images), f"{renderer}: images not embedded"
        assert all(re.search(r'alt="[^"]+"', img) for img in images), f"{renderer}: an image has no alt text"
        local = [u for u in re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
                 if not urlsplit(u).scheme and not u.startswith("//")]
        assert not local, f"{renderer}: links to local files, so the page is not self-contained: {local[:5]}"
        assert "_files/" not in html
        assert 'id="TOC"' in html, f"{renderer}: no table of contents"
        golden = rows_for(f"{area}/{EDITIONS[area]}")
        assert golden and not missing_figures(golden, html_text(html)), renderer
        # callouts drawn by our filter under Quarto too (not Quarto's icon callouts)
        assert 'class="yj-callout yj-callout-warning"' in html, renderer
        assert "callout-icon" not in html, renderer
    counts = {r: len(re.findall(r"<img\b", h)) for r, h in htmls.items()}
    assert counts["quarto"] == counts["embedded"], counts


@pytest.mark.parametrize("area", AREAS)
def test_golden_figures_in_pdf_and_word_text_of_both_renderers(builds, area):
    from test_golden_figures import missing_figures, rows_for

    rows = rows_for(f"{area}/{EDITIONS[area]}")
    assert rows
    for renderer in RENDERERS:
        files = _files(builds[renderer], area)
        assert not missing_figures(rows, " ".join(_pdf_page_texts(files["pdf"]))), f"{renderer} PDF"
        assert "docx" in files, f"{renderer}: no Word output among the default formats"
        assert not missing_figures(rows, _docx_text(files["docx"])), f"{renderer} DOCX"


@pytest.mark.browser
@pytest.mark.parametrize("renderer", RENDERERS)
def test_no_console_errors_in_chromium(builds, renderer):
    from test_browser import CHROMEDRIVER, CHROMIUM, headless_chromium, page_problems

    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("no chromium/chromedriver found")
    with headless_chromium() as driver:
        for area in AREAS:
            problems = page_problems(driver, _files(builds[renderer], area)["html"],
                                     min_images=0 if area == "demoshire" else 1)
            assert not problems, f"{renderer} {area}: {problems}"


# ---------------------------------------------------------------------------------------------- the root website


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.links.append(value)


def broken_links(site: Path) -> list[str]:
    """Relative links and sources of every HTML page under ``site`` that point at nothing."""
    broken = []
    for page in site.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//") or not parts.path:
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {link}")
    return broken


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_root_quarto_render_builds_the_website_without_touching_build(builds, tmp_path):
    """`quarto render` in a clean git checkout of the project (the tracked files that matter)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("_quarto.yml", ".gitignore"):
        shutil.copy2(REPO / name, project / name)
    shutil.copytree(REPO / "pipeline", project / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=project, check=True)
    build = builds["quarto"]
    before = _tree_hashes(build)

    proc = subprocess.run([QUARTO, "render"], cwd=project, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "YJPLAN_BUILD_DIR": str(build), "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    assert _tree_hashes(build) == before, "quarto render changed files under build/"
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True)
    assert status.stdout == "", f"quarto render changed the working tree:\n{status.stdout}"

    site = project / "_site"
    assert (site / "index.html").is_file()
    for area in AREAS:
        page = site / "quarto-site" / area / EDITIONS[area] / f"{area}-{EDITIONS[area]}-plan.html"
        assert page.is_file(), page
        title = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.S).group(1)
        assert title.lower().startswith(area), title  # the plan's title, not "plan – ..."
        for fmt in ("pdf", "docx"):
            published = _files(build, area)[fmt]
            assert (page.parent / published.name).read_bytes() == published.read_bytes()
    assert not list(site.rglob("index.pdf")), "the index is a web page only"
    assert not broken_links(site), broken_links(site)


def test_root_quarto_render_without_a_build_says_what_to_do(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(REPO / "_quarto.yml", project / "_quarto.yml")
    shutil.copytree(REPO / "pipeline", project / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([QUARTO, "render"], cwd=project, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "YJPLAN_BUILD_DIR": str(tmp_path / "nothing"), "NO_COLOR": "1"})
    assert proc.returncode != 0
    assert "run `yjplan build --all` before `quarto render`" in proc.stdout + proc.stderr
