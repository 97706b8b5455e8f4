"""Open the built site in real headless Chromium and check what a reader would meet.

For every area plan, the demonstration plan, the comparison page and the site index:

* no console errors (browser log entries at level SEVERE, e.g. a resource that failed to load
  or a script error);
* every ``<img>`` has loaded (``complete`` and ``naturalWidth > 0``) and has non-empty alt text;
* every table-of-contents link (``nav#TOC``, pandoc's ``role="doc-toc"`` nav) and every other
  in-page ``#fragment`` link resolves to an element with that id;
* the page has a ``<title>`` and a non-empty ``<h1>``, and its tables are real ``<table>``
  elements with rows (no pipe-table markdown left as text);
* on the index, every link to a plan or a PDF points to a file that exists.

The site is built once per session by the ``built_site`` fixture (tests/conftest.py) into a
temporary folder; nothing here reads ``build/`` in the repository. ``page_problems`` takes a page
and returns a list of human-readable problems, so the checks can be shown to fail on a
deliberately broken page (see the ``test_checker_*`` tests).

The module is skipped only when no chromium/chromedriver executable can be found.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import pytest

from conftest import plan_file

pytestmark = pytest.mark.browser


def _executable(preferred: str, *names: str) -> str | None:
    if Path(preferred).is_file():
        return preferred
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _executable("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMEDRIVER = _executable("/usr/bin/chromedriver", "chromedriver")

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        f"headless browser tests need chromium and chromedriver (found chromium={CHROMIUM!r}, "
        f"chromedriver={CHROMEDRIVER!r}); install them (Debian: apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

AREAS = ("oxfordshire", "buckinghamshire", "warwickshire")
DEMO = "demoshire"


@dataclass(frozen=True)
class Page:
    """One page of the built site and what it must contain."""

    name: str
    path: str  # relative to the site folder
    toc: bool = True  # must have a table of contents with at least one link
    min_images: int = 0  # charts we expect (0: none required, but any present must load)
    min_tables: int = 1


PAGES = (
    *(Page(a, plan_file(Path(), a, "html").as_posix(), min_images=1) for a in AREAS),
    Page(DEMO, plan_file(Path(), DEMO, "html").as_posix()),
    # the YJB's current template with the ten KPIs and the relative rate index charts (issue #15)
    Page(f"{DEMO}/2024-25", f"{DEMO}/2024-25/{DEMO}-2024-25-plan.html", min_images=2),
    Page("compare", "compare/compare.html", min_images=1),
    Page("index", "index.html", toc=False),
)


# --------------------------------------------------------------------------- browser


@contextlib.contextmanager
def headless_chromium(**capabilities):
    """A headless Chromium with a fresh profile and the console log captured (extra ``capabilities`` set as
    given); quit and its profile removed on exit."""
    profile = tempfile.mkdtemp(prefix="yjplan-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for name, value in capabilities.items():
        options.set_capability(name, value)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    with headless_chromium() as driver:
        yield driver


# Gathers everything the checks need in one round trip.
_FACTS_JS = r"""
const text = (el) => (el ? (el.textContent || '').replace(/\s+/g, ' ').trim() : '');
const resolves = (a) => {
  const raw = a.getAttribute('href') || '';
  if (!raw.startsWith('#') || raw.length < 2) return false;
  let id = raw.slice(1);
  try { id = decodeURIComponent(id); } catch (e) { /* keep raw */ }
  return document.getElementById(id) !== null;
};
const toc = document.querySelector('nav#TOC, nav[role="doc-toc"]');
const tocLinks = toc ? Array.from(toc.querySelectorAll('a[href]')) : [];
const otherFragments = Array.from(document.querySelectorAll('a[href^="#"]')).filter(a => !tocLinks.includes(a));
const pipeRule = /\|\s*:?-{3,}:?\s*\|/;  // a pipe-table rule such as |---|---| left as text
return {
  title: document.title || '',
  h1: Array.from(document.querySelectorAll('h1')).map(text),
  images: Array.from(document.images).map((img, i) => ({
    index: i,
    src: (img.getAttribute('src') || '').slice(0, 80),
    complete: img.complete,
    naturalWidth: img.naturalWidth,
    alt: img.getAttribute('alt'),
  })),
  hasToc: toc !== null,
  toc: tocLinks.map(a => ({href: a.getAttribute('href'), text: text(a), ok: resolves(a)})),
  fragments: otherFragments.map(a => ({href: a.getAttribute('href'), text: text(a), ok: resolves(a)})),
  tables: Array.from(document.querySelectorAll('table')).map(t => ({
    id: t.id || '',
    caption: text(t.querySelector('caption')).slice(0, 60),
    rows: Array.from(t.rows).filter(r => r.cells.length > 0).length,
  })),
  leakedPipeTable: pipeRule.test(document.body ? document.body.textContent : ''),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => ({raw: a.getAttribute('href'), abs: a.href, text: text(a)})),
};
"""


def load(driver, path: Path) -> tuple[dict, list[dict]]:
    """Open ``path`` (file://), wait for its images, return (page facts, browser-log entries)."""
    driver.get_log("browser")  # drain whatever the previous page left
    driver.get(path.resolve().as_uri())
    try:
        WebDriverWait(driver, 15).until(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete);"))
    except TimeoutException:
        pass  # reported below as images that have not loaded
    facts = driver.execute_script(_FACTS_JS)
    return facts, driver.get_log("browser")


def page_problems(driver, path: Path, *, toc: bool = True, min_images: int = 0, min_tables: int = 1) -> list[str]:
    """Everything wrong with one page, as readable sentences (empty when the page is fine)."""
    if not path.is_file():
        return [f"page does not exist: {path}"]
    facts, log = load(driver, path)
    problems: list[str] = []

    for entry in log:
        if entry.get("level") == "SEVERE":
            problems.append(f"console error: {entry.get('message')}")

    if not facts["title"].strip():
        problems.append("no <title>")
    if not any(h.strip() for h in facts["h1"]):
        problems.append("no non-empty <h1>")

    images = facts["images"]
    if len(images) < min_images:
        problems.append(f"expected at least {min_images} image(s), found {len(images)}")
    for img in images:
        label = f"image #{img['index']} (src={img['src']!r})"
        if not (img["complete"] and img["naturalWidth"] > 0):
            problems.append(f"{label} has not loaded (complete={img['complete']}, naturalWidth={img['naturalWidth']})")
        if not (img["alt"] or "").strip():
            problems.append(f"{label} has no alt text")

    if toc:
        if not facts["hasToc"]:
            problems.append("no table of contents (nav#TOC)")
        elif not facts["toc"]:
            problems.append("table of contents has no links")
    for link in facts["toc"]:
        if not link["ok"]:
            problems.append(f"TOC link {link['href']!r} ({link['text']!r}) does not resolve to an element id in the page")
    for link in facts["fragments"]:
        if not link["ok"]:
            problems.append(f"in-page link {link['href']!r} ({link['text']!r}) does not resolve to an element id in the page")

    tables = facts["tables"]
    if len(tables) < min_tables:
        problems.append(f"expected at least {min_tables} <table> element(s), found {len(tables)}")
    for i, table in enumerate(tables):
        if table["rows"] == 0:
            problems.append(f"table #{i} (id={table['id']!r}, caption={table['caption']!r}) has no rows")
    if facts["leakedPipeTable"]:
        problems.append("page text contains a markdown pipe-table rule (a table was not rendered as <table>)")
    return problems


def local_file(url: str) -> Path | None:
    """The file a file:// URL points to (without query or fragment); None for other schemes."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(url2pathname(unquote(parsed.path)))


# --------------------------------------------------------------------------- the built site


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_renders_cleanly(browser, built_site, page):
    problems = page_problems(browser, built_site / page.path, toc=page.toc, min_images=page.min_images,
                             min_tables=page.min_tables)
    assert not problems, f"{page.path}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)


def test_index_links_point_to_existing_files(browser, built_site):
    facts, _ = load(browser, built_site / "index.html")
    problems: list[str] = []
    targets: set[Path] = set()
    for link in facts["links"]:
        if (link["raw"] or "").startswith("#"):
            continue
        target = local_file(link["abs"])
        if target is None:
            continue  # an external link, if any, is not a plan
        targets.add(target.resolve())
        if not target.is_file():
            problems.append(f"link {link['raw']!r} ({link['text']!r}) -> missing file {target}")
        elif target.stat().st_size == 0:
            problems.append(f"link {link['raw']!r} ({link['text']!r}) -> empty file {target}")

    expected = [plan_file(Path(), a, ext).as_posix() for a in (*AREAS, DEMO) for ext in ("html", "pdf", "docx")]
    expected += ["compare/compare.html", "compare/compare.pdf", "compare/compare.docx"]
    for rel in expected:
        if (built_site / rel).resolve() not in targets:
            problems.append(f"index does not link to {rel}")
    for target in targets:
        if target.suffix == ".pdf" and target.is_file() and not target.read_bytes().startswith(b"%PDF"):
            problems.append(f"{target} is not a PDF")
    assert not problems, "index.html:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------- the checker itself

_PNG_1PX = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/"
            "PchI7wAAAABJRU5ErkJggg==")

_GOOD = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Good page</title></head>
<body>
<h1>Good page</h1>
<nav id="TOC" role="doc-toc"><ul><li><a href="#sec-one">One</a></li></ul></nav>
<section id="sec-one"><h2>One</h2>
<figure><img src="{_PNG_1PX}" alt="A one-pixel chart"></figure>
<table><tr><th>a</th></tr><tr><td>1</td></tr></table>
<p>See <a href="#sec-one">section one</a>.</p>
</section>
</body></html>
"""

_BROKEN = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title></title></head>
<body>
<nav id="TOC" role="doc-toc"><ul>
<li><a href="#sec-one">One</a></li>
<li><a href="#sec-nowhere">Nowhere</a></li>
</ul></nav>
<section id="sec-one"><h2>One</h2>
<img src="missing-chart.png" alt="A chart that is not there">
<img src="{_PNG_1PX}">
<p>| a | b |
|---|---|
| 1 | 2 |</p>
<p>See <a href="#fig-gone">Figure 9</a>.</p>
</section>
<script>throw new Error("boom from the page");</script>
</body></html>
"""


def test_checker_passes_a_good_page(browser, tmp_path):
    page = tmp_path / "good.html"
    page.write_text(_GOOD, encoding="utf-8")
    assert page_problems(browser, page, min_images=1) == []


def test_checker_finds_every_kind_of_problem(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(_BROKEN, encoding="utf-8")
    problems = page_problems(browser, page, min_images=1)
    text = "\n".join(problems)

    def has(*needles: str) -> bool:
        return any(all(n in p for n in needles) for p in problems)

    assert has("console error", "missing-chart.png"), text
    assert has("console error", "boom from the page"), text
    assert has("no <title>"), text
    assert has("no non-empty <h1>"), text
    assert has("image #0", "missing-chart.png", "has not loaded"), text
    assert has("image #1", "has no alt text"), text
    assert has("TOC link '#sec-nowhere'"), text
    assert not has("TOC link '#sec-one'"), text
    assert has("in-page link '#fig-gone'"), text
    assert has("expected at least 1 <table>"), text
    assert has("pipe-table"), text


def test_checker_catches_breakage_in_a_real_plan(browser, built_site, tmp_path):
    """Break one chart and one TOC entry in a copy of a real plan: both must be reported, nothing else."""
    source = plan_file(built_site, "oxfordshire", "html")
    html = source.read_text(encoding="utf-8")
    first_toc = html.index('<nav id="TOC"')
    href_at = html.index('href="#', first_toc)
    old_href = html[href_at:html.index('"', href_at + 6) + 1]
    html = html[:href_at] + 'href="#sec-does-not-exist"' + html[href_at + len(old_href):]
    src_at = html.index('src="data:image/png;base64,')
    src_end = html.index('"', src_at + 5) + 1
    html = html[:src_at] + 'src="figures/no-such-chart.png"' + html[src_end:]
    broken = tmp_path / "oxfordshire-plan.html"
    broken.write_text(html, encoding="utf-8")

    problems = page_problems(browser, broken, min_images=1)
    text = "\n".join(problems)
    assert any("console error" in p and "no-such-chart.png" in p for p in problems), text
    assert any("has not loaded" in p and "no-such-chart.png" in p for p in problems), text
    assert any("TOC link '#sec-does-not-exist'" in p for p in problems), text
    assert len(problems) == 3, text
