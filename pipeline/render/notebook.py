"""Reading executed notebooks: what of them is the document.

Conventions (see the notebooks in ``notebooks/``):

* code cells carry no prose: all visible content comes from outputs with mime type
  ``text/markdown`` (``IPython.display.Markdown``), written in Pandoc Markdown;
* markdown cells are static text and are included as they are;
* ``text/plain`` reprs, images displayed by accident, stream output (prints, logging) and raw
  cells are never part of the document;
* cells tagged ``remove-cell``, ``parameters`` or ``injected-parameters`` produce nothing;
  ``remove-output`` drops a cell's outputs (code is never shown anyway);
* an ``error`` output means the run failed: rendering is refused.

Only the standard library is needed here (plus nbformat when it is installed, to upgrade old
notebooks), so that Quarto's notebook filter (templates/quarto/nbfilter.py) can share it.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from ._common import RenderError

MARKDOWN_MIME = "text/markdown"
REMOVE_CELL_TAGS = frozenset({"remove-cell", "remove_cell", "parameters", "injected-parameters"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})

#: Marks a notebook written by :func:`quarto_notebook` (Quarto's notebook filter passes it on).
PREPARED_KEY = "yjplan"


def load_notebook(path: Path) -> dict:
    """The notebook as a plain nbformat-v4 dict; RenderError if it cannot be read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RenderError(f"cannot read the executed notebook {path}: {exc.strerror or exc}") from exc
    return parse_notebook(text, source=str(path))


def parse_notebook(text: str, source: str = "notebook") -> dict:
    try:
        nb = json.loads(text)
    except ValueError as exc:
        raise RenderError(f"{source} is not a valid notebook (JSON error: {exc})") from exc
    if not isinstance(nb, dict) or ("cells" not in nb and "worksheets" not in nb):
        raise RenderError(f"{source} is not a Jupyter notebook (no cells)")
    if int(nb.get("nbformat", 4)) < 4:
        try:
            import nbformat

            nb = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as exc:  # noqa: BLE001 - any failure to upgrade means we cannot read it
            raise RenderError(f"{source} uses notebook format {nb.get('nbformat')}; convert it to v4 ({exc})") from exc
    return nb


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return str(value)


def cell_tags(cell: dict) -> set[str]:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return {str(t) for t in tags}


def check_executed(nb: dict, source: str = "notebook") -> None:
    """Raise RenderError if the run failed (an ``error`` output, or papermill's exception flag)."""
    for index, cell in enumerate(nb.get("cells", []), start=1):
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") == "error":
                ename = output.get("ename", "Error")
                evalue = output.get("evalue", "")
                raise RenderError(
                    f"{source}: cell {index} raised {ename}: {evalue}. The notebook run failed, so it is not "
                    "rendered; fix the error and build again."
                )
    papermill = (nb.get("metadata") or {}).get("papermill") or {}
    if papermill.get("exception"):
        raise RenderError(f"{source}: papermill recorded an exception during execution; the notebook is not rendered.")


def markdown_chunks(nb: dict) -> list[str]:
    """The document's Markdown pieces, in order (one per markdown cell or markdown output)."""
    chunks: list[str] = []
    for cell in nb.get("cells", []):
        tags = cell_tags(cell)
        if tags & REMOVE_CELL_TAGS:
            continue
        kind = cell.get("cell_type")
        if kind == "markdown":
            chunks.append(_text(cell.get("source")))
        elif kind == "code" and not tags & REMOVE_OUTPUT_TAGS:
            for output in cell.get("outputs", []) or []:
                if output.get("output_type") not in ("display_data", "execute_result"):
                    continue  # stream output (print, logging) is never shown
                data = output.get("data") or {}
                if MARKDOWN_MIME in data:
                    chunks.append(_text(data[MARKDOWN_MIME]))
        # raw cells (and a Quarto front-matter cell) are not part of the body
    return [c.strip("\n") for c in chunks if c.strip()]


def join_markdown(chunks: list[str]) -> str:
    return "\n\n".join(chunks) + "\n" if chunks else ""


def notebook_markdown(nb: dict, source: str = "notebook") -> str:
    """The Pandoc Markdown body of an executed notebook (checked for failure first)."""
    check_executed(nb, source)
    return join_markdown(markdown_chunks(nb))


# ---- resources --------------------------------------------------------------------------------

_MD_IMAGE = re.compile(r"!\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)")
_HTML_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def referenced_files(markdown: str) -> list[str]:
    """Relative paths of local images the Markdown refers to (for copying beside a copy)."""
    found: list[str] = []
    for match in list(_MD_IMAGE.finditer(markdown)) + list(_HTML_SRC.finditer(markdown)):
        target = match.group(1)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("/", "#")):
            continue  # URLs, data: URIs, absolute paths, anchors
        target = target.split("#", 1)[0].split("?", 1)[0]
        if target and target not in found:
            found.append(target)
    return found


# ---- the Quarto-ready copy ---------------------------------------------------------------------

def front_matter(metadata: dict) -> str:
    """YAML front matter (``---`` … ``---``) for a Quarto raw cell."""
    clean = {k: v for k, v in metadata.items() if v is not None}
    try:
        import yaml

        body = yaml.safe_dump(clean, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10_000)
    except ImportError:  # pragma: no cover - pyyaml is a dependency; JSON is valid YAML anyway
        body = "".join(f"{json.dumps(str(k))}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in clean.items())
    return "---\n" + body + "---\n"


def _lines(text: str) -> list[str]:
    # the on-disk nbformat representation (what nbformat.write produces); Quarto joins the list
    return text.splitlines(keepends=True)


def _markdown_cell(text: str) -> dict:
    return {"cell_type": "markdown", "id": uuid.uuid4().hex[:12], "metadata": {}, "source": _lines(text)}


def quarto_notebook(nb: dict, metadata: dict | None, source: str = "notebook") -> dict:
    """A copy of an executed notebook that Quarto renders exactly like the embedded back-end.

    Checked for failure, then: a raw cell with the YAML front matter, then one markdown cell per
    document piece (markdown cells and the markdown outputs of code cells, in order). No code
    cells remain, so Quarto has nothing to execute or hide, headings stay at the top level (TOC,
    numbering and cross references work) and text/plain or stream outputs cannot leak. Nothing is
    re-executed: this only rearranges outputs that are already there.
    """
    check_executed(nb, source)
    cells: list[dict] = []
    if metadata:
        cells.append({"cell_type": "raw", "id": uuid.uuid4().hex[:12], "metadata": {}, "source": _lines(front_matter(metadata))})
    cells.extend(_markdown_cell(chunk + "\n") for chunk in markdown_chunks(nb))
    meta_in = nb.get("metadata") or {}
    meta_out = {k: meta_in[k] for k in ("kernelspec", "language_info") if k in meta_in}
    meta_out[PREPARED_KEY] = {"prepared": True}
    return {"cells": cells, "metadata": meta_out, "nbformat": 4, "nbformat_minor": 5}


def is_prepared(nb: dict) -> bool:
    return bool(((nb.get("metadata") or {}).get(PREPARED_KEY) or {}).get("prepared"))


def write_notebook(nb: dict, path: Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
