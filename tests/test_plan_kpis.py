"""The plan's KPI and over-representation tables (``analysis.plan_kpis``), their sections (``document.kpi_section``)
and charts (``document.kpi_charts``): real computations on synthetic extracts, no mocks.

What is checked: the keys, columns and periods of ``kpi_summary``; that no published count from 1 to 4 is shown and
no child id reaches the JSON or the Markdown; the ten KPI names (with the reason for any left out); reference rows
of the relative rate index at 1; the JSON round trip of ``tracking_section`` giving the same Markdown; charts
byte-identical on a second run; sections without tables saying so; content escaped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis import disproportionality as dp
from pipeline.analysis import kpis, plan_kpis
from pipeline.analysis.disclosure import PRIMARY_MARKER, SECONDARY_MARKER, THRESHOLD
from pipeline.analysis.tracking.extract import ensure_extract
from pipeline.data.contracts import ValidationReport
from pipeline.data.dataset import load_area
from pipeline.document import kpi_charts, kpi_section, sections, tracking_section
from pipeline.synthetic import generate_extract

AS_OF = "2024-03-31"
START, END = "2019-04-01", "2024-03-31"
HIDDEN = (PRIMARY_MARKER, SECONDARY_MARKER)
POPULATION = 60000


@pytest.fixture(scope="module")
def definitions() -> pd.DataFrame:
    return kpis.load_kpi_definitions()


def _area_rows(table: str) -> pd.DataFrame:
    """The demonstration area's rows of a KPI 7/8 table, its latest edition."""
    t = kpis.load_kpi_table(table)
    t = t[t["area_id"] == "demoshire"]
    return t[t["edition"] == t["edition"].max()]


@pytest.fixture(scope="module")
def board() -> pd.DataFrame:
    return _area_rows(kpis.BOARD_TABLE)


@pytest.fixture(scope="module")
def wider() -> pd.DataFrame:
    return _area_rows(kpis.WIDER_TABLE)


@pytest.fixture(scope="module")
def extract() -> pd.DataFrame:
    return generate_extract(start=START, end=END, kpi_columns=True)


@pytest.fixture(scope="module")
def small_extract() -> pd.DataFrame:
    """A smaller service: more counts from 1 to 4, so more disclosure control."""
    return generate_extract(seed=7, start=START, end=END, scale=0.3, population=18000, kpi_columns=True)


def _summary(frame, definitions, board=None, wider=None, population=POPULATION, ethnic=True):
    scale = population / POPULATION
    pops = {g: n * scale for g, n in dp.census_populations("demoshire").items()} if ethnic else None
    return plan_kpis.kpi_summary(frame, as_of=AS_OF, population=population, board=board, wider=wider,
                                 definitions=definitions, ethnic_populations=pops)


@pytest.fixture(scope="module")
def summary(extract, definitions, board, wider) -> dict:
    return _summary(extract, definitions, board, wider)


def _plan(tmp_path: Path, tracking: dict | None, figures: str = "figures") -> sections.Plan:
    data = load_area("demoshire", report=ValidationReport())
    return sections.Plan(data=data, indicators=[], figures_dir=tmp_path / figures, build_date="2000-01-01", tracking=tracking)


def _tracking(frame: pd.DataFrame, tables: dict) -> dict:
    """A Local tracking summary as the build writes it, with the KPI tables merged into its tables."""
    out = tracking_section.tracking_summary(frame, ValidationReport(), POPULATION, AS_OF, "demoshire_extract_synthetic.csv",
                                            reoffending_polarity="lower_is_better")
    out["tables"].update(tables)
    return out


def _markdown(plan: sections.Plan) -> str:
    return kpi_section.kpi_performance(plan) + "\n" + kpi_section.over_represented(plan)


# --------------------------------------------------------------------------- the summary


def test_summary_keys_columns_and_plain_values(summary):
    assert tuple(summary) == plan_kpis.SUMMARY_KEYS
    assert list(summary["kpi_measures"].columns) == kpis.MEASURE_COLUMNS
    assert list(summary["kpi_changes"].columns) == kpis.CHANGE_COLUMNS
    assert list(summary["kpi_definitions"].columns) == plan_kpis.DEFINITION_COLUMNS
    assert list(summary["rri"].columns) == dp.RRI_COLUMNS
    assert len(summary["kpi_definitions"]) == 10
    for key in plan_kpis.SUMMARY_KEYS:
        value = summary[key]
        if isinstance(value, pd.DataFrame):
            assert set(value.attrs) <= set(tracking_section.PUBLIC_ATTRS), key
            assert not [c for c in value.columns if str(c).startswith("_")], key
            for col in value.columns:  # dates are ISO text
                assert not pd.api.types.is_datetime64_any_dtype(value[col]), (key, col)
                assert not value[col].map(lambda v: isinstance(v, pd.Timestamp)).any(), (key, col)
        else:
            assert isinstance(value, dict) and "columns" not in value, key  # not mistaken for a table by load_summary
            assert json.loads(json.dumps(value)) == value, key
    notes = summary["kpi_notes"]
    assert set(notes) >= {"national_comparison", "footnotes", "left_out"}
    assert notes["left_out"] == {} and notes["national_comparison"]
    assert set(summary["rri_notes"]) >= {"footnotes", "notes", "reference", "method"}
    assert summary["rri_notes"]["reference"] == {"ethnicity": "white", "sex": "male", "age_band": "15–17"}


def test_periods_are_the_three_years_ending_at_the_last_complete_one(extract, definitions):
    assert plan_kpis.summary_window("2024-05-10") == (pd.Timestamp("2021-04-01"), pd.Timestamp("2024-03-31"))
    assert plan_kpis.summary_window("2024-03-30") == (pd.Timestamp("2020-04-01"), pd.Timestamp("2023-03-31"))
    s = plan_kpis.kpi_summary(extract, as_of="2024-03-30", population=POPULATION, board=None, wider=None,
                              definitions=definitions, ethnic_populations=None)
    m = s["kpi_measures"]
    years = list(dict.fromkeys(m.loc[m["frequency"] == "annual", "period_label"]))
    assert years == ["Apr 2020 – Mar 2021", "Apr 2021 – Mar 2022", "Apr 2022 – Mar 2023"]
    assert m.loc[m["frequency"] == "quarterly", "period_label"].nunique() == 12
    assert list(dict.fromkeys(s["rri"]["period"])) == years == s["rri_notes"]["periods"]
    assert s["kpi_notes"]["latest_period"] == s["rri_notes"]["latest_period"] == years[-1]
    # without populations by ethnicity there is no rate per population, and the notes say so
    assert s["rri"].loc[s["rri"]["base_stage"] == dp.POPULATION, "rri"].isna().all()
    assert any("No 10–17 population by ethnicity" in n for n in s["rri_notes"]["notes"])


def _shown_numbers(series: pd.Series) -> pd.Series:
    values = series[~series.isin(HIDDEN)]
    return pd.to_numeric(values, errors="coerce").dropna()


@pytest.mark.parametrize("which", ["extract", "small_extract"])
def test_every_published_count_from_1_to_4_is_hidden(which, request, definitions, board, wider):
    frame = request.getfixturevalue(which)
    s = _summary(frame, definitions, board, wider, population=POPULATION if which == "extract" else 18000)
    small = lambda v: (v >= 1) & (v < THRESHOLD)  # noqa: E731
    m = s["kpi_measures"]
    for col in ("numerator", "denominator", "remainder"):
        counts = m[col] if col != "denominator" else m.loc[m["statistic"] != "rate", col]  # a rate's denominator: population
        assert not small(_shown_numbers(counts)).any(), col
    assert not small(_shown_numbers(s["kpi_changes"]["children"])).any()
    for col in ("numerator", "denominator", "remainder"):
        assert not small(_shown_numbers(s["kpi_wider"][col])).any(), col
    # against the unsuppressed counts (restricted use: tests only): every small count is a marker
    start, end = plan_kpis.summary_window(AS_OF)
    raw = kpis.kpi_counts(frame, definitions, start=start, end=end, population=POPULATION)
    assert len(raw) == len(m)
    for col in ("numerator", "remainder"):
        hit = small(pd.to_numeric(raw[col], errors="coerce")).to_numpy()
        assert m.loc[hit, col].isin(HIDDEN).all(), col
    if which == "small_extract":  # a small service: there was something to hide
        assert m[["numerator", "remainder"]].isin(HIDDEN).any().any()
    r = s["rri"]
    pop_base = r["base_stage"] == dp.POPULATION
    for col, rows in (("count", r.index), ("reference_count", r.index), ("base", r.index[~pop_base]),
                      ("reference_base", r.index[~pop_base])):
        assert not small(pd.to_numeric(r.loc[rows, col], errors="coerce").dropna()).any(), col
    shown = r["count_shown"].astype(str)
    assert not shown.isin([str(i) for i in range(1, THRESHOLD)]).any()
    assert (shown[r["count"].isna()].isin(HIDDEN)).all()
    assert shown.eq(PRIMARY_MARKER).any() or which == "extract"


def test_no_child_id_reaches_the_json_or_the_markdown(extract, summary, tmp_path):
    tracking = _tracking(extract, summary)
    path = tracking_section.write_summary(tracking, tmp_path / "tracking.json")
    text = path.read_text(encoding="utf-8") + _markdown(_plan(tmp_path, tracking))
    ids = set(extract["child_id"]) | set(extract["record_id"])
    assert len(ids) > 1000
    assert not [i for i in ids if i in text]
    assert not re.search(r"DEMO-[0-9A-Z]{7}", text)


def test_the_ten_kpis_are_named_with_their_figures(summary, tmp_path, definitions):
    md = kpi_section.kpi_performance(_plan(tmp_path, {"tables": summary}))
    plain = md.replace("\\", "")
    for name in definitions["name"]:
        assert name in plain, name
    assert md.startswith("# Key performance indicators {#sec-kpis}")
    assert "## Summary {#sec-kpis-summary}" in md and "{#tbl-kpis-summary}" in md
    assert "SYNTHETIC DEMONSTRATION DATA" in md and "::: {.callout-warning}" in md
    assert summary["kpi_notes"]["national_comparison"] in plain
    summary_rows = [line for line in md.split("{#tbl-kpis-summary}")[0].splitlines() if line.startswith("| ")][2:]
    assert len(summary_rows) == 10
    assert "![" in md and "fig-kpis.png" in md and "{#fig-kpis " in md
    for heading in ("sec-kpis-quarters", "sec-kpis-change", "sec-kpis-board", "sec-kpis-wider", "sec-kpis-definitions"):
        assert f"{{#{heading}}}" in md, heading
    assert not re.search(r"^#{3,} ", md, flags=re.M)  # sub-headings are level 2


def test_kpis_left_out_are_named_with_the_reason(definitions, tmp_path):
    frame = generate_extract(start=START, end=END)  # no KPI columns
    s = _summary(frame, definitions)
    assert s["kpi_measures"].empty and s["kpi_changes"].empty
    left = s["kpi_notes"]["left_out"]
    assert set(left) == set(definitions["kpi_id"])  # the eight from the extract, and KPIs 7 and 8 without their tables
    assert "no KPI columns" in left["kpi01_accommodation"]
    assert "data/kpi_board_attendance.csv" in left["kpi07_board_attendance"]
    md = kpi_section.kpi_performance(_plan(tmp_path, {"tables": s}))
    plain = md.replace("\\", "")
    assert "No case-management extract with the KPI columns was given for this edition" in md
    for name in definitions["name"]:
        assert name in plain, name
    assert plain.count("no KPI columns") == 8
    assert "data/kpi_wider_services.csv" in plain


def test_reference_rows_have_a_ratio_of_1(summary):
    r = summary["rri"]
    ref = r[r["group"] == r["reference_group"]]
    assert set(ref["by"]) == {"ethnicity", "sex", "age_band"}
    shown = ref[ref["rri"].notna()]
    assert len(shown) and (shown["rri"] == 1).all()
    assert ref["lower"].isna().all() and ref["upper"].isna().all()
    assert (ref["method"] == dp.METHOD_REFERENCE).all()
    for by in ("ethnicity", "sex", "age_band"):  # each breakdown has at least one stage with its reference at 1
        assert (shown["by"] == by).any(), by
    others = r[(r["group"] != r["reference_group"]) & r["lower"].notna()]
    assert (others["lower"] <= others["rri"]).all() and (others["rri"] <= others["upper"]).all()


def test_stage_counts_together_equals_three_calls(extract):
    periods = [(p.label, p.start, p.end) for p in kpis.kpi_periods("2021-04-01", "2024-03-31") if p.frequency == "annual"]
    together = plan_kpis.stage_counts_together(extract, periods)
    canonical = ensure_extract(extract)
    for by in ("ethnicity", "sex", "age_band"):
        direct = dp.stage_counts(canonical, by=by, periods=periods)
        pd.testing.assert_frame_equal(together[by], direct)
        assert together[by].attrs == direct.attrs


def test_care_status_is_a_breakdown_where_recorded(extract, definitions):
    frame = extract.copy()
    rng = np.random.default_rng(3)
    frame["care_status"] = np.where(rng.random(len(frame)) < 0.2, "looked_after", "not_looked_after")
    s = _summary(frame, definitions)
    assert s["rri_notes"]["reference"]["care_status"] == "not_looked_after"  # the largest group
    care = s["rri"][s["rri"]["by"] == "care_status"]
    assert set(care["group"]) == {"looked_after", "not_looked_after", "unknown"}


# --------------------------------------------------------------------------- round trip, charts, sections


def test_json_round_trip_gives_the_same_markdown_and_charts(extract, summary, tmp_path):
    tracking = _tracking(extract, summary)
    assert {"fte", "custody", *plan_kpis.SUMMARY_KEYS} <= set(tracking["tables"])
    before = _plan(tmp_path, tracking)
    md_before = _markdown(before)
    pngs = {f.path.name: f.path.read_bytes() for f in before.figures}
    assert set(pngs) == {"fig-kpis.png", "fig-rri-ethnicity.png", "fig-rri-sex.png", "fig-rri-age-band.png"}
    path = tracking_section.write_summary(tracking, tmp_path / "tracking.json")
    loaded = tracking_section.load_summary(str(path))
    for key in plan_kpis.SUMMARY_KEYS:
        assert type(loaded["tables"][key]) is type(summary[key]), key
    after = _plan(tmp_path, loaded)
    assert _markdown(after) == md_before
    assert {f.path.name: f.path.read_bytes() for f in after.figures} == pngs


def test_charts_are_byte_identical_on_a_second_run(summary, tmp_path):
    rri = summary["rri"]
    rows = rri[(rri["by"] == "ethnicity") & (rri["period"] == summary["rri_notes"]["latest_period"])]
    out = []
    for run in ("a", "b"):
        k = kpi_charts.kpi_chart(summary["kpi_measures"], summary["kpi_board"], tmp_path / run / "fig-kpis.png",
                                 "Demoshire (synthetic)", synthetic=True)
        r = kpi_charts.rri_chart(rows, tmp_path / run / "fig-rri-ethnicity.png", "Demoshire (synthetic)",
                                 by_words="ethnicity", period=summary["rri_notes"]["latest_period"], reference="white",
                                 stage_labels=kpi_section.STAGE_LABELS, group_label=kpi_section._group_label, synthetic=True)
        out.append((k, r))
    for first, second in zip(*out):
        assert first.path.read_bytes() == second.path.read_bytes()
        assert first.caption == second.caption and first.alt == second.alt
    k, r = out[0]
    drawn, left, _ = kpi_charts.kpi_chart_rows(summary["kpi_measures"], summary["kpi_board"])
    assert "Wilson" in k.caption and "0–100%" in k.caption
    assert all(f"{d['label']} {d['value']:.1f}%" in k.alt for d in drawn)
    assert "log scale" in r.caption and "suppressed" in r.caption and "left out" in r.caption
    fig = kpi_charts.draw_kpi_chart(drawn, "t", synthetic=True)
    gids = {a.get_gid() for a in fig.axes[0].get_children()}
    assert {"value", "interval", "value-label", "watermark"} <= gids
    assert fig.axes[0].get_xlim() == (0.0, 100.0)
    assert [d["kpi_number"] for d in drawn] == sorted(d["kpi_number"] for d in drawn) and 9 not in [d["kpi_number"] for d in drawn]
    rows_drawn, _ = kpi_charts.rri_chart_rows(rows, kpi_section.STAGE_LABELS, kpi_section._group_label)
    fig = kpi_charts.draw_rri_chart(rows_drawn, "t")
    assert fig.axes[0].get_xscale() == "log"
    assert "parity" in {a.get_gid() for a in fig.axes[0].get_children()}
    assert "watermark" not in {a.get_gid() for a in fig.axes[0].get_children()}


def test_sections_without_tables_say_so(extract, tmp_path):
    for tracking in (None, _tracking(extract, {})):
        plan = _plan(tmp_path, tracking)
        kpi_md, rri_md = kpi_section.kpi_performance(plan), kpi_section.over_represented(plan)
        assert kpi_md.startswith("# Key performance indicators {#sec-kpis}")
        assert "No case-management extract with the KPI columns was given for this edition" in kpi_md
        assert "`data/tracking.yml`" in kpi_md and "`data_contracts/case_extract.md`" in kpi_md
        assert rri_md.startswith("# Over-represented children {#sec-over-represented}")
        assert "No case-management extract was given for this edition" in rri_md
        assert "`data/tracking.yml`" in rri_md and "`data_contracts/case_extract.md`" in rri_md
        assert not plan.figures
        assert "SYNTHETIC DEMONSTRATION DATA" in kpi_md  # the demonstration area is synthetic


def test_content_and_data_strings_are_escaped(summary, tmp_path):
    plan = _plan(tmp_path, {"tables": summary})
    plan.data.content["over_represented_children"] = ("First <script>alert('x')</script> paragraph.\n\n"
                                                      "```{=html}\n<b>raw</b>\n```\n\n[click](javascript:alert(1))")
    md = kpi_section.over_represented(plan)
    head = md.split("## By ethnicity")[0]
    assert "<script>" not in md and "\\<script\\>" in head
    assert "{=html}" not in md and "\\{=html\\}" in head
    assert "<b>" not in md and "[click](" not in md and "\\[click\\]" in head  # no link: its brackets are escaped
    assert "First" in head and "paragraph." in head
    # a data string (a KPI name) with Markdown in it shows as typed
    tables = dict(summary)
    d = summary["kpi_definitions"].copy()
    d.loc[0, "name"] = "<script>x</script> **bold** {=html}"
    tables["kpi_definitions"] = d
    md = kpi_section.kpi_performance(_plan(tmp_path, {"tables": tables}))
    assert "<script>" not in md and "**bold**" not in md and "\\{=html\\}" in md
    # outside the figures' alt text, every '<' in the Markdown is escaped
    body = re.sub(r'fig-alt="[^"]*"', "", md + kpi_section.over_represented(plan))
    assert not re.search(r"(?<!\\)<", body)


def test_polarity_comes_from_the_definitions_never_defaulted(summary, tmp_path):
    md = kpi_section.kpi_performance(_plan(tmp_path, {"tables": summary}))
    assert "(higher is better)" in md
    tables = dict(summary)
    d = summary["kpi_definitions"].copy()
    d.loc[d["kpi_id"] == "kpi01_accommodation", "polarity"] = ""
    tables["kpi_definitions"] = d
    with pytest.raises(ValueError, match="no polarity"):
        kpi_section.kpi_performance(_plan(tmp_path, {"tables": tables}))
