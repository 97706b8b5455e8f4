"""Codes and column names of the case-management extract (``data_contracts/case_extract.md``).

These lists are the single Python copy of the codes in ``data_contracts/case_extract.json``;
``tests/test_case_extract_contract.py`` checks that the two agree.
"""

from __future__ import annotations

TABLE = "case_extract"

COLUMNS = (
    "record_id",
    "area_id",
    "child_id",
    "sex",
    "age_at_offence",
    "birth_month",
    "ethnicity",
    "offence_date",
    "outcome_date",
    "outcome_type",
    "disposal",
    "release_date",
    "offence_category",
    "gravity_score",
    "remand_status",
    "data_kind",
)
"""Columns of the format, in the documented order."""

OPTIONAL_COLUMNS = {
    "age_at_offence": "",
    "birth_month": "",
    "release_date": "",
    "remand_status": "",
    "data_kind": "case_management",
}
"""Columns an extract may leave out, with the value the loader fills in when it does."""

SEXES = ("male", "female", "unknown")
ETHNICITIES = ("white", "mixed", "asian", "black", "other", "unknown")

COMMUNITY_RESOLUTION = "community_resolution"
YOUTH_CAUTION = "youth_caution"
YOUTH_CONDITIONAL_CAUTION = "youth_conditional_caution"
COURT_DISPOSAL = "court_disposal"
OUTCOME_TYPES = (COMMUNITY_RESOLUTION, YOUTH_CAUTION, YOUTH_CONDITIONAL_CAUTION, COURT_DISPOSAL)
PROVEN_OUTCOMES = (YOUTH_CAUTION, YOUTH_CONDITIONAL_CAUTION, COURT_DISPOSAL)
"""Cautions and convictions: the outcomes that make a first-time entrant, an index event or a reoffence."""

CUSTODIAL_DISPOSALS = ("detention_and_training_order", "long_term_detention")
COURT_DISPOSALS = (
    "absolute_discharge",
    "conditional_discharge",
    "fine",
    "referral_order",
    "reparation_order",
    "youth_rehabilitation_order",
    *CUSTODIAL_DISPOSALS,
    "other_court",
)

OFFENCE_CATEGORIES = (
    "violence_against_the_person",
    "robbery",
    "sexual_offences",
    "burglary",
    "theft_and_handling",
    "vehicle_theft",
    "criminal_damage",
    "drugs",
    "public_order",
    "motoring",
    "breach",
    "fraud_and_forgery",
    "other",
)

REMAND_STATUSES = (
    "none",
    "unconditional_bail",
    "conditional_bail",
    "bail_supervision_support",
    "remand_local_authority",
    "remand_youth_detention",
)
"""Most restrictive bail or remand decision in the case, least to most restrictive."""
REMAND_ELIGIBLE = ("conditional_bail", "bail_supervision_support", "remand_local_authority", "remand_youth_detention")
"""'Conditional bail and above': the episodes the remand-to-custody share is taken of."""
REMAND_CUSTODY = "remand_youth_detention"

DATA_KINDS = ("case_management", "synthetic")

AGE_BANDS = ("10–14", "15–17")
MIN_AGE, MAX_AGE = 10, 17
GRAVITY_MIN, GRAVITY_MAX = 1, 8

LABELS = {
    "male": "Male",
    "female": "Female",
    "unknown": "Unknown",
    "white": "White",
    "mixed": "Mixed",
    "asian": "Asian or Asian British",
    "black": "Black or Black British",
    "other": "Other ethnic group",
}
"""Display labels for published tables (codes not listed are shown as they are)."""


def age_band(age: int) -> str:
    """The age band of an age at offence: 10–14 or 15–17."""
    return AGE_BANDS[0] if age <= 14 else AGE_BANDS[1]
