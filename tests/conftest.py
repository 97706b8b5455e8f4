"""Shared fixtures: a private copy of the data for tests that break it on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    """A copy of data/ that the test may edit; the pipeline reads it through YJPLAN_DATA_DIR."""
    target = tmp_path / "data"
    shutil.copytree(REPO / "data", target)
    monkeypatch.setenv("YJPLAN_DATA_DIR", str(target))
    return target


@pytest.fixture
def build_copy(tmp_path, monkeypatch) -> Path:
    """A private build folder."""
    target = tmp_path / "build"
    monkeypatch.setenv("YJPLAN_BUILD_DIR", str(target))
    return target


@pytest.fixture
def private_env(tmp_path) -> dict:
    """Private copies of data, contracts and notebooks and a private build folder, as YJPLAN_* variables
    for ``run_cli``: a test may change any of them."""
    for name in ("data", "data_contracts", "notebooks"):
        shutil.copytree(REPO / name, tmp_path / name)
    return {
        "YJPLAN_DATA_DIR": str(tmp_path / "data"),
        "YJPLAN_CONTRACTS_DIR": str(tmp_path / "data_contracts"),
        "YJPLAN_NOTEBOOKS_DIR": str(tmp_path / "notebooks"),
        "YJPLAN_BUILD_DIR": str(tmp_path / "build"),
    }


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not found in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def run_cli(args: list[str], env_overrides: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``yjplan`` as a user would (a fresh process), with path overrides in the environment."""
    env = {**os.environ, **env_overrides}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Every plan, the comparison and the index built once per session with the embedded renderer.

    Returns the site folder (``<build>/site``); the CLI's output is in ``site.parent / 'cli.log'``.
    """
    build = tmp_path_factory.mktemp("built") / "build"
    proc = run_cli(["build", "--all", "--renderer", "embedded"], {"YJPLAN_BUILD_DIR": str(build)})
    build.mkdir(parents=True, exist_ok=True)
    (build / "cli.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr, encoding="utf-8")
    assert proc.returncode == 0, f"yjplan build --all failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return build / "site"


#: The one edition of each seed area's plan (data/plans.csv): outputs live in build/site/<area>/<edition>/.
SEED_EDITIONS = {"oxfordshire": "2018-21", "buckinghamshire": "2016-17", "warwickshire": "2018-19", "demoshire": "2019-20"}


def plan_folder(site: Path, area: str) -> Path:
    """The folder of a seed area's plan edition in a built site."""
    return site / area / SEED_EDITIONS[area]


def plan_file(site: Path, area: str, ext: str) -> Path:
    """A seed area's plan document: ``<site>/<area>/<edition>/<area>-<edition>-plan.<ext>``."""
    return plan_folder(site, area) / f"{area}-{SEED_EDITIONS[area]}-plan.{ext}"
