"""The embedded back-end: pandoc (pypandoc-binary wheel) for HTML and typst source, the typst
wheel for PDF. Works from a plain ``pip install``: no system pandoc, LaTeX, Quarto or fonts.

Pipeline::

    executed notebook --(notebook.py)--> Pandoc Markdown
        (read as READER_FORMAT: no raw HTML, no raw blocks; yjplan.lua drops unsafe links)
        --pandoc -t html5 --embed-resources --toc -N  + yjplan.lua + plan.html + yjplan.css--> <stem>.html
        --pandoc -t typst  + yjplan.lua + typst/plan.typ (+ partials)--> typst source
        --typst.compile (embedded fonts only; root: a private folder holding only the
          images the document shows)--> <stem>.pdf
        --pandoc -t docx --toc -N --reference-doc templates/reference.docx + yjplan.lua
          --docx.finish_docx (python-docx: page header warning, table headers, properties)--> <stem>.docx

Metadata (title, subtitle, author, date, lang, synthetic, ...) is passed to pandoc with ``-M``,
so values are literal strings (not parsed as Markdown) and booleans are real booleans.
"""

from __future__ import annotations

import functools

import logging
import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ._common import (
    killed_message,
    CSS_FILE,
    HTML_TEMPLATE,
    PDF_STANDARDS,
    LUA_FILTER,
    READER_FORMAT,
    TOC_DEPTH,
    TYPST_TEMPLATE,
    RenderError,
)

log = logging.getLogger(__name__)

#: Seconds one pandoc call may take before it is treated as hung.
PANDOC_TIMEOUT = 600

# Metadata keys that are switches of this module rather than document metadata.
_SWITCHES = ("toc", "number-sections")


def pandoc_path() -> str:
    try:
        import pypandoc
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise RenderError("the embedded renderer needs pypandoc-binary (pip install pypandoc-binary)") from exc
    try:
        return pypandoc.get_pandoc_path()
    except OSError as exc:
        raise RenderError(f"pandoc was not found ({exc}); reinstall pypandoc-binary") from exc


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """pandoc's and typst's versions (asked once per process: they cannot change while it runs)."""
    import importlib.metadata

    import pypandoc

    try:
        typst_version = importlib.metadata.version("typst")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        typst_version = "missing"
    return {"pandoc": str(pypandoc.get_pandoc_version()), "typst": typst_version}


def _meta_args(metadata: dict) -> list[str]:
    """``-M key=value`` arguments: strings stay literal; True is a boolean; False is left out."""
    args: list[str] = []
    for key, value in metadata.items():
        if key in _SWITCHES or value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, bool):
                if item:
                    args += ["-M", f"{key}=true"]
            elif isinstance(item, (str, int, float)):
                text = str(item).replace("\r", " ").replace("\n", " ")
                args += ["-M", f"{key}={text}"]
            else:
                raise RenderError(f"metadata {key!r} must be a string, number, boolean or a list of them, "
                                  f"not {type(item).__name__}")
    if "pagetitle" not in metadata and not metadata.get("title"):
        args += ["-M", "pagetitle=Document"]
    return args


def run_pandoc(args: list[str], markdown: str, cwd: Path) -> str:
    """Run pandoc on ``markdown``; return stdout. Warnings are logged; missing resources are errors."""
    cmd = [pandoc_path(), "--from", READER_FORMAT, "--lua-filter", str(LUA_FILTER), "--wrap", "none", *args]
    try:
        proc = subprocess.run(
            cmd,
            input=markdown.encode("utf-8"),
            capture_output=True,
            cwd=str(cwd),
            timeout=PANDOC_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"pandoc did not finish within {PANDOC_TIMEOUT}s") from exc
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise RenderError(killed_message("pandoc", proc.returncode) or f"pandoc failed (exit {proc.returncode}): {stderr or 'no message'}")
    fatal = ("Could not fetch resource", "unresolved cross reference")
    problems = [line for line in stderr.splitlines() if any(f in line for f in fatal)]
    if problems:
        raise RenderError("pandoc could not resolve everything the document refers to:\n" + "\n".join(problems))
    for line in stderr.splitlines():
        log.warning("pandoc: %s", line)
    return proc.stdout.decode("utf-8")


def html_args(metadata: dict, resource_dir: Path, toc: bool = True, number_sections: bool = True) -> list[str]:
    args = [
        "--to", "html5",
        "--standalone",
        "--embed-resources",
        "--section-divs",
        "--template", str(HTML_TEMPLATE),
        "--css", str(CSS_FILE),
        "--resource-path", str(resource_dir),
    ]
    if toc:
        args += ["--toc", "--toc-depth", str(TOC_DEPTH)]
    if number_sections:
        args += ["--number-sections"]
    return args + _meta_args(metadata)


def typst_args(metadata: dict) -> list[str]:
    return [
        "--to", "typst",
        "--standalone",
        "--template", str(TYPST_TEMPLATE),
        "--toc", "--toc-depth", str(TOC_DEPTH),
        "--variable", "section-numbering=1.1.1",
        "--variable", "papersize=a4",
        *_meta_args(metadata),
    ]


def render_html(markdown: str, out_file: Path, metadata: dict, resource_dir: Path, toc: bool = True,
                number_sections: bool = True) -> Path:
    args = html_args(metadata, resource_dir, toc=toc, number_sections=number_sections) + ["--output", str(out_file)]
    run_pandoc(args, markdown, cwd=resource_dir)
    return out_file


def typst_source(markdown: str, metadata: dict, resource_dir: Path) -> str:
    return run_pandoc(typst_args(metadata), markdown, cwd=resource_dir)


def _timestamp(metadata: dict) -> datetime | None:
    """PDF creation date: SOURCE_DATE_EPOCH if set, else the document date (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    date = str(metadata.get("date") or "")
    try:
        return datetime.strptime(date[:10], "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


# The typst wheel starts worker threads on first use. A process forked after that (e.g. a
# ProcessPoolExecutor worker on Linux) inherits their locks but not the threads, and a typst call
# there deadlocks. So typst runs in-process only in the process that first used it (or when it
# has never been used); a forked child of such a process compiles in a fresh interpreter instead.
_TYPST_OWNER_PID: int | None = None
#: False: always compile PDFs in a subprocess (set by build workers, see compile_pdf).
IN_PROCESS: bool | None = None


def compile_out_of_process() -> None:
    """From now on, compile every PDF of this process in a fresh interpreter (long-lived build workers)."""
    global IN_PROCESS
    IN_PROCESS = False

_TYPST_CHILD = """
import json, sys, datetime
import typst
args = json.loads(sys.argv[1])
stamp = args.pop("timestamp", None)
if stamp is not None:
    args["timestamp"] = datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
try:
    if hasattr(typst, "compile_with_warnings"):
        _, warnings = typst.compile_with_warnings(sys.stdin.buffer.read(), **args)
        for warning in warnings or []:
            sys.stdout.write(json.dumps(str(getattr(warning, "message", warning))) + chr(10))
    else:
        typst.compile(sys.stdin.buffer.read(), **args)
except Exception as exc:
    msg = getattr(exc, "message", None) or str(exc)
    hints = getattr(exc, "hints", None) or []
    sys.stderr.write(msg + (" (hint: " + "; ".join(hints) + ")" if hints else ""))
    sys.exit(1)
"""


def _typst_error(exc: Exception) -> RenderError:
    message = getattr(exc, "message", None) or str(exc)
    hints = getattr(exc, "hints", None) or []
    detail = f"{message}" + (f" (hint: {'; '.join(hints)})" if hints else "")
    return RenderError(f"typst could not compile the PDF: {detail}")


def _compile_in_subprocess(source: str, kwargs: dict) -> None:
    import json
    import sys

    args = dict(kwargs)
    if args.get("timestamp") is not None:
        args["timestamp"] = int(args["timestamp"].timestamp())
    try:
        proc = subprocess.run([sys.executable, "-c", _TYPST_CHILD, json.dumps(args)], input=source.encode("utf-8"),
                              capture_output=True, timeout=PANDOC_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"typst did not finish within {PANDOC_TIMEOUT}s") from exc
    if proc.returncode != 0:
        detail = killed_message("typst", proc.returncode) or proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise RenderError(f"typst could not compile the PDF: {detail}")
    for line in proc.stdout.decode("utf-8", "replace").splitlines():  # typst's warnings, one JSON string a line
        if line.strip():
            log.warning("typst: %s", json.loads(line))


def compile_pdf(source: str, out_file: Path, root: Path, metadata: dict) -> Path:
    """Compile typst source (in memory) to ``out_file``; images resolve relative to ``root``.

    Only Typst's embedded fonts are used (system fonts are ignored), so output does not depend on
    the machine. The PDF is tagged and declares the standards in ``PDF_STANDARDS`` (PDF/UA-1).
    Used by both back-ends (Quarto writes the typst source, see quarto.compile_typst_pdf).
    """
    global _TYPST_OWNER_PID
    try:
        import typst
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise RenderError("the embedded renderer needs the typst package (pip install typst)") from exc
    kwargs = dict(output=str(out_file), root=str(root), ignore_system_fonts=True, format="pdf",
                  pdf_standards=list(PDF_STANDARDS))
    stamp = _timestamp(metadata)
    if stamp is not None:
        kwargs["timestamp"] = stamp
    # The typst wheel keeps typst's memoisation cache between compiles (~20-35 MiB per plan), so
    # long-lived build workers set IN_PROCESS = False and compile each PDF in a fresh interpreter
    # (+0.04 s). A process forked after typst started must do the same (typst is not fork-safe).
    if IN_PROCESS is False or (_TYPST_OWNER_PID is not None and _TYPST_OWNER_PID != os.getpid()):
        _compile_in_subprocess(source, kwargs)
        return out_file
    _TYPST_OWNER_PID = os.getpid()
    try:
        if hasattr(typst, "compile_with_warnings"):
            _, warnings = typst.compile_with_warnings(source.encode("utf-8"), **kwargs)
            for warning in warnings or []:
                log.warning("typst: %s", getattr(warning, "message", warning))
        else:  # pragma: no cover - older typst wheels
            typst.compile(source.encode("utf-8"), **kwargs)
    except Exception as exc:  # typst.TypstError and friends
        raise _typst_error(exc) from exc
    return out_file


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"})
_TYPST_IMAGE = re.compile(r'\bimage\("((?:[^"\\]|\\.)*)"')


def typst_images(markdown: str, source: str) -> list[str]:
    """Relative paths of the image files a document shows (from its Markdown and its typst source)."""
    from .notebook import referenced_files

    found = list(referenced_files(markdown))
    for match in _TYPST_IMAGE.finditer(source):
        path = re.sub(r"\\(.)", r"\1", match.group(1))
        if path not in found:
            found.append(path)
    return found


def populate_typst_root(root: Path, markdown: str, source: str, resource_dir: Path) -> list[Path]:
    """Hard-link (or copy) into ``root`` the images the document shows, and nothing else.

    typst can read any file under its root (``read()``, ``image()``, ``json()``...), so the
    root is never the build folder (with validation.json, build.json, the notebook): only image
    files, by relative paths inside ``resource_dir``, are placed there.
    """
    base = Path(resource_dir).resolve()
    placed: list[Path] = []
    for rel in typst_images(markdown, source):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", rel) or rel.startswith(("/", "\\")) or "\\" in rel:
            continue
        parts = Path(rel).parts
        if ".." in parts or Path(rel).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        src = (base / rel).resolve()
        if base not in src.parents or not src.is_file():
            continue  # typst reports the missing image
        dest = root / Path(*parts)
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dest)
        except OSError:
            shutil.copy2(src, dest)
        placed.append(dest)
    return placed


def render_pdf(markdown: str, out_file: Path, metadata: dict, resource_dir: Path) -> Path:
    source = typst_source(markdown, metadata, resource_dir)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".typst-root-", dir=out_file.parent) as root:
        populate_typst_root(Path(root), markdown, source, Path(resource_dir))
        return compile_pdf(source, out_file, Path(root), metadata)


def docx_args(metadata: dict, resource_dir: Path) -> list[str]:
    from .docx import REFERENCE_DOCX

    return [
        "--to", "docx",
        "--reference-doc", str(REFERENCE_DOCX),
        "--resource-path", str(resource_dir),
        "--toc", "--toc-depth", str(TOC_DEPTH),
        "--number-sections",
        *_meta_args({"toc-title": "Contents", **metadata}),
    ]


def render_docx(markdown: str, out_file: Path, metadata: dict, resource_dir: Path) -> Path:
    """pandoc writes the .docx (reference.docx styles, TOC field, numbered headings); docx.py finishes it."""
    from .docx import finish_docx

    out_file = Path(out_file)
    run_pandoc(docx_args(metadata, resource_dir) + ["--output", str(out_file)], markdown, cwd=resource_dir)
    return finish_docx(out_file, metadata, private_paths=(Path(resource_dir), out_file.parent))


def render(markdown: str, staging: Path, stem: str, formats: tuple[str, ...], metadata: dict,
           resource_dir: Path) -> dict[str, Path]:
    """Render into ``staging``; returns {"html": path, "pdf": path, "docx": path} (those asked for).

    With several formats, threads wait for pandoc to write the HTML and the Word document while
    this one turns the markdown into typst and compiles the PDF, so they overlap whenever a core
    is free. All have finished when this returns or raises (with the HTML error, if several failed).
    """
    out = {fmt: staging / f"{stem}.{fmt}" for fmt in ("html", "pdf", "docx")}
    jobs = {"html": lambda: render_html(markdown, out["html"], metadata, resource_dir),
            "pdf": lambda: render_pdf(markdown, out["pdf"], metadata, resource_dir),
            "docx": lambda: render_docx(markdown, out["docx"], metadata, resource_dir)}
    wanted = [fmt for fmt in jobs if fmt in formats]
    files: dict[str, Path] = {}
    if len(wanted) == 1:
        files[wanted[0]] = jobs[wanted[0]]()
        return files
    main = "pdf" if "pdf" in wanted else wanted[-1]
    others = [fmt for fmt in wanted if fmt != main]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(others), thread_name_prefix="yjplan-render") as pool:
        futures = {fmt: pool.submit(jobs[fmt]) for fmt in others}
        try:
            files[main] = jobs[main]()
        finally:
            for fmt in others:
                files[fmt] = futures[fmt].result()  # waits for it; the HTML's error is raised first
    return {fmt: files[fmt] for fmt in wanted}
