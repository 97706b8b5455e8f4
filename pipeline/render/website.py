"""The Quarto website of the published plans: what ``quarto render`` at the repository root builds.

``yjplan build`` publishes into ``build/site/`` (each plan's HTML, PDF and Word files, the
executed notebooks, the index). Quarto renders every input *in place* before moving the result
to its output folder, so the website never renders ``build/site/`` itself (it would overwrite
``index.html`` and ``compare.html`` there, and leave scratch files in the published folder).
Instead the root ``_quarto.yml`` runs this module around the render:

pre-render (``write_sources``)
    copies what the build published into ``quarto-site/`` (git-ignored, rewritten every time):
    ``index.md``; for each plan and the comparison a Quarto-ready notebook named after the
    published HTML (``<area>/<area>-plan.ipynb``: front matter from ``build.json``'s document
    metadata, then the document's markdown; nothing is executed), its figures, and the published
    PDF and Word files (website resources). The index's links
    (``<area>/<edition>/<area>-<edition>-plan.html|pdf|docx``) therefore resolve unchanged in
    ``_site/quarto-site/``.
post-render (``write_home``)
    writes ``_site/index.html``, a link (and an immediate redirect) to ``quarto-site/index.html``.

Nothing under ``build/`` or any tracked file is written. Only the standard library and this
package's rendering helpers are needed (Quarto runs the script with its own Python).
"""

from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path

from ._common import RenderError, normalise_metadata
from .notebook import join_markdown, load_notebook, markdown_chunks, quarto_notebook, referenced_files, write_notebook

#: Folder (at the project root) the pre-render step writes the website's inputs to.
SOURCES = "quarto-site"
#: A file marking SOURCES as ours: a folder of that name without it is never deleted.
MARKER = ".yjplan-website"
#: Published files copied beside each page (the website links them as resources).
RESOURCE_FORMATS = ("pdf", "docx")


def _published_outputs(site: Path) -> list[tuple[Path, dict]]:
    """(folder, build.json) of every published plan edition (``<area>/<edition>/``) or comparison with its
    executed notebook."""
    found = []
    for manifest in sorted([*site.glob("*/build.json"), *site.glob("*/*/build.json")]):
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if info.get("outputs") and list(manifest.parent.glob("*.ipynb")):
            found.append((manifest.parent, info))
    return found


def _safe_copy(src_dir: Path, rel: str, dest_dir: Path) -> None:
    src = (src_dir / rel).resolve()
    dest = (dest_dir / rel).resolve()
    if src_dir.resolve() not in src.parents or dest_dir.resolve() not in dest.parents:
        raise RenderError(f"{rel}: a document may only refer to files inside its own folder")
    if not src.is_file():
        raise RenderError(f"{src_dir.name}: the document refers to {rel}, which was not published")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def _clear(dest: Path) -> None:
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise RenderError(f"{dest} is not a folder: move it away so the website's inputs can be written there")
    if dest.is_dir():
        if not (dest / MARKER).is_file():
            raise RenderError(f"{dest} exists but was not written by yjplan (no {MARKER}); move it away and rerun")
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / MARKER).write_text("written by yjplan before `quarto render`; rewritten every time\n", encoding="utf-8")


def write_sources(site: Path, dest: Path) -> list[Path]:
    """Write the website's inputs for the published folder ``site`` into ``dest``; returns the pages."""
    site = Path(site)
    if not (site / "index.md").is_file():
        raise RenderError(f"nothing published yet in {site}: run `yjplan build --all` before `quarto render`")
    _clear(Path(dest))
    pages = [Path(dest) / "index.md"]
    shutil.copy2(site / "index.md", pages[0])
    for folder, info in _published_outputs(site):
        rel = folder.relative_to(site)
        out = Path(dest) / rel
        out.mkdir(parents=True)
        outputs = {fmt: str(name) for fmt, name in info["outputs"].items()}
        stem = Path(outputs.get("html") or next(iter(outputs.values()))).stem
        notebook = sorted(folder.glob("*.ipynb"))[0]
        nb = load_notebook(notebook)
        meta = normalise_metadata(info.get("document") or {"title": info.get("title") or folder.name})
        ready = quarto_notebook(nb, meta, source=f"{rel.as_posix()}/{notebook.name}")
        for rel in referenced_files(join_markdown(markdown_chunks(nb))):
            _safe_copy(folder, rel, out)
        for fmt in RESOURCE_FORMATS:
            if fmt in outputs:
                _safe_copy(folder, outputs[fmt], out)
        pages.append(write_notebook(ready, out / f"{stem}.ipynb"))
    return pages


def write_home(output_dir: Path) -> Path:
    """``<output_dir>/index.html``: the website's front door, pointing at the index of plans."""
    target = f"{SOURCES}/index.html"
    title = "Youth Justice Strategic Plans"
    page = (
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n"
        f"<meta http-equiv=\"refresh\" content=\"0; url={html.escape(target)}\">\n"
        "</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n<p><a href=\"{html.escape(target)}\">Go to the index of plans</a></p>\n"
        "</main>\n</body>\n</html>\n"
    )
    path = Path(output_dir) / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def main(argv: list[str], project_dir: Path, site: Path) -> int:
    """The root project's pre-render (no argument) and post-render (``--post``) step."""
    try:
        if argv[:1] == ["--post"]:
            output_dir = os.environ.get("QUARTO_PROJECT_OUTPUT_DIR") or "_site"
            write_home(project_dir / output_dir)
        else:
            pages = write_sources(site, project_dir / SOURCES)
            print(f"yjplan: {len(pages)} pages from {site.name}/ written to {SOURCES}/")
    except (RenderError, OSError) as exc:
        print(f"yjplan website: {exc}")
        return 1
    return 0
