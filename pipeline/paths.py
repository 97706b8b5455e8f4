"""Where the project's inputs and outputs live.

Every location can be overridden with an environment variable so that tests and analysts can
point the pipeline at a copy of the data (``YJPLAN_DATA_DIR``), another set of contracts
(``YJPLAN_CONTRACTS_DIR``) or another build folder (``YJPLAN_BUILD_DIR``).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

#: Folders of the build folder: the published site, owner-only outputs, outputs being assembled.
SITE, RESTRICTED, STAGING = "site", "restricted", "staging"
REPO_ROOT = PACKAGE_DIR.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).resolve() if value else default


def data_dir() -> Path:
    """Folder of curated CSV tables and per-area content files."""
    return _env_path("YJPLAN_DATA_DIR", REPO_ROOT / "data")


def content_dir() -> Path:
    """Folder of the narrative files (``<area_id>/<edition>.yml``)."""
    return data_dir() / "content"


def contracts_dir() -> Path:
    """Folder of Great Expectations suites (one JSON file per input table)."""
    return _env_path("YJPLAN_CONTRACTS_DIR", REPO_ROOT / "data_contracts")


def notebooks_dir() -> Path:
    """Folder of the parameterised notebooks."""
    return _env_path("YJPLAN_NOTEBOOKS_DIR", REPO_ROOT / "notebooks")


def build_dir() -> Path:
    """Root of everything a build writes."""
    return _env_path("YJPLAN_BUILD_DIR", REPO_ROOT / "build")


def site_dir() -> Path:
    """The published folder: nothing record-level, no absolute path, no failure detail goes here."""
    return build_dir() / SITE
