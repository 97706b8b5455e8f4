"""Both renderers side by side: wall time of `yjplan build --all` (cold and warm) and page counts per plan.

    .venv/bin/python bench/renderers.py            # needs a `quarto` on PATH for the Quarto column

Prints one table; each renderer builds into its own temporary folder (nothing in build/ is touched).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build(build_dir: Path, renderer: str) -> float:
    env = {**os.environ, "YJPLAN_BUILD_DIR": str(build_dir)}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--all", "--renderer", renderer], cwd=REPO,
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{renderer} build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t


def pages(site: Path) -> dict[str, int]:
    from pypdf import PdfReader

    out = {}
    for manifest in sorted([*site.glob("*/build.json"), *site.glob("*/*/build.json")]):
        info = json.loads(manifest.read_text(encoding="utf-8"))
        pdf = info.get("outputs", {}).get("pdf")
        if pdf:
            out[str(manifest.parent.relative_to(site))] = len(PdfReader(str(manifest.parent / pdf)).pages)
    return out


def main() -> int:
    sys.path.insert(0, str(REPO))
    from pipeline.render import find_quarto

    renderers = ["embedded"] + (["quarto"] if find_quarto() else [])
    results = {}
    with tempfile.TemporaryDirectory(prefix="yjplan-bench-renderers-") as tmp:
        for renderer in renderers:
            folder = Path(tmp) / renderer
            cold = build(folder, renderer)
            warm = build(folder, renderer)
            results[renderer] = {"cold": cold, "warm": warm, "pages": pages(folder / "site")}
    print(f"{'renderer':<10}{'cold (s)':>10}{'warm (s)':>10}")
    for renderer, r in results.items():
        print(f"{renderer:<10}{r['cold']:>10.1f}{r['warm']:>10.2f}")
    names = sorted({n for r in results.values() for n in r["pages"]})
    print(f"\n{'PDF pages':<26}" + "".join(f"{r:>10}" for r in results))
    for name in names:
        print(f"{name:<26}" + "".join(f"{results[r]['pages'].get(name, '-'):>10}" for r in results))
    if "quarto" not in results:
        print("\n(no quarto executable found: only the embedded renderer was measured)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
