"""HM Inspectorate of Probation youth inspection scoring (rules of Annexe 2 of its reports).

In a youth offending service inspection each case-level standard has key questions, each with the
percentage of inspected cases judged sufficient. A key question is banded — under 50%
'Inadequate', 50–64% 'Requires improvement', 65–79% 'Good', 80% or more 'Outstanding' — and the
standard takes the lowest band of its key questions. The 12 standards score 0–3 each
(Inadequate 0 … Outstanding 3); the total, 0–36, is banded to the overall rating: 0–6
'Inadequate', 7–18 'Requires improvement', 19–30 'Good', 31–36 'Outstanding'.

Published percentages are whole numbers, so the annexe's bands leave gaps (64 → 65). Here the
thresholds are applied to the exact value: 50, 65 and 80 per cent are the lowest values of their
bands, so 64.5% is 'Requires improvement' and 79.9% is 'Good' (the case count has not reached the
next threshold).

Organisational-delivery standards (domain 1) are rated without published percentages, and the
inspectorate may use professional discretion near a boundary. So the score uses each standard's
published rating — the inspectorate's decision — and the ratings computed from key questions are
reported beside them as a check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

RATINGS = ("Inadequate", "Requires improvement", "Good", "Outstanding")
RATING_SCORES = {"Inadequate": 0, "Requires improvement": 1, "Good": 2, "Outstanding": 3}
"""Score of each standard's rating; the 12 scores add up to the inspection's total (0–36)."""

BAND_THRESHOLDS = ((80.0, "Outstanding"), (65.0, "Good"), (50.0, "Requires improvement"))
"""Lowest percentage of each band above 'Inadequate', highest band first (applied to the exact value)."""

OVERALL_BANDS = ((0, 6, "Inadequate"), (7, 18, "Requires improvement"), (19, 30, "Good"), (31, 36, "Outstanding"))
"""Total score ranges (inclusive) and the overall rating each gives, for an inspection of 12 standards."""

STANDARDS_IN_FRAMEWORK = 12
MAX_SCORE = 3 * STANDARDS_IN_FRAMEWORK


def _blank(value) -> bool:
    """Whether a cell is empty: None, NaN, pandas' NA or blank text."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(value != value)
    except TypeError:  # pandas.NA has no truth value
        return True


def _as_float(value) -> float | None:
    """A finite number as float, or None for anything else (None, NaN, text, booleans)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) or math.isinf(out) else out


def _text(value) -> str:
    """A cell as text: '' for an empty cell."""
    if _blank(value):
        return ""
    return str(value).strip()


def _id(value) -> str:
    """A standard or question id as text ('2.1'), whether read as a string or a number."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _text(value)


def band_for_percentage(pct) -> str:
    """The rating band of one key question's percentage of cases judged sufficient."""
    value = _as_float(pct)
    if value is None or not 0 <= value <= 100:
        raise ValueError(f"pct must be a percentage from 0 to 100, got {pct!r}")
    for threshold, band in BAND_THRESHOLDS:
        if value >= threshold:
            return band
    return "Inadequate"


def standard_rating_from_key_questions(pcts: Iterable) -> str:
    """A standard's rating: the lowest band among its key questions."""
    values = list(pcts)
    if not values:
        raise ValueError("pcts must contain at least one key-question percentage, got none")
    bands = [band_for_percentage(p) for p in values]
    return min(bands, key=RATING_SCORES.__getitem__)


def overall_rating_from_score(score) -> str:
    """The overall rating of a total score from 0 to 36."""
    number = _as_float(score)
    if number is None or number != math.floor(number):
        raise ValueError(f"score must be a whole number from 0 to {MAX_SCORE}, got {score!r}")
    value = int(number)
    for low, high, rating in OVERALL_BANDS:
        if low <= value <= high:
            return rating
    raise ValueError(f"score must be a whole number from 0 to {MAX_SCORE}, got {score!r}")


def _check_rating(value, where: str) -> str | None:
    text = _text(value)
    if not text:
        return None
    if text not in RATING_SCORES:
        raise ValueError(f"{where}: published_rating must be one of {', '.join(RATINGS)}; got {value!r}")
    return text


@dataclass(frozen=True)
class KeyQuestionScore:
    """One key question: its percentage and band (None when no percentage is published)."""

    question_id: str
    pct_yes: float | None
    band: str | None


@dataclass(frozen=True)
class StandardScore:
    """One standard: the rating computed from its key questions beside the published rating used in the score."""

    standard_id: str
    standard_name: str
    domain_id: str
    key_questions: tuple[KeyQuestionScore, ...]
    lowest_pct: float | None
    computed_rating: str | None
    published_rating: str | None
    rating_used: str
    score: int
    agrees: bool | None
    basis: str
    discretion_note: str = ""


@dataclass(frozen=True)
class InspectionScore:
    """An inspection scored by the inspectorate's rules, with an account of what was computed and what was taken as published."""

    standards: tuple[StandardScore, ...]
    total_score: int
    max_score: int
    overall_rating: str | None
    computed_score: int
    computed_overall_rating: str | None
    computed_standard_ids: tuple[str, ...]
    published_only_standard_ids: tuple[str, ...]
    disagreeing_standard_ids: tuple[str, ...]
    account: str

    def to_rows(self) -> list[dict]:
        """One row per standard, for a table."""
        return [
            {
                "standard_id": s.standard_id,
                "standard_name": s.standard_name,
                "domain_id": s.domain_id,
                "lowest_pct": s.lowest_pct,
                "computed_rating": s.computed_rating,
                "published_rating": s.published_rating,
                "rating_used": s.rating_used,
                "score": s.score,
                "agrees": s.agrees,
                "basis": s.basis,
                "discretion_note": s.discretion_note,
            }
            for s in self.standards
        ]


def _records(table) -> list[dict]:
    """Rows of a list of dicts or of a pandas DataFrame, as dicts."""
    if hasattr(table, "to_dict"):
        return list(table.to_dict("records"))
    return [dict(r) for r in table]


def _score_question(row: dict) -> KeyQuestionScore:
    pct = row.get("pct_yes")
    if _blank(pct):
        return KeyQuestionScore(_id(row.get("question_id")), None, None)
    band = band_for_percentage(pct)
    return KeyQuestionScore(_id(row.get("question_id")), float(pct), band)


def _score_standard(row: dict, questions: list[dict]) -> StandardScore:
    sid = _id(row.get("standard_id"))
    published = _check_rating(row.get("published_rating"), f"standard {sid}")
    kqs = tuple(_score_question(q) for q in questions)
    pcts = [k.pct_yes for k in kqs if k.pct_yes is not None]
    if kqs and len(pcts) == len(kqs):
        computed = standard_rating_from_key_questions(pcts)
        lowest = min(pcts)
        agrees = None if published is None else computed == published
    else:
        computed, lowest, agrees = None, None, None
    if published is not None:
        used = published
    elif computed is not None:
        used = computed
    else:
        raise ValueError(f"standard {sid}: no published_rating and no key-question percentages to compute one from")

    if computed is None:
        if not pcts:
            why = "no key-question percentages published"
        else:
            why = f"only {len(pcts)} of {len(kqs)} key-question percentages published"
        basis = f"published rating used as published ({why})"
    elif published is None:
        basis = f"computed from key questions (lowest {lowest:g}%); no published rating"
    elif agrees:
        basis = f"computed from key questions (lowest {lowest:g}%), matches the published rating"
    else:
        basis = f"published rating used; the key questions (lowest {lowest:g}%) give {computed}"
    return StandardScore(
        standard_id=sid,
        standard_name=_text(row.get("standard_name")),
        domain_id=_id(row.get("domain_id")),
        key_questions=kqs,
        lowest_pct=lowest,
        computed_rating=computed,
        published_rating=published,
        rating_used=used,
        score=RATING_SCORES[used],
        agrees=agrees,
        basis=basis,
        discretion_note=_text(row.get("discretion_note")),
    )


def _id_list(ids: tuple[str, ...]) -> str:
    return ", ".join(ids)


def score_inspection(standards, key_questions) -> InspectionScore:
    """Score an inspection from its standards and key questions (lists of dicts or DataFrames)."""
    rows = _records(standards)
    questions = _records(key_questions)
    if not rows:
        raise ValueError("standards must contain at least one standard, got none")
    by_standard: dict[str, list[dict]] = {}
    ids = [_id(r.get("standard_id")) for r in rows]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"standards: standard_id repeated: {', '.join(duplicates)}")
    for q in questions:
        sid = _id(q.get("standard_id"))
        if sid not in ids:
            raise ValueError(f"key_questions: question {_id(q.get('question_id'))} has standard_id {sid!r}, not in standards")
        by_standard.setdefault(sid, []).append(q)

    scored = tuple(_score_standard(r, by_standard.get(i, [])) for r, i in zip(rows, ids))
    total = sum(s.score for s in scored)
    computed_total = sum(RATING_SCORES[s.computed_rating or s.rating_used] for s in scored)
    max_score = 3 * len(scored)
    complete = len(scored) == STANDARDS_IN_FRAMEWORK
    overall = overall_rating_from_score(total) if complete else None
    computed_overall = overall_rating_from_score(computed_total) if complete else None
    computed_ids = tuple(s.standard_id for s in scored if s.computed_rating is not None)
    published_only = tuple(s.standard_id for s in scored if s.computed_rating is None)
    disagreeing = tuple(s.standard_id for s in scored if s.agrees is False)

    parts = []
    if computed_ids:
        agree_text = (
            "all agree with the published ratings"
            if not disagreeing
            else f"{len(disagreeing)} differ from the published rating ({_id_list(disagreeing)}); the published rating is used"
        )
        parts.append(
            f"{len(computed_ids)} of {len(scored)} standards ({_id_list(computed_ids)}) were rated from their "
            f"key-question percentages (lowest band) and {agree_text}."
        )
    if published_only:
        parts.append(
            f"{len(published_only)} standard{'s' if len(published_only) != 1 else ''} ({_id_list(published_only)}) "
            f"{'have' if len(published_only) != 1 else 'has'} no complete key-question percentages, so the published "
            f"rating is used as published."
        )
    if complete:
        parts.append(f"Total {total}/{max_score}: {overall}.")
        if computed_total != total:
            parts.append(f"Using the computed ratings where available would give {computed_total}/{max_score}: {computed_overall}.")
    else:
        parts.append(
            f"Total {total}/{max_score}; no overall rating: the banding applies to {STANDARDS_IN_FRAMEWORK} standards, "
            f"{len(scored)} given."
        )
    return InspectionScore(
        standards=scored,
        total_score=total,
        max_score=max_score,
        overall_rating=overall,
        computed_score=computed_total,
        computed_overall_rating=computed_overall,
        computed_standard_ids=computed_ids,
        published_only_standard_ids=published_only,
        disagreeing_standard_ids=disagreeing,
        account=" ".join(parts),
    )
