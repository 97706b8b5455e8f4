"""Statistical disclosure control for published tables built from record-level data.

``suppress_table`` applies the rules every published output (plan, comparison page, site) uses
for figures computed from a case-management extract:

1. **Primary suppression** — a count from 1 to ``threshold - 1`` (1 to 4 by default) is not
   shown: it is replaced by ``marker`` (``"<5"``). Zero is shown: a published zero discloses
   nothing about any child.
2. **Secondary suppression** — where the table has a total row and/or a total column, more
   cells are hidden (shown as ``secondary_marker``, ``"*"``) until no suppressed count can be
   worked out exactly from the totals and the cells still shown. Cells and totals are read as
   a bipartite graph (one node per row sum and per column sum, one edge per suppressed cell);
   a suppressed cell can be recovered exactly precisely when its edge is a *bridge* of that
   graph, so suppression continues until there is no bridge. The extra cell chosen is the
   smallest positive count that closes a cycle through the bridge (inner cells before totals,
   zeros last). With totals in one direction only this is the familiar rule "never one
   suppressed cell alone in a row or column".
3. **Dependent rates** — a rate, share or interval built on a suppressed count is suppressed too
   (``rate_columns`` says which counts each rate depends on).

The rule protects exact values; it does not guarantee that the interval a reader can deduce
for a suppressed cell is wide (standard practice for small tables of this kind).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

#: The disclosure rule, defined once: counts from 1 to THRESHOLD - 1 are shown as PRIMARY_MARKER; cells that
#: would reveal them as SECONDARY_MARKER.
THRESHOLD = 5
PRIMARY_MARKER = "<5"
SECONDARY_MARKER = "*"


def rule_sentence() -> str:
    """The rule in words, for published text: 'Counts from 1 to 4 are shown as "<5"'."""
    return f'Counts from 1 to {THRESHOLD - 1} are shown as "{PRIMARY_MARKER}"'


PRIMARY = "primary"
SECONDARY = "secondary"
DEPENDENT = "dependent"


def _footnotes(marker: str, secondary_marker: str, threshold: int, used: set[str]) -> list[str]:
    notes = []
    if PRIMARY in used:
        notes.append(
            f"{marker}: a count from 1 to {threshold - 1} is not shown, to protect the children it describes "
            f"(zero is shown)."
        )
    if SECONDARY in used or DEPENDENT in used:
        reasons = []
        if SECONDARY in used:
            reasons.append("so that a suppressed count cannot be worked out from the totals")
        if DEPENDENT in used:
            reasons.append("because the rate or share is built on a suppressed count")
        notes.append(f"{secondary_marker}: not shown " + ", or ".join(reasons) + ".")
    return notes


def _total_row_position(df: pd.DataFrame, total_row, label_column: str | None) -> int | None:
    if total_row is None:
        return None
    if label_column is not None:
        hits = np.flatnonzero(df[label_column].to_numpy() == total_row)
    elif total_row in df.index:
        hits = np.flatnonzero(df.index.to_numpy() == total_row)
    else:
        hits = np.array([], dtype=int)
        for col in df.columns:
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
                hits = np.flatnonzero(df[col].to_numpy() == total_row)
                if hits.size:
                    break
    if hits.size != 1:
        raise ValueError(f"total row {total_row!r}: expected exactly one row labelled so, found {hits.size}")
    return int(hits[0])


def _bridges_and_sides(edges: list[tuple[int, int, int]], skip: set[int] = frozenset()):
    """First bridge (edge id, row-side nodes, column-side nodes) of the graph, or None.

    ``edges`` are (edge id, row node, column node); row and column nodes live in separate
    namespaces. Tables are small, so each edge is tested by a search without it.
    """
    adjacency: dict[tuple[str, int], list[tuple[int, tuple[str, int]]]] = {}
    for eid, r, c in edges:
        adjacency.setdefault(("r", r), []).append((eid, ("c", c)))
        adjacency.setdefault(("c", c), []).append((eid, ("r", r)))

    def reach(start, banned):
        seen, stack = {start}, [start]
        while stack:
            node = stack.pop()
            for eid, nxt in adjacency.get(node, []):
                if eid != banned and nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    for eid, r, c in edges:
        if eid in skip:
            continue
        side = reach(("r", r), eid)
        if ("c", c) not in side:
            other = reach(("c", c), eid)
            return eid, {n for k, n in side if k == "r"}, {n for k, n in other if k == "c"}
    return None


def suppress_table(
    df: pd.DataFrame,
    count_columns: Iterable[str],
    total_row=None,
    total_column: str | None = None,
    threshold: int = THRESHOLD,
    marker: str = PRIMARY_MARKER,
    rate_columns: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
    *,
    secondary_marker: str = SECONDARY_MARKER,
    label_column: str | None = None,
    row_parts: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Disclosure-controlled copy of ``df`` and the footnotes that explain its markers.

    ``count_columns``: the columns holding counts of children or events.
    ``total_row``: label of the row that is the sum of the other rows (looked up in
    ``label_column``, else the index, else the first text column holding it).
    ``total_column``: a count column that is the sum of ``row_parts`` (by default the other
    count columns) in every row.
    ``rate_columns``: columns to suppress when a count they are built on is suppressed: a list
    (each depends on every count column of its row) or a mapping ``{rate: [counts]}``.
    Cells that are missing (NaN) are left as they are and take no part.

    The returned frame has the markers in place of suppressed values; ``attrs['suppressed']``
    maps each column that has hidden cells to a list, one entry per row, saying why the cell
    was hidden (``primary``, ``secondary``, ``dependent``; '' when it was not), and
    ``attrs['footnotes']`` repeats the footnotes. (Plain lists, so pandas can carry the attrs
    through later operations.)
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    count_columns = list(count_columns)
    missing = [c for c in count_columns if c not in df.columns]
    if missing:
        raise KeyError(f"count columns not in the table: {', '.join(missing)}")
    if total_column is not None and total_column not in count_columns:
        count_columns.append(total_column)
    if isinstance(rate_columns, Mapping):
        rate_deps = {r: list(d) for r, d in rate_columns.items()}
    else:
        rate_deps = {r: list(count_columns) for r in (rate_columns or [])}

    values = df[count_columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    present = ~np.isnan(values)
    why = np.full((n_rows, n_cols), "", dtype=object)
    primary = present & (values >= 1) & (values < threshold)
    why[primary] = PRIMARY

    t_row = _total_row_position(df, total_row, label_column)
    col_index = {c: j for j, c in enumerate(count_columns)}
    if total_column is not None:
        parts = list(row_parts) if row_parts is not None else [c for c in count_columns if c != total_column]
        row_cols = [col_index[c] for c in parts] + [col_index[total_column]]
        t_col = col_index[total_column]
    else:
        row_cols, t_col = list(range(n_cols)), None
    # Each cell is an edge between its row-sum node and its column-sum node; a direction
    # without totals gets one shared free node (no constraint), and a cell with no constraint
    # at all takes no part.
    if t_row is not None or t_col is not None:

        def node_of(i, j):
            r = i if t_col is not None and j in row_cols else -1
            c = j if t_row is not None else -1
            return r, c

        cells = [(i, j) for i in range(n_rows) for j in range(n_cols) if present[i, j] and node_of(i, j) != (-1, -1)]
        unprotectable: set[int] = set()
        while True:
            edges = [(k, *node_of(i, j)) for k, (i, j) in enumerate(cells) if why[i, j]]
            found = _bridges_and_sides(edges, unprotectable)
            if found is None:
                break
            eid, row_side, col_side = found
            bi, bj = cells[eid]
            br, bc = node_of(bi, bj)
            candidates = []
            for i, j in cells:
                if why[i, j]:
                    continue
                r, c = node_of(i, j)
                closes = r in row_side and c in col_side
                if not (closes or r == br or c == bc):
                    continue
                v = values[i, j]
                margin = i == t_row or j == t_col
                candidates.append((not closes, v == 0, margin, v, i, j))
            if not candidates:  # everything that could protect this cell is already hidden
                unprotectable.add(eid)
                continue
            _, _, _, _, i, j = min(candidates)
            why[i, j] = SECONDARY

    out = df.copy()
    suppressed: dict[str, list[str]] = {}
    used: set[str] = set()
    for j, col in enumerate(count_columns):
        mask = why[:, j] != ""
        if mask.any():
            shown = out[col].astype(object)
            shown[mask] = np.where(why[mask, j] == PRIMARY, marker, secondary_marker)
            out[col] = shown
            suppressed[col] = [str(w) for w in why[:, j]]
            used.update(why[mask, j])
    for rate, deps in rate_deps.items():
        if rate not in df.columns:
            raise KeyError(f"rate column not in the table: {rate}")
        dep_idx = [col_index[d] for d in deps if d in col_index]
        if not dep_idx:
            continue
        mask = (why[:, dep_idx] != "").any(axis=1) & df[rate].notna().to_numpy()
        if mask.any():
            shown = out[rate].astype(object)
            shown[mask] = secondary_marker
            out[rate] = shown
            suppressed[rate] = [DEPENDENT if m else "" for m in mask]
            used.add(DEPENDENT)
    footnotes = _footnotes(marker, secondary_marker, threshold, used)
    out.attrs = dict(df.attrs)
    out.attrs["suppressed"] = suppressed
    out.attrs["footnotes"] = list(footnotes)
    return out, footnotes
