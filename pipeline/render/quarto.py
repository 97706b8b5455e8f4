"""The Quarto back-end (used when a ``quarto`` executable is available, Quarto >= 1.4).

render_document never renders the caller's notebook in place. It builds a private, single-file
Quarto project in a staging folder:

    <staging>/project/_quarto.yml        project type default: isolates the render from any
                                          _quarto.yml above (e.g. the repository's website)
    <staging>/project/_yjplan/...         copies of yjplan.css, yjplan.lua and the typst partials
    <staging>/project/figures/...         copies of the images the document refers to
    <staging>/project/<stem>.ipynb        the Quarto-ready copy of the executed notebook:
                                          a raw YAML front-matter cell with the metadata, then
                                          the document's markdown as markdown cells (see
                                          notebook.quarto_notebook); nothing is re-executed

and runs, with that folder as the working directory, once per format:

    quarto render <stem>.ipynb --to html  --no-execute --output <stem>.html
    quarto render <stem>.ipynb --to typst --no-execute --output <stem>.pdf

The format options are defined here once; the repository's _quarto.yml is generated from them
(``site_project_yaml``; ``yjplan quarto-project`` rewrites it, a test checks it is current), including
the reader (``from:``, no raw HTML or raw blocks, as in the embedded back-end) and the Lua filter,
which drops unsafe links, images and attributes.
"""

from __future__ import annotations

import functools
import os
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

#: Our output format -> Quarto's format name.
QUARTO_FORMAT = {"html": "html", "pdf": "typst"}
OUTPUT_EXT = {"html": "html", "pdf": "pdf"}

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

HTML_OPTIONS = {
    # the same reader restrictions as the embedded back-end (no raw HTML, no raw blocks)
    "from": QUARTO_READER_FORMAT,
    "embed-resources": True,
    "toc": True,
    "toc-depth": TOC_DEPTH,
    "toc-title": "Contents",
    "number-sections": True,
    "fig-cap-location": "bottom",
    "tbl-cap-location": "top",
    "include-in-header": [{"text": f'<meta http-equiv="Content-Security-Policy" content="{QUARTO_HTML_CSP}">'}],
}

TYPST_OPTIONS = {
    "from": QUARTO_READER_FORMAT,
    "toc": True,
    "toc-depth": TOC_DEPTH,
    "toc-title": "Contents",
    "number-sections": True,
    "section-numbering": "1.1.1",
    "papersize": "a4",
    "fig-cap-location": "bottom",
    "tbl-cap-location": "top",
}

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
        },
    }


#: The repository's website project (``_quarto.yml``) as comments above the generated YAML.
SITE_PROJECT_HEADER = """\
# GENERATED by `yjplan quarto-project` from pipeline/render/quarto.py: edit there, not here.
#
# Quarto project: the published site of Youth Justice Strategic Plans (Quarto >= 1.4).
#
#   yjplan build ...        # executes the notebooks with papermill into build/site/
#   quarto render           # renders them (never re-executing) into _site/
#
# Layout rendered here (written by the build):
#   build/site/index.md                  the index of plans
#   build/site/<area_id>/plan.ipynb      one executed plan per area
#   build/site/compare/compare.ipynb     the comparison of areas
# Outputs land beside each other per area, e.g. _site/build/site/<area_id>/plan.html and .pdf.
# The format options are the ones the Quarto back-end gives each plan's private project, and the
# same templates serve the embedded renderer, so all look alike. Paths are relative to this folder.
# ipynb-filters turn each executed notebook into its document (markdown cells and text/markdown
# outputs); the Lua filter drops unsafe links, images and attributes.

"""


def site_project_config(root: Path) -> dict:
    """The repository's website project: the same execute, crossref, filter and format options as
    ``project_config``, with paths relative to the repository folder ``root``."""
    from ._common import TEMPLATES_DIR

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix()

    return {
        "project": {"type": "website", "output-dir": "_site",
                    "render": ["build/site/index.md", "build/site/**/*.ipynb"]},
        "website": {"title": "Youth Justice Strategic Plans", "navbar": {"left": [
            {"text": "Plans", "href": "build/site/index.md"},
            {"text": "Comparison", "href": "build/site/compare/compare.ipynb"}]}},
        "lang": "en-GB",
        "execute": dict(EXECUTE),
        "ipynb-filters": [rel(TEMPLATES_DIR / "quarto" / "nbfilter.py")],
        "filters": [rel(LUA_FILTER)],
        "crossref": dict(CROSSREF),
        "format": {
            "html": {**HTML_OPTIONS, "css": [rel(CSS_FILE)]},
            "typst": {**TYPST_OPTIONS, "template-partials": [rel(p) for p in TYPST_PARTIALS]},
        },
    }


def site_project_yaml(root: Path) -> str:
    """The text of the repository's ``_quarto.yml``, generated from this module's options."""
    return SITE_PROJECT_HEADER + _dump_yaml(site_project_config(root))


def render_argv(quarto: str, stem: str, fmt: str) -> list[str]:
    """The command line for one format (run with the private project as working directory)."""
    return [quarto, "render", f"{stem}.ipynb", "--to", QUARTO_FORMAT[fmt], "--no-execute",
            "--output", f"{stem}.{OUTPUT_EXT[fmt]}"]


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
    for path in (CSS_FILE, LUA_FILTER, *TYPST_PARTIALS):
        shutil.copy2(path, assets / path.name)
    _copy_resources(join_markdown(markdown_chunks(nb)), source_dir, project)
    return write_notebook(ready, project / f"{stem}.ipynb")


def run_quarto(argv: list[str], cwd: Path) -> None:
    env = dict(os.environ)
    env.setdefault("QUARTO_LOG_LEVEL", "WARNING")
    try:
        proc = subprocess.run(argv, cwd=str(cwd), capture_output=True, timeout=QUARTO_TIMEOUT, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"quarto did not finish within {QUARTO_TIMEOUT}s: {' '.join(argv)}") from exc
    except OSError as exc:
        raise RenderError(f"could not run quarto ({argv[0]}): {exc}") from exc
    if proc.returncode != 0:
        out = (proc.stderr or b"").decode("utf-8", "replace").strip() or (proc.stdout or b"").decode("utf-8", "replace").strip()
        tail = "\n".join(out.splitlines()[-25:])
        killed = killed_message("quarto", proc.returncode)
        raise RenderError(killed or f"quarto render failed (exit {proc.returncode}): {' '.join(argv[1:])}\n{tail}")


def render(nb: dict, notebook_path: Path, staging: Path, stem: str, formats: tuple[str, ...], metadata: dict,
           quarto: str) -> dict[str, Path]:
    project = staging / "project"
    prepare_project(nb, notebook_path.parent, project, stem, metadata, source=str(notebook_path))
    files: dict[str, Path] = {}
    for fmt in formats:
        run_quarto(render_argv(quarto, stem, fmt), cwd=project)
        produced = project / f"{stem}.{OUTPUT_EXT[fmt]}"
        if not produced.is_file():
            raise RenderError(f"quarto reported success but wrote no {produced.name}")
        files[fmt] = produced
    return files

