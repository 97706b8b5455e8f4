"""Disclosure control: primary suppression of 1–4, secondary suppression against totals, dependent rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.analysis.disclosure import suppress_table

HIDDEN = ("<5", "*")


def hidden(frame: pd.DataFrame, col: str) -> np.ndarray:
    return frame[col].astype(str).isin(HIDDEN).to_numpy()


def test_counts_one_to_four_are_suppressed_zero_and_five_are_shown():
    df = pd.DataFrame({"group": list("abcdef"), "n": [0, 1, 2, 4, 5, 120]})
    out, notes = suppress_table(df, ["n"])
    assert list(out["n"]) == [0, "<5", "<5", "<5", 5, 120]
    assert notes == ["<5: a count from 1 to 4 is not shown, to protect the children it describes (zero is shown)."]
    assert list(out.attrs["suppressed"]["n"]) == ["", "primary", "primary", "primary", "", ""]


def test_nothing_to_suppress_gives_no_footnotes_and_an_unchanged_table():
    df = pd.DataFrame({"group": ["a", "b", "Total"], "n": [10, 0, 10], "rate": [1.0, 0.0, 1.0]})
    out, notes = suppress_table(df, ["n"], total_row="Total", rate_columns=["rate"])
    assert notes == []
    pd.testing.assert_frame_equal(out, df)


def test_threshold_and_markers_are_parameters():
    df = pd.DataFrame({"g": ["a", "b", "c", "Total"], "n": [8, 30, 40, 78]})
    out, notes = suppress_table(df, ["n"], total_row="Total", threshold=10, marker="[c]", secondary_marker="[x]")
    assert list(out["n"]) == ["[c]", "[x]", 40, 78]
    assert notes[0].startswith("[c]: a count from 1 to 9") and notes[1].startswith("[x]: not shown")


def test_a_single_suppressed_cell_in_a_column_with_a_total_gets_a_partner():
    df = pd.DataFrame({"g": ["a", "b", "c", "Total"], "n": [3, 40, 12, 55]})
    out, notes = suppress_table(df, ["n"], total_row="Total")
    assert list(out["n"]) == ["<5", 40, "*", 55]  # the smallest other count is hidden, not the total
    assert any("worked out from the totals" in n for n in notes)


def test_secondary_prefers_positive_cells_over_zeros():
    df = pd.DataFrame({"g": ["a", "b", "c", "Total"], "n": [2, 0, 30, 32]})
    out, _ = suppress_table(df, ["n"], total_row="Total")
    assert list(out["n"]) == ["<5", 0, "*", 32]


def test_row_total_and_complement():
    # cohort of 12, 10 reoffended: the 2 who did not are hidden, and so must another cell of the row be
    df = pd.DataFrame({"cohort": ["q1"], "cohort_size": [12], "reoffenders": [10], "not_reoffended": [2], "rate": [83.3]})
    out, _ = suppress_table(df, ["reoffenders", "not_reoffended"], total_column="cohort_size", rate_columns={
        "rate": ["reoffenders", "not_reoffended", "cohort_size"]})
    assert out.loc[0, "not_reoffended"] == "<5"
    assert out.loc[0, "reoffenders"] == "*"  # the smaller inner cell, not the total
    assert out.loc[0, "cohort_size"] == 12
    assert out.loc[0, "rate"] == "*"


def test_rates_built_on_a_suppressed_count_are_suppressed():
    df = pd.DataFrame({"period": ["2017", "2018"], "fte": [3, 140], "population": [60000, 60000], "rate": [5.0, 233.3]})
    out, notes = suppress_table(df, ["fte"], rate_columns={"rate": ["fte"]})
    assert list(out["rate"]) == ["*", 233.3]
    assert list(out["population"]) == [60000, 60000]
    assert any("built on a suppressed count" in n for n in notes)


def test_list_of_rate_columns_depends_on_every_count():
    df = pd.DataFrame({"a": [10, 20], "b": [2, 30], "r": [0.5, 0.6]})
    out, _ = suppress_table(df, ["a", "b"], rate_columns=["r"])
    assert list(out["r"]) == ["*", 0.6]


def test_missing_cells_take_no_part():
    df = pd.DataFrame({"g": ["a", "b", "Total"], "n": [np.nan, 3, 3]})
    out, _ = suppress_table(df, ["n"], total_row="Total")
    assert pd.isna(out.loc[0, "n"]) and out.loc[1, "n"] == "<5" and out.loc[2, "n"] == "<5"


def test_total_row_must_exist_once():
    df = pd.DataFrame({"g": ["a", "b"], "n": [1, 2]})
    with pytest.raises(ValueError, match="total row"):
        suppress_table(df, ["n"], total_row="Total")
    with pytest.raises(KeyError):
        suppress_table(df, ["m"])


def test_two_way_table_with_margins_breaks_bridges():
    # rows: sex; columns: reoffended / not; margins both ways
    df = pd.DataFrame(
        {
            "group": ["Male", "Female", "Unknown", "Total"],
            "cohort_size": [60, 12, 3, 75],
            "reoffenders": [20, 3, 1, 24],
            "not_reoffended": [40, 9, 2, 51],
        }
    )
    out, _ = suppress_table(df, ["reoffenders", "not_reoffended"], total_row="Total", total_column="cohort_size",
                            label_column="group")
    assert_not_recoverable(df, out, ["reoffenders", "not_reoffended"], "cohort_size", total_row=3)


def test_original_frame_is_not_changed():
    df = pd.DataFrame({"g": ["a", "Total"], "n": [3, 3]})
    before = df.copy()
    suppress_table(df, ["n"], total_row="Total")
    pd.testing.assert_frame_equal(df, before)


# --------------------------------------------------------------------------- property: nothing recoverable


def assert_not_recoverable(original, out, parts, total_column=None, total_row=None):
    """No hidden count can be solved exactly from the shown cells and the sum constraints (linear algebra)."""
    cols = list(parts) + ([total_column] if total_column else [])
    values = original[cols].to_numpy(dtype=float)
    mask = np.column_stack([hidden(out, c) for c in cols])
    n_rows = len(original)
    unknown = {cell: k for k, cell in enumerate(zip(*np.nonzero(mask)))}
    if not unknown:
        return
    equations = []
    if total_row is not None:
        for j in range(len(cols)):
            eq = np.zeros(len(unknown))
            for i in range(n_rows):
                if (i, j) in unknown:
                    eq[unknown[(i, j)]] = -1.0 if i == total_row else 1.0
            equations.append(eq)
    if total_column is not None:
        t = len(cols) - 1
        for i in range(n_rows):
            eq = np.zeros(len(unknown))
            for j in range(len(cols)):
                if (i, j) in unknown:
                    eq[unknown[(i, j)]] = -1.0 if j == t else 1.0
            equations.append(eq)
    a = np.array(equations) if equations else np.zeros((0, len(unknown)))
    rank = np.linalg.matrix_rank(a) if len(a) else 0
    for cell, k in unknown.items():
        e = np.zeros(len(unknown))
        e[k] = 1.0
        assert np.linalg.matrix_rank(np.vstack([a, e])) > rank, f"cell {cell} (value {values[cell]}) can be worked out"


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 6))
    n_parts = draw(st.integers(1, 4))
    small = st.integers(0, 6)
    value = st.one_of(small, st.integers(0, 60))
    cells = np.array([[draw(value) for _ in range(n_parts)] for _ in range(n_rows)], dtype=np.int64)
    with_total_row = draw(st.booleans())
    with_total_col = draw(st.booleans())
    parts = [f"c{j}" for j in range(n_parts)]
    df = pd.DataFrame(cells, columns=parts)
    df.insert(0, "label", [f"r{i}" for i in range(n_rows)])
    if with_total_col:
        df["total"] = cells.sum(axis=1)
    if with_total_row:
        total = {"label": "Total", **{c: int(df[c].sum()) for c in df.columns if c != "label"}}
        df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["rate"] = df[parts[0]] / (df[parts].sum(axis=1).replace(0, np.nan))
    return df, parts, with_total_row, with_total_col


@settings(max_examples=150, deadline=None)
@given(tables())
def test_property_primary_secondary_and_dependent_rules(case):
    df, parts, with_total_row, with_total_col = case
    out, notes = suppress_table(
        df,
        parts,
        total_row="Total" if with_total_row else None,
        total_column="total" if with_total_col else None,
        label_column="label",
        rate_columns={"rate": parts + (["total"] if with_total_col else [])},
    )
    count_cols = parts + (["total"] if with_total_col else [])
    for c in count_cols:
        original = df[c].to_numpy()
        shown = out[c].to_numpy()
        for o, s in zip(original, shown):
            if 1 <= o <= 4:
                assert s == "<5"  # primary
            elif s not in HIDDEN:
                assert s == o  # shown values unchanged
            if o == 0 and s in HIDDEN:
                assert s == "*"  # zero is never a primary suppression
    any_hidden = np.column_stack([hidden(out, c) for c in count_cols]).any(axis=1)
    assert (hidden(out, "rate") == (any_hidden & df["rate"].notna().to_numpy())).all()
    assert bool(notes) == bool(np.column_stack([hidden(out, c) for c in count_cols + ["rate"]]).any())
    assert_not_recoverable(
        df,
        out,
        parts,
        "total" if with_total_col else None,
        len(df) - 1 if with_total_row else None,
    )


def test_output_survives_later_pandas_operations():
    df = pd.DataFrame({"g": ["a", "b", "Total"], "n": [3, 40, 43], "r": [1.0, 2.0, 3.0]})
    out, _ = suppress_table(df, ["n"], total_row="Total", rate_columns=["r"])
    both = pd.concat([out.astype(str), out.astype(str)])  # attrs are plain data pandas can compare
    assert len(both) == 6 and out.attrs["suppressed"]["r"] == ["dependent", "dependent", ""]
