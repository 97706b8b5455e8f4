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

#: Folder of the renderer's package data (CSS, HTML and typst templates, the Lua filter).
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

LUA_FILTER = TEMPLATES_DIR / "yjplan.lua"
HTML_TEMPLATE = TEMPLATES_DIR / "html" / "plan.html"
CSS_FILE = TEMPLATES_DIR / "html" / "yjplan.css"
TYPST_TEMPLATE = TEMPLATES_DIR / "typst" / "plan.typ"
TYPST_PARTIALS = (TEMPLATES_DIR / "typst" / "typst-template.typ", TEMPLATES_DIR / "typst" / "typst-show.typ")
NB_FILTER = TEMPLATES_DIR / "quarto" / "nbfilter.py"

SYNTHETIC_TEXT = "SYNTHETIC DATA — demonstration only, not a real area"

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
    tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.render-", dir=parent))
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


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
