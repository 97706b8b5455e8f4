"""Tests of the rendering layer (pipeline.render): embedded back-end end to end, Quarto back-end
through a fake `quarto` executable that records its command line."""

from __future__ import annotations

import json
import re
import os
import stat
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pipeline.render import (
    RENDERERS,
    SYNTHETIC_TEXT,
    RenderError,
    find_quarto,
    notebook_to_markdown,
    render_document,
    render_markdown_page,
    renderer_versions,
    resolve_renderer,
)
from pipeline.render import quarto as quarto_backend

pypdf = pytest.importorskip("pypdf")

REPO = Path(__file__).resolve().parents[1]

BODY = """# Performance {#sec-performance}

First-time entrants were 240 per 100,000 young people in 2023–24, ≥ the England rate.
See @fig-fte, @tbl-budget and @sec-budget.

## Budget {#sec-budget}

| Agency | Amount (£) | Share |
|:--|--:|--:|
| Police | £1,383,382 | 37.6% |
| Health | £20,000 | 0.5% |

: Budget 2018/19 by agency (£) {#tbl-budget}

![First-time entrants per 100,000](figures/fig-fte.png){#fig-fte fig-alt="Line chart of first-time entrants per 100,000, falling since 2019"}

Reoffending is [Better]{.cmp-better} than England, custody [Similar]{.cmp-similar},
remands [Worse]{.cmp-worse}, and diversion [Not tested]{.cmp-none} [Small numbers]{.caution}.

::: {.callout-warning}
## Data caveat
Counts below 5 are suppressed.
:::
"""

PLAIN_REPR = "PLAIN_REPR_MUST_NOT_APPEAR"
STREAM_TEXT = "STREAM_TEXT_MUST_NOT_APPEAR"
REMOVED_TEXT = "REMOVED_CELL_MUST_NOT_APPEAR"
PARAM_TEXT = "PARAMETER_CELL_MUST_NOT_APPEAR"


def make_png(path: Path, width: float = 6, height: float = 3.5, seed: int = 0) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(width, height))
    ax.plot([2019, 2020, 2021, 2022, 2023], [300 - 10 * seed, 280, 260, 250, 240], marker="o")
    ax.set_ylabel("per 100,000")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def md_output(text: str):
    return new_output("display_data", data={"text/markdown": text, "text/plain": "<IPython.core.display.Markdown object>"})


def write_plan(folder: Path, body: str = BODY, error: bool = False, name: str = "plan.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "figures" / "fig-fte.png").exists():
        make_png(folder / "figures" / "fig-fte.png")
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [
        new_code_cell(f'area_id = "{PARAM_TEXT}"', metadata={"tags": ["parameters"]}),
        new_code_cell("display(Markdown(body))", outputs=[md_output(body)]),
        new_code_cell("frame", outputs=[new_output("execute_result", data={"text/plain": PLAIN_REPR}, execution_count=3)]),
        new_code_cell("print('hi')", outputs=[new_output("stream", name="stdout", text=STREAM_TEXT + "\n")]),
        new_code_cell("hidden", metadata={"tags": ["remove-cell"]}, outputs=[md_output(REMOVED_TEXT)]),
        new_markdown_cell("# Sources {#sec-sources}\n\nStatic text from a markdown cell."),
    ]
    if error:
        cells.insert(3, new_code_cell("1/0", outputs=[new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                                  traceback=["ZeroDivisionError: division by zero"])]))
    nb.cells = cells
    path = folder / name
    nbformat.write(nb, path)
    return path


META = {"title": "Anytown: Youth Justice Strategic Plan", "subtitle": "2024–25 — performance, resources and priorities",
        "date": "2025-01-31", "author": "Anytown Youth Justice Service", "lang": "en-GB"}


def pdf_pages(path: Path) -> list[str]:
    # typst puts a no-break space in references ("Table\u00a01"): compare with plain spaces
    return [(page.extract_text() or "").replace("\u00a0", " ") for page in pypdf.PdfReader(str(path)).pages]


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.toc_links: list[str] = []
        self._in_toc = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "nav" and attrs.get("id") == "TOC":
            self._in_toc = 1
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.hrefs.append(attrs["href"][1:])
            if self._in_toc:
                self.toc_links.append(attrs["href"][1:])

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_toc = 0


# ---- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One embedded render of the sample plan (HTML and PDF), shared by the assertions below."""
    root = tmp_path_factory.mktemp("render")
    nb = write_plan(root / "run")
    out = root / "out"
    result = render_document(nb, out, "anytown-plan", metadata=META, renderer="embedded")
    html = result["html"].read_text(encoding="utf-8")
    return {"result": result, "out": out, "html": html, "pages": pdf_pages(result["pdf"]), "root": root}


@pytest.fixture(scope="module")
def rendered_synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    nb = write_plan(root / "run")
    result = render_document(nb, root / "out", "demo-plan", metadata={**META, "synthetic": True}, renderer="embedded")
    return {"html": result["html"].read_text(encoding="utf-8"), "pages": pdf_pages(result["pdf"])}


# ---- notebook conventions ---------------------------------------------------------------------

def test_notebook_to_markdown_follows_conventions(tmp_path):
    md = notebook_to_markdown(write_plan(tmp_path))
    assert "# Performance {#sec-performance}" in md
    assert ": Budget 2018/19 by agency (£) {#tbl-budget}" in md
    assert "# Sources {#sec-sources}" in md  # markdown cell kept
    for hidden in (PLAIN_REPR, STREAM_TEXT, REMOVED_TEXT, PARAM_TEXT, "IPython.core.display"):
        assert hidden not in md
    assert md.index("Performance") < md.index("Sources")


def test_notebook_with_error_output_is_refused(tmp_path):
    with pytest.raises(RenderError, match="ZeroDivisionError"):
        notebook_to_markdown(write_plan(tmp_path, error=True))


# ---- embedded HTML ---------------------------------------------------------------------------

def test_outputs_are_written_with_the_stem(rendered):
    out = rendered["out"]
    assert rendered["result"] == {"html": out / "anytown-plan.html", "pdf": out / "anytown-plan.pdf"}
    assert sorted(p.name for p in out.iterdir()) == ["anytown-plan.html", "anytown-plan.pdf"]
    # nothing left behind beside out_dir either
    assert not [p for p in rendered["root"].iterdir() if p.name.startswith(".")]


def test_html_is_self_contained(rendered):
    html = rendered["html"]
    assert 'src="figures/' not in html
    assert '<img src="data:image/png' in html or 'src="data:image/png;base64' in html
    assert '<link rel="stylesheet"' not in html  # CSS inlined
    assert ".cmp-better" in html  # our CSS is there
    assert 'lang="en-GB"' in html


def test_html_toc_anchors_resolve(rendered):
    parser = _Anchors()
    parser.feed(rendered["html"])
    assert 'id="TOC"' in rendered["html"]
    assert {"sec-performance", "sec-budget", "sec-sources"} <= set(parser.toc_links)
    missing = [h for h in parser.hrefs if h not in parser.ids]
    assert not missing, f"links without a target: {missing}"
    # the callout's heading became a title: neither in the TOC nor numbered
    assert "data-caveat" not in parser.toc_links


def test_html_headings_numbered_and_captions_labelled(rendered):
    html = rendered["html"]
    assert '<span class="header-section-number">1</span> Performance' in html
    assert '<span class="header-section-number">1.1</span> Budget' in html
    assert '<span class="header-section-number">2</span> Sources' in html
    assert '<caption><span class="caption-label">Table 1:</span> Budget 2018/19 by agency (£)</caption>' in html
    assert '<span class="caption-label">Figure 1:</span> First-time entrants per 100,000' in html
    assert 'alt="Line chart of first-time entrants per 100,000, falling since 2019"' in html
    # cross references resolved to numbered links
    assert '<a href="#fig-fte">Figure 1</a>' in html
    assert '<a href="#tbl-budget">Table 1</a>' in html
    assert '<a href="#sec-budget">Section 1.1</a>' in html


def test_html_has_comparisons_callout_and_title_block(rendered):
    html = rendered["html"]
    for cls, word in (("cmp-better", "Better"), ("cmp-similar", "Similar"), ("cmp-worse", "Worse"), ("cmp-none", "Not tested")):
        assert f'<span class="{cls}">{word}</span>' in html
    assert '<span class="caution">Small numbers</span>' in html
    assert 'class="yj-callout yj-callout-warning"' in html
    assert "Data caveat" in html
    assert "Anytown: Youth Justice Strategic Plan" in html and "Anytown Youth Justice Service" in html
    assert "2025-01-31" in html


def test_html_has_no_plain_or_stream_output(rendered):
    for hidden in (PLAIN_REPR, STREAM_TEXT, REMOVED_TEXT, PARAM_TEXT, "IPython.core.display"):
        assert hidden not in rendered["html"]


def test_html_not_synthetic_has_no_banner(rendered):
    assert SYNTHETIC_TEXT not in rendered["html"]
    assert not any(SYNTHETIC_TEXT in page for page in rendered["pages"])


# ---- embedded PDF ----------------------------------------------------------------------------

def test_pdf_has_real_text(rendered):
    pages = rendered["pages"]
    text = "\n".join(pages)
    assert len(pages) >= 3  # title page, contents, body
    for needle in ("240 per 100,000", "£1,383,382", "37.6%", "£20,000", "Performance", "Budget 2018/19 by agency (£)",
                   "2023–24", "≥", "Anytown: Youth Justice Strategic Plan", "Anytown Youth Justice Service", "Contents",
                   "Table 1", "Figure 1", "Better", "Not tested", "Data caveat", "Sources"):
        assert needle in text, needle
    for hidden in (PLAIN_REPR, STREAM_TEXT, REMOVED_TEXT, PARAM_TEXT):
        assert hidden not in text
    assert "1.1 Budget" in text.replace("\n", " ")  # numbered headings (and in the outline)
    assert f"Page 1 of {len(pages)}" in pages[0]  # page numbers in the running footer


# ---- synthetic ------------------------------------------------------------------------------

def test_synthetic_banner_in_html_and_on_every_pdf_page(rendered_synthetic):
    html = rendered_synthetic["html"]
    assert f'<div class="synthetic-banner" role="note">{SYNTHETIC_TEXT}</div>' in html
    assert html.index("synthetic-banner\"") < html.index('id="title-block-header"')
    pages = rendered_synthetic["pages"]
    assert all(SYNTHETIC_TEXT in page for page in pages)
    assert pages[0].count(SYNTHETIC_TEXT) >= 2  # title page box and footer


# ---- failures leave nothing behind ------------------------------------------------------------

def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".render-" in p.name] if folder.exists() else []


def test_error_output_raises_and_writes_nothing(tmp_path):
    nb = write_plan(tmp_path / "run", error=True)
    out = tmp_path / "out"
    with pytest.raises(RenderError, match="cell 4 raised ZeroDivisionError"):
        render_document(nb, out, "plan", metadata=META, renderer="embedded")
    assert not out.exists() or not list(out.iterdir())
    assert not _leftovers(tmp_path)


def test_missing_figure_raises_and_keeps_previous_outputs(tmp_path):
    body = BODY.replace("figures/fig-fte.png", "figures/missing.png")
    nb = write_plan(tmp_path / "run", body=body)
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.html").write_text("previous")
    with pytest.raises(RenderError, match="missing.png"):
        render_document(nb, out, "plan", metadata=META, renderer="embedded")
    assert sorted(p.name for p in out.iterdir()) == ["plan.html"]
    assert (out / "plan.html").read_text() == "previous"
    assert not _leftovers(tmp_path)


@pytest.mark.parametrize("failing", ["html", "pdf", "both"])
def test_html_and_pdf_render_together_and_either_failure_is_reported(tmp_path, monkeypatch, failing):
    """HTML and PDF are rendered at the same time; a failure of either (HTML's first) fails the render,
    only after both have finished, and leaves nothing behind."""
    from pipeline.render import embedded

    finished = []
    real_html, real_pdf = embedded.render_html, embedded.render_pdf

    def html(*args, **kwargs):
        time.sleep(0.3)  # still running when the PDF fails
        finished.append("html")
        if failing in ("html", "both"):
            raise RenderError("html broke")
        return real_html(*args, **kwargs)

    def pdf(*args, **kwargs):
        finished.append("pdf")
        if failing in ("pdf", "both"):
            raise RenderError("pdf broke")
        return real_pdf(*args, **kwargs)

    monkeypatch.setattr(embedded, "render_html", html)
    monkeypatch.setattr(embedded, "render_pdf", pdf)
    nb = write_plan(tmp_path / "run")
    out = tmp_path / "out"
    expected = "pdf broke" if failing == "pdf" else "html broke"
    with pytest.raises(RenderError, match=expected):
        render_document(nb, out, "plan", metadata=META, renderer="embedded")
    assert sorted(finished) == ["html", "pdf"]
    assert not out.exists() or not list(out.iterdir())
    assert not _leftovers(tmp_path)


def test_unresolved_cross_reference_is_an_error(tmp_path):
    nb = write_plan(tmp_path / "run", body=BODY + "\nSee @fig-nowhere.\n")
    with pytest.raises(RenderError, match="fig-nowhere"):
        render_document(nb, tmp_path / "out", "plan", formats=("pdf",), metadata=META, renderer="embedded")


def test_uncaptioned_tables_are_not_numbered(tmp_path):
    body = "# Tables\n\n| a | b |\n|--|--|\n| 1 | 2 |\n\n| c | d |\n|--|--|\n| 3 | 4 |\n\n: Captioned one {#tbl-one}\n\nSee @tbl-one.\n"
    nb = write_plan(tmp_path / "run", body=body)
    result = render_document(nb, tmp_path / "out", "plan", metadata=META, renderer="embedded")
    text = "\n".join(pdf_pages(result["pdf"]))
    assert "Table 1: Captioned one" in text and "See Table 1" in text and "Table 2" not in text
    assert '<span class="caption-label">Table 1:</span> Captioned one' in result["html"].read_text(encoding="utf-8")


def test_bad_arguments(tmp_path):
    nb = write_plan(tmp_path / "run")
    with pytest.raises(RenderError, match="unknown output format"):
        render_document(nb, tmp_path / "out", "plan", formats=("odt",), renderer="embedded")
    with pytest.raises(RenderError, match="invalid output name"):
        render_document(nb, tmp_path / "out", "../plan", renderer="embedded")
    with pytest.raises(RenderError, match="unknown renderer"):
        resolve_renderer("latex")


def test_single_format(tmp_path):
    nb = write_plan(tmp_path / "run")
    result = render_document(nb, tmp_path / "out", "plan", formats=("html",), metadata=META, renderer="embedded")
    assert list(result) == ["html"] and not (tmp_path / "out" / "plan.pdf").exists()


# ---- renderer choice -------------------------------------------------------------------------

@pytest.fixture
def no_quarto(monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("QUARTO_PATH", raising=False)
    return empty


def test_resolve_renderer_without_quarto(no_quarto):
    assert RENDERERS == ("auto", "quarto", "embedded")
    assert find_quarto() is None
    assert resolve_renderer("auto") == "embedded"
    assert resolve_renderer("embedded") == "embedded"
    with pytest.raises(RenderError, match="no `quarto` executable"):
        resolve_renderer("quarto")


def test_renderer_versions_embedded(no_quarto):
    versions = renderer_versions("embedded")
    assert set(versions) == {"pandoc", "typst", "templates"}
    assert versions["pandoc"].split(".")[0] >= "3"
    assert renderer_versions("auto") == versions


# ---- Quarto back-end through a fake quarto ---------------------------------------------------

FAKE_QUARTO = r'''#!{python}
"""Stand-in for quarto: records how it was called, writes the output it was asked for."""
import json, os, sys
from pathlib import Path

log = Path(os.environ["FAKE_QUARTO_LOG"])
if sys.argv[1:] == ["--version"]:
    print("1.6.40")
    sys.exit(0)
cwd = Path.cwd()
args = sys.argv[1:]
record = {{"argv": args, "cwd": str(cwd),
          "project": (cwd / "_quarto.yml").read_text(encoding="utf-8"),
          "notebook": json.loads((cwd / args[1]).read_text(encoding="utf-8")),
          "files": sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*") if p.is_file())}}
with log.open("a", encoding="utf-8") as fh:
    fh.write(json.dumps(record) + "\n")
if os.environ.get("FAKE_QUARTO_FAIL"):
    sys.stderr.write("ERROR: compilation failed (fake)\n")
    sys.exit(1)
out = args[args.index("--output") + 1]
fake = {{".typ": b"#set document(title: [Fake])\nFake typst source", ".docx": b"PK fake"}}
(cwd / out).write_bytes(fake.get(Path(out).suffix, b"<html>fake</html>"))
'''


@pytest.fixture
def fake_quarto(monkeypatch, tmp_path):
    if os.name == "nt":  # pragma: no cover - the fake is a script with a shebang line
        pytest.skip("the fake quarto needs a POSIX shell")
    bindir = tmp_path / "fake-bin"
    bindir.mkdir()
    script = bindir / "quarto"
    script.write_text(FAKE_QUARTO.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    log = tmp_path / "quarto-calls.jsonl"
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.delenv("QUARTO_PATH", raising=False)
    monkeypatch.setenv("FAKE_QUARTO_LOG", str(log))
    quarto_backend.quarto_version.cache_clear()
    yield {"script": script, "log": log}
    quarto_backend.quarto_version.cache_clear()


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def test_quarto_found_and_versions(fake_quarto):
    assert find_quarto() == str(fake_quarto["script"])
    assert resolve_renderer("auto") == "quarto"
    assert resolve_renderer("quarto") == "quarto"
    versions = renderer_versions("quarto")
    assert versions["quarto"] == "1.6.40" and set(versions) == {"quarto", "templates"}


def test_quarto_path_env(monkeypatch, tmp_path, fake_quarto):
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setenv("QUARTO_PATH", str(fake_quarto["script"]))
    assert find_quarto() == str(fake_quarto["script"].resolve())
    monkeypatch.setenv("QUARTO_PATH", str(fake_quarto["script"].parent))
    assert find_quarto() == str(fake_quarto["script"].resolve())


def test_quarto_command_lines_and_prepared_copy(fake_quarto, tmp_path):
    nb = write_plan(tmp_path / "run")
    original = nb.read_bytes()
    out = tmp_path / "out"
    meta = {**META, "synthetic": True, "period": "2024–25"}
    result = render_document(nb, out, "anytown-plan", metadata=meta, renderer="quarto")

    assert result == {"html": out / "anytown-plan.html", "pdf": out / "anytown-plan.pdf"}
    assert (out / "anytown-plan.pdf").read_bytes().startswith(b"%PDF")
    assert nb.read_bytes() == original  # the caller's notebook is never touched
    assert not _leftovers(tmp_path)

    calls = _calls(fake_quarto["log"])
    assert [c["argv"] for c in calls] == [
        ["render", "anytown-plan.ipynb", "--to", "html", "--no-execute", "--output", "anytown-plan.html"],
        ["render", "anytown-plan.ipynb", "--to", "typst", "--no-execute", "--output", "anytown-plan.typ"],
    ]
    # quarto writes the typst source; the typst wheel compiles it (tagged PDF/UA-1)
    assert "Fake typst source" in pdf_pages(out / "anytown-plan.pdf")[0]
    first = calls[0]
    # a private project in a staging folder beside out_dir (not out_dir, not the package)
    cwd = Path(first["cwd"])
    assert cwd.parent.parent == tmp_path and cwd.parent.name.startswith("anytown-plan.render-")  # not hidden: Quarto skips hidden folders
    project = yaml.safe_load(first["project"])
    assert project["project"] == {"type": "default"}
    assert project["execute"]["enabled"] is False
    assert project["format"]["html"]["embed-resources"] is True
    assert project["format"]["typst"]["template-partials"] == ["_yjplan/typst-template.typ", "_yjplan/typst-show.typ"]
    assert project["format"]["typst"]["output-ext"] == "typ"
    assert project["format"]["html"]["format-links"] is False
    assert project["format"]["html"]["tbl-colwidths"] is False and project["format"]["typst"]["tbl-colwidths"] is False
    assert {"_yjplan/yjplan.lua", "_yjplan/yjplan.css", "_yjplan/typst-template.typ", "_yjplan/typst-show.typ",
            "figures/fig-fte.png", "anytown-plan.ipynb", "_quarto.yml"} <= set(first["files"])

    cells = first["notebook"]["cells"]
    assert cells[0]["cell_type"] == "raw"
    assert all(isinstance(c["source"], list) for c in cells)  # Quarto joins source lists
    front = "".join(cells[0]["source"])
    assert front.startswith("---\n") and front.rstrip().endswith("---")
    fm = yaml.safe_load(front.strip().strip("-"))
    expected = {**meta, "lang": "en-GB"}
    if meta.get("synthetic"):
        expected["synthetic-text"] = SYNTHETIC_TEXT  # the warning's wording travels as metadata
    assert fm == expected
    assert {c["cell_type"] for c in cells[1:]} == {"markdown"}
    text = json.dumps(first["notebook"])
    assert "# Performance {#sec-performance}" in text and "# Sources {#sec-sources}" in text
    for hidden in (PLAIN_REPR, STREAM_TEXT, REMOVED_TEXT, PARAM_TEXT):
        assert hidden not in text


def test_quarto_failure_leaves_nothing(fake_quarto, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_QUARTO_FAIL", "1")
    nb = write_plan(tmp_path / "run")
    out = tmp_path / "out"
    with pytest.raises(RenderError, match="compilation failed"):
        render_document(nb, out, "plan", metadata=META, renderer="quarto")
    assert not out.exists() or not list(out.iterdir())
    assert not _leftovers(tmp_path)


def test_quarto_refuses_failed_notebook_without_calling_quarto(fake_quarto, tmp_path):
    nb = write_plan(tmp_path / "run", error=True)
    with pytest.raises(RenderError, match="ZeroDivisionError"):
        render_document(nb, tmp_path / "out", "plan", metadata=META, renderer="quarto")
    assert _calls(fake_quarto["log"]) == []


def test_lua_filter_in_quarto_mode(tmp_path):
    """Under Quarto (a global `quarto` table) the filter leaves captions and cross references to
    Quarto, draws callouts itself (as without Quarto), maps comparison spans for typst, gives typst
    images their alt text (PDF/UA), and adds the HTML banner."""
    import pypandoc

    from pipeline.render._common import LUA_FILTER

    wrapper = tmp_path / "fake-quarto-env.lua"
    wrapper.write_text(
        'quarto = { doc = { include_text = function(where, text) io.stderr:write("INCLUDE " .. where .. " " .. text .. "\\n") end } }\n'
        f"return dofile({json.dumps(str(LUA_FILTER))})\n", encoding="utf-8")
    source = (f"---\nsynthetic: true\nsynthetic-text: {SYNTHETIC_TEXT}\n---\n"
              "# A {#sec-a}\n\nSee @fig-x. [Better]{.cmp-better}\n\n::: {.callout-note}\n## T\nbody\n:::\n\n"
              '![Caption](figures/x.png){#fig-x fig-alt="Bars of \\"x\\" by year"}\n')

    def run(to):
        proc = subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", to, "--wrap=none", "-L", str(wrapper)],
                              input=source.encode(), capture_output=True, timeout=60, check=True)
        return proc.stdout.decode(), proc.stderr.decode()

    html, html_err = run("html")
    assert '<span class="cmp-better">Better</span>' in html
    assert 'class="yj-callout yj-callout-note" role="note"' in html  # our callout, Quarto or not
    assert re.search(r'<div class="yj-callout-title">\s*T\s*</div>', html)
    assert 'data-cites="fig-x"' in html  # Quarto's crossref resolves @fig-x
    assert f"INCLUDE before-body <div class=\"synthetic-banner\" role=\"note\">{SYNTHETIC_TEXT}</div>" in html_err
    typ, typ_err = run("typst")
    assert '#text(fill: rgb("#0b4f8a"), weight: "bold")[Better]' in typ
    assert '#box(image("figures/x.png", alt: "Bars of \\"x\\" by year"))' in typ
    assert "#callout(" not in typ and "stroke: (left: 3pt" in typ
    assert "INCLUDE" not in typ_err


def test_quarto_project_file_is_generated_from_the_backend():
    from pipeline.render.website import SOURCES

    text = (REPO / "_quarto.yml").read_text(encoding="utf-8")
    assert text == quarto_backend.site_project_yaml(REPO), "_quarto.yml is out of date: run yjplan quarto-project"
    config = yaml.safe_load(text)
    project = config["project"]
    assert project["type"] == "website" and project["output-dir"] == "_site"
    # never renders the published folder in place: the inputs are copies in quarto-site/
    assert project["render"] == [f"{SOURCES}/index.md", f"{SOURCES}/**/*.ipynb"]
    assert not any("build" in item for key in ("render", "resources") for item in project[key])
    assert project["pre-render"] == ["pipeline/templates/quarto/website.py"]
    assert project["post-render"] == ["pipeline/templates/quarto/website.py --post"]
    assert [item["href"] for item in config["website"]["navbar"]["left"]] == [f"{SOURCES}/index.md"]
    assert config["execute"] == quarto_backend.EXECUTE
    assert config["crossref"] == quarto_backend.CROSSREF
    assert list(config["format"]) == ["html"]  # PDF and Word files are the build's own (resources)
    html = config["format"]["html"]
    assert {k: html[k] for k in quarto_backend.HTML_OPTIONS if k != "embed-resources"} == \
        {k: v for k, v in quarto_backend.HTML_OPTIONS.items() if k != "embed-resources"}
    for rel in [*config["filters"], *html["css"], project["pre-render"][0]]:
        assert (REPO / rel).is_file(), rel
    # Quarto adds these to .gitignore unless present: a render must leave the tracked file alone
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {"/.quarto/", "**/*.quarto_ipynb", f"/{SOURCES}/"} <= set(ignored)


def _published_site(root: Path) -> Path:
    """A build/site with an index, one plan (notebook, figure, PDF, Word file) and build.json."""
    site = root / "build" / "site"
    nb = write_plan(site / "anytown" / "2024-25")  # an edition of a plan: <area>/<edition>/
    (site / "index.md").write_text("---\ntitle: Plans\n---\n\n[HTML](anytown/2024-25/anytown-2024-25-plan.html)\n",
                                   encoding="utf-8")
    for ext in ("html", "pdf", "docx"):
        (nb.parent / f"anytown-2024-25-plan.{ext}").write_bytes(f"published {ext}".encode())
    meta = {"title": "Anytown plan", "subtitle": "2024–25", "lang": "en-GB", "synthetic": True}
    (nb.parent / "build.json").write_text(json.dumps({
        "name": "anytown/2024-25", "outputs": {"html": "anytown-2024-25-plan.html", "pdf": "anytown-2024-25-plan.pdf",
                                               "docx": "anytown-2024-25-plan.docx"},
        "title": "Anytown plan", "document": meta}), encoding="utf-8")
    return site


def _website_script(project: Path, build: Path, *args: str) -> subprocess.CompletedProcess:
    script = REPO / "pipeline" / "templates" / "quarto" / "website.py"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["YJPLAN_BUILD_DIR"] = str(build)
    return subprocess.run([sys.executable, str(script), *args], cwd=project, capture_output=True, text=True,
                          timeout=120, env=env)


def test_website_sources_are_copies_of_the_published_site(tmp_path):
    """The root website's pre-render step (run as Quarto runs it) copies, never renders in place."""
    from pipeline.render.website import MARKER, SOURCES

    site = _published_site(tmp_path)
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    project = tmp_path / "project"
    project.mkdir()
    proc = _website_script(project, site.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sources = project / SOURCES
    assert (sources / MARKER).is_file() and (sources / "index.md").read_bytes() == (site / "index.md").read_bytes()
    page = sources / "anytown" / "2024-25"
    ready = json.loads((page / "anytown-2024-25-plan.ipynb").read_text(encoding="utf-8"))
    front = yaml.safe_load("".join(ready["cells"][0]["source"]).strip().strip("-"))
    assert front["title"] == "Anytown plan" and front["subtitle"] == "2024–25" and front["synthetic"] is True
    assert front["synthetic-text"] == SYNTHETIC_TEXT
    assert {c["cell_type"] for c in ready["cells"][1:]} == {"markdown"}
    text = json.dumps(ready)
    assert PLAIN_REPR not in text and STREAM_TEXT not in text
    assert (page / "figures" / "fig-fte.png").is_file()
    for ext in ("pdf", "docx"):  # resources: the build's own files
        assert (page / f"anytown-2024-25-plan.{ext}").read_bytes() == f"published {ext}".encode()
    assert not (page / "anytown-2024-25-plan.html").exists()  # Quarto writes the page
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before  # build/ untouched
    # rerun: rewritten; post-render: the front door
    (sources / "stale.md").write_text("old", encoding="utf-8")
    assert _website_script(project, site.parent).returncode == 0 and not (sources / "stale.md").exists()
    (project / "_site").mkdir()
    assert _website_script(project, site.parent, "--post").returncode == 0
    assert f'href="{SOURCES}/index.html"' in (project / "_site" / "index.html").read_text(encoding="utf-8")


def test_website_sources_refuse_to_delete_a_folder_they_did_not_write(tmp_path):
    from pipeline.render.website import SOURCES

    site = _published_site(tmp_path)
    project = tmp_path / "project"
    (project / SOURCES).mkdir(parents=True)
    (project / SOURCES / "mine.txt").write_text("keep me", encoding="utf-8")
    proc = _website_script(project, site.parent)
    assert proc.returncode == 1 and "was not written by yjplan" in proc.stdout
    assert (project / SOURCES / "mine.txt").read_text(encoding="utf-8") == "keep me"
    # nothing built yet: say what to do
    empty = _website_script(project, tmp_path / "no-build")
    assert empty.returncode == 1 and "run `yjplan build --all` before `quarto render`" in empty.stdout


def test_website_sources_refuse_figures_outside_the_plan_folder(tmp_path):
    from pipeline.render.website import write_sources

    site = _published_site(tmp_path)
    (site.parent / "secret.png").write_bytes(b"not published")
    nb = site / "anytown" / "2024-25" / "plan.ipynb"
    data = json.loads(nb.read_text(encoding="utf-8"))
    data["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "evil", "source": ["![x](../../secret.png)"]})
    nb.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RenderError, match="inside its own folder"):
        write_sources(site, tmp_path / "project" / "quarto-site")


# ---- standalone page ---------------------------------------------------------------------------

def test_render_markdown_page(tmp_path):
    site = tmp_path / "site"
    make_png(site / "figures" / "map.png")
    text = textwrap.dedent("""\
        # Plans {#sec-plans}

        | Area | Plan |
        |:--|:--|
        | Anytown | [HTML](anytown/plan.html) |

        : Plans built {#tbl-plans}

        ![Areas](figures/map.png){#fig-map fig-alt="Map of areas"}

        ::: {.callout-warning}
        Demonstration plans use synthetic data.
        :::
        """)
    page = render_markdown_page(text, site / "index.html", {"title": "Youth Justice Strategic Plans", "date": "2025-01-31",
                                                            "lang": "en-GB", "synthetic": False}, resource_dir=site)
    html = page.read_text(encoding="utf-8")
    assert page == (site / "index.html").resolve()
    assert 'lang="en-GB"' in html and "Youth Justice Strategic Plans" in html
    assert '<span class="caption-label">Table 1:</span> Plans built' in html
    assert 'src="data:image/png' in html and 'id="TOC"' not in html
    assert 'href="anytown/plan.html"' in html
    assert "yj-callout-warning" in html and "Warning" in html
    assert sorted(p.name for p in site.iterdir()) == ["figures", "index.html"]


# ---- concurrency ------------------------------------------------------------------------------

def _render_in_process(args):
    nb, out, stem = args
    result = render_document(Path(nb), Path(out), stem, metadata={**META, "title": stem}, renderer="embedded")
    return {k: str(v) for k, v in result.items()}


def test_concurrent_renders_in_separate_processes(tmp_path):
    """Three processes render into one folder at once. The pool forks after this process has used
    the typst wheel (which is not fork-safe): the renderer must notice and still work."""
    from pipeline.render import embedded

    render_document(write_plan(tmp_path / "warm"), tmp_path / "warm-out", "warm", formats=("pdf",), metadata=META,
                    renderer="embedded")
    assert embedded._TYPST_OWNER_PID == os.getpid()
    jobs = []
    for i in range(3):
        nb = write_plan(tmp_path / f"run{i}")
        jobs.append((str(nb), str(tmp_path / "out"), f"area{i}-plan"))
    with ProcessPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(_render_in_process, jobs))
    for i, result in enumerate(results):
        assert Path(result["html"]).name == f"area{i}-plan.html"
        assert f"area{i}-plan" in Path(result["html"]).read_text(encoding="utf-8")
        assert f"area{i}-plan" in pdf_pages(Path(result["pdf"]))[0]
    assert not _leftovers(tmp_path)


# ---- timing of a ~10-page plan ------------------------------------------------------------------

def long_body(folder: Path, sections: int = 8) -> str:
    parts = []
    for s in range(1, sections + 1):
        make_png(folder / "figures" / f"fig-s{s}.png", seed=s)
        rows = "\n".join(f"| Indicator {r} | {200 + r * s:,} | {r * 1.7 + s:.1f}% | £{(r + 1) * 12_345 * s:,} | "
                         f"{'[Better]{.cmp-better}' if r % 3 == 0 else '[Similar]{.cmp-similar}' if r % 3 == 1 else '[Worse]{.cmp-worse}'} |"
                         for r in range(1, 13))
        parts.append(textwrap.dedent(f"""\
            # Section {s} heading {{#sec-s{s}}}

            {"Paragraph text of the plan describing performance, partnership working and priorities. " * 6}

            ## Indicators {{#sec-s{s}-ind}}

            | Indicator | Count | Rate | Spend (£) | Result |
            |:--|--:|--:|--:|:--|
            """) + rows + textwrap.dedent(f"""

            : Indicators for section {s} (2023–24) {{#tbl-s{s}}}

            ![Trend for section {s}](figures/fig-s{s}.png){{#fig-s{s} fig-alt="Trend line for section {s}"}}

            ## Commentary {{#sec-s{s}-com}}

            {"More narrative text about the local picture, with figures such as 240 per 100,000. " * 5}
            """))
    parts.append(textwrap.dedent("""\
        # Wide table {#sec-wide}

        | Area | 2015/16 | 2016/17 | 2017/18 | 2018/19 | 2019/20 | 2020/21 | 2021/22 | 2022/23 | 2023/24 | Change | Result |
        |:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:--|
        | Anytown Youth Justice Service | £1,383,382 | £1,402,118 | £1,455,020 | £1,502,777 | £1,533,912 | £1,601,450 | £1,644,003 | £1,700,123 | £1,755,009 | +26.9% | [Better]{.cmp-better} |
        | England and Wales (comparator) | £1,283,382 | £1,302,118 | £1,355,020 | £1,402,777 | £1,433,912 | £1,501,450 | £1,544,003 | £1,600,123 | £1,655,009 | +28.9% | [Not tested]{.cmp-none} |

        : A wide table with eleven numeric columns {#tbl-wide}
        """))
    return "\n\n".join(parts)


def test_timing_of_a_ten_page_plan(tmp_path, capsys):
    from pipeline.render import embedded

    folder = tmp_path / "run"
    body = long_body(folder)
    nb = write_plan(folder, body=body)
    md = notebook_to_markdown(nb)
    meta = {**META, "synthetic": True}

    t0 = time.perf_counter()
    html = embedded.render_html(md, tmp_path / "timing.html", meta, folder)
    t_html = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf = embedded.render_pdf(md, tmp_path / "timing.pdf", meta, folder)
    t_pdf = time.perf_counter() - t0

    pages = pdf_pages(pdf)
    text = "\n".join(pages)
    assert "£1,383,382" in text and "+26.9%" in text and "A wide table with eleven numeric columns" in text
    assert len(pages) >= 8
    assert html.stat().st_size > 0
    with capsys.disabled():
        print(f"\n[render timing] ~{len(pages)}-page plan, embedded back-end: HTML {t_html:.2f}s, PDF {t_pdf:.2f}s "
              f"(HTML {html.stat().st_size / 1024:.0f} KiB, PDF {pdf.stat().st_size / 1024:.0f} KiB)")


def test_table_box_attributes_come_in_a_fixed_order():
    """The HTML table box's attributes are written in one order in every pandoc process (a Lua table's
    iteration order changes between processes; the same inputs must give the same bytes)."""
    import pypandoc

    from pipeline.render._common import LUA_FILTER

    source = "| a | b |\n|---|---|\n| 1 | 2 |\n\n: Cap {#tbl-x}\n".encode()
    outs = {subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html", "-L", str(LUA_FILTER)],
                           input=source, capture_output=True, timeout=60, check=True).stdout for _ in range(8)}
    assert len(outs) == 1
    assert re.search(rb'<div class="table-scroll" role="region" tabindex="0"\s+aria-label="Table 1: Cap">', outs.pop())
