"""Accessibility of every HTML output: axe-core in headless Chromium, for both renderers.

Councils must publish accessible documents (Public Sector Bodies Accessibility Regulations 2018,
WCAG 2.2 AA). For each area plan, the demonstration plan, the comparison and the site index this
runs axe-core with the WCAG 2.x A/AA rules (``TAGS``) at a desktop width and at 320 CSS pixels
(the width WCAG 1.4.10 Reflow asks pages to work at), and asserts that

* axe reports no violation (a failure lists each rule with its impact, the selectors of the
  elements and a snippet of their HTML, so it can be fixed at its source);
* ``<html lang="en-GB">``, and the page ``<title>`` names the area (the comparison: every area
  compared), never a placeholder such as "plan" or "Document";
* every ``<img>`` has non-empty alt text.

Both renderers: the embedded build of the ``built_site`` fixture (tests/conftest.py), and a Quarto
build made here when a ``quarto`` executable is found (``pipeline.render.find_quarto``: PATH or
$QUARTO_PATH), skipped with the reason printed otherwise. A page made of every style the
templates have (comparison results, cautions, each kind of callout, links on every tinted
background, a wide table, a figure, a footnote, the synthetic-data banner) is checked too, so
that a colour no current plan happens to use is still checked.

The embedded pages forbid all script (``script-src 'none'``). axe is injected with Selenium's
``execute_script``, which runs through the DevTools protocol and is not subject to the page's
Content-Security-Policy; should a browser ever apply it, the page is reloaded with the DevTools
command ``Page.setBypassCSP`` (in the test browser only: the published pages keep their CSP).

axe-core comes from the ``test`` extra: the newest of the copies bundled by axe-selenium-python
(axe-core 3.1 up to version 2.1.6, the last for Python < 3.12; 4.10 from 3.0.0) and
axe-core-python (axe-core 4.4) is used, or the file named by $YJPLAN_AXE_CORE (e.g. an
``npm install axe-core`` copy). axe-core 3 does not know the WCAG 2.1 and 2.2 tags; a 4.x is
required.
"""

from __future__ import annotations

import base64
import html as html_lib
import importlib.util
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from test_browser import AREAS, PAGES as SITE_PAGES, headless_chromium  # skips this module when chromium is missing
from conftest import run_cli

pytestmark = pytest.mark.browser

#: The axe-core rule tags checked: WCAG 2.0, 2.1 and 2.2, levels A and AA.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

#: Viewport widths (CSS pixels): a desktop, and the 320 px of WCAG 1.4.10 Reflow, where wide tables
#: must scroll in their own (keyboard-reachable) box.
WIDTHS = (1280, 320)

#: Page titles that name nothing (pandoc's and our renderer's fallbacks, Quarto's notebook stems).
PLACEHOLDER_TITLES = {"", "plan", "document", "untitled", "index", "compare"}


# --------------------------------------------------------------------------- axe-core


def _bundled_axe_scripts() -> list[Path]:
    found = []
    for module, rel in (("axe_selenium_python", "node_modules/axe-core/axe.min.js"),
                        ("axe_core_python", "axe.min.js")):
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin:
            continue
        path = Path(spec.origin).parent / rel
        if path.is_file():
            found.append(path)
    return found


def axe_version(source: str) -> tuple[int, ...]:
    """axe-core's version from the script's banner (``/*! axe v4.4.3``) or ``version="3.1.1"``."""
    match = re.search(r'(?:axe v|version=")(\d+)\.(\d+)\.(\d+)', source[:200_000])
    return tuple(int(g) for g in match.groups()) if match else (0,)


@lru_cache(maxsize=1)
def axe_script() -> tuple[str, tuple[int, ...], str]:
    """(source, version, where from) of the axe-core to use: $YJPLAN_AXE_CORE, else the newest bundled."""
    override = os.environ.get("YJPLAN_AXE_CORE", "").strip()
    candidates = [Path(override)] if override else _bundled_axe_scripts()
    if not candidates:
        pytest.skip("no axe-core found: install the test extra (pip install -e '.[test]': axe-selenium-python, "
                    "axe-core-python) or set YJPLAN_AXE_CORE to an axe.min.js")
    scripts = []
    for path in candidates:
        if not path.is_file():
            pytest.fail(f"YJPLAN_AXE_CORE={override!r} is not a file")
        source = path.read_text(encoding="utf-8")
        scripts.append((axe_version(source), source, str(path)))
    version, source, origin = max(scripts, key=lambda s: s[0])
    if version < (4,):
        pytest.fail(f"axe-core {'.'.join(map(str, version))} ({origin}) is too old: axe-core 3 does not know the "
                    f"WCAG 2.1/2.2 tags {TAGS}; install axe-core-python (test extra) or set YJPLAN_AXE_CORE")
    return source, version, origin


# Runs axe over the whole document and returns only what a report needs.
_RUN_AXE = r"""
const done = arguments[arguments.length - 1];
const tags = arguments[0];
axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(r => done({
    version: axe.version,
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary || ''})),
    })),
  }))
  .catch(e => done({error: String(e && e.stack || e)}));
"""

# What the non-axe checks need, in one round trip.
_PAGE_FACTS = r"""
return {
  lang: document.documentElement.getAttribute('lang'),
  title: document.title || '',
  images: Array.from(document.images).map((img, i) => ({
    index: i, src: (img.getAttribute('src') || '').slice(0, 60), alt: img.getAttribute('alt'),
  })),
  width: window.innerWidth,
};
"""


def _snippet(html: str, limit: int = 160) -> str:
    text = " ".join(html.split())
    return text if len(text) <= limit else text[:limit] + "…"


def describe_violations(violations: list[dict], max_nodes: int = 6) -> list[str]:
    """One readable block per violated rule: id, impact, help, then each element's selector and HTML."""
    lines = []
    for v in violations:
        nodes = v["nodes"]
        lines.append(f"[{v['id']}] impact={v['impact']} on {len(nodes)} element(s): {v['help']} ({v['helpUrl']})")
        for node in nodes[:max_nodes]:
            target = " ".join(" ".join(t) if isinstance(t, list) else str(t) for t in node["target"])
            lines.append(f"    target: {target}")
            lines.append(f"      html: {_snippet(node['html'])}")
            summary = " ".join(node["summary"].split())
            if summary:
                lines.append(f"       fix: {_snippet(summary, 300)}")
        if len(nodes) > max_nodes:
            lines.append(f"    ... and {len(nodes) - max_nodes} more")
    return lines


def _load(driver, path: Path, width: int) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.set_window_size(width, 1000)
    driver.get(path.resolve().as_uri())
    try:
        WebDriverWait(driver, 15).until(lambda d: d.execute_script(
            "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete);"))
    except TimeoutException:
        pass


def run_axe(driver, path: Path, width: int) -> dict:
    """Open ``path`` at ``width`` CSS pixels, inject axe-core and run it with ``TAGS``; axe's result."""
    source, _, _ = axe_script()
    _load(driver, path, width)
    driver.execute_script(source)
    if not driver.execute_script("return typeof window.axe === 'object';"):
        # the page's CSP blocked the injected script: bypass it for this (test) browser and retry
        driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
        _load(driver, path, width)
        driver.execute_script(source)
    return driver.execute_async_script(_RUN_AXE, list(TAGS))


def accessibility_problems(driver, path: Path, width: int, title_words: tuple[str, ...] = (),
                           lang: str = "en-GB") -> list[str]:
    """Everything wrong with one page at one width, as readable lines (empty when it is fine)."""
    if not path.is_file():
        return [f"page does not exist: {path}"]
    result = run_axe(driver, path, width)
    if "error" in result:
        return [f"axe-core failed on the page: {result['error']}"]
    problems = describe_violations(result["violations"])

    facts = driver.execute_script(_PAGE_FACTS)
    if facts["lang"] != lang:
        problems.append(f"<html lang> is {facts['lang']!r}, expected {lang!r}")
    title = " ".join(facts["title"].split())
    if title.lower() in PLACEHOLDER_TITLES:
        problems.append(f"<title> {title!r} names nothing")
    for word in title_words:
        if word.lower() not in title.lower():
            problems.append(f"<title> {title!r} does not name {word!r}")
    for img in facts["images"]:
        if not (img["alt"] or "").strip():
            problems.append(f"image #{img['index']} (src={img['src']!r}) has no alt text")
    return problems


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    with headless_chromium() as driver:
        driver.set_script_timeout(180)
        yield driver


def _assert_accessible(driver, path: Path, width: int, title_words: tuple[str, ...], label: str) -> None:
    problems = accessibility_problems(driver, path, width, title_words)
    _, version, origin = axe_script()
    assert not problems, (f"{label} at {width}px (axe-core {'.'.join(map(str, version))}, tags {', '.join(TAGS)}): "
                          f"{len(problems)} problem line(s):\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- the pages


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # relative to the site folder
    title_words: tuple[str, ...]  # what the page's <title> must name


def _title_words(name: str) -> tuple[str, ...]:
    if name == "index":
        return ("Youth Justice",)
    if name == "compare":
        return tuple(a.capitalize() for a in AREAS)
    return (re.split(r"[/-]", name)[0].capitalize(),)  # the area: "oxfordshire" -> "Oxfordshire"


#: The pages of tests/test_browser.py (every plan, the comparison, the index), so both follow the site's layout.
PAGES = tuple(Page(p.name, p.path, _title_words(p.name)) for p in SITE_PAGES)

CASES = [pytest.param(page, width, id=f"{page.name}-{width}px") for page in PAGES for width in WIDTHS]


@pytest.mark.parametrize(("page", "width"), CASES)
def test_embedded_page_is_accessible(browser, built_site, page, width):
    _assert_accessible(browser, built_site / page.path, width, page.title_words, f"embedded {page.path}")


@pytest.fixture(scope="module")
def quarto_site(tmp_path_factory):
    """Every plan, the comparison and the index built as HTML with the Quarto renderer (the index is
    always rendered by the embedded back-end). Skipped, with the reason printed, without Quarto."""
    from pipeline.render import find_quarto

    quarto = find_quarto()
    if quarto is None:
        reason = ("no quarto executable on PATH or in $QUARTO_PATH: the Quarto HTML is not checked "
                  "(install Quarto >= 1.4 to check it)")
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    build = tmp_path_factory.mktemp("quarto-a11y") / "build"
    proc = run_cli(["build", "--all", "--renderer", "quarto", "--format", "html"], {"YJPLAN_BUILD_DIR": str(build)})
    build.mkdir(parents=True, exist_ok=True)
    log = proc.stdout + "\n--- stderr ---\n" + proc.stderr
    (build / "cli.log").write_text(log, encoding="utf-8")
    return build / "site", proc.returncode, log


@pytest.mark.integration
@pytest.mark.parametrize(("page", "width"), CASES)
def test_quarto_page_is_accessible(browser, quarto_site, page, width):
    site, returncode, log = quarto_site
    path = site / page.path
    if not path.is_file():
        pytest.fail(f"the Quarto build made no {page.path} (yjplan build exit {returncode}):\n{log[-3000:]}")
    _assert_accessible(browser, path, width, page.title_words, f"quarto {page.path}")


# --------------------------------------------------------------------------- every style

_PNG_1PX = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/"
                            "PchI7wAAAABJRU5ErkJggg==")

_RESULTS = "[Better]{.cmp-better} [Similar]{.cmp-similar} [Worse]{.cmp-worse} [Not compared]{.cmp-none}"


def style_sampler_markdown() -> str:
    """Pandoc Markdown using every style the HTML templates define, on every background it can have."""
    callouts = "\n".join(
        f"::: {{.callout-{kind}}}\n## The {kind} callout\n\nText with a [link](https://www.gov.uk/), {_RESULTS} and "
        f"[small numbers]{{.caution}}.\n:::\n"
        for kind in ("note", "tip", "important", "warning", "caution"))
    rows = "\n".join(f"| Area {i} | {_RESULTS} | [small numbers]{{.caution}} | [source {i}](https://www.gov.uk/) |"
                     for i in range(1, 6))
    wide_head = " | ".join(f"Indicator column {i} with a long heading" for i in range(1, 11))
    wide_row = " | ".join(f"{i * 1234.5:,.1f} per 100,000" for i in range(1, 11))
    return f"""# Every style of the plans {{#sec-styles}}

Comparison results {_RESULTS}, a [small numbers]{{.caution}} caution, a [link](https://www.gov.uk/) and a
cross reference to @tbl-results and @fig-sample.[^note]

[^note]: A footnote with a [link](https://www.gov.uk/).

> A quotation, in muted text, with a [link](https://www.gov.uk/).

{callouts}

## Tables {{#sec-tables}}

| Area | Result | Caution | Source |
|:---|:---|:---|:---|
{rows}

: Results by area, with links on striped rows {{#tbl-results}}

| {wide_head} |
|{'---:|' * 10}
| {wide_row} |
| {wide_row} |

: A table wider than any screen {{#tbl-wide}}

| Uncaptioned | table |
|---|---|
| 1 | 2 |

## Figures {{#sec-figures}}

![A sample chart with its caption](figures/sample.png){{#fig-sample fig-alt="A one-pixel sample chart"}}
"""


@pytest.fixture(scope="module")
def style_sampler(tmp_path_factory) -> Path:
    from pipeline.render import render_markdown_page

    folder = tmp_path_factory.mktemp("styles")
    (folder / "figures").mkdir()
    (folder / "figures" / "sample.png").write_bytes(_PNG_1PX)
    return render_markdown_page(style_sampler_markdown(), folder / "styles.html", {
        "title": "Style sampler: Exampleshire", "subtitle": "Every style of the plans", "author": "Exampleshire YJS",
        "date": "2020-01-01", "lang": "en-GB", "synthetic": True, "toc": True, "number-sections": True,
    }, resource_dir=folder)


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: f"{w}px")
def test_every_style_of_the_templates_is_accessible(browser, style_sampler, width):
    html = style_sampler.read_text(encoding="utf-8")
    for needle in ("cmp-worse", "yj-callout-important", "yj-callout-caution", 'class="caution"', "synthetic-banner",
                   'class="table-scroll"', "footnote"):
        assert needle in html, f"the style sampler lost {needle!r}: it no longer checks that style"
    _assert_accessible(browser, style_sampler, width, ("Exampleshire",), "style sampler")


def test_wide_tables_scroll_in_a_named_focusable_box(style_sampler):
    """Each table is wrapped in a keyboard-focusable region named by its caption (escaped)."""
    html = style_sampler.read_text(encoding="utf-8")
    boxes = re.findall(r'<div class="table-scroll"([^>]*)>\s*<table', html)
    assert len(boxes) == 3, boxes
    for attrs in boxes:
        assert 'tabindex="0"' in attrs and 'role="region"' in attrs, attrs
    labels = [html_lib.unescape(m) for m in re.findall(r'aria-label="([^"]*)"', "".join(boxes))]
    assert labels == ["Table 1: Results by area, with links on striped rows", "Table 2: A table wider than any screen",
                      "Table"], labels


# --------------------------------------------------------------------------- the checker itself

_BAD_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Document</title>
<style>.faint { color: #bbb; background: #fff; } .box { width: 100px; overflow-x: auto; }</style></head>
<body><main>
<h1>Broken page</h1>
<p class="faint">Grey text that is too faint to read.</p>
<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==">
<div class="box"><table><tr><th>a</th></tr><tr><td>acellfarwiderthanitshundredpixelbox</td></tr></table></div>
<a href="#nowhere"></a>
</main></body></html>
"""


def test_checker_reports_what_is_wrong(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(_BAD_PAGE, encoding="utf-8")
    problems = accessibility_problems(browser, page, 1280, ("Exampleshire",))
    text = "\n".join(problems)
    for rule in ("color-contrast", "image-alt", "html-has-lang", "link-name", "scrollable-region-focusable"):
        assert f"[{rule}]" in text, text
    assert "impact=serious" in text and "target: " in text and 'html: <p class="faint">' in text, text
    assert "<html lang> is None, expected 'en-GB'" in text, text
    assert "<title> 'Document' names nothing" in text, text
    assert "does not name 'Exampleshire'" in text, text
    assert "image #0" in text and "has no alt text" in text, text


def test_axe_engine_knows_the_wcag_2_2_rules():
    source, version, origin = axe_script()
    print(f"axe-core {'.'.join(map(str, version))} from {origin}")
    assert version >= (4,), origin
    assert "wcag21aa" in source and "wcag2aa" in source
