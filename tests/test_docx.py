"""Word (DOCX) output, with both renderers: management-board drafts that behave like Word documents.

Fast layer (a few seconds; pandoc from the wheel, no papermill):

* the committed ``pipeline/templates/reference.docx`` is what ``pipeline/render/docx.py`` generates
  and has the house styles (A4, margins, heading styles with outline levels, table, caption, TOC,
  badge, callout and synthetic-warning styles, "Page N of M" footer);
* a small plan rendered by the embedded back-end: heading styles and numbers, TOC field and
  updateFields, a Word table with a repeated header row and a labelled caption, a figure with its
  caption and its fig-alt text as alt text, cross references as links to bookmarks, comparison
  words in their character styles, callouts, core properties, no custom properties, reproducible
  bytes; the synthetic warning in the page header of every section (synthetic plans only);
* the post-processing on its own: Quarto's one-cell layout tables are unwrapped (a nested table
  cannot repeat its header row) and a document naming a private folder is refused;
* formats: ``docx`` is a format everywhere (CLI, build defaults, Quarto project, site index).

Integration layer (``-m integration``): Oxfordshire (real data), Demoshire (synthetic) and the
comparison built by ``yjplan build`` with the embedded renderer, and Oxfordshire and Demoshire
with the Quarto renderer (skipped, with the reason, when no ``quarto`` is found), each checked
against its own HTML (same headings, tables, comparison words), its notebook (fig-alt texts) and
the golden figures (tests/golden/figures.csv).
"""

from __future__ import annotations

import inspect
import json
import re
import zipfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO, run_cli

docx = pytest.importorskip("docx")

from docx.oxml.ns import qn  # noqa: E402

from pipeline.render import SYNTHETIC_TEXT, RenderError, find_quarto, notebook_to_markdown, render_document  # noqa: E402
from pipeline.render import docx as docx_render  # noqa: E402

WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
A4 = (11906, 16838)
BADGE_STYLES = {"StatusBetter": "Better", "StatusSimilar": "Similar", "StatusWorse": "Worse", "StatusNotTested": "Not tested"}


# --------------------------------------------------------------------------- reading a .docx


def parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith((".xml", ".rels"))}


def norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def para_text(p) -> str:
    return "".join((t.text or "") if t.tag == qn("w:t") else " " for t in p.iter(qn("w:t"), qn("w:tab")))


def body_text(document) -> str:
    """Every paragraph's text in document order (table cells included), one space between."""
    return " ".join(para_text(p) for p in document.element.body.iter(qn("w:p")))


NUMBER = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+")


def headings(document) -> list[tuple[int, str, str]]:
    """(level, section number, title) of every paragraph in a Heading N style, in order."""
    out = []
    for p in document.paragraphs:
        match = re.fullmatch(r"Heading (\d)", p.style.name or "")
        if match:
            text = norm(p.text)
            number = NUMBER.match(text)
            out.append((int(match.group(1)), number.group(1) if number else "", NUMBER.sub("", text)))
    return out


def expected_numbers(levels: list[int]) -> list[str]:
    counters, out = [0] * 9, []
    for level in levels:
        counters[level - 1] += 1
        counters[level:] = [0] * (9 - level)
        out.append(".".join(str(c) for c in counters[:level]))
    return out


def badge_words(document) -> Counter:
    """Counter of the words in the comparison-result character styles (consecutive runs joined)."""
    found: Counter = Counter()
    for p in document.element.body.iter(qn("w:p")):
        current, words = None, []
        for r in p.iter(qn("w:r")):
            style = r.find(qn("w:rPr") + "/" + qn("w:rStyle"))
            name = style.get(qn("w:val")) if style is not None else None
            name = name if name in BADGE_STYLES else None
            if name != current and current is not None:
                found[norm("".join(words))] += 1
                words = []
            current = name
            if name:
                words.append("".join(t.text or "" for t in r.iter(qn("w:t"))))
        if current is not None:
            found[norm("".join(words))] += 1
    return found


def pictures(document) -> list[str]:
    """The alt text (wp:docPr descr) of every picture, in order."""
    return [el.get("descr", "") for el in document.element.body.iter(WP + "docPr")]


def numbered_captions(document, kind: str) -> list[int]:
    styles = {"Figure": "Image Caption", "Table": "Table Caption"}
    numbers = []
    for p in document.element.body.iter(qn("w:p")):
        ppr = p.find(qn("w:pPr"))
        style = ppr.find(qn("w:pStyle")) if ppr is not None else None
        if style is None or document.styles.get_by_id(style.get(qn("w:val")), 1).name != styles[kind]:
            continue
        match = re.match(rf"{kind} (\d+):", norm(para_text(p)))
        if match:
            numbers.append(int(match.group(1)))
    return numbers


class _HtmlOutline(HTMLParser):
    """Headings (outside the title block and the TOC) and comparison spans of an HTML page."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.badges: Counter = Counter()
        self.tables = 0
        self._skip = 0  # inside <header id=title-block-header> or <nav>
        self._heading: list | None = None
        self._badge: list | None = None
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("header", "nav"):
            self._stack.append(tag)
            self._skip += 1
        if tag == "table":
            self.tables += 1
        if re.fullmatch(r"h[1-6]", tag) and not self._skip:
            self._heading = [int(tag[1]), ""]
        if tag == "span" and re.search(r"\bcmp-(better|similar|worse|none)\b", attrs.get("class") or ""):
            self._badge = [""]

    def handle_endtag(self, tag):
        if tag in ("header", "nav") and self._stack:
            self._stack.pop()
            self._skip -= 1
        if self._heading is not None and re.fullmatch(r"h[1-6]", tag):
            self.headings.append((self._heading[0], NUMBER.sub("", norm(self._heading[1]))))
            self._heading = None
        if tag == "span" and self._badge is not None:
            self.badges[norm(self._badge[0])] += 1
            self._badge = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data
        if self._badge is not None:
            self._badge[0] += data


def html_outline(path: Path) -> _HtmlOutline:
    parser = _HtmlOutline()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# --------------------------------------------------------------------------- the reference document


def _style_xml(document, style_id: str):
    style = document.styles.element.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']")
    assert style is not None, f"reference.docx has no style {style_id}"
    return style


def test_reference_docx_is_generated_and_has_the_house_styles(tmp_path):
    committed = docx_render.REFERENCE_DOCX
    assert committed == REPO / "pipeline" / "templates" / "reference.docx" and committed.is_file()
    regenerated = docx_render.build_reference_docx(tmp_path / "reference.docx")
    assert parts(regenerated) == parts(committed), \
        "reference.docx is out of date: run .venv/bin/python -m pipeline.render.docx"

    document = docx.Document(str(committed))
    for section in document.sections:
        assert (section.page_width.twips, section.page_height.twips) == A4
        assert section.orientation == 0  # portrait
        margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
        assert all(1000 <= m.twips <= 1600 for m in margins), [m.twips for m in margins]  # 1.8-2.8 cm
        footer = section.footer._element.xml
        assert 'w:instr=" PAGE "' in footer and 'w:instr=" NUMPAGES "' in footer and "Page " in footer
    names = {s.name for s in document.styles}
    for name in ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "TOC Heading", "toc 1", "toc 2",
                 "Caption", "Image Caption", "Table Caption", "Table", "Body Text", "First Paragraph", "Compact",
                 "Header", "Footer", "Hyperlink", "Callout", "Synthetic Warning", "Caution", *docx_render.BADGE_STYLES):
        assert name in names, name
    # headings: what Word's navigation pane and TOC field list (outline levels 0, 1, 2), in navy bold
    for level in (1, 2, 3):
        style = _style_xml(document, f"Heading{level}")
        assert style.find(f".//{qn('w:outlineLvl')}").get(qn("w:val")) == str(level - 1)
        assert style.find(f".//{qn('w:b')}") is not None
        assert style.find(f".//{qn('w:color')}").get(qn("w:val")) == docx_render.NAVY
    # the table style: borders, a shaded bold header row that repeats, smaller text
    table = _style_xml(document, "Table")
    assert table.find(f".//{qn('w:tblBorders')}/{qn('w:insideH')}") is not None
    first_row = table.find(f"{qn('w:tblStylePr')}[@{qn('w:type')}='firstRow']")
    assert first_row.find(f".//{qn('w:b')}") is not None and first_row.find(f".//{qn('w:shd')}") is not None
    assert first_row.find(f".//{qn('w:tblHeader')}") is not None
    # comparison words: bold and coloured (the word is the cue, colour an aid)
    for name, (fg, _bg) in docx_render.BADGE_STYLES.items():
        style = _style_xml(document, name.replace(" ", ""))
        assert style.get(qn("w:type")) == "character" and style.find(f".//{qn('w:b')}") is not None
        assert style.find(f".//{qn('w:color')}").get(qn("w:val")) == fg
    from lxml import etree

    defaults = etree.tostring(document.styles.element.find(qn("w:docDefaults"))).decode()
    assert 'w:ascii="Arial"' in defaults and 'w:val="en-GB"' in defaults
    props = document.core_properties
    assert props.title and props.author == "yjplan" and props.created.year == 2025
    assert "docProps/custom.xml" not in parts(committed)


# --------------------------------------------------------------------------- a small plan, embedded


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory):
    from test_render import META, write_plan

    root = tmp_path_factory.mktemp("docx-small")
    nb = write_plan(root / "run")
    plain = render_document(nb, root / "out", "anytown-plan", formats=("docx",), metadata=META, renderer="embedded")
    again = render_document(nb, root / "again", "anytown-plan", formats=("docx",), metadata=META, renderer="embedded")
    synthetic = render_document(nb, root / "synthetic", "demo-plan", formats=("docx",),
                                metadata={**META, "synthetic": True}, renderer="embedded")
    return {"root": root, "docx": plain["docx"], "again": again["docx"], "synthetic": synthetic["docx"], "meta": META}


def test_small_plan_headings_toc_and_numbers(small_plan):
    document = docx.Document(str(small_plan["docx"]))
    assert headings(document) == [(1, "1", "Performance"), (2, "1.1", "Budget"), (1, "2", "Sources")]
    xml = parts(small_plan["docx"])
    doc = xml["word/document.xml"]
    assert '<w:docPartGallery w:val="Table of Contents"/>' in doc
    assert re.search(r'<w:instrText[^>]*>TOC \\o "1-2" \\h \\z \\u</w:instrText>', doc)
    begin, separate, end = (doc.index(f'w:fldCharType="{k}"') for k in ("begin", "separate", "end"))
    assert begin < separate < end
    toc = doc[separate:end]  # the field's result, until Word refreshes it: the headings, linked
    assert re.findall(r'w:anchor="([^"]+)"', toc) == ["sec-performance", "sec-budget", "sec-sources"]
    assert '<w:updateFields w:val="true"/>' in xml["word/settings.xml"]
    # the callout's heading became its title: not a heading, not in the TOC
    assert "Data caveat" not in [h[2] for h in headings(document)]


def test_small_plan_table_figure_and_links(small_plan):
    document = docx.Document(str(small_plan["docx"]))
    assert len(document.tables) == 1
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Agency", "Amount (£)", "Share"]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [c.text for c in table.rows[1].cells] == ["Police", "£1,383,382", "37.6%"]
    assert table.style.name == "Table"
    captions = {p.style.name: p.text for p in document.paragraphs if p.style.name.endswith(" Caption")}
    assert captions == {"Table Caption": "Table 1: Budget 2018/19 by agency (£)",
                        "Image Caption": "Figure 1: First-time entrants per 100,000"}
    assert pictures(document) == ["Line chart of first-time entrants per 100,000, falling since 2019"]
    assert "figures/fig-fte.png" not in parts(small_plan["docx"])["word/document.xml"]  # never the file name
    # cross references: links to the bookmarks of the figure, the table and the section
    doc = parts(small_plan["docx"])["word/document.xml"]
    links = dict(re.findall(r'<w:hyperlink w:anchor="([^"]+)"[^>]*>.*?<w:t[^>]*>([^<]+)</w:t>', doc))
    assert {k: links[k] for k in ("fig-fte", "tbl-budget", "sec-budget")} == \
        {"fig-fte": "Figure 1", "tbl-budget": "Table 1", "sec-budget": "Section 1.1"}
    bookmarks = set(re.findall(r'<w:bookmarkStart [^>]*w:name="([^"]+)"', doc))
    assert set(re.findall(r'w:anchor="([^"]+)"', doc)) <= bookmarks


def test_small_plan_words_callout_and_properties(small_plan):
    document = docx.Document(str(small_plan["docx"]))
    assert badge_words(document) == Counter({"Better": 1, "Similar": 1, "Worse": 1, "Not tested": 1})
    text = body_text(document)
    for word in ("Reoffending is Better than England", "custody Similar", "remands Worse", "Not tested", "Small numbers"):
        assert word in norm(text), word
    callout = [p for p in document.paragraphs if p.style.name == "Callout"]
    assert [p.text for p in callout] == ["Data caveat", "Counts below 5 are suppressed."]
    assert callout[0].runs[0].bold
    caution = [r.text for p in document.paragraphs for r in p.runs if r.style.name == "Caution"]
    assert "".join(caution) == "Small numbers"
    meta = small_plan["meta"]
    props = document.core_properties
    assert (props.title, props.subject, props.author, props.language) == (meta["title"], meta["subtitle"], meta["author"], "en-GB")
    assert props.created.isoformat().startswith(meta["date"]) and props.modified == props.created
    xml = parts(small_plan["docx"])
    assert "docProps/custom.xml" not in xml
    assert not any(str(small_plan["root"]) in t for t in xml.values())
    for section in document.sections:
        assert (section.page_width.twips, section.page_height.twips) == A4
    assert "SYNTHETIC" not in " ".join(xml.values())
    # reproducible: the same notebook and metadata give the same bytes
    assert small_plan["docx"].read_bytes() == small_plan["again"].read_bytes()


def test_synthetic_warning_in_the_header_of_every_section(small_plan):
    document = docx.Document(str(small_plan["synthetic"]))
    assert document.sections
    for section in document.sections:
        assert not section.header.is_linked_to_previous
        assert SYNTHETIC_TEXT in [p.text for p in section.header.paragraphs]
        if section.different_first_page_header_footer:
            assert SYNTHETIC_TEXT in [p.text for p in section.first_page_header.paragraphs]
    assert document.paragraphs[4].style.name == "Synthetic Warning" and document.paragraphs[4].text == SYNTHETIC_TEXT
    assert document.core_properties.comments == SYNTHETIC_TEXT
    # the plain plan has no header at all
    plain = docx.Document(str(small_plan["docx"]))
    assert all(s.header.is_linked_to_previous for s in plain.sections)


def test_docx_renders_with_html_and_pdf_at_once(tmp_path):
    from test_render import META, write_plan

    nb = write_plan(tmp_path / "run")
    out = tmp_path / "out"
    result = render_document(nb, out, "plan", formats=("html", "pdf", "docx"), metadata=META, renderer="embedded")
    assert list(result) == ["html", "pdf", "docx"]
    assert sorted(p.name for p in out.iterdir()) == ["plan.docx", "plan.html", "plan.pdf"]
    assert zipfile.is_zipfile(out / "plan.docx")


def test_a_failed_docx_publishes_nothing(tmp_path, monkeypatch):
    from test_render import META, write_plan

    from pipeline.render import embedded

    def broken(*_args, **_kwargs):
        raise RenderError("docx broke")

    monkeypatch.setattr(embedded, "render_docx", broken)
    out = tmp_path / "out"
    with pytest.raises(RenderError, match="docx broke"):
        render_document(write_plan(tmp_path / "run"), out, "plan", formats=("html", "pdf", "docx"), metadata=META,
                        renderer="embedded")
    assert not out.exists() or not list(out.iterdir())


def test_raw_openxml_in_content_stays_text(tmp_path):
    """Content is text, never code: raw OpenXML (a Word field that would include a local file, a
    DDE field) and unsafe links reach the Word document as visible text, never as markup."""
    from test_render import META, write_plan

    field = '<w:fldSimple w:instr="INCLUDETEXT C:\\\\secret.txt"><w:r><w:t>x</w:t></w:r></w:fldSimple>'
    body = ("# Raw {#sec-raw}\n\n```{=openxml}\n<w:p>" + field + "</w:p>\n```\n\n"
            "Inline `<w:r><w:fldChar w:fldCharType=\"begin\"/><w:instrText>DDEAUTO cmd</w:instrText></w:r>`{=openxml} "
            "and <w:p>html-ish</w:p> and [a file](file:///etc/passwd).\n")
    nb = write_plan(tmp_path / "run", body=body)
    path = render_document(nb, tmp_path / "out", "raw", formats=("docx",), metadata=META, renderer="embedded")["docx"]
    doc = parts(path)["word/document.xml"]
    assert "INCLUDETEXT" in norm(body_text(docx.Document(str(path))))  # shown as text...
    assert "<w:fldSimple" not in doc and "DDEAUTO" not in re.sub(r"<w:t[^>]*>[^<]*</w:t>", "", doc)  # ...never as markup
    assert [m for m in re.findall(r"<w:instrText[^>]*>([^<]*)<", doc)] == ['TOC \\o "1-2" \\h \\z \\u']
    assert "file:///etc/passwd" not in parts(path)["word/_rels/document.xml.rels"]


# --------------------------------------------------------------------------- post-processing on its own


def _pandoc_docx(markdown: str, out: Path) -> Path:
    import subprocess

    from pipeline.render.embedded import pandoc_path

    subprocess.run([pandoc_path(), "-f", "markdown", "-t", "docx", "--reference-doc", str(docx_render.REFERENCE_DOCX),
                    "-o", str(out)], input=markdown.encode(), check=True, timeout=120)
    return out


def test_quarto_layout_tables_are_unwrapped(tmp_path):
    """Quarto puts each captioned table in a one-cell layout table (its header row could not
    repeat there) with a caption paragraph carrying two w:pPr: the post-processing undoes both."""
    from docx.oxml import parse_xml

    path = _pandoc_docx("| Agency | Amount |\n|:--|--:|\n| Police | 1 |\n| Health | 2 |\n", tmp_path / "q.docx")
    document = docx.Document(str(path))
    body = document.element.body
    data = body.find(qn("w:tbl"))
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    layout = parse_xml(
        f'<w:tbl {ns}><w:tblPr><w:tblStyle w:val="Table"/><w:tblW w:type="pct" w:w="5000"/><w:tblLayout w:type="fixed"/>'
        '<w:tblLook w:firstRow="0" w:val="0000"/></w:tblPr><w:tblGrid><w:gridCol w:w="7920"/></w:tblGrid>'
        '<w:tr><w:tc><w:tcPr/><w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:pPr><w:jc w:val="start"/>'
        '<w:spacing w:before="200"/><w:pStyle w:val="ImageCaption"/></w:pPr><w:r><w:t>Table 1: Budget</w:t></w:r></w:p>'
        '<w:p/></w:tc></w:tr></w:tbl>')
    body.replace(data, layout)
    layout.find(f".//{qn('w:tc')}").insert(2, data)
    data.find(f".//{qn('w:trPr')}").remove(data.find(f".//{qn('w:tblHeader')}"))  # as if a writer left it out
    document.save(str(path))

    docx_render.finish_docx(path, {"title": "T", "date": "2025-01-31"})
    document = docx.Document(str(path))
    body = document.element.body
    assert len(list(body.iter(qn("w:tbl")))) == 1 and not list(body.iter(qn("w:tc")))[0].findall(f".//{qn('w:tbl')}")
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Agency", "Amount"]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    caption = document.paragraphs[0]
    assert caption.style.name == "Table Caption" and caption.text == "Table 1: Budget"
    assert len(caption._p.findall(qn("w:pPr"))) == 1
    assert [c.tag.split("}")[1] for c in caption._p.pPr] == ["pStyle", "spacing", "jc"]
    assert caption._p.pPr.find(qn("w:jc")).get(qn("w:val")) == "left"
    assert table._tbl.tblPr.find(qn("w:tblLayout")) is None  # columns follow their content
    assert table._tbl.tblPr.find(qn("w:tblW")).get(qn("w:type")) == "pct"


def test_a_docx_naming_a_private_folder_is_refused(tmp_path):
    path = _pandoc_docx("# A\n\ntext\n", tmp_path / "p.docx")
    private = tmp_path / "staging" / "area-1234"
    with pytest.raises(RenderError, match="private folder"):
        docx_render.finish_docx(path, {"title": f"Plan from {private}/plan.ipynb"}, private_paths=(private,))
    docx_render.finish_docx(path, {"title": "Plan"}, private_paths=(private,))  # fine without it
    assert "Plan" == docx.Document(str(path)).core_properties.title


# --------------------------------------------------------------------------- docx is a format everywhere


def test_docx_is_a_format_everywhere(tmp_path):
    from pipeline import cli
    from pipeline.build import create_plans
    from pipeline.build.driver import build_area, build_comparison
    from pipeline.build.schedule import build_many
    from pipeline.render import quarto
    from pipeline.render._common import FORMAT_EXT, normalise_formats

    assert FORMAT_EXT["docx"] == "docx"
    assert normalise_formats(("html", "pdf", "docx")) == ("html", "pdf", "docx")
    assert normalise_formats("word") == ("docx",)
    assert cli.FORMATS == ("html", "pdf", "docx")
    parser = cli._parser()
    assert parser.parse_args(["build", "oxfordshire"]).formats == ("html", "pdf", "docx")
    assert parser.parse_args(["build", "oxfordshire", "--format", "docx"]).formats == ("docx",)
    assert parser.parse_args(["compare", "a", "b", "--format", "html,pdf,docx"]).formats == ("html", "pdf", "docx")
    for function in (create_plans, build_area, build_comparison, build_many):
        assert inspect.signature(function).parameters["formats"].default == ("html", "pdf", "docx"), function

    # Quarto: the docx format, its options and the reference document in the private project
    assert quarto.QUARTO_FORMAT["docx"] == "docx" and quarto.OUTPUT_EXT["docx"] == "docx"
    assert quarto.render_argv("quarto", "plan", "docx") == ["quarto", "render", "plan.ipynb", "--to", "docx",
                                                            "--no-execute", "--output", "plan.docx"]
    options = quarto.project_config()["format"]["docx"]
    assert {k: options[k] for k in quarto.DOCX_OPTIONS} == quarto.DOCX_OPTIONS
    assert options["from"] == quarto.QUARTO_READER_FORMAT and "-raw_html" in options["from"] and "-raw_attribute" in options["from"]
    assert options["toc"] and options["number-sections"] and options["toc-title"] == "Contents"
    assert options["reference-doc"] == f"{quarto.ASSETS}/reference.docx"
    from test_render import write_plan
    from pipeline.render.notebook import load_notebook

    nb = write_plan(tmp_path / "run")
    quarto.prepare_project(load_notebook(nb), nb.parent, tmp_path / "project", "plan", {"title": "T"})
    assert (tmp_path / "project" / options["reference-doc"]).read_bytes() == docx_render.REFERENCE_DOCX.read_bytes()


def test_index_links_the_word_documents(tmp_path, monkeypatch):
    from pipeline.site.index import index_markdown

    monkeypatch.setenv("YJPLAN_BUILD_DIR", str(tmp_path / "build"))
    site = tmp_path / "build" / "site"
    from pipeline.data.editions import editions_of

    plan = f"oxfordshire/{editions_of('oxfordshire')[-1].edition}"  # a plan edition's folder: <area>/<edition>
    for name, stem in ((plan, "oxfordshire-plan"), ("compare", "compare")):
        (site / name).mkdir(parents=True)
        (site / name / "build.json").write_text(json.dumps({
            "status": "built", "title": "T", "built_at": "2025-01-31T00:00:00+00:00", "warnings": 0,
            "outputs": {"html": f"{stem}.html", "pdf": f"{stem}.pdf", "docx": f"{stem}.docx"}}), encoding="utf-8")
    text = index_markdown()
    assert re.search(r"^\|.*\| PDF \| Word \|", text, re.M), "the plans table has a Word column"
    assert f"[Word]({plan}/oxfordshire-plan.docx)" in text
    assert "[Word](compare/compare.docx)" in text


# --------------------------------------------------------------------------- built plans (integration)


def check_plan_docx(docx_path: Path, html_path: Path, notebook_path: Path, output: str, synthetic: bool,
                    private: list[Path]) -> dict:
    """Every requirement on one built Word document; returns what was counted."""
    from test_golden_figures import canonical, rows_for

    document = docx.Document(str(docx_path))
    xml = parts(docx_path)
    doc = xml["word/document.xml"]
    html = html_outline(html_path)
    markdown = notebook_to_markdown(notebook_path)

    # headings: Word heading styles, the same list as the HTML, numbered 1, 1.1, ... in order
    found = headings(document)
    assert found, f"{docx_path.name}: no headings"
    assert [(level, title) for level, _n, title in found] == html.headings, f"{docx_path.name}: headings differ from the HTML"
    assert [n for _l, n, _t in found] == expected_numbers([level for level, _n, _t in found])
    # a real TOC field, refreshed by Word on opening, listing the headings of levels 1-2
    assert '<w:docPartGallery w:val="Table of Contents"/>' in doc
    assert re.search(r'<w:instrText[^>]*>TOC \\o "1-2"', doc)
    assert '<w:updateFields w:val="true"/>' in xml["word/settings.xml"]
    toc = doc[doc.index("TOC \\o"):doc.index('w:fldCharType="end"')]
    assert len(re.findall(r"<w:hyperlink ", toc)) == sum(1 for level, _n, _t in found if level <= 2)
    # tables: as many Word tables as HTML tables, none nested, each with a repeating header row
    assert len(document.tables) == html.tables, f"{docx_path.name}: {len(document.tables)} tables, HTML {html.tables}"
    body = document.element.body
    assert not [t for t in body.iter(qn("w:tbl")) if t.getparent().tag == qn("w:tc")], "nested tables"
    for table in document.tables:
        trpr = table.rows[0]._tr.trPr
        assert trpr is not None and trpr.find(qn("w:tblHeader")) is not None
    table_captions = numbered_captions(document, "Table")
    assert table_captions == list(range(1, len(re.findall(r"^: .*\{#tbl-", markdown, re.M)) + 1))
    # figures: each with its fig-alt text as alt text and a numbered caption
    alts = [norm(a) for a in re.findall(r'fig-alt="([^"]*)"', markdown)]
    assert [norm(a) for a in pictures(document)] == alts
    assert all(alts) and not any(a.endswith(".png") for a in alts)
    assert numbered_captions(document, "Figure") == list(range(1, len(alts) + 1))
    # cross references point at bookmarks that exist
    assert set(re.findall(r'w:anchor="([^"]+)"', doc)) <= set(re.findall(r'<w:bookmarkStart [^>]*w:name="([^"]+)"', doc))
    # comparison results as words (in their styles), exactly those of the HTML
    assert badge_words(document) == html.badges
    assert set(badge_words(document)) <= set(BADGE_STYLES.values())
    # the key figures a reader must find (tests/golden/figures.csv)
    text = body_text(document)
    missing = [r["expected"] for r in rows_for(output) if canonical(r["expected"]) not in canonical(text)]
    assert not missing, f"{docx_path.name}: golden figures missing: {missing}"
    # synthetic: the warning in the page header of every section; never in a real plan
    headers = [" ".join(p.text for p in s.header.paragraphs) for s in document.sections]
    if synthetic:
        assert all(SYNTHETIC_TEXT in h for h in headers), headers
        assert all(not s.header.is_linked_to_previous for s in document.sections)
        assert SYNTHETIC_TEXT in text
    else:
        assert not any("SYNTHETIC" in t for t in xml.values())
    # A4 portrait
    assert [(s.page_width.twips, s.page_height.twips) for s in document.sections] == [A4] * len(document.sections)
    # properties: the title and subtitle; nothing else of the metadata, no private path anywhere
    props = document.core_properties
    manifest = json.loads((docx_path.parent / "build.json").read_text(encoding="utf-8"))
    assert props.title == manifest["title"] and props.subject and props.language == "en-GB"
    assert "docProps/custom.xml" not in xml
    leaks = {str(p) for p in private if str(p) not in ("", "/")}
    assert not [(name, p) for name, t in xml.items() for p in leaks if p in t]
    return {"headings": len(found), "tables": len(document.tables), "figures": len(alts),
            "badges": sum(badge_words(document).values())}


def _folder(site: Path, output: str) -> Path:
    """The published folder of an output: ``<site>/<output>``, or its newest edition's folder."""
    folder = site / output
    if not (folder / "build.json").is_file():
        editions = sorted(folder.glob("*/build.json"))
        assert editions, f"{output} was not built in {site}"
        folder = editions[-1].parent
    return folder


def _files(site: Path, output: str) -> tuple[Path, Path, Path]:
    """(docx, html, executed notebook) of a built output, as its build.json names them."""
    folder = _folder(site, output)
    outputs = json.loads((folder / "build.json").read_text(encoding="utf-8"))["outputs"]
    notebook = folder / ("compare.ipynb" if output == "compare" else "plan.ipynb")
    return folder / outputs["docx"], folder / outputs["html"], notebook


@pytest.mark.integration
@pytest.mark.parametrize("output", ["oxfordshire", "demoshire", "compare"])
def test_built_docx_embedded(built_site, output):
    docx_path, html_path, notebook = _files(built_site, output)
    manifest = json.loads((docx_path.parent / "build.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["docx"] == docx_path.name and manifest["renderer"] == "embedded"
    counts = check_plan_docx(docx_path, html_path, notebook, output, synthetic=output == "demoshire",
                             private=[built_site.parent.parent, REPO, Path.home()])
    print(f"{output} (embedded): {counts}")
    if output == "oxfordshire":
        assert counts["tables"] >= 20 and counts["figures"] >= 8 and counts["badges"] >= 10


def _quarto_or_skip() -> str:
    quarto = find_quarto()
    if quarto is None:
        reason = "no quarto executable on PATH or in $QUARTO_PATH: the Quarto renderer's Word output is not tested"
        print(reason)
        pytest.skip(reason)
    return quarto


@pytest.fixture(scope="module")
def quarto_site(tmp_path_factory) -> Path:
    _quarto_or_skip()
    build = tmp_path_factory.mktemp("quarto-docx") / "build"
    proc = run_cli(["build", "oxfordshire", "demoshire", "--renderer", "quarto", "--format", "html,pdf,docx"],
                   {"YJPLAN_BUILD_DIR": str(build)})
    assert proc.returncode == 0, f"quarto build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return build / "site"


@pytest.mark.integration
@pytest.mark.parametrize("output", ["oxfordshire", "demoshire"])
def test_built_docx_quarto(quarto_site, output):
    docx_path, html_path, notebook = _files(quarto_site, output)
    manifest = json.loads((docx_path.parent / "build.json").read_text(encoding="utf-8"))
    assert manifest["renderer"] == "quarto" and set(manifest["outputs"]) == {"html", "pdf", "docx"}
    assert (docx_path.parent / manifest["outputs"]["pdf"]).read_bytes().startswith(b"%PDF")
    counts = check_plan_docx(docx_path, html_path, notebook, output, synthetic=output == "demoshire",
                             private=[quarto_site.parent.parent, REPO, Path.home()])
    print(f"{output} (quarto): {counts}")


@pytest.mark.integration
@pytest.mark.parametrize("renderer", ["embedded", "quarto"])
def test_build_docx_only(renderer, tmp_path, request):
    """``yjplan build <area> --format docx``: only the Word document, the same document as in a full build."""
    if renderer == "quarto":
        _quarto_or_skip()
    reference_site = request.getfixturevalue("quarto_site" if renderer == "quarto" else "built_site")
    build = tmp_path / "build"
    proc = run_cli(["build", "oxfordshire", "--renderer", renderer, "--format", "docx"], {"YJPLAN_BUILD_DIR": str(build)})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    folder = _folder(build / "site", "oxfordshire")
    manifest = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    assert list(manifest["outputs"]) == ["docx"] and manifest["outputs"]["docx"].endswith(".docx")
    assert not list(folder.glob("*.html")) and not list(folder.glob("*.pdf"))
    alone = docx.Document(str(folder / manifest["outputs"]["docx"]))
    full = docx.Document(str(_files(reference_site, "oxfordshire")[0]))
    assert headings(alone) == headings(full)
    assert len(alone.tables) == len(full.tables) and pictures(alone) == pictures(full)
    link = (folder / manifest["outputs"]["docx"]).relative_to(build / "site").as_posix()
    assert f'href="{link}"' in (build / "site" / "index.html").read_text(encoding="utf-8")
