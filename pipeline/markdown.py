"""Pandoc Markdown building blocks shared by the plans, the comparison and the site index."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def _esc(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def join_and(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def md_table(frame: pd.DataFrame, caption: str, table_id: str, align: str | None = None) -> str:
    """A pipe table with a caption line (``: caption {#tbl-id}``)."""
    cols = list(frame.columns)
    align = align or "".join("r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in cols)
    sep = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(_esc(c) for c in cols) + " |", "| " + " | ".join(sep[a] for a in align) + " |"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_esc(v) for v in row) + " |")
    return "\n".join(lines) + f"\n\n: {caption} {{#{table_id}}}\n"
