"""The Quarto back-end (used when a ``quarto`` executable is available, Quarto >= 1.4).

render_document never renders the caller's notebook in place. It builds a private, single-file
Quarto project in a staging folder:

    <staging>/project/_quarto.yml        project type default: isolates the render from any
                                          _quarto.yml above (e.g. the repository's website)
    <staging>/project/_yjplan/...         copies of yjplan.css, yjplan.lua, the typst partials
                                          and reference.docx
    <staging>/project/figures/...         copies of the images the document refers to
    <staging>/project/<stem>.ipynb        the Quarto-ready copy of the executed notebook:
                                          a raw YAML front-matter cell with the metadata, then
                                          the document's markdown as markdown cells (see
                                          notebook.quarto_notebook); nothing is re-executed

and runs, with that folder as the working directory, once per format:

    quarto render <stem>.ipynb --to html  --no-execute --output <stem>.html
    quarto render <stem>.ipynb --to typst --no-execute --output <stem>.typ
    (then the typst wheel compiles <stem>.typ to <stem>.pdf, tagged PDF/UA-1, as in the
    embedded back-end)
    quarto render <stem>.ipynb --to docx  --no-execute --output <stem>.docx
    (then docx.finish_docx post-processes it, as in the embedded back-end)

The format options are defined here once; the repository's _quarto.yml is generated from them
(``site_project_yaml``; ``yjplan quarto-project`` rewrites it, a test checks it is current), including
the reader (``from:``, no raw HTML or raw blocks, as in the embedded back-end) and the Lua filter,
which drops unsafe links, images and attributes.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

from ._common import (
    killed_message,
    CSS_FILE,
    LUA_FILTER,
    QUARTO_HTML_CSP,
    QUARTO_READER_FORMAT,
    TOC_DEPTH,
    TYPST_PARTIALS,
    RenderError,
)
from .notebook import join_markdown, markdown_chunks, quarto_notebook, referenced_files, write_notebook
from ._common import REFERENCE_DOCX

#: Our output format -> Quarto's format name.
QUARTO_FORMAT = {"html": "html", "pdf": "typst", "docx": "docx"}
OUTPUT_EXT = {"html": "html", "pdf": "pdf", "docx": "docx"}
#: What quarto itself writes for each of our formats (for PDF: the typst source, see TYPST_OPTIONS).
QUARTO_OUTPUT_EXT = {**OUTPUT_EXT, "pdf": "typ"}

#: Seconds one `quarto render` may take.
QUARTO_TIMEOUT = 900

EXECUTE = {"enabled": False, "echo": False, "warning": False}

CROSSREF = {
    "fig-title": "Figure",
    "tbl-title": "Table",
    "title-delim": ":",
    "fig-prefix": "Figure",
    "tbl-prefix": "Table",
    "sec-prefix": "Section",
}

#: What every format shares: the same reader restrictions as the embedded back-end (no raw HTML,
#: no raw blocks), contents, numbering and caption places.
COMMON_OPTIONS = {
    "from": QUARTO_READER_FORMAT,
    "toc": True,
    "toc-depth": TOC_DEPTH,
    "toc-title": "Contents",
    "number-sections": True,
    "fig-cap-location": "bottom",
    "tbl-cap-location": "top",
}

HTML_OPTIONS = {
    **COMMON_OPTIONS,
    "embed-resources": True,
    "include-in-header": [{"text": f'<meta http-equiv="Content-Security-Policy" content="{QUARTO_HTML_CSP}">'}],
    # no "Other formats" links: each output is published on its own (the index links them all)
    "format-links": False,
    # columns sized to their content, as in the embedded back-end (Quarto otherwise gives wide
    # pipe tables equal relative widths after the Lua filter has cleared them)
    "tbl-colwidths": False,
}

TYPST_OPTIONS = {
    **COMMON_OPTIONS,
    "section-numbering": "1.1.1",
    "papersize": "a4",
    "tbl-colwidths": False,
    # Quarto writes the typst source only; the PDF is compiled from it by the typst wheel, as in
    # the embedded back-end: the same compiler and fonts, and tagged PDF/UA-1 (Quarto 1.7's own
    # typst 0.13 cannot write PDF/UA), see embedded.compile_pdf.
    "output-ext": "typ",
}

#: Word: the same TOC, numbering and captions as the other formats; reference-doc (the styles,
#: A4, footer) is added by project_config (the copy in the project's _yjplan folder);
#: docx.finish_docx then post-processes the file as for the embedded back-end.
DOCX_OPTIONS = {**COMMON_OPTIONS, "tbl-colwidths": False}

#: Where the private project keeps its copies of the templates (a leading _ : not an input).
ASSETS = "_yjplan"


def find_quarto() -> str | None:
    """Path of a usable ``quarto`` executable: $QUARTO_PATH (file or install folder), else PATH."""
    env = os.environ.get("QUARTO_PATH", "").strip()
    if env:
        base = Path(env).expanduser()
        names = ("quarto", "quarto.exe", "quarto.cmd")
        candidates = [base] if base.is_file() else [base / sub / n for sub in ("", "bin") for n in names]
        for candidate in candidates:
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate.resolve())
    return shutil.which("quarto")


@functools.lru_cache(maxsize=8)
def quarto_version(quarto: str) -> str:
    try:
        proc = subprocess.run([quarto, "--version"], capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"could not run {quarto} --version: {exc}") from exc
    if proc.returncode != 0:
        raise RenderError(f"{quarto} --version failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout.decode("utf-8", "replace").strip().splitlines()[0] if proc.stdout.strip() else "unknown"


def project_config(assets: str = ASSETS) -> dict:
    """The private project's _quarto.yml (paths relative to the project folder)."""
    return {
        "project": {"type": "default"},
        "execute": dict(EXECUTE),
        "filters": [f"{assets}/{LUA_FILTER.name}"],
        "crossref": dict(CROSSREF),
        "format": {
            "html": {**HTML_OPTIONS, "css": [f"{assets}/{CSS_FILE.name}"]},
            "typst": {**TYPST_OPTIONS, "template-partials": [f"{assets}/{p.name}" for p in TYPST_PARTIALS]},
            "docx": {**DOCX_OPTIONS, "reference-doc": f"{assets}/{REFERENCE_DOCX.name}"},
        },
    }


#: The repository's website project (``_quarto.yml``) as comments above the generated YAML.
SITE_PROJECT_HEADER = """\
# GENERATED by `yjplan quarto-project` from pipeline/render/quarto.py: edit there, not here.
#
# Quarto website of the published plans (tested with Quarto 1.7):
#
#   yjplan build --all      # builds every plan (HTML, PDF, Word), the comparison and the index
#                           # into build/site/ - the publishable site on its own
#   quarto render           # optional: the same documents as a Quarto website in _site/
#
# Quarto renders inputs in place, so it never renders build/site/ itself. The pre-render step
# (pipeline/templates/quarto/website.py, see pipeline/render/website.py) copies what the build
# published into quarto-site/ (git-ignored, rewritten each time): index.md, a Quarto-ready copy of
# each executed notebook named after its published HTML, its figures, and the published PDF and
# Word files. Pages land in _site/quarto-site/ (the index's links resolve unchanged); the
# post-render step writes _site/index.html pointing there. Nothing under build/ is written and
# nothing is executed. The HTML options are the Quarto back-end's; the PDF and Word files are the
# build's own. Paths are relative to this folder.

"""


def site_project_config(root: Path) -> dict:
    """The repository's website project: the Quarto back-end's HTML, crossref and filter options,
    with paths relative to the repository folder ``root`` (see pipeline/render/website.py)."""
    from ._common import TEMPLATES_DIR
    from .website import SOURCES

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix()

    script = rel(TEMPLATES_DIR / "quarto" / "website.py")
    html = {k: v for k, v in HTML_OPTIONS.items() if k != "embed-resources"}  # a website shares site_libs/
    return {
        "project": {"type": "website", "output-dir": "_site",
                    "pre-render": [script], "post-render": [f"{script} --post"],
                    "render": [f"{SOURCES}/index.md", f"{SOURCES}/**/*.ipynb"],
                    "resources": [f"{SOURCES}/**/*.pdf", f"{SOURCES}/**/*.docx"]},
        "website": {"title": "Youth Justice Strategic Plans", "navbar": {"left": [
            {"text": "Plans", "href": f"{SOURCES}/index.md"}]}},
        "lang": "en-GB",
        "execute": dict(EXECUTE),
        "filters": [rel(LUA_FILTER)],
        "crossref": dict(CROSSREF),
        "format": {"html": {**html, "css": [rel(CSS_FILE)]}},
    }


def site_project_yaml(root: Path) -> str:
    """The text of the repository's ``_quarto.yml``, generated from this module's options."""
    return SITE_PROJECT_HEADER + _dump_yaml(site_project_config(root))


def render_argv(quarto: str, stem: str, fmt: str) -> list[str]:
    """The command line for one format (run with the private project as working directory)."""
    return [quarto, "render", f"{stem}.ipynb", "--to", QUARTO_FORMAT[fmt], "--no-execute",
            "--output", f"{stem}.{QUARTO_OUTPUT_EXT[fmt]}"]


def _dump_yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)


def _copy_resources(markdown: str, source_dir: Path, project: Path) -> None:
    source_dir = source_dir.resolve()
    for rel in referenced_files(markdown):
        src = (source_dir / rel).resolve()
        dest = (project / rel).resolve()
        if project.resolve() not in dest.parents:
            raise RenderError(f"{rel}: images must be inside the notebook's folder ({source_dir})")
        if not src.is_file():
            raise RenderError(f"the document refers to {rel}, which does not exist in {source_dir}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


def prepare_project(nb: dict, source_dir: Path, project: Path, stem: str, metadata: dict,
                    source: str = "notebook") -> Path:
    """Write the private Quarto project; returns the path of the notebook to render."""
    project.mkdir(parents=True, exist_ok=True)
    ready = quarto_notebook(nb, metadata, source=source)
    (project / "_quarto.yml").write_text(_dump_yaml(project_config()), encoding="utf-8")
    assets = project / ASSETS
    assets.mkdir(exist_ok=True)
    for path in (CSS_FILE, LUA_FILTER, *TYPST_PARTIALS, REFERENCE_DOCX):
        shutil.copy2(path, assets / path.name)
    _copy_resources(join_markdown(markdown_chunks(nb)), source_dir, project)
    return write_notebook(ready, project / f"{stem}.ipynb")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run_quarto(argv: list[str], cwd: Path) -> None:
    env = dict(os.environ)
    env.setdefault("QUARTO_LOG_LEVEL", "WARNING")
    env["NO_COLOR"] = "1"  # plain messages (no ANSI colour codes in the run summary)
    try:
        proc = subprocess.run(argv, cwd=str(cwd), capture_output=True, timeout=QUARTO_TIMEOUT, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"quarto did not finish within {QUARTO_TIMEOUT}s: {' '.join(argv)}") from exc
    except OSError as exc:
        raise RenderError(f"could not run quarto ({argv[0]}): {exc}") from exc
    if proc.returncode != 0:
        out = (proc.stderr or b"").decode("utf-8", "replace").strip() or (proc.stdout or b"").decode("utf-8", "replace").strip()
        out = _ANSI.sub("", out)
        tail = "\n".join(out.splitlines()[-25:])
        killed = killed_message("quarto", proc.returncode)
        raise RenderError(killed or f"quarto render failed (exit {proc.returncode}): {' '.join(argv[1:])}\n{tail}")


def compile_typst_pdf(project: Path, stem: str, markdown: str, metadata: dict) -> Path:
    """Compile the typst source quarto wrote (``<stem>.typ``) to ``<stem>.pdf`` with the typst wheel.

    The typst root is a private folder holding only the images the document shows, as in the
    embedded back-end (typst can read any file under its root).
    """
    import tempfile

    from .embedded import compile_pdf, populate_typst_root

    source_file = project / f"{stem}.typ"
    if not source_file.is_file():
        raise RenderError(f"quarto reported success but wrote no {source_file.name}")
    source = source_file.read_text(encoding="utf-8")
    out = project / f"{stem}.pdf"
    with tempfile.TemporaryDirectory(prefix="typst-root-", dir=project.parent) as root:
        populate_typst_root(Path(root), markdown, source, project)
        return compile_pdf(source, out, Path(root), metadata)


def render(nb: dict, notebook_path: Path, staging: Path, stem: str, formats: tuple[str, ...], metadata: dict,
           quarto: str) -> dict[str, Path]:
    project = staging / "project"
    prepare_project(nb, notebook_path.parent, project, stem, metadata, source=str(notebook_path))
    files: dict[str, Path] = {}
    for fmt in formats:
        run_quarto(render_argv(quarto, stem, fmt), cwd=project)
        if fmt == "pdf":
            files[fmt] = compile_typst_pdf(project, stem, join_markdown(markdown_chunks(nb)), metadata)
            continue
        produced = project / f"{stem}.{OUTPUT_EXT[fmt]}"
        if not produced.is_file():
            raise RenderError(f"quarto reported success but wrote no {produced.name}")
        if fmt == "docx":
            from .docx import finish_docx

            finish_docx(produced, metadata, private_paths=(staging, notebook_path.parent))
        files[fmt] = produced
    return files
