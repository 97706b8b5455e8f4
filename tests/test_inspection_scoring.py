"""HM Inspectorate of Probation youth scoring rules, and the Oxfordshire 2020 inspection reproduced."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from pipeline.analysis import inspection
from pipeline.analysis.inspection import (
    RATING_SCORES,
    band_for_percentage,
    overall_rating_from_score,
    score_inspection,
    standard_rating_from_key_questions,
)


# --------------------------------------------------------------------------- bands


@pytest.mark.parametrize(
    "pct,band",
    [
        (0, "Inadequate"),
        (49, "Inadequate"),
        (49.9, "Inadequate"),
        (50, "Requires improvement"),
        (64, "Requires improvement"),
        (64.5, "Requires improvement"),  # thresholds apply to the exact value: 64.5 has not reached 65
        (65, "Good"),
        (79, "Good"),
        (79.9, "Good"),
        (80, "Outstanding"),
        (100, "Outstanding"),
    ],
)
def test_band_edges(pct, band):
    assert band_for_percentage(pct) == band


@pytest.mark.parametrize("pct", [-1, 100.5, None, float("nan"), "80%", True])
def test_band_rejects_values_that_are_not_percentages(pct):
    with pytest.raises(ValueError, match="pct must be a percentage from 0 to 100"):
        band_for_percentage(pct)


def test_rating_scores():
    assert RATING_SCORES == {"Inadequate": 0, "Requires improvement": 1, "Good": 2, "Outstanding": 3}


def test_standard_takes_the_lowest_band():
    # Annexe 2: "if we rate three key questions as 'Good' and one as 'Inadequate', the overall rating ... is 'Inadequate'"
    assert standard_rating_from_key_questions([70, 70, 70, 40]) == "Inadequate"
    assert standard_rating_from_key_questions([90, 67, 76]) == "Good"
    assert standard_rating_from_key_questions([100, 89, 85]) == "Outstanding"
    assert standard_rating_from_key_questions([95, 64]) == "Requires improvement"
    assert standard_rating_from_key_questions(iter([80])) == "Outstanding"
    with pytest.raises(ValueError, match="at least one key-question percentage"):
        standard_rating_from_key_questions([])
    with pytest.raises(ValueError, match="pct must be"):
        standard_rating_from_key_questions([90, None])


@pytest.mark.parametrize(
    "score,rating",
    [
        (0, "Inadequate"),
        (6, "Inadequate"),
        (7, "Requires improvement"),
        (18, "Requires improvement"),
        (19, "Good"),
        (28, "Good"),
        (30, "Good"),
        (31, "Outstanding"),
        (36, "Outstanding"),
        (28.0, "Good"),
    ],
)
def test_overall_bands(score, rating):
    assert overall_rating_from_score(score) == rating


@pytest.mark.parametrize("score", [-1, 37, 28.5, None, float("nan"), True])
def test_overall_rejects_scores_outside_the_range(score):
    with pytest.raises(ValueError, match="score must be a whole number from 0 to 36"):
        overall_rating_from_score(score)


# --------------------------------------------------------------------------- Oxfordshire 2020
# Figures typed from shared/seeds/001_180bddaeaa683fd4.txt (HM Inspectorate of Probation, "An inspection of
# youth offending services in Oxfordshire", 2020): the "Ratings" page near the top (score 28/36, overall
# 'Good', the 12 standard ratings) and "Annexe 2: Inspection results" (key-question % yes for domains 2
# and 3; domain 1 key questions carry no percentage; footnote 28 on standard 2.1).

OXFORDSHIRE_STANDARDS = [
    ("1", "1.1", "Governance and leadership", "Good"),
    ("1", "1.2", "Staff", "Good"),
    ("1", "1.3", "Partnerships and services", "Outstanding"),
    ("1", "1.4", "Information and facilities", "Good"),
    ("2", "2.1", "Assessment", "Good"),
    ("2", "2.2", "Planning", "Good"),
    ("2", "2.3", "Implementation and delivery", "Good"),
    ("2", "2.4", "Reviewing", "Good"),
    ("3", "3.1", "Assessment", "Good"),
    ("3", "3.2", "Planning", "Outstanding"),
    ("3", "3.3", "Implementation and delivery", "Outstanding"),
    ("3", "3.4", "Joint working", "Outstanding"),
]
FOOTNOTE_28 = (
    "Footnote 28: the score relating to keeping people safe was within five per cent of the rating boundary; "
    "we raised the overall rating for assessment to 'Good'."
)
# Domain 1 key questions (Annexe 2, "1. Organisational delivery"): no percentages published.
DOMAIN_1_QUESTIONS = {"1.1": 3, "1.2": 4, "1.3": 3, "1.4": 4}
# Annexe 2, "2. Court disposals" and "3. Out-of-court disposals": % yes for each key question.
OXFORDSHIRE_PCTS = {
    "2.1": [90, 67, 76],
    "2.2": [95, 65, 95],
    "2.3": [95, 65, 89],
    "2.4": [80, 73, 75],
    "3.1": [100, 69, 69],
    "3.2": [100, 89, 85],
    "3.3": [100, 89, 92],
    "3.4": [100, 100],
}


def oxfordshire_standards() -> list[dict]:
    return [
        {
            "standard_id": sid,
            "standard_name": name,
            "domain_id": domain,
            "published_rating": rating,
            "discretion_note": FOOTNOTE_28 if sid == "2.1" else None,
        }
        for domain, sid, name, rating in OXFORDSHIRE_STANDARDS
    ]


def oxfordshire_questions() -> list[dict]:
    rows = []
    for sid, n in DOMAIN_1_QUESTIONS.items():
        rows += [{"standard_id": sid, "question_id": f"{sid}.{i}", "pct_yes": None} for i in range(1, n + 1)]
    for sid, pcts in OXFORDSHIRE_PCTS.items():
        rows += [{"standard_id": sid, "question_id": f"{sid}.{i}", "pct_yes": p} for i, p in enumerate(pcts, 1)]
    return rows


def check_oxfordshire(score: inspection.InspectionScore) -> None:
    assert score.total_score == 28
    assert score.max_score == 36
    assert score.overall_rating == "Good"
    assert score.computed_score == 28 and score.computed_overall_rating == "Good"
    by_id = {s.standard_id: s for s in score.standards}
    assert list(by_id) == [sid for _, sid, _, _ in OXFORDSHIRE_STANDARDS]
    for _, sid, _, published in OXFORDSHIRE_STANDARDS:
        s = by_id[sid]
        assert s.published_rating == published
        assert s.rating_used == published
        assert s.score == RATING_SCORES[published]
        if sid.startswith("1."):
            assert s.computed_rating is None and s.agrees is None and s.lowest_pct is None
            assert s.basis == "published rating used as published (no key-question percentages published)"
        else:
            assert s.computed_rating == published, sid
            assert s.agrees is True
            assert s.lowest_pct == min(OXFORDSHIRE_PCTS[sid])
    assert by_id["2.1"].discretion_note == FOOTNOTE_28
    assert by_id["2.2"].discretion_note == ""
    assert by_id["2.2"].basis == "computed from key questions (lowest 65%), matches the published rating"
    assert [k.band for k in by_id["2.1"].key_questions] == ["Outstanding", "Good", "Good"]
    assert score.computed_standard_ids == ("2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4")
    assert score.published_only_standard_ids == ("1.1", "1.2", "1.3", "1.4")
    assert score.disagreeing_standard_ids == ()
    assert score.account == (
        "8 of 12 standards (2.1, 2.2, 2.3, 2.4, 3.1, 3.2, 3.3, 3.4) were rated from their key-question "
        "percentages (lowest band) and all agree with the published ratings. 4 standards (1.1, 1.2, 1.3, 1.4) "
        "have no complete key-question percentages, so the published rating is used as published. Total 28/36: Good."
    )


def test_oxfordshire_reproduced_from_dicts():
    check_oxfordshire(score_inspection(oxfordshire_standards(), oxfordshire_questions()))


def test_oxfordshire_reproduced_from_dataframes_with_numeric_ids():
    # read_csv turns "2.1" into 2.1 and 1 into 1 (int) or 1.0 (float); NaN marks an unpublished %
    standards = pd.DataFrame(oxfordshire_standards())
    standards["standard_id"] = standards["standard_id"].astype(float)
    standards["domain_id"] = standards["domain_id"].astype(float)
    questions = pd.DataFrame(oxfordshire_questions())
    questions["standard_id"] = questions["standard_id"].astype(float)
    questions["pct_yes"] = questions["pct_yes"].astype(float)
    score = score_inspection(standards, questions)
    check_oxfordshire(score)
    assert score.standards[0].domain_id == "1"


def test_project_data_reproduces_the_published_result():
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    st = pd.read_csv(data / "inspection_standards.csv")
    kq = pd.read_csv(data / "inspection_key_questions.csv")
    st = st[st["inspection_id"] == "oxfordshire_hmip_2020"]
    kq = kq[kq["inspection_id"] == "oxfordshire_hmip_2020"]
    score = score_inspection(st, kq)
    assert (score.total_score, score.max_score, score.overall_rating) == (28, 36, "Good")
    assert score.disagreeing_standard_ids == ()


def test_to_rows_gives_one_row_per_standard():
    score = score_inspection(oxfordshire_standards(), oxfordshire_questions())
    rows = score.to_rows()
    assert len(rows) == 12
    assert rows[4] == {
        "standard_id": "2.1",
        "standard_name": "Assessment",
        "domain_id": "2",
        "lowest_pct": 67.0,
        "computed_rating": "Good",
        "published_rating": "Good",
        "rating_used": "Good",
        "score": 2,
        "agrees": True,
        "basis": "computed from key questions (lowest 67%), matches the published rating",
        "discretion_note": FOOTNOTE_28,
    }
    assert pd.DataFrame(rows)["score"].sum() == 28


def test_results_are_frozen():
    score = score_inspection(oxfordshire_standards(), oxfordshire_questions())
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.total_score = 30  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.standards[0].rating_used = "Inadequate"  # type: ignore[misc]


# --------------------------------------------------------------------------- other cases


def test_published_rating_is_used_when_the_key_questions_disagree():
    standards = oxfordshire_standards()
    standards[4]["published_rating"] = "Good"
    questions = oxfordshire_questions()
    for q in questions:
        if q["question_id"] == "2.1.2":
            q["pct_yes"] = 62  # within five points of the boundary: the inspectorate raised it (discretion)
    score = score_inspection(standards, questions)
    s = score.standards[4]
    assert s.computed_rating == "Requires improvement" and s.rating_used == "Good" and s.agrees is False
    assert s.basis == "published rating used; the key questions (lowest 62%) give Requires improvement"
    assert score.total_score == 28 and score.computed_score == 27
    assert score.disagreeing_standard_ids == ("2.1",)
    assert "1 differ from the published rating (2.1); the published rating is used" in score.account
    assert score.account.endswith("Using the computed ratings where available would give 27/36: Good.")


def test_computed_rating_used_when_none_is_published():
    standards = oxfordshire_standards()
    standards[9]["published_rating"] = float("nan")
    score = score_inspection(standards, oxfordshire_questions())
    s = score.standards[9]
    assert s.published_rating is None and s.rating_used == "Outstanding" and s.agrees is None
    assert s.basis == "computed from key questions (lowest 85%); no published rating"
    assert score.total_score == 28


def test_partly_published_key_questions_are_not_computed():
    questions = [
        {"standard_id": "2.1", "question_id": "2.1.1", "pct_yes": 90},
        {"standard_id": "2.1", "question_id": "2.1.2", "pct_yes": None},
    ]
    standards = [{"standard_id": "2.1", "standard_name": "Assessment", "domain_id": "2", "published_rating": "Good"}]
    score = score_inspection(standards, questions)
    s = score.standards[0]
    assert s.computed_rating is None and s.rating_used == "Good"
    assert s.basis == "published rating used as published (only 1 of 2 key-question percentages published)"
    # one standard is not a whole inspection: no overall rating
    assert score.overall_rating is None and score.computed_overall_rating is None
    assert score.max_score == 3 and score.total_score == 2
    assert score.account == (
        "1 standard (2.1) has no complete key-question percentages, so the published rating is used as published. "
        "Total 2/3; no overall rating: the banding applies to 12 standards, 1 given."
    )


def test_every_standard_computed_and_blank_cells():
    standards = [
        {"standard_id": "2.1", "published_rating": "Good", "discretion_note": pd.NA},
        {"standard_id": "2.2", "published_rating": "Outstanding", "discretion_note": "  "},
    ]
    questions = [
        {"standard_id": "2.1", "question_id": "2.1.1", "pct_yes": 70},
        {"standard_id": "2.2", "question_id": "2.2.1", "pct_yes": "85"},
    ]
    score = score_inspection(standards, questions)
    assert score.published_only_standard_ids == ()
    assert score.account == (
        "2 of 2 standards (2.1, 2.2) were rated from their key-question percentages (lowest band) and all agree "
        "with the published ratings. Total 5/6; no overall rating: the banding applies to 12 standards, 2 given."
    )
    assert [s.discretion_note for s in score.standards] == ["", ""]
    for blank in (None, float("nan"), pd.NA, "", " "):
        q = [{"standard_id": "2.1", "question_id": "2.1.1", "pct_yes": blank}]
        s = score_inspection(standards[:1], q).standards[0]
        assert s.key_questions[0].pct_yes is None and s.key_questions[0].band is None and s.computed_rating is None


def test_standard_with_no_key_question_rows_uses_its_published_rating():
    score = score_inspection([{"standard_id": "1.1", "published_rating": "Good"}], [])
    assert score.standards[0].basis == "published rating used as published (no key-question percentages published)"
    assert score.standards[0].standard_name == "" and score.standards[0].discretion_note == ""


def test_input_errors_are_named():
    with pytest.raises(ValueError, match="standards must contain at least one standard"):
        score_inspection([], [])
    with pytest.raises(ValueError, match="standard_id repeated: 2.1"):
        score_inspection([{"standard_id": "2.1", "published_rating": "Good"}] * 2, [])
    with pytest.raises(ValueError, match="question 9.9.1 has standard_id '9.9', not in standards"):
        score_inspection(
            [{"standard_id": "2.1", "published_rating": "Good"}],
            [{"standard_id": "9.9", "question_id": "9.9.1", "pct_yes": 70}],
        )
    with pytest.raises(ValueError, match="standard 2.1: published_rating must be one of"):
        score_inspection([{"standard_id": "2.1", "published_rating": "Excellent"}], [])
    with pytest.raises(ValueError, match="standard 1.1: no published_rating and no key-question percentages"):
        score_inspection([{"standard_id": "1.1", "published_rating": None}], [])
    with pytest.raises(ValueError, match="pct must be a percentage from 0 to 100, got 120"):
        score_inspection(
            [{"standard_id": "2.1", "published_rating": "Good"}],
            [{"standard_id": "2.1", "question_id": "2.1.1", "pct_yes": 120}],
        )
