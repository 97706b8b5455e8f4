"""Rendering executed plan notebooks to HTML, PDF and Word (DOCX).

Two back-ends produce the same documents from the same templates (``pipeline/templates``):

* ``embedded`` (default where Quarto is absent; needs only the pip dependencies): pandoc from
  the pypandoc-binary wheel writes a self-contained HTML file and typst source; the typst wheel
  compiles the PDF with its embedded fonts.
* ``quarto`` (when a ``quarto`` executable is on PATH or in $QUARTO_PATH): ``quarto render`` of a
  Quarto-ready copy of the notebook to ``html`` and ``typst``, in a private project folder.

Word documents come from pandoc (the wheel's, or Quarto's) with ``templates/reference.docx``, and
are finished the same way for both back-ends by ``docx.finish_docx`` (python-docx).

Neither ever executes code: the notebooks arrive executed by papermill.

Public API::

    RENDERERS, RenderError, find_quarto, resolve_renderer, renderer_versions,
    notebook_to_markdown, render_document, render_markdown_page
"""

from __future__ import annotations

import os
from pathlib import Path

from ._common import (
    SYNTHETIC_TEXT,
    TEMPLATES_DIR,
    RenderError,
    normalise_formats,
    normalise_metadata,
    publish,
    staging_dir,
    templates_fingerprint,
    write_atomic,
)
from .notebook import check_executed, load_notebook, notebook_markdown, quarto_notebook
from .quarto import find_quarto

__all__ = [
    "RENDERERS",
    "RenderError",
    "SYNTHETIC_TEXT",
    "TEMPLATES_DIR",
    "find_quarto",
    "notebook_to_markdown",
    "prepare_quarto_notebook",
    "render_document",
    "render_markdown_page",
    "renderer_versions",
    "resolve_renderer",
]

RENDERERS = ("auto", "quarto", "embedded")


def resolve_renderer(requested: str = "auto") -> str:
    """``"quarto"`` or ``"embedded"``.

    ``auto`` picks Quarto when a ``quarto`` executable is found, else the embedded back-end.
    Asking for ``quarto`` when there is none raises RenderError.
    """
    choice = (requested or "auto").strip().lower()
    if choice not in RENDERERS:
        raise RenderError(f"unknown renderer {requested!r}: choose one of {', '.join(RENDERERS)}")
    if choice == "embedded":
        return "embedded"
    quarto = find_quarto()
    if choice == "quarto" and quarto is None:
        raise RenderError(
            "the Quarto renderer was requested but no `quarto` executable was found on PATH or in "
            "$QUARTO_PATH. Install Quarto 1.4 or later (https://quarto.org/docs/get-started/), set "
            "QUARTO_PATH to its executable, or use the embedded renderer (renderer='embedded', needs "
            "only the Python dependencies)."
        )
    return "quarto" if quarto else "embedded"


def renderer_versions(renderer: str) -> dict[str, str]:
    """Versions that determine the output of a renderer (for cache keys), plus a templates hash.

    e.g. ``{"pandoc": "3.9", "typst": "0.15.2", "templates": "1a2b3c4d5e6f"}`` or
    ``{"quarto": "1.6.40", "templates": "..."}``.
    """
    chosen = resolve_renderer(renderer)
    if chosen == "quarto":
        from .quarto import quarto_version

        versions = {"quarto": quarto_version(find_quarto())}
    else:
        from .embedded import versions as embedded_versions

        versions = dict(embedded_versions())  # a copy: the cached dict is not ours to extend
    versions["templates"] = templates_fingerprint()
    return versions


def notebook_to_markdown(executed_notebook: Path) -> str:
    """The Pandoc Markdown body of an executed notebook (RenderError if its run failed)."""
    path = Path(executed_notebook)
    return notebook_markdown(load_notebook(path), source=str(path))


def prepare_quarto_notebook(executed_notebook: Path, dest: Path, metadata: dict | None = None) -> Path:
    """Write the Quarto-ready copy of an executed notebook (front matter + markdown cells).

    What the Quarto back-end renders; also usable to place ready notebooks under build/site for
    ``quarto render`` of the whole site (the site's notebook filter does the same on the fly).
    """
    from .notebook import write_notebook

    src = Path(executed_notebook)
    ready = quarto_notebook(load_notebook(src), normalise_metadata(metadata), source=str(src))
    return write_notebook(ready, Path(dest))


def _check_stem(stem: str) -> str:
    stem = str(stem)
    if not stem or stem in (".", "..") or any(sep in stem for sep in ("/", "\\", os.sep)):
        raise RenderError(f"invalid output name {stem!r}: a file name without folders or extension is expected")
    return stem


def render_document(executed_notebook: Path, out_dir: Path, stem: str, formats=("html", "pdf"),
                    metadata: dict | None = None, renderer: str = "auto") -> dict[str, Path]:
    """Render an executed notebook to ``out_dir/<stem>.html``, ``.pdf`` and/or ``.docx`` (``formats``).

    Never executes code. Everything is rendered in a private folder beside ``out_dir`` and moved
    into place only when every requested format succeeded, so a failure leaves no partial file
    in ``out_dir`` (files already there are left untouched). Safe to run concurrently for
    different stems or notebooks. Returns ``{"html": path, "pdf": path, ...}`` (requested formats).
    """
    chosen = resolve_renderer(renderer)
    fmts = normalise_formats(formats)
    meta = normalise_metadata(metadata)
    stem = _check_stem(stem)
    if "pdf" in fmts and not str(meta.get("title") or "").strip():
        raise RenderError("a PDF needs a document title (metadata 'title'): every PDF is PDF/UA-1, which shows the "
                          "title in the reader's window")
    notebook_path = Path(executed_notebook).resolve()
    out_dir = Path(out_dir).resolve()
    nb = load_notebook(notebook_path)
    check_executed(nb, str(notebook_path))

    with staging_dir(out_dir.parent, stem) as staging:
        if chosen == "quarto":
            from . import quarto as backend

            files = backend.render(nb, notebook_path, staging, stem, fmts, meta, find_quarto() or "quarto")
        else:
            from . import embedded as backend

            markdown = notebook_markdown(nb, source=str(notebook_path))
            files = backend.render(markdown, staging, stem, fmts, meta, notebook_path.parent)
        return publish(files, out_dir, stem)


def render_markdown_page(markdown: str, out_path: Path, metadata: dict, resource_dir: Path | None = None) -> Path:
    """A standalone, self-contained HTML page from Pandoc Markdown, with the plans' look.

    Used for the site index. Images are looked up in ``resource_dir`` (default: the output's
    folder). Metadata as for render_document; ``toc: True`` / ``number-sections: True`` turn on a
    table of contents / numbered headings (both off by default). Written atomically.
    """
    from .embedded import render_html

    out_path = Path(out_path).resolve()
    meta = normalise_metadata(metadata)
    toc = bool(meta.pop("toc", False))
    number_sections = bool(meta.pop("number-sections", False))
    resources = Path(resource_dir).resolve() if resource_dir is not None else out_path.parent
    with staging_dir(out_path.parent, out_path.stem) as staging:
        tmp = render_html(markdown, staging / "page.html", meta, resources, toc=toc, number_sections=number_sections)
        return write_atomic(out_path, tmp.read_bytes())
