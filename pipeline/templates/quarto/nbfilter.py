"""Quarto notebook filter (``ipynb-filters`` in _quarto.yml) for rendering the site with Quarto.

Quarto pipes each executed notebook (JSON) to stdin; this writes the Quarto-ready version to
stdout: the run is checked for failure (an ``error`` output stops the render), then only the
document remains, as markdown cells: markdown cells and the ``text/markdown`` outputs of code
cells, in order. ``text/plain`` reprs, stream output and cells tagged ``remove-cell``,
``parameters`` or ``injected-parameters`` are dropped. Nothing is executed.

Title-page metadata comes, in order of preference, from a front-matter raw cell already in the
notebook (kept as it is), from notebook metadata ``{"yjplan": {"metadata": {...}}}``, or from
``build.json`` beside the notebook (written by the build: title, period, synthetic). Notebooks
already prepared by ``pipeline.render`` pass through unchanged.

Quarto runs this with its Python (QUARTO_PYTHON or python3 on PATH) in the notebook's folder;
it needs only the standard library and this repository's ``pipeline`` package (found through
this file's location, so no installation is needed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_PACKAGE_PARENT = Path(__file__).resolve().parents[3]
if str(_PACKAGE_PARENT) not in sys.path:
    sys.path.insert(0, str(_PACKAGE_PARENT))

from pipeline.render.notebook import (  # noqa: E402
    RenderError,
    is_prepared,
    parse_notebook,
    quarto_notebook,
)

_META_KEYS = ("title", "subtitle", "author", "date", "lang", "synthetic")


def _existing_front_matter(nb: dict) -> str | None:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "raw":
            text = "".join(cell.get("source") or []) if isinstance(cell.get("source"), list) else str(cell.get("source") or "")
            if text.lstrip().startswith("---"):
                return text
        if cell.get("cell_type") in ("markdown", "code"):
            return None
    return None


def _metadata(nb: dict, folder: Path) -> dict:
    meta = dict(((nb.get("metadata") or {}).get("yjplan") or {}).get("metadata") or {})
    if not meta:
        manifest = folder / "build.json"
        if manifest.is_file():
            try:
                info = json.loads(manifest.read_text(encoding="utf-8"))
            except ValueError:
                info = {}
            meta = {k: info[k] for k in _META_KEYS if info.get(k) not in (None, "")}
            if info.get("period") and "subtitle" not in meta:
                meta["subtitle"] = str(info["period"])
    meta.setdefault("lang", "en-GB")
    return meta


def transform(text: str, folder: Path) -> str:
    nb = parse_notebook(text, source="notebook")
    if is_prepared(nb):
        return text
    front = _existing_front_matter(nb)
    ready = quarto_notebook(nb, None if front else _metadata(nb, folder))
    if front:
        ready["cells"].insert(0, {"cell_type": "raw", "id": "frontmatter", "metadata": {},
                                  "source": front.splitlines(keepends=True)})
    return json.dumps(ready, ensure_ascii=False, indent=1)


def main() -> int:
    text = sys.stdin.buffer.read().decode("utf-8")
    try:
        out = transform(text, Path.cwd())
    except RenderError as exc:
        sys.stderr.write(f"yjplan notebook filter: {exc}\n")
        return 1
    sys.stdout.buffer.write(out.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
