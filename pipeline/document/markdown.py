"""Pandoc Markdown building blocks shared by the plans, the comparison and the site index.

Data fields (area and service names, labels, table cells read from the CSVs, build messages) are
text, never Markdown: every place that puts one into Markdown passes it through :func:`md_escape`
(``md_table`` does it for every header and cell, and for the caption, unless a column is declared
as already-Markdown). The renderers read the result with ``pipeline.render._common.READER_FORMAT`` (no raw
HTML, no raw blocks), and ``templates/yjplan.lua`` drops unsafe links, images and attributes, so nothing
in the data or in an area's content file can put HTML, script or typst code into a plan.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

import pandas as pd

# Characters that are Markdown syntax wherever they appear in a line.
_INLINE_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#!|~^$@&])")
# Syntax that counts only at the start of a line: list markers, block quotes, headings, div
# fences, definition lists, line blocks, an ordered-list number ("1." / "1)" / "(1)" / "#.").
_LEADING_SPECIAL = re.compile(r"^([-+:=%]|\d+[.)]|\(\w{1,3}\))")


def md_escape(value: Any) -> str:
    """A data field as literal text inside Pandoc Markdown (inline: newlines become spaces).

    Every character that could start Markdown syntax is backslash-escaped, so ``**x**``,
    ``<script>``, ``[a](javascript:…)``, ``{=html}``, ``@fig-x`` or ``&lt;`` show as typed.
    Renders like the field, with the plans' typography: straight quotes may become curly ones,
    "--" a dash and "..." an ellipsis (as before; nothing but typography). ``None``/NaN give "".
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = " ".join(str(value).split())  # newlines, tabs and runs of spaces: one space
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    match = _LEADING_SPECIAL.match(text)
    if match:
        lead = match.group(0)
        text = lead[:-1] + "\\" + lead[-1] + text[len(lead):]
    return text


def _cell(value: Any, markdown: bool) -> str:
    if markdown:
        text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        return text.replace("|", "\\|").replace("\n", " ").strip()
    return md_escape(value)


def join_and(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def md_table(frame: pd.DataFrame, caption: str, table_id: str, align: str | None = None,
             markdown_columns: Iterable[str] = ()) -> str:
    """A pipe table with a caption line (``: caption {#tbl-id}``).

    Headers, cells and the caption are data: escaped with :func:`md_escape`. Cells of the
    columns named in ``markdown_columns`` are Markdown already (e.g. a result span or a link),
    built by the caller with its data fields escaped; only their pipes are escaped here.
    """
    cols = list(frame.columns)
    md_cols = set(markdown_columns)
    markdown = [c in md_cols for c in cols]
    align = align or "".join("r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in cols)
    sep = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(md_escape(c) for c in cols) + " |", "| " + " | ".join(sep[a] for a in align) + " |"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, m) for v, m in zip(row, markdown)) + " |")
    return "\n".join(lines) + f"\n\n: {md_escape(caption)} {{#{table_id}}}\n"


def md_code(value: Any) -> str:
    """A data field as an inline code span, literal whatever backticks it holds."""
    text = " ".join(("" if value is None else str(value)).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_link(text: Any, target: str) -> str:
    """``[text](target)`` with the text escaped and the target percent-encoded (a relative path
    or URL made of data fields cannot break out of the link or change its scheme)."""
    from urllib.parse import quote

    return f"[{md_escape(text)}]({quote(str(target), safe='/#?=&~.-_%')})"
