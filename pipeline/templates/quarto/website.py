"""Pre- and post-render step of the root Quarto website (``_quarto.yml``: ``pre-render`` and
``post-render``); see pipeline/render/website.py.

Quarto runs this with its Python (QUARTO_PYTHON or python3 on PATH) in the project folder. It
needs only the standard library and this repository's ``pipeline`` package, found through this
file's location, so no installation is needed. ``YJPLAN_BUILD_DIR`` chooses the build folder, as
for ``yjplan``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_PARENT = Path(__file__).resolve().parents[3]
if str(_PACKAGE_PARENT) not in sys.path:
    sys.path.insert(0, str(_PACKAGE_PARENT))

from pipeline.paths import site_dir  # noqa: E402
from pipeline.render.website import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], Path.cwd(), site_dir()))
