"""Code injection through content and data: stored XSS in the HTML outputs, raw typst in the PDF.

Every payload below calls ``alert()`` (and sets ``window.__xss``) if it ever runs. The fast tests
push each one through the real pandoc with the project's arguments (reader without raw HTML or
raw blocks, the Lua filter, the HTML template) and inspect the HTML and the typst source; the
integration tests build a plan, a comparison and the site index from a data copy whose content
file and areas.csv carry every payload, open them in headless Chromium, and read the PDF.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import plan_file, plan_folder

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tests") not in sys.path:  # conftest helpers (run_cli)
    sys.path.insert(0, str(REPO / "tests"))

from pipeline.document.markdown import md_code, md_escape, md_link, md_table  # noqa: E402
from pipeline.render import _common  # noqa: E402
from pipeline.render import embedded  # noqa: E402
from pipeline.render import quarto as quarto_backend  # noqa: E402

SECRET = "VALIDATION-SECRET-7f3a9c"

# name -> Markdown, as an analyst (or an attacker with write access to data/) could type it.
PAYLOADS = {
    "script": "<script>window.__xss='script';alert('xss-script')</script>",
    "img-onerror": "<img src=x onerror=\"window.__xss='img';alert('xss-img')\">",
    "svg-onload": "<svg onload=\"window.__xss='svg';alert('xss-svg')\"></svg>",
    "iframe-srcdoc": "<iframe srcdoc=\"<script>parent.__xss='iframe';alert('xss-iframe')</script>\"></iframe>",
    "javascript-link": "[click me](javascript:window.__xss='link';alert('xss-link'))",
    "javascript-autolink": "<javascript:alert('xss-autolink')>",
    "entity-javascript-link": "[entity link](javascript&colon;alert('xss-entity'))",
    "data-link": "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "raw-html-block": "```{=html}\n<script>window.__xss='raw';alert('xss-raw')</script>\n```",
    "raw-html-inline": "`<img src=x onerror=alert('xss-rawinline')>`{=html}",
    "event-attribute": "[hover me]{onmouseover=\"alert('xss-attr')\" style=\"position:fixed;inset:0\"}",
    "html-comment": "<!-- <script>alert('xss-comment')</script> -->",
    "raw-typst": "```{=typst}\n#raw(read(\"validation.json\"))\n```",
    "raw-typst-inline": "`#raw(read(\"validation.json\"))`{=typst}",
    "yaml-block": "---\nheader-includes: \"<script>alert('xss-yaml')</script>\"\ncss: /etc/passwd\n---",
}

# A name with markup, for area_name / service_name.
EVIL_NAME = "Evilshire <img src=x onerror=alert('xss-name')> **bold** [l](javascript:alert(1))"


# --------------------------------------------------------------------------- helpers


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def parse_html(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def html_problems(html: str) -> list[str]:
    """Everything in an HTML page that could run script or load something it should not."""
    problems = []
    for tag, attrs in parse_html(html).tags:
        if tag in ("script", "iframe", "svg", "object", "embed", "frame", "base", "form", "link", "math"):
            problems.append(f"<{tag}> element")
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            problems.append("meta refresh")
        for name, value in attrs.items():
            value = (value or "").strip().lower()
            if name.lower().startswith("on"):
                problems.append(f"<{tag} {name}=...> event handler")
            if name in ("href", "src", "action", "formaction", "srcdoc", "xlink:href"):
                if name == "srcdoc":
                    problems.append(f"<{tag} srcdoc>")
                elif re.sub(r"[\s\x00-\x1f]", "", value).startswith(("javascript:", "vbscript:", "data:text", "file:")):
                    problems.append(f"<{tag} {name}={value[:40]!r}>")
                elif name == "src" and value.startswith("data:") and not value.startswith("data:image/png"):
                    problems.append(f"<{tag} src={value[:40]!r}>")
    return problems


def pandoc_html(markdown: str, tmp_path: Path, metadata: dict | None = None) -> str:
    out = tmp_path / "page.html"
    embedded.render_html(markdown, out, metadata or {"title": "Test"}, tmp_path, toc=True, number_sections=True)
    return out.read_text(encoding="utf-8")


def visible_text(html: str) -> str:
    body = html.split("<body", 1)[1]
    text = "".join(parse_html(body).text).translate(str.maketrans("‘’“”", "''\"\""))  # smart quotes
    return re.sub(r"\s+", " ", text)


# --------------------------------------------------------------------------- (a) fast: reader, filter, template


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_in_content_renders_inert_html(name, tmp_path):
    markdown = f"# Section {{#sec-a}}\n\nBefore the payload.\n\n{PAYLOADS[name]}\n\nAfter the payload.\n"
    html = pandoc_html(markdown, tmp_path)
    assert html_problems(html) == [], html
    assert 'href="javascript' not in html.lower()
    text = visible_text(html)
    assert "Before the payload." in text and "After the payload." in text


def test_payloads_are_visible_as_literal_text(tmp_path):
    html = pandoc_html("\n\n".join(PAYLOADS[k] for k in ("script", "img-onerror", "svg-onload", "iframe-srcdoc")), tmp_path)
    text = visible_text(html)
    assert "<script>window.__xss='script';alert('xss-script')</script>" in text.replace("‘", "'").replace("’", "'")
    assert "onerror=" in text and "<svg onload=" in text and "<iframe srcdoc=" in text


def test_all_payloads_together_with_the_project_arguments(tmp_path):
    html = pandoc_html("\n\n".join(PAYLOADS.values()), tmp_path, {"title": EVIL_NAME, "subtitle": EVIL_NAME,
                                                                    "author": EVIL_NAME})
    assert html_problems(html) == []
    assert "&lt;img src=x onerror" in html  # metadata is a literal string (-M)


def test_raw_typst_from_content_is_text_in_the_typst_source(tmp_path):
    markdown = "# A {#sec-a}\n\n" + "\n\n".join(PAYLOADS.values()) + "\n"
    source = embedded.typst_source(markdown, {"title": "Test"}, tmp_path)
    body = source[source.index("= A"):]
    code = re.sub(r"(`+).*?\1", "", body, flags=re.S)  # typst raw text (backticks) is never run
    assert not re.search(r"(?<!\\)#(raw|read|include|image|json|csv|yaml|toml|xml|cbor|eval|plugin)\(", code), body
    assert "read(" in source  # the payload is there, as escaped text


def test_raw_typst_cannot_read_the_build_folder_into_the_pdf(tmp_path):
    from pypdf import PdfReader

    (tmp_path / "validation.json").write_text(json.dumps({"secret": SECRET}), encoding="utf-8")
    markdown = "# A {#sec-a}\n\n" + PAYLOADS["raw-typst"] + "\n\n" + PAYLOADS["raw-typst-inline"] + "\n"
    pdf = embedded.render_pdf(markdown, tmp_path / "out" / "a.pdf", {"title": "Test"}, tmp_path)
    text = "".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages)
    assert SECRET not in text
    assert "validation.json" in text  # shown literally


def _png(path: Path) -> None:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00\xff\xff\xff"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_typst_root_holds_only_the_documents_images(tmp_path, monkeypatch):
    build = tmp_path / "build"
    _png(build / "figures" / "fig-a.png")
    _png(build / "figures" / "fig-unused.png")
    _png(tmp_path / "outside.png")
    (build / "validation.json").write_text(json.dumps({"secret": SECRET}), encoding="utf-8")
    (build / "plan.ipynb").write_text("{}", encoding="utf-8")
    markdown = ("# A {#sec-a}\n\n![A chart](figures/fig-a.png){#fig-a fig-alt=\"chart\"}\n\n"
                "![json](validation.json) ![up](../outside.png) ![abs](/etc/hostname)\n")
    roots: list[list[str]] = []
    real = embedded.compile_pdf

    def spy(source, out_file, root, metadata):
        roots.append(sorted(p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file()))
        assert Path(root).resolve() != build.resolve()
        return real(source, out_file, root, metadata)

    monkeypatch.setattr(embedded, "compile_pdf", spy)
    pdf = embedded.render_pdf(markdown, tmp_path / "out" / "a.pdf", {"title": "Test"}, build)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert roots == [["figures/fig-a.png"]]
    assert not list((tmp_path / "out").glob(".typst-root-*"))  # removed after the compile


def test_populate_typst_root_refuses_paths_outside_and_non_images(tmp_path):
    base = tmp_path / "base"
    _png(base / "figures" / "ok.png")
    (base / "validation.json").write_text("{}", encoding="utf-8")
    _png(tmp_path / "secret.png")
    root = tmp_path / "root"
    root.mkdir()
    source = 'image("figures/ok.png") image("../secret.png") image("validation.json") image("/etc/passwd")'
    placed = embedded.populate_typst_root(root, "![x](figures/../../secret.png)", source, base)
    assert [p.relative_to(root).as_posix() for p in placed] == ["figures/ok.png"]


# ---- links, images, attributes (the Lua filter) -------------------------------------------------

LINKS_KEPT = ["https://example.org/a?b=c#d", "http://example.org", "mailto:yot@example.org", "#sec-a",
              "oxfordshire/oxfordshire-plan.html", "oxfordshire/2018-21/oxfordshire-2018-21-plan.html", "compare/compare.pdf", "compare/compare.docx", "compare/",
              "../index.html#sec-plans"]
LINKS_DROPPED = ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "vbscript:msgbox(1)",
                 "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "//evil.example/x.html",
                 "/etc/passwd", "ftp://example.org/x", "validation", "notes.exe"]


@pytest.mark.parametrize("target", LINKS_KEPT)
def test_safe_links_are_kept(target, tmp_path):
    html = pandoc_html(f"[the link](<{target}>)\n", tmp_path)
    tags = [a for t, a in parse_html(html).tags if t == "a" and a.get("href", "").startswith(target[:6])]
    assert tags, html


@pytest.mark.parametrize("target", LINKS_DROPPED)
def test_unsafe_links_become_plain_text(target, tmp_path):
    html = pandoc_html(f"Go [the link](<{target}>) now.\n", tmp_path)
    assert "the link" in visible_text(html)
    body_links = [a for t, a in parse_html(html.split("<main", 1)[1]).tags if t == "a"]
    assert body_links == [], html


@pytest.mark.parametrize("src", ["https://example.org/x.png", "data:image/svg+xml,<svg onload=alert(1)>",
                                 "../outside.png", "/etc/passwd", "validation.json", "javascript:alert(1)"])
def test_unsafe_images_become_their_alt_text(src, tmp_path):
    _png(tmp_path / "outside.png")
    html = pandoc_html(f"Look: ![the picture](<{src}>)\n", tmp_path / "site") if (tmp_path / "site").mkdir() is None else ""
    assert "the picture" in visible_text(html)
    assert [t for t, _ in parse_html(html).tags if t == "img"] == []


def test_project_images_are_kept_and_embedded(tmp_path):
    _png(tmp_path / "figures" / "fig-a.png")
    html = pandoc_html("![A chart](figures/fig-a.png){#fig-a fig-alt=\"A one-pixel chart\"}\n", tmp_path)
    imgs = [a for t, a in parse_html(html).tags if t == "img"]
    assert len(imgs) == 1 and imgs[0]["src"].startswith("data:image/png;base64,") and imgs[0]["alt"] == "A one-pixel chart"


def test_lua_filter_sanitises_under_quarto_too(tmp_path):
    import pypandoc

    wrapper = tmp_path / "fake-quarto-env.lua"
    wrapper.write_text("quarto = { doc = { include_text = function() end } }\n"
                       f"return dofile({json.dumps(str(_common.LUA_FILTER))})\n", encoding="utf-8")
    source = "[js](javascript:alert(1)) [ok](https://example.org) [x]{onclick=\"alert(1)\"} ![i](https://evil/x.png)\n"
    proc = subprocess.run([pypandoc.get_pandoc_path(), "-f", _common.QUARTO_READER_FORMAT, "-t", "html", "-L", str(wrapper)],
                          input=source.encode(), capture_output=True, timeout=60, check=True)
    html = proc.stdout.decode()
    assert html_problems(html) == [] and "javascript" not in html and "onclick" not in html and "<img" not in html
    assert 'href="https://example.org"' in html


def test_notebook_html_outputs_are_never_part_of_the_document():
    from pipeline.render.notebook import notebook_markdown

    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "source": "x", "outputs": [
            {"output_type": "display_data", "metadata": {},
             "data": {"text/html": PAYLOADS["script"], "text/markdown": "Shown text.", "text/plain": "repr"}},
            {"output_type": "execute_result", "metadata": {}, "execution_count": 1,
             "data": {"text/html": PAYLOADS["iframe-srcdoc"], "image/svg+xml": PAYLOADS["svg-onload"]}}]},
        {"cell_type": "raw", "metadata": {"format": "text/html"}, "source": PAYLOADS["img-onerror"]},
    ]}
    assert notebook_markdown(nb) == "Shown text.\n"


# ---- CSP and reader configuration of both back-ends ----------------------------------------------

def test_html_template_carries_the_csp(tmp_path):
    template = _common.HTML_TEMPLATE.read_text(encoding="utf-8")
    assert f'<meta http-equiv="Content-Security-Policy" content="{_common.HTML_CSP}" />' in template
    assert "<script" not in template.lower()  # the pages need no script: script-src 'none'
    assert "script-src 'none'" in _common.HTML_CSP and "default-src 'none'" in _common.HTML_CSP
    html = pandoc_html("# A {#sec-a}\n\ntext\n", tmp_path)
    head = html.split("</head>", 1)[0]
    metas = [a for t, a in parse_html(head).tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert [m["content"] for m in metas] == [_common.HTML_CSP]
    assert head.index("Content-Security-Policy") < head.index("<style")  # before anything it governs


def test_reader_formats():
    for ext in ("raw_html", "raw_attribute", "raw_tex"):
        assert f"-{ext}" in _common.READER_FORMAT and f"-{ext}" in _common.QUARTO_READER_FORMAT
    assert "-yaml_metadata_block" in _common.READER_FORMAT


def test_embedded_pandoc_command_uses_the_restricted_reader(monkeypatch, tmp_path):
    seen = {}

    class Done:
        returncode, stdout, stderr = 0, b"", b""

    def fake_run(cmd, **kwargs):
        seen["cmd"] = cmd
        return Done()

    monkeypatch.setattr(embedded.subprocess, "run", fake_run)
    embedded.run_pandoc(["--to", "html5"], "x", tmp_path)
    cmd = seen["cmd"]
    assert cmd[cmd.index("--from") + 1] == _common.READER_FORMAT
    assert cmd[cmd.index("--lua-filter") + 1] == str(_common.LUA_FILTER)


def test_quarto_back_end_uses_the_same_reader_filter_and_a_csp():
    config = quarto_backend.project_config()
    assert config["format"]["html"]["from"] == _common.QUARTO_READER_FORMAT
    assert config["format"]["typst"]["from"] == _common.QUARTO_READER_FORMAT
    assert config["filters"] == [f"{quarto_backend.ASSETS}/{_common.LUA_FILTER.name}"]
    headers = config["format"]["html"]["include-in-header"]
    assert any("Content-Security-Policy" in h["text"] and _common.QUARTO_HTML_CSP in h["text"] for h in headers)


# ---- escaping of data fields ---------------------------------------------------------------------

NASTY_FIELDS = [
    "<script>alert(1)</script>", "**bold** _it_ `code` ~sub~ ^sup^", "[l](javascript:alert(1))", "![i](x.png)",
    "{=html} {#id .cls onclick=x}", "@fig-x and @sec-y", "$x$ and $$y$$", "&lt;b&gt; &amp;", "a | b | c",
    "- list", "+ list", "1. one", "2) two", "(a) letter", "# heading", "> quote", ": definition", "| pipe",
    "back\\slash \\* star", "line one\nline two", "<http://example.org>", "<!- comment ->", "Local authority*",
    "x2* Connexions Workers x2*",
]


@pytest.mark.parametrize("field", NASTY_FIELDS)
def test_md_escape_renders_the_field_literally(field, tmp_path):
    html = pandoc_html(f"Value: {md_escape(field)} end.\n\n| A | B |\n|:--|:--|\n| {md_escape(field)} | x |\n", tmp_path)
    expected = " ".join(field.split())
    text = visible_text(html)
    assert f"Value: {expected} end." in text, text
    assert f"{expected} x" in text.replace("  ", " "), text
    assert html_problems(html) == []


def test_md_table_escapes_cells_and_caption_but_not_markdown_columns(tmp_path):
    import pandas as pd

    frame = pd.DataFrame([{"Area": EVIL_NAME, "Result": "[Better]{.cmp-better}", "Plan": md_link("HTML", "a b/x.html")}])
    text = md_table(frame, f"Caption {EVIL_NAME}", "tbl-x", markdown_columns=("Result", "Plan"))
    html = pandoc_html(text, tmp_path)
    assert html_problems(html) == []
    assert '<span class="cmp-better">Better</span>' in html
    assert 'href="a%20b/x.html"' in html
    assert visible_text(html).count(" ".join(EVIL_NAME.split())) == 2


def test_md_code_is_literal(tmp_path):
    html = pandoc_html(f"File {md_code('a`b<script>')} and {md_code('`x')}.\n", tmp_path)
    assert "<code>a`b&lt;script&gt;</code>" in html and "<code>`x</code>" in html


# --------------------------------------------------------------------------- (b) built plan, comparison, index

AREA = "buckinghamshire"  # the fastest plan
OTHER = "warwickshire"
EVIL_SERVICE = "Evil YOS <svg onload=alert('xss-service')></svg> [x](javascript:alert(2)) @fig-budget-2016-17"
EVIL_OTHER = "Otherland <script>alert('xss-other')</script>"


def _poison_data(data: Path) -> None:
    import yaml

    content_file = data / "content" / AREA / "2016-17.yml"
    content = yaml.safe_load(content_file.read_text(encoding="utf-8"))
    content["summary"] = "Summary before the payloads.\n\n" + "\n\n".join(PAYLOADS.values()) + "\n\nSummary after the payloads.\n"
    single_line = [v for v in PAYLOADS.values() if "\n" not in v]
    content["achievements"] = list(content.get("achievements") or [])[:1] + single_line
    content["risks"] = [{"risk": PAYLOADS["img-onerror"], "mitigation": PAYLOADS["javascript-link"],
                         "source": {"document": "<script>alert('xss-source')</script>", "section": "[s](javascript:alert(3))"}}]
    content["priorities"] = [{"title": "Priority " + PAYLOADS["svg-onload"], "actions": [PAYLOADS["iframe-srcdoc"]]}]
    content_file.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")

    areas = data / "areas.csv"
    with areas.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    for row in rows:
        if row["area_id"] == AREA:
            row["area_name"], row["service_name"] = EVIL_NAME, EVIL_SERVICE
        if row["area_id"] == OTHER:
            row["area_name"] = EVIL_OTHER
    with areas.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    plans = data / "plans.csv"
    with plans.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    for row in rows:
        if row["area_id"] == AREA:
            row["plan_period_label"] = "2016–17 <img src=x onerror=alert('xss-period')>"
    with plans.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def poisoned_site(tmp_path_factory) -> Path:
    """buckinghamshire's plan, a comparison with warwickshire and the index, from poisoned data."""
    from conftest import run_cli

    root = tmp_path_factory.mktemp("injection")
    data = root / "data"
    shutil.copytree(REPO / "data", data)
    _poison_data(data)
    env = {"YJPLAN_DATA_DIR": str(data), "YJPLAN_BUILD_DIR": str(root / "build")}
    log = []
    for args in (["build", AREA, "--renderer", "embedded"], ["compare", AREA, OTHER, "--renderer", "embedded"], ["index"]):
        proc = run_cli(args, env)
        log.append(f"$ yjplan {' '.join(args)}\n{proc.stdout}\n{proc.stderr}")
        assert proc.returncode == 0, "\n".join(log)[-6000:]
    site = root / "build" / "site"
    (root / "cli.log").write_text("\n".join(log), encoding="utf-8")
    return site


def _pages(site: Path) -> dict[str, Path]:
    compare = sorted(p for p in site.glob("compare*/*.html"))
    assert compare, f"no comparison page in {site}"
    return {"plan": plan_file(site, AREA, "html"), "compare": compare[0], "index": site / "index.html"}


@pytest.mark.integration
def test_poisoned_build_outputs_are_inert(poisoned_site):
    for name, page in _pages(poisoned_site).items():
        html = page.read_text(encoding="utf-8")
        assert html_problems(html) == [], f"{name}: {html_problems(html)}"
        assert "Content-Security-Policy" in html.split("</head>", 1)[0], name
    plan_text = visible_text(_pages(poisoned_site)["plan"].read_text(encoding="utf-8"))
    assert "<script>window.__xss='script';alert('xss-script')</script>" in plan_text
    assert " ".join(EVIL_NAME.split()) in plan_text and "<svg onload=alert('xss-service')></svg>" in plan_text
    assert "Summary before the payloads." in plan_text and "Summary after the payloads." in plan_text
    index_text = visible_text((poisoned_site / "index.html").read_text(encoding="utf-8"))
    assert " ".join(EVIL_NAME.split()) in index_text


@pytest.mark.integration
def test_poisoned_pdf_does_not_contain_the_build_folder(poisoned_site):
    from pypdf import PdfReader

    validation = (plan_folder(poisoned_site, AREA) / "validation.json").read_text(encoding="utf-8")
    assert "expect_column_to_exist" in validation  # the marker we look for below
    pdf = plan_file(poisoned_site, AREA, "pdf")
    text = "".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages)
    assert "expect_column_to_exist" not in text and '"severity":' not in text
    assert 'read("validation.json")' in text.replace("“", '"').replace("”", '"')  # the payload, as text
    assert "Evilshire" in text


@pytest.mark.integration
@pytest.mark.browser
def test_poisoned_pages_in_chromium(poisoned_site):
    browser_mod = pytest.importorskip("selenium")
    del browser_mod
    from test_browser import CHROMEDRIVER, CHROMIUM, headless_chromium, page_problems

    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("needs chromium and chromedriver")
    from selenium.common.exceptions import NoAlertPresentException

    failures: list[str] = []
    with headless_chromium(unhandledPromptBehavior="ignore") as driver:  # an alert must stay visible to the test
        for name, page in _pages(poisoned_site).items():
            driver.get_log("browser")
            driver.get(page.resolve().as_uri())
            # hover and click everything: event-handler payloads need an event
            try:
                driver.execute_script(
                    "for (const el of document.querySelectorAll('*')) {"
                    " for (const t of ['mouseover','click','focus','load','error']) {"
                    "  try { el.dispatchEvent(new Event(t)); } catch (e) {} } }")
            except Exception as exc:  # an open alert makes every command fail
                failures.append(f"{name}: script after load failed ({type(exc).__name__})")
            try:
                alert = driver.switch_to.alert
                failures.append(f"{name}: an alert fired: {alert.text!r}")
                alert.dismiss()
            except NoAlertPresentException:
                pass
            state = driver.execute_script(
                "return {xss: typeof window.__xss === 'undefined' ? null : String(window.__xss), title: document.title,"
                " scripts: document.scripts.length, iframes: document.querySelectorAll('iframe,svg,object,embed').length,"
                " text: document.body.innerText}")
            if state["xss"] is not None:
                failures.append(f"{name}: a payload ran (window.__xss={state['xss']!r})")
            if state["scripts"] or state["iframes"]:
                failures.append(f"{name}: {state['scripts']} script and {state['iframes']} iframe/svg/object elements")
            links = driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
            bad = [h for h in links if not h.startswith(("http:", "https:", "mailto:", "file:"))]
            if bad:
                failures.append(f"{name}: unsafe links {bad}")
            for entry in driver.get_log("browser"):
                if entry.get("level") == "SEVERE":
                    failures.append(f"{name}: console error {entry.get('message')}")
            text = " ".join(state["text"].split())
            if "Evilshire <img src=x onerror=alert('xss-name')>" not in text.replace("‘", "'").replace("’", "'"):
                failures.append(f"{name}: the area name is not shown literally")
        plan = _pages(poisoned_site)["plan"]
        assert page_problems(driver, plan, min_images=1) == []
    assert not failures, "\n".join(failures)
