"""Shared fixtures: a private copy of the data for tests that break it on purpose."""

from __future__ import annotations

import shutil
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


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not found in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
