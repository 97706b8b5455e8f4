"""Things both rendering back-ends share: the error type, the templates, metadata, staging."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import PipelineError
from ..document.wording import SYNTHETIC_TEXT
from ..fileio import write_atomic  # noqa: F401 - re-exported: the one atomic write

#: Folder of the renderer's package data (CSS, HTML and typst templates, the Lua filter).
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

LUA_FILTER = TEMPLATES_DIR / "yjplan.lua"
HTML_TEMPLATE = TEMPLATES_DIR / "html" / "plan.html"
CSS_FILE = TEMPLATES_DIR / "html" / "yjplan.css"
TYPST_TEMPLATE = TEMPLATES_DIR / "typst" / "plan.typ"
TYPST_PARTIALS = (TEMPLATES_DIR / "typst" / "typst-template.typ", TEMPLATES_DIR / "typst" / "typst-show.typ")


#: Pandoc reader extensions switched off for every document of both back-ends, and why:
#: raw_html (<script>, <img onerror>, <iframe srcdoc>), raw_attribute (```{=html} and
#: `...`{=typst} blocks: raw output of any format, e.g. typst code reading files), raw_tex
#: (\commands passed through), tex_math_dollars (TeX math is translated into typst math: a
#: needless surface, no document uses $ math). Content and data are text and Markdown only.
READER_EXTENSIONS_OFF = ("raw_html", "raw_attribute", "raw_tex", "tex_math_dollars")

#: Quarto's reader (``from:``): Quarto needs YAML front matter for the document's metadata.
QUARTO_READER_FORMAT = "markdown" + "".join(f"-{ext}" for ext in READER_EXTENSIONS_OFF)

#: The embedded back-end's reader: no YAML metadata blocks either, so a document cannot set
#: template variables (header-includes, css, include-before, ...); metadata arrives with -M.
READER_FORMAT = QUARTO_READER_FORMAT + "-yaml_metadata_block"

#: Content-Security-Policy of the embedded back-end's HTML pages (a <meta http-equiv> in
#: templates/html/plan.html, kept in step by a test): no script at all, images only as the
#: data: URIs --embed-resources makes, styles inline, nothing fetched, framed or submitted.
HTML_CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            "font-src data:; base-uri 'none'; form-action 'none'; frame-src 'none'")

#: Content-Security-Policy of the Quarto back-end's HTML (Quarto's pages need their own inline
#: scripts, so only what cannot break them is restricted).
QUARTO_HTML_CSP = "object-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'"

#: Output format name -> file extension.
FORMAT_EXT = {"html": "html", "pdf": "pdf"}

#: Depth of the table of contents (HTML and PDF).
TOC_DEPTH = 2


class RenderError(PipelineError):
    """Rendering failed or was refused; the message says why and what to do."""


def templates_fingerprint() -> str:
    """Short hash of every template file: part of the renderer's version (and so of cache keys)."""
    h = hashlib.sha256()
    for path in sorted(p for p in TEMPLATES_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(path.relative_to(TEMPLATES_DIR).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]


def normalise_metadata(metadata: dict | None) -> dict:
    """Copy of the caller's metadata with defaults: lang en-GB, synthetic a real bool; None dropped."""
    meta = {k: v for k, v in dict(metadata or {}).items() if v is not None}
    meta.setdefault("lang", "en-GB")
    meta["synthetic"] = bool(meta.get("synthetic", False))
    if meta["synthetic"]:
        meta["synthetic-text"] = SYNTHETIC_TEXT  # what every template shows (pipeline.document.wording)
    return meta


def normalise_formats(formats) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = (formats,)
    out: list[str] = []
    for fmt in formats:
        fmt = str(fmt).lower()
        if fmt == "typst":
            fmt = "pdf"
        if fmt not in FORMAT_EXT:
            raise RenderError(f"unknown output format {fmt!r}: choose from {', '.join(FORMAT_EXT)}")
        if fmt not in out:
            out.append(fmt)
    if not out:
        raise RenderError("no output format requested")
    return tuple(out)


@contextlib.contextmanager
def staging_dir(parent: Path, stem: str) -> Iterator[Path]:
    """A private temporary folder in ``parent`` (give the output folder's parent: same file
    system, so os.replace is atomic). Removed on exit whatever happens; unique per call, so
    concurrent renders never collide.
    """
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{stem}.render-", dir=parent))  # not hidden: Quarto ignores inputs under hidden folders
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish(files: dict[str, Path], out_dir: Path, stem: str) -> dict[str, Path]:
    """Move rendered files from the staging folder to ``out_dir/<stem>.<ext>`` (atomic per file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Path] = {}
    for fmt, src in files.items():
        if not src.is_file() or src.stat().st_size == 0:
            raise RenderError(f"the renderer produced no {fmt} output (expected {src.name})")
    for fmt, src in files.items():
        dest = out_dir / f"{stem}.{FORMAT_EXT[fmt]}"
        os.replace(src, dest)
        result[fmt] = dest
    return result


def killed_message(tool: str, returncode: int) -> str | None:
    """What to say when ``tool`` was killed by a signal (exit -9: most likely out of memory), else None."""
    if returncode >= 0:
        return None
    import signal

    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if -returncode == signal.SIGKILL:
        return (f"{tool} was killed ({name}), most likely because the machine ran out of memory; a very long "
                "document (e.g. an appendix listing a huge number of rows) is the usual cause")
    return f"{tool} was stopped by {name}"
