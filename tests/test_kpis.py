"""The ten YJB KPIs: definitions, the optional KPI columns of the extract, counts, intervals, suppression.

Known answers come from a hand-built 20-record extract (``hand_extract``) whose counts are worked out
in the comments below; a plain per-child loop (``reference_counts``, kept ONLY here) cross-checks the
vectorised computation on synthetic data.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from pipeline.analysis import kpis, stats
from pipeline.analysis.disclosure import PRIMARY_MARKER, SECONDARY_MARKER, THRESHOLD, suppress_table
from pipeline.analysis.tracking import canonical, codes, load_extract
from pipeline.analysis.tracking import kpi_columns as kc
from pipeline.data.contracts import load_suite
from pipeline.errors import DataContractError
from pipeline.synthetic import generate_extract, generate_many, to_csv_text

from test_case_extract_contract import edit, write  # the extract tests' CSV helpers

REPO = Path(__file__).resolve().parents[1]
FY_START, FY_END = "2023-04-01", "2024-03-31"
HIDDEN = (PRIMARY_MARKER, SECONDARY_MARKER)


@pytest.fixture(scope="module")
def definitions() -> pd.DataFrame:
    return kpis.load_kpi_definitions()


# --------------------------------------------------------------------------- the hand-built extract
#
# Twenty offence rows, area "testshire", financial year 2023/24 (Q1 Apr–Jun 2023 … Q4 Jan–Mar 2024).
# Interventions ending in the year (every type is in the scope of KPIs 1–5 and 10):
#   C01 court_order  end 2023-06-20 (Q1)      C05 court_order end 2023-11-30 (Q3)
#   C02 out_of_court end 2023-07-15 (Q2)      C06 release     end 2024-01-31 (Q4)
#   C03 out_of_court end 2023-08-30 (Q2)      C08 court_order end 2024-03-15 (Q4)
#   C04 prevention   end 2023-10-05 (Q3)      C09 out_of_court end 2023-05-20 (Q1) AND court_order end 2024-02-10 (Q4)
# Not counted: C07 custody and C16 court_order still open, C10 ends 2024-04-10 (after), C11 ended 2023-02-01 (before).
# Children with an intervention ending: the year 8 (C09 once, at its court order, which ended last);
# Q1 2 (C01, C09's diversion), Q2 2 (C02, C03), Q3 2 (C04, C05), Q4 3 (C06, C08, C09's court order): 9 ≠ 8.

Y, N, U = "yes", "no", "unknown"
# answers per intervention: accommodation (start, end), ETE (start, end, hours start, hours end), SEND (identified, plan),
# mental health (screened, need, offered, attended), substance misuse (same), OOCD completed, victims (consented,
# contacted, offered RJ, took part)
IV = {
    "C01": dict(acc=(Y, Y), ete=(N, Y, 5, 20), send=(Y, Y), mh=(Y, Y, Y, Y), sm=(Y, N, "", ""), oocd="", vic=(2, 2, 1, 1)),
    "C02": dict(acc=(Y, Y), ete=(Y, Y, 25, 25), send=(N, ""), mh=(Y, N, "", ""), sm=(Y, Y, Y, N), oocd=Y, vic=(1, 1, 1, 0)),
    "C03": dict(acc=(Y, ""), ete=(N, N, 0, 0), send=(U, ""), mh=(N, N, "", ""), sm=(N, N, "", ""), oocd=N, vic=(0, 0, 0, 0)),
    "C04": dict(acc=(N, Y), ete=(N, N, None, None), send=(Y, N), mh=(Y, Y, N, ""), sm=(Y, Y, Y, Y), oocd="", vic=(None,) * 4),
    "C05": dict(acc=(Y, N), ete=(Y, Y, 20, 25), send=(Y, U), mh=(Y, Y, Y, N), sm=(N, N, "", ""), oocd="", vic=(3, 2, 2, 1)),
    "C06": dict(acc=(N, N), ete=(N, U, 3, None), send=(N, ""), mh=(Y, Y, Y, Y), sm=(Y, Y, Y, Y), oocd="", vic=(1, 1, 0, 0)),
    "C07": dict(acc=(Y, ""), ete=(Y, "", 10, None), send=(N, ""), mh=(Y, N, "", ""), sm=(Y, N, "", ""), oocd="", vic=(1, 1, 1, 1)),
    "C08": dict(acc=(Y, Y), ete=(Y, N, 15, 0), send=(N, ""), mh=(Y, N, "", ""), sm=(Y, N, "", ""), oocd="", vic=(1, 0, 0, 0)),
    "C09a": dict(acc=(Y, Y), ete=(Y, Y, 10, 12), send=(N, ""), mh=(Y, N, "", ""), sm=(N, N, "", ""), oocd=Y, vic=(0, 0, 0, 0)),
    "C09b": dict(acc=(U, Y), ete=(N, Y, 6, 18), send=(Y, Y), mh=(N, Y, Y, N), sm=(Y, Y, N, ""), oocd="", vic=(2, 2, 1, 1)),
    "C10": dict(acc=(Y, Y), ete=(Y, Y, 20, 20), send=(N, ""), mh=(Y, N, "", ""), sm=(N, N, "", ""), oocd=Y, vic=(5, 5, 5, 5)),
    "C11": dict(acc=(N, N), ete=(N, N, 0, 0), send=(N, ""), mh=(N, N, "", ""), sm=(N, N, "", ""), oocd="", vic=(5, 5, 5, 5)),
    "C16": dict(acc=(Y, ""), ete=(Y, "", 20, None), send=(N, ""), mh=(N, N, "", ""), sm=(N, N, "", ""), oocd="", vic=(0, 0, 0, 0)),
}
# (record, child, intervention key or None, offence date, outcome date, outcome type, disposal, release, category, gravity,
#  intervention type, start, end)
ROWS = [
    ("R01", "C01", "C01", "2023-03-20", "2023-04-10", "court_disposal", "referral_order", "", "violence_against_the_person", 3,
     "court_order", "2023-04-10", "2023-06-20"),
    ("R02", "C01", "C01", "2023-03-25", "2023-04-10", "court_disposal", "referral_order", "", "violence_against_the_person", 4,
     "court_order", "2023-04-10", "2023-06-20"),
    ("R03", "C02", "C02", "2023-04-15", "2023-05-01", "youth_conditional_caution", "", "", "theft_and_handling", 2,
     "out_of_court", "2023-05-01", "2023-07-15"),
    ("R04", "C03", "C03", "2023-05-10", "2023-06-01", "youth_caution", "", "", "criminal_damage", 2, "out_of_court", "2023-06-01", "2023-08-30"),
    ("R05", "C04", "C04", "2023-06-10", "2023-07-01", "community_resolution", "", "", "public_order", 1, "prevention", "2023-07-01", "2023-10-05"),
    ("R06", "C05", "C05", "2023-01-20", "2023-03-01", "court_disposal", "youth_rehabilitation_order", "", "robbery", 6,
     "court_order", "2023-03-01", "2023-11-30"),
    ("R07", "C06", "C06", "2023-05-01", "2023-06-01", "court_disposal", "detention_and_training_order", "2023-09-01", "robbery", 6,
     "release", "2023-09-01", "2024-01-31"),
    ("R08", "C06", "C06", "2023-05-02", "2023-06-01", "court_disposal", "detention_and_training_order", "2023-09-01",
     "violence_against_the_person", 5, "release", "2023-09-01", "2024-01-31"),
    ("R09", "C07", "C07", "2023-08-20", "2023-10-01", "court_disposal", "detention_and_training_order", "", "burglary", 4,
     "custody", "2023-10-01", ""),
    ("R10", "C08", "C08", "2023-11-01", "2023-12-01", "court_disposal", "referral_order", "", "violence_against_the_person", 5,
     "court_order", "2023-12-01", "2024-03-15"),
    ("R11", "C09", "C09a", "2023-04-01", "2023-04-20", "youth_conditional_caution", "", "", "theft_and_handling", 2,
     "out_of_court", "2023-04-20", "2023-05-20"),
    ("R12", "C09", "C09b", "2023-10-01", "2023-11-01", "court_disposal", "youth_rehabilitation_order", "", "drugs", 5,
     "court_order", "2023-11-01", "2024-02-10"),
    ("R13", "C09", "C09b", "2023-10-02", "2023-11-01", "court_disposal", "youth_rehabilitation_order", "", "drugs", 6,
     "court_order", "2023-11-01", "2024-02-10"),
    ("R14", "C10", "C10", "2024-01-01", "2024-01-20", "youth_conditional_caution", "", "", "theft_and_handling", 2,
     "out_of_court", "2024-01-20", "2024-04-10"),
    ("R15", "C11", "C11", "2022-09-01", "2022-10-01", "court_disposal", "referral_order", "", "criminal_damage", 3,
     "court_order", "2022-10-01", "2023-02-01"),
    ("R16", "C12", None, "2023-07-01", "2023-08-01", "youth_caution", "", "", "robbery", 5, "", "", ""),
    ("R17", "C13", None, "2023-09-01", "2023-09-10", "community_resolution", "", "", "theft_and_handling", 1, "", "", ""),
    ("R18", "C14", None, "2023-12-01", "2024-01-05", "court_disposal", "fine", "", "motoring", 3, "", "", ""),
    ("R19", "C15", None, "2023-06-01", "2023-07-10", "court_disposal", "conditional_discharge", "", "violence_against_the_person", 5,
     "", "", ""),
    ("R20", "C16", "C16", "2024-02-01", "2024-02-20", "court_disposal", "referral_order", "", "public_order", 2,
     "court_order", "2024-02-20", ""),
]


def _cell(v) -> str:
    return "" if v is None else str(v)


def hand_rows() -> list[dict]:
    out = []
    for rec, child, key, off, outc, otype, disp, rel, cat, grav, itype, start, end in ROWS:
        row = {"record_id": rec, "area_id": "testshire", "child_id": child, "sex": "male", "age_at_offence": 15, "birth_month": "",
               "ethnicity": "white", "offence_date": off, "outcome_date": outc, "outcome_type": otype, "disposal": disp,
               "release_date": rel, "offence_category": cat, "gravity_score": grav, "remand_status": "", "data_kind": "case_management",
               "intervention_type": itype, "intervention_start_date": start, "intervention_end_date": end}
        v = IV.get(key) if key else None
        blank = {c: "" for c in kc.COLUMNS[3:]}
        if v:
            (acc0, acc1), (e0, e1, h0, h1), (s0, s1) = v["acc"], v["ete"], v["send"]
            blank.update(accommodation_suitable_start=acc0, accommodation_suitable_end=acc1, ete_suitable_start=e0, ete_suitable_end=e1,
                         ete_hours_start=_cell(h0), ete_hours_end=_cell(h1), send_identified=s0, send_formal_plan=s1,
                         oocd_completed=v["oocd"])
            for p in ("mh", "sm"):
                for col, val in zip(("screened", "need_identified", "intervention_offered", "intervention_attended"), v[p]):
                    blank[f"{p}_{col}"] = val
            for col, val in zip(kc.VICTIM_COLUMNS, v["vic"]):
                blank[col] = _cell(val)
        row.update(blank)
        out.append(row)
    return out


def hand_extract() -> pd.DataFrame:
    return canonical(pd.DataFrame(hand_rows()))


def hand_csv() -> str:
    frame = pd.DataFrame(hand_rows())
    return frame.to_csv(index=False, lineterminator="\n")


@pytest.fixture(scope="module")
def hand_counts(definitions) -> pd.DataFrame:
    return kpis.kpi_counts(hand_extract(), definitions, start=FY_START, end=FY_END, population=10000)


def get(counts, kpi, measure="headline", period="Apr 2023 – Mar 2024"):
    row = counts[(counts["kpi_id"] == kpi) & (counts["measure"] == measure) & (counts["period_label"] == period)]
    assert len(row) == 1, (kpi, measure, period)
    return row.iloc[0]


def nd(row) -> tuple:
    return (float(row["numerator"]), float(row["denominator"]))


Q1, Q2, Q3, Q4 = "Apr–Jun 2023", "Jul–Sep 2023", "Oct–Dec 2023", "Jan–Mar 2024"


# --------------------------------------------------------------------------- known answers, KPI by KPI


def test_periods_are_the_year_and_its_quarters():
    periods = kpis.kpi_periods(FY_START, FY_END)
    assert [(p.frequency, p.label) for p in periods] == [
        ("annual", "Apr 2023 – Mar 2024"), ("quarterly", Q1), ("quarterly", Q2), ("quarterly", Q3), ("quarterly", Q4)]
    assert [p.label for p in kpis.kpi_periods("2023-05-01", "2024-03-31")] == [Q2, Q3, Q4]  # no whole year, no Q1


def test_interventions_are_one_row_each():
    iv = kpis.interventions(hand_extract())
    # 13 interventions: C01 (2 rows), C02…C08, C09 twice, C10, C11, C16; rows without a type are none
    assert len(iv) == 13
    assert list(iv["first_row"][:2]) == [0, 2]


def test_kpi1_accommodation(hand_counts):
    # year: 8 children; suitable at the end C01 C02 C04 C08 C09 = 5; C03's end answer is blank: 5/8 = 62.5%
    row = get(hand_counts, "kpi01_accommodation")
    assert nd(row) == (5, 8) and row["remainder"] == 3 and row["value"] == pytest.approx(62.5)
    lo, hi = stats.wilson_limits(5, 8, 0.95)
    assert (row["lower"], row["upper"]) == pytest.approx((lo * 100, hi * 100))
    assert nd(get(hand_counts, "kpi01_accommodation", "recorded_end")) == (7, 8)  # all but C03
    # both ends recorded: C01 C02 C04 C05 C06 C08 (C09's start is 'unknown', C03's end blank) = 6; suitable at
    # the start C01 C02 C05 C08 = 4, at the end C01 C02 C04 C08 = 4
    assert nd(get(hand_counts, "kpi01_accommodation", "start_paired")) == (4, 6)
    assert nd(get(hand_counts, "kpi01_accommodation", "end_paired")) == (4, 6)
    # quarters: Q1 C01 C09(diversion) 2/2; Q2 C02 (C03 blank) 1/2; Q3 C04 (C05 no) 1/2; Q4 C08 C09 (C06 no) 2/3
    assert [nd(get(hand_counts, "kpi01_accommodation", period=q)) for q in (Q1, Q2, Q3, Q4)] == [(2, 2), (1, 2), (1, 2), (2, 3)]


def test_kpi1_unknown_left_out_of_the_denominator_is_a_data_change(definitions):
    revised = definitions.copy()
    revised.loc[revised["kpi_id"] == "kpi01_accommodation", "unknown_in_denominator"] = "no"
    counts = kpis.kpi_counts(hand_extract(), revised, start=FY_START, end=FY_END)
    assert nd(get(counts, "kpi01_accommodation")) == (5, 7)  # C03 (blank) is left out


def test_kpi1_start_versus_end_change(definitions):
    ch = kpis.kpi_changes(hand_extract(), definitions, start=FY_START, end=FY_END)
    row = ch[(ch["kpi_id"] == "kpi01_accommodation") & (ch["frequency"] == "annual")].iloc[0]
    # paired table: both C01 C02 C08 = 3, start only C05 = 1, end only C04 = 1, neither C06 = 1
    assert row["children"] == 6
    assert row["start_value"] == pytest.approx(400 / 6) and row["end_value"] == pytest.approx(400 / 6)
    assert row["change"] == pytest.approx(0) and row["p_value"] == pytest.approx(1.0) and row["assessment"] == "no change"


def test_kpi2_ete_with_hours_and_change(hand_counts, definitions):
    # year: suitable at the end C01 C02 C05 C09 = 4 of 8 (C06 'unknown' stays in the denominator)
    assert nd(get(hand_counts, "kpi02_ete")) == (4, 8)
    assert nd(get(hand_counts, "kpi02_ete", "recorded_end")) == (7, 8)
    # hours at both ends: C01 5→20, C02 25→25, C03 0→0, C05 20→25, C08 15→0, C09 6→18: means 71/6 and 88/6
    start, end = get(hand_counts, "kpi02_ete", "hours_start_mean"), get(hand_counts, "kpi02_ete", "hours_end_mean")
    assert start["denominator"] == 6 and start["value"] == pytest.approx(71 / 6) and end["value"] == pytest.approx(88 / 6)
    # paired (7: all but C06): both C02 C05 = 2, start only C08 = 1, end only C01 C09 = 2, neither C03 C04 = 2
    ch = kpis.kpi_changes(hand_extract(), definitions, start=FY_START, end=FY_END)
    row = ch[(ch["kpi_id"] == "kpi02_ete") & (ch["frequency"] == "annual")].iloc[0]
    assert row["children"] == 7
    assert row["change"] == pytest.approx(100 / 7)  # 3/7 → 4/7
    assert row["p_value"] == pytest.approx(sps.binomtest(2, 3, 0.5).pvalue)  # = 1
    assert row["assessment"] == "improvement"


def test_kpi3_send(hand_counts):
    # SEND identified: C01 C04 C05 C09 = 4 of 8; a formal plan: C01 C09 = 2 of 4; plan recorded: C01 C04 C09 = 3 of 4
    assert nd(get(hand_counts, "kpi03_send")) == (2, 4)
    assert nd(get(hand_counts, "kpi03_send", "send_identified")) == (4, 8)
    assert nd(get(hand_counts, "kpi03_send", "plan_recorded")) == (3, 4)


def test_kpi4_mental_health(hand_counts):
    # screened C01 C02 C04 C05 C06 C08 = 6; need C01 C04 C05 C06 C09 = 5 of 8;
    # offered (of need) C01 C05 C06 C09 = 4 of 5; attended (of offered) C01 C06 = 2 of 4
    assert nd(get(hand_counts, "kpi04_mental_health")) == (5, 8)
    assert nd(get(hand_counts, "kpi04_mental_health", "screened")) == (6, 8)
    assert nd(get(hand_counts, "kpi04_mental_health", "offered")) == (4, 5)
    assert nd(get(hand_counts, "kpi04_mental_health", "attended")) == (2, 4)


def test_kpi5_substance_misuse(hand_counts):
    # screened C01 C02 C04 C06 C08 C09 = 6; need C02 C04 C06 C09 = 4 of 8; offered C02 C04 C06 = 3 of 4; attended C04 C06 = 2 of 3
    assert nd(get(hand_counts, "kpi05_substance_misuse")) == (4, 8)
    assert nd(get(hand_counts, "kpi05_substance_misuse", "screened")) == (6, 8)
    assert nd(get(hand_counts, "kpi05_substance_misuse", "offered")) == (3, 4)
    assert nd(get(hand_counts, "kpi05_substance_misuse", "attended")) == (2, 3)


def test_kpi6_out_of_court(hand_counts):
    # out-of-court interventions ending: C02 (yes), C03 (no), C09's diversion (yes): 2 of 3; C10 ends after the year
    assert nd(get(hand_counts, "kpi06_out_of_court")) == (2, 3)
    assert [nd(get(hand_counts, "kpi06_out_of_court", period=q)) for q in (Q1, Q2, Q3, Q4)] == [(1, 1), (1, 2), (0, 0), (0, 0)]


def test_kpi9_serious_violence(hand_counts):
    # convictions for drugs, robbery or violence with gravity >= 5 in the year: C06 (Q1), C15 (Q2, a discharge),
    # C08 and C09 (Q3, two offences: once) = 4 children; C05's is dated before the year, C12's is a caution,
    # C01's gravity is 4. Rate per 10,000 of a population of 10,000: 4.0
    row = get(hand_counts, "kpi09_serious_violence")
    assert row["numerator"] == 4 and row["value"] == pytest.approx(4.0)
    est = stats.rate_estimate(4, 10000, multiplier=10000)
    assert (row["lower"], row["upper"]) == pytest.approx((est.lower, est.upper))
    assert [get(hand_counts, "kpi09_serious_violence", period=q)["numerator"] for q in (Q1, Q2, Q3, Q4)] == [1, 1, 2, 0]


def test_kpi9_rule_is_data(definitions):
    revised = definitions.copy()
    revised.loc[revised["kpi_id"] == "kpi09_serious_violence", "min_gravity_score"] = 6.0
    counts = kpis.kpi_counts(hand_extract(), revised, start=FY_START, end=FY_END, population=10000)
    assert get(counts, "kpi09_serious_violence")["numerator"] == 2  # C06 (robbery 6) and C09 (drugs 6)


def test_kpi10_victims(hand_counts):
    # every intervention ending in the year (C09 twice): consented 2+1+0+0+3+1+1+0+2 = 10, contacted 8, offered RJ 5,
    # took part 3 -> 3/10; participated of offered 3/5
    assert nd(get(hand_counts, "kpi10_victims")) == (3, 10)
    assert nd(get(hand_counts, "kpi10_victims", "contacted")) == (8, 10)
    assert nd(get(hand_counts, "kpi10_victims", "offered_rj")) == (5, 10)
    assert nd(get(hand_counts, "kpi10_victims", "participated_of_offered")) == (3, 5)


def test_kpi7_board_attendance_and_kpi8_wider_services(definitions):
    all_board = kpis.load_kpi_table(kpis.BOARD_TABLE)
    # every edition's period is its own headline; the checks below use one edition's rows
    assert (kpis.board_attendance_kpi(all_board, definitions)["measure"] == "headline").sum() == all_board["edition"].nunique()
    board = all_board[all_board["edition"] == "2019-20"].reset_index(drop=True)
    wider = kpis.load_kpi_table(kpis.WIDER_TABLE)
    wider = wider[wider["edition"] == "2019-20"].reset_index(drop=True)
    b = kpis.board_attendance_kpi(board, definitions)
    total = b[b["measure"] == "headline"].iloc[0]
    assert total["numerator"] == board["meetings_attended"].sum() and total["denominator"] == board["meetings_held"].sum()
    w = kpis.wider_services_kpi(wider, definitions, suppress=False)
    assert (w["denominator"] == wider["cohort"].iloc[0]).all()
    published = kpis.wider_services_kpi(wider, definitions)
    small = wider["children"].between(1, THRESHOLD - 1).to_numpy()
    assert (published.loc[small, "numerator"] == PRIMARY_MARKER).all()
    # a hidden count is never alone: another cell of the same constraint (its remainder or the cohort) is hidden too
    for i in np.flatnonzero(small):
        assert published.loc[i, "remainder"] in HIDDEN or published.loc[i, "denominator"] in HIDDEN


def test_headline_flags_and_national_statement(hand_counts, definitions):
    heads = hand_counts[hand_counts["headline"]]
    assert set(heads["measure"]) == {"headline"}
    text = kpis.national_comparison_statement(definitions)
    assert "not yet suitable for decision-making" in text


# --------------------------------------------------------------------------- statistics


def test_wilson_interval_equals_the_stats_module():
    counts = np.array([0, 1, 4, 5, 37, 100])
    dens = np.array([10, 10, 8, 5, 120, 100])
    lo, hi = kpis.wilson_interval(counts, dens, 0.95)
    for c, d, l, h in zip(counts, dens, lo, hi):
        est = stats.proportion_estimate(c, d, multiplier=1)
        assert (l, h) == pytest.approx((est.lower, est.upper), abs=1e-12)


@pytest.mark.parametrize("table", [(3, 1, 1, 1), (2, 1, 2, 2), (40, 3, 12, 20), (0, 0, 5, 0), (10, 0, 0, 10)])
def test_paired_change_vectorised_equals_scalar_and_mcnemar(table):
    ch = kpis.paired_proportion_change(*table, polarity="higher_is_better")
    arr = kpis.paired_change_arrays(*[[x] for x in table], level=0.95)
    assert arr["change"][0] == pytest.approx(ch.absolute) and arr["lower"][0] == pytest.approx(ch.lower)
    assert arr["upper"][0] == pytest.approx(ch.upper) and arr["p_value"][0] == pytest.approx(ch.p_value)
    a, b, c, d = table
    expected = 1.0 if b + c == 0 else sps.binomtest(c, b + c, 0.5).pvalue
    assert ch.p_value == pytest.approx(expected)
    assert ch.lower <= ch.absolute <= ch.upper


def test_paired_change_needs_a_polarity():
    with pytest.raises(TypeError):
        kpis.paired_proportion_change(1, 2, 3, 4)  # polarity has no default


# --------------------------------------------------------------------------- disclosure control


def test_every_published_count_from_1_to_4_is_hidden_and_values_follow(definitions):
    pub = kpis.publish_kpis(hand_extract(), definitions, start=FY_START, end=FY_END, population=10000)
    m = pub.measures
    assert set(m["kpi_id"]) == {"kpi01_accommodation", "kpi02_ete", "kpi03_send", "kpi04_mental_health", "kpi05_substance_misuse",
                                "kpi06_out_of_court", "kpi09_serious_violence", "kpi10_victims"}
    for col in ("numerator", "denominator", "remainder"):
        counts = m[col].where(m["statistic"] != "rate") if col == "denominator" else m[col]  # a rate's denominator is a population
        shown = pd.to_numeric(counts.where(~counts.isin(HIDDEN)), errors="coerce")
        assert not shown.between(1, THRESHOLD - 1).any(), col
    hidden = m[["numerator", "denominator", "remainder"]].isin(HIDDEN).any(axis=1)
    assert (m.loc[hidden & m["value"].notna(), "value"] == SECONDARY_MARKER).all()
    assert (m.loc[hidden & m["lower"].notna(), "lower"] == SECONDARY_MARKER).all()
    # no measure shows two of numerator, denominator and remainder while hiding the third
    parts = m[m["statistic"] == "proportion"][["numerator", "denominator", "remainder"]].isin(HIDDEN)
    assert not (parts.sum(axis=1) == 1).any()
    # the changes are built on hidden counts: nothing of them is shown
    ch = pub.changes
    assert (ch.loc[ch["children"].astype(str) != "0", "change"].isin(HIDDEN) | ch["change"].isna()).all()
    assert PRIMARY_MARKER in "".join(pub.footnotes) and pub.national_comparison in pub.footnotes


def _check_no_recovery(pub, raw):
    """Independent checks of the published table against the unsuppressed one."""
    m = pub.measures.reset_index(drop=True)
    r = raw.reset_index(drop=True)
    assert len(m) == len(r)
    for col in ("numerator", "denominator", "remainder"):
        counts = m[col].where(m["statistic"] != "rate") if col == "denominator" else m[col]
        hidden = counts.isin(HIDDEN)
        small = r[col].between(1, THRESHOLD - 1) & (m["statistic"] != "rate" if col == "denominator" else True)
        assert hidden[small].all(), col  # every count from 1 to 4 is hidden
        shown = ~hidden & counts.notna()
        assert (pd.to_numeric(counts[shown]) == r.loc[shown, col]).all()
    parts = m[m["statistic"] == "proportion"][["numerator", "denominator", "remainder"]].isin(HIDDEN)
    assert not (parts.sum(axis=1) == 1).any()
    # the count of children with an intervention ending is hidden in every KPI of the same scope once in one
    ending = m[m["measure"].isin(["recorded_end", "send_identified", "screened"]) & (m["kpi_id"] != "kpi06_out_of_court")]
    for (area, period), g in ending.groupby(["area_id", "period_label"]):
        hidden = g["denominator"].isin(HIDDEN)
        assert hidden.all() or not hidden.any(), (area, period)
    # a year that is the sum of its quarters does not give away a single hidden quarter
    for (kpi, measure, area), g in r.groupby(["kpi_id", "measure", "area_id"]):
        for col in ("numerator", "remainder"):
            years = g[g["frequency"] == "annual"]
            for _, y in years.iterrows():
                q = g[(g["frequency"] == "quarterly") & (g["period_start"] >= y["period_start"]) & (g["period_end"] <= y["period_end"])]
                if len(q) != 4 or pd.isna(y[col]) or y[col] != q[col].sum():
                    continue
                idx = [y.name, *q.index]
                assert m.loc[idx, col].isin(HIDDEN).sum() != 1, (kpi, measure, area, col, y["period_label"])


def test_suppression_on_synthetic_areas_cannot_be_undone(definitions):
    extract = pd.concat(list(generate_many(n_areas=3, rows_target=3000, seed=11, kpi_columns=True)), ignore_index=True)
    pop = {a: 20000 for a in extract["area_id"].unique()}
    pub = kpis.publish_kpis(extract, definitions, start="2015-04-01", end="2019-03-31", population=pop)
    raw = kpis.kpi_counts(extract, definitions, start="2015-04-01", end="2019-03-31", population=pop)
    _check_no_recovery(pub, raw)
    assert pub.data_kind == "synthetic" and pub.footnotes[0].startswith("SYNTHETIC")


def test_suppress_linked_agrees_with_suppress_table_on_a_total_column():
    rng = np.random.default_rng(5)
    for _ in range(200):
        parts = rng.integers(0, 12, size=(1, 3))
        values = np.concatenate([parts.ravel(), [parts.sum()]]).astype(float)
        frame = pd.DataFrame({"a": [parts[0, 0]], "b": [parts[0, 1]], "c": [parts[0, 2]], "total": [parts.sum()]})
        out, _ = suppress_table(frame, ["a", "b", "c"], total_column="total")
        expected = [str(out[c].iloc[0]) in HIDDEN for c in ("a", "b", "c", "total")]
        why = kpis.suppress_linked(values, [(3, [0, 1, 2])], margins={3})
        assert [bool(w) for w in why] == expected, values


def test_suppress_linked_chain_and_forced_cells():
    # ending 10 = recorded 7 + not recorded 3; recorded 7 = yes 5 + no 2
    why = kpis.suppress_linked([10, 7, 3, 5, 2], [(0, [1, 2]), (1, [3, 4])], margins={0, 1})
    assert why[2] == "primary" and why[4] == "primary"
    # 3 and 2 hidden: 7 = 5 + 2 gives the 2 unless 5 or 7 goes too; 10 = 7 + 3 gives the 3 unless 7 or 10 goes
    assert why[1] == "secondary" or (why[3] and why[0])
    # 10 hidden elsewhere: with 3 hidden too, 10 = 7 + 3 no longer gives either away, so 7 stays shown
    forced = kpis.suppress_linked([10, 7, 3], [(0, [1, 2])], forced=[0])
    assert list(forced) == ["secondary", "", "primary"]
    # shown elsewhere, 10 would give the 3 away: 7 goes too
    assert list(kpis.suppress_linked([10, 7, 3], [(0, [1, 2])], margins={0})) == ["", "secondary", "primary"]


# --------------------------------------------------------------------------- reference loop (tests only)


def reference_counts(extract: pd.DataFrame, definitions: pd.DataFrame, start, end) -> dict:
    """A plain per-child loop over periods: {(area, kpi, measure, period label): (numerator, denominator)}."""
    defs = {r["kpi_id"]: r for _, r in definitions.iterrows()}
    periods = kpis.kpi_periods(start, end)
    ivs = {}
    for _, row in extract.iterrows():
        if not row["intervention_type"]:
            continue
        key = (row["area_id"], row["child_id"], row["intervention_type"], row["intervention_start_date"])
        ivs.setdefault(key, row)  # the first row of each intervention
    out = {}
    order = list(kc.INTERVENTION_TYPES)
    for kpi_id, d in defs.items():
        if d["data_source"] != "extract" or kpi_id == "kpi09_serious_violence":
            continue
        scope = set(str(d["scope_intervention_types"]).split("|"))
        for p in periods:
            ending = [iv for iv in ivs.values() if iv["intervention_type"] in scope and pd.notna(iv["intervention_end_date"])
                      and p.start <= iv["intervention_end_date"] <= p.end]
            if kpi_id == "kpi10_victims":  # victims, not children: every intervention adds its own
                for area in {iv["area_id"] for iv in ending}:
                    mine = [iv for iv in ending if iv["area_id"] == area]
                    s = {c: sum(0 if pd.isna(iv[c]) else iv[c] for iv in mine) for c in kc.VICTIM_COLUMNS}
                    out[(area, kpi_id, "headline", p.label)] = (s["victims_participated_rj"], s["victims_consented_contact"])
                continue
            last = {}
            for iv in ending:
                k = (iv["area_id"], iv["child_id"])
                rank = (iv["intervention_end_date"], iv["intervention_start_date"], order.index(iv["intervention_type"]))
                if k not in last or rank > last[k][0]:
                    last[k] = (rank, iv)
            by_area = {}
            for (area, _), (_, iv) in last.items():
                by_area.setdefault(area, []).append(iv)
            for area, chosen in by_area.items():
                n = len(chosen)
                if kpi_id in ("kpi01_accommodation", "kpi02_ete", "kpi06_out_of_court"):
                    col = {"kpi01_accommodation": "accommodation_suitable_end", "kpi02_ete": "ete_suitable_end",
                           "kpi06_out_of_court": "oocd_completed"}[kpi_id]
                    yes = sum(iv[col] == "yes" for iv in chosen)
                    rec = sum(iv[col] in ("yes", "no") for iv in chosen)
                    out[(area, kpi_id, "headline", p.label)] = (yes, n if d["unknown_in_denominator"] == "yes" else rec)
                    out[(area, kpi_id, "recorded_end", p.label)] = (rec, n)
                elif kpi_id == "kpi03_send":
                    send = [iv for iv in chosen if iv["send_identified"] == "yes"]
                    out[(area, kpi_id, "headline", p.label)] = (sum(iv["send_formal_plan"] == "yes" for iv in send), len(send))
                else:
                    pre = "mh" if kpi_id == "kpi04_mental_health" else "sm"
                    need = [iv for iv in chosen if iv[f"{pre}_need_identified"] == "yes"]
                    offered = [iv for iv in need if iv[f"{pre}_intervention_offered"] == "yes"]
                    out[(area, kpi_id, "headline", p.label)] = (len(need), n)
                    out[(area, kpi_id, "offered", p.label)] = (len(offered), len(need))
                    out[(area, kpi_id, "attended", p.label)] = (sum(iv[f"{pre}_intervention_attended"] == "yes" for iv in offered), len(offered))
    # serious violence
    d = defs["kpi09_serious_violence"]
    cats = set(d["offence_categories"].split("|"))
    for p in periods:
        seen = {}
        for _, row in extract.iterrows():
            if (row["outcome_type"] in d["outcome_types"].split("|") and row["offence_category"] in cats
                    and row["gravity_score"] >= d["min_gravity_score"] and p.start <= row["outcome_date"] <= p.end):
                seen.setdefault(row["area_id"], set()).add(row["child_id"])
        for area, kids in seen.items():
            out[(area, "kpi09_serious_violence", "headline", p.label)] = (len(kids), None)
    return out


def test_vectorised_equals_reference_loop(definitions, hand_counts):
    extract = pd.concat(list(generate_many(n_areas=2, rows_target=1500, seed=3, kpi_columns=True)), ignore_index=True)
    extract = canonical(extract)
    for frame, start, end in ((extract, "2016-04-01", "2019-03-31"), (hand_extract(), FY_START, FY_END)):
        pop = {a: 10000 for a in frame["area_id"].unique()}
        counts = kpis.kpi_counts(frame, definitions, start=start, end=end, population=pop)
        ref = reference_counts(frame, definitions, start, end)
        assert ref
        checked = 0
        for (area, kpi, measure, label), (num, den) in ref.items():
            if area is None:
                continue
            row = counts[(counts["area_id"] == area) & (counts["kpi_id"] == kpi) & (counts["measure"] == measure) & (counts["period_label"] == label)]
            assert len(row) == 1
            assert row["numerator"].iloc[0] == num, (area, kpi, measure, label)
            if den is not None:
                assert row["denominator"].iloc[0] == den, (area, kpi, measure, label)
            checked += 1
        assert checked > 50


# --------------------------------------------------------------------------- definitions and tables


def test_definitions_table_has_the_ten_kpis_with_sources(definitions):
    assert list(definitions["kpi_number"]) == list(range(1, 11))
    assert set(definitions["confirmed"]) <= {"yes", "no"}
    assert (definitions["source_url"].str.startswith("https://")).all()
    assert (definitions.loc[definitions["confirmed"] == "no", "confirmation_note"].str.contains("NOT CONFIRMED")).all()
    assert set(definitions["kpi_id"]) - {"kpi07_board_attendance", "kpi08_wider_services"} == set(kpis.KPI_SPECS)
    assert (definitions["has_start_end_change"] == "yes").sum() == 2


def test_definitions_contract_rejects_a_bad_row(tmp_path):
    text = (REPO / "data" / "kpi_definitions.csv").read_text(encoding="utf-8")
    bad = text.replace("kpi01_accommodation,1,", "kpi01_accommodation,11,", 1)
    path = tmp_path / "kpi_definitions.csv"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataContractError, match="kpi_number"):
        kpis.load_kpi_definitions(path)


def test_new_suites_follow_the_conventions():
    for name in ("case_extract_kpi", "kpi_definitions", "kpi_board_attendance", "kpi_wider_services"):
        doc = json.loads((REPO / "data_contracts" / f"{name}.json").read_text(encoding="utf-8"))
        assert doc["name"] == name
        for exp in doc["expectations"]:
            assert exp["severity"] in ("critical", "warning", "info") and len(exp["meta"]["description"]) > 20
            assert exp["meta"]["stage"] in ("raw", "typed")
    suite = load_suite("case_extract_kpi")
    assert suite.column_names == list(kc.COLUMNS)
    doc = json.loads((REPO / "data_contracts" / "case_extract_kpi.json").read_text(encoding="utf-8"))
    sets = {e["kwargs"]["column"]: set(e["kwargs"]["value_set"]) for e in doc["expectations"] if e["type"] == "expect_column_values_to_be_in_set"
            and isinstance(e["kwargs"].get("value_set"), list) and e["kwargs"]["column"] in kc.COLUMNS}
    assert sets["intervention_type"] == set(kc.INTERVENTION_TYPES) | {""}
    for col in kc.YES_NO_COLUMNS:
        assert sets[col] == set(kc.YES_NO) | {""}


# --------------------------------------------------------------------------- the extract contract's KPI columns


@pytest.fixture(scope="module")
def kpi_text() -> str:
    return hand_csv()


def test_extract_without_kpi_columns_is_checked_as_before(tmp_path):
    suite = load_suite(codes.TABLE)
    assert kc.extend_suite(suite, list(codes.COLUMNS)) is suite
    frame, report = load_extract(write(tmp_path, to_csv_text(generate_extract(seed=31, scale=0.05))))
    assert report.ok and not report.warnings
    assert list(frame.columns) == list(codes.COLUMNS)
    assert not any(o.column in kc.COLUMNS for o in report.outcomes)


def test_extract_with_kpi_columns_loads(tmp_path, kpi_text):
    frame, report = load_extract(write(tmp_path, kpi_text), area_id="testshire", as_of="2024-06-30")
    assert report.ok and not report.warnings, report.to_frame().query("status != 'passed'")
    assert list(frame.columns) == list(codes.COLUMNS) + list(kc.COLUMNS)
    assert frame["intervention_end_date"].dtype == "datetime64[ns]" and frame["victims_contacted"].dtype == "float64"
    pd.testing.assert_frame_equal(frame, hand_extract(), check_dtype=False, check_like=False)


def _fails(tmp_path, text, match, **kw):
    with pytest.raises(DataContractError) as err:
        load_extract(write(tmp_path, text), **kw)
    assert match in str(err.value), str(err.value)
    return str(err.value)


def test_kpi_bad_date_is_rejected_with_line_and_column(tmp_path, kpi_text):
    message = _fails(tmp_path, edit(kpi_text, 3, "intervention_end_date", "2023-06-31"), "intervention_end_date")
    assert "line 3" in message and "YYYY-MM-DD" in message


def test_kpi_end_before_start_is_rejected(tmp_path, kpi_text):
    text = edit(edit(kpi_text, 2, "intervention_end_date", "2023-04-01"), 3, "intervention_end_date", "2023-04-01")
    _fails(tmp_path, text, "intervention_end_date must not be before intervention_start_date")


def test_kpi_unknown_code_lists_the_allowed_values(tmp_path, kpi_text):
    message = _fails(tmp_path, edit(kpi_text, 4, "accommodation_suitable_end", "maybe"), "yes, no, unknown")
    assert "line 4" in message and "accommodation_suitable_end" in message
    _fails(tmp_path, edit(kpi_text, 4, "intervention_type", "bail"), "prevention, out_of_court, court_order, custody, release")


def test_kpi_details_need_a_type_and_a_start(tmp_path, kpi_text):
    _fails(tmp_path, edit(kpi_text, 17, "accommodation_suitable_end", "yes"), "intervention_type is blank")
    _fails(tmp_path, edit(kpi_text, 17, "intervention_type", "out_of_court"), "intervention_start_date must not be blank")


def test_kpi_victim_counts_must_nest(tmp_path, kpi_text):
    _fails(tmp_path, edit(edit(kpi_text, 2, "victims_participated_rj", "3"), 3, "victims_participated_rj", "3"),
           "victims_participated_rj must not exceed victims_offered_rj")


def test_kpi_dates_after_as_of_are_rejected(tmp_path, kpi_text):
    _fails(tmp_path, kpi_text, "after the date the extract was taken", as_of="2024-03-31")  # C10 ends 2024-04-10


@pytest.mark.parametrize(
    "column, value, what",
    [
        ("accommodation_suitable_end", "Alex Smith", "a name"),
        ("intervention_start_date", "2005-04-03", "a full date of birth"),
        ("ete_suitable_end", "OX1 1AA", "a postcode"),
    ],
)
def test_identifiers_in_kpi_columns_are_rejected_without_repeating_them(tmp_path, kpi_text, column, value, what):
    message = _fails(tmp_path, edit(kpi_text, 5, column, value), f"column '{column}' is rejected")
    assert what in message and value not in message


def test_identifier_named_column_beside_kpi_columns_is_rejected(tmp_path, kpi_text):
    lines = kpi_text.rstrip("\n").split("\n")
    text = "\n".join([lines[0] + ",caseworker_name"] + [ln + ",x" for ln in lines[1:]]) + "\n"
    _fails(tmp_path, text, "its name looks like a name")


def test_kpi_column_names_do_not_look_like_identifiers():
    import re

    from pipeline.analysis.tracking.extract import _normalise_header

    rules = load_suite(codes.TABLE).meta["direct_identifiers"]["header_rules"]
    for col in kc.COLUMNS:
        header = _normalise_header(col)
        assert not any(re.search(r["pattern"], header) or re.search(r["pattern"], header.replace("_", "")) for r in rules), col


# --------------------------------------------------------------------------- synthetic data

#: sha256 of to_csv_text(generate_extract()) computed with the generator BEFORE the KPI columns were added.
EXISTING_COLUMNS_SHA256 = "9ccaeb3690b8fe0a36a0e671574e8d57c614223a6cb49d14414c807bedabc7b3"


def test_kpi_columns_leave_every_existing_column_byte_identical():
    with_kpi = generate_extract(kpi_columns=True)
    assert list(with_kpi.columns) == list(codes.COLUMNS) + list(kc.COLUMNS)
    text = to_csv_text(with_kpi[list(codes.COLUMNS)])
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == EXISTING_COLUMNS_SHA256
    assert hashlib.sha256(to_csv_text(generate_extract()).encode("utf-8")).hexdigest() == EXISTING_COLUMNS_SHA256
    pd.testing.assert_frame_equal(generate_extract(kpi_columns=True), with_kpi)  # deterministic


def test_synthetic_kpi_extract_passes_its_contract(tmp_path):
    frame = generate_extract(seed=8, scale=0.3, kpi_columns=True)
    loaded, report = load_extract(write(tmp_path, to_csv_text(frame), "kpi_synthetic.csv"), area_id="demoshire", as_of="2019-03-31")
    assert report.ok and not report.warnings, report.to_frame().query("status != 'passed'")
    assert set(loaded["intervention_type"]) == set(kc.INTERVENTION_TYPES) | {""}


def test_synthetic_shares_are_near_the_assumed_ones(definitions):
    from pipeline.synthetic import KPI_SHARES

    frame = generate_extract(seed=20181, scale=5, kpi_columns=True)
    counts = kpis.kpi_counts(frame, definitions, start="2016-04-01", end="2019-03-31")
    annual = counts[(counts["frequency"] == "annual") & (counts["area_id"] == "demoshire")]
    send = annual[(annual["kpi_id"] == "kpi03_send") & (annual["measure"] == "send_identified")]
    share = send["numerator"].sum() / send["denominator"].sum()
    assert share == pytest.approx(KPI_SHARES["send_identified"], abs=0.03)
    oocd = annual[(annual["kpi_id"] == "kpi06_out_of_court") & (annual["measure"] == "headline")]
    assert oocd["numerator"].sum() / oocd["denominator"].sum() == pytest.approx(KPI_SHARES["oocd_completed"], abs=0.04)


# --------------------------------------------------------------------------- benchmark script (not timed)


def test_benchmark_script_prints_its_table(capsys):
    import importlib.util

    path = REPO / "bench" / "kpi_bench.py"
    spec = importlib.util.spec_from_file_location("kpi_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--rows", "3000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "kpi_counts" in out and "publish_kpis" in out and "seconds" in out


def _exactly_derivable(values: np.ndarray, A: np.ndarray, hidden: np.ndarray) -> list[int]:
    """Hidden cells whose value the relations A @ values == 0 fix, given every shown cell (a brute-force check:
    a cell is fixed when its unit vector lies in the row space of A restricted to the hidden cells)."""
    sub = A[:, hidden]
    out = []
    for k, cell in enumerate(hidden):
        e = np.zeros(hidden.size)
        e[k] = 1
        x, *_ = np.linalg.lstsq(sub.T, e, rcond=None)
        if np.allclose(sub.T @ x, e, atol=1e-9):
            out.append(int(cell))
    return out


def test_secondary_suppression_hides_quarters_before_their_year():
    """KPI 6 of the synthetic 2023/24 year: the 'not recorded' counts of every quarter are 1 or 2. Protecting them
    needs the quarters' 'recorded' counts only; the year's headline (170 of 195) and every other cell stay shown.
    (Protecting one quarter at a time used to hide the year and the whole headline.)"""
    cells = ["ending", "yes", "not_yes", "recorded", "not_recorded", "no"]
    values = np.array([[195, 170, 25, 188, 7, 18], [64, 58, 6, 62, 2, 4], [46, 40, 6, 44, 2, 4], [48, 41, 7, 47, 1, 6],
                       [42, 36, 6, 40, 2, 4]], dtype=float).ravel()
    n, width = values.size, len(cells)
    rows = []
    for period in range(5):
        for total, a, b in ((0, 1, 2), (0, 3, 4)):
            r = np.zeros(n)
            r[period * width + total], r[period * width + a], r[period * width + b] = 1, -1, -1
            rows.append(r)
    for column in (2, 4, 5):  # the year is the sum of its quarters for these cells (as in the data)
        r = np.zeros(n)
        r[column] = 1
        r[[q * width + column for q in range(1, 5)]] = -1
        rows.append(r)
    A = np.array(rows)
    margins = {p * width for p in range(5)} | set(range(width))
    why = kpis.suppress_linked(values, A, margins=margins)
    hidden = np.flatnonzero(why != "")
    assert _exactly_derivable(values, A, hidden) == []
    shown = {(p, cells[c]) for p in range(5) for c in range(width) if not why[p * width + c]}
    assert {(0, "ending"), (0, "yes"), (0, "not_yes"), (0, "recorded"), (0, "not_recorded")} <= shown
    assert {(q, "yes") for q in range(1, 5)} <= shown
    assert sorted(cells[c % width] for c in hidden if why[c] == "secondary") == ["recorded"] * 4
