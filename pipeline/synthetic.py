"""Synthetic case-management extracts for demonstration and scale tests. NOT REAL DATA.

No real record-level data is in the repository. ``generate_extract`` simulates the youth
justice careers of the children of a fictional area, "Demoshire (synthetic)", and writes them
in the documented extract format (``data_contracts/case_extract.md``). It is calibrated (at
``scale=1.0``, ``population=60000``) to the aggregates Oxfordshire published for 2017/18
(``shared/seeds/000_f1cbd793753f05a1.txt`` sections 6.1–6.2):

* about 234 children with a substantive outcome (caution or conviction) in a year,
* about 145 first-time entrants in a year (240 per 100,000 of a 10–17 population of 60,000),
* 18% of offenders female (and a smaller share of offences), about 24% of offences committed
  by children aged 14 and under,
* offence mix violence 35%, criminal damage 13%, theft 11%, the rest spread over other groups,
* a proven reoffending rate of about 37%,
* about 167 court sentences a year of which about 9 custodial; about 12 remands to custody out
  of 77 episodes of conditional bail or above.

The ethnic mix of that calibration (``ETHNICITY_WEIGHTS``) and the shares of the optional KPI columns
(``KPI_SHARES``) are assumptions, not cited figures.

Profiles: what is cited and what is assumed
-------------------------------------------
``generate_extract(..., profile=name)`` recalibrates part of the model to a named entry of :data:`PROFILES`;
``profile=None`` (the default) is the calibration above, unchanged byte for byte, so existing plans and their
golden figures do not move. The data remain SYNTHETIC either way: fictional children of a fictional area whose
shares are set to national figures; nothing in them describes any real child or any real area.

``profile="current"`` (2022/23–2023/24; used for Demoshire's 2024/25 edition, April 2019 to March 2024):

* CITED (each number carries its source, section and the figure as published next to it in the code): the
  ethnic mix of children reaching a caution or conviction — White 72% of those cautioned or convicted, and Black
  10% of ARRESTS used as the Black share at entry (2023/24; Mayor of London Violence Reduction Unit, "Racial
  disproportionality in violence affecting children and young people");
  the ethnic mix of the youth custody population — Black 24% (26% in 2022/23) and Mixed 18% of the average monthly
  custodial population in 2023/24 (Youth Endowment Fund, "Beyond the headlines 2024", Disproportionality); the
  direction of the remand disparity (YJB: ethnic minority children are more likely than White children to be
  remanded to custody). No stored copy of Youth Justice Statistics 2023/24 (YJB / Ministry of Justice) could be
  read, so these national figures come from secondary sources (the passages read do not name the table they
  take them from). The Black and Mixed shares of the 10–17 population (6% each) are those of
  ``data/populations_ethnicity.csv``.
* ASSUMED (labelled "assumption, not a cited figure" in the code): the Mixed (9%), Asian (7%) and Other (2%)
  shares at entry and the 2.5% whose ethnicity is not recorded; that the arrest share stands for the entry
  share; the custody shares of White, Asian and Other children (the remaining 58%, split as at entry); that
  custody-population shares apply to custodial sentences; that remands differ by ethnicity as much as custody;
  EVERY KPI share (``KPI_SHARES``): the YJB's quality and methodology note for the new KPIs (12 June 2025) calls
  its 2023/24 national figures illustrative and not yet suitable for decision-making, and they could not be read;
  and everything else in the model (the Oxfordshire 2017/18 calibration above: volumes, offences, outcomes).

How it is applied (vectorised, deterministic for a seed): the ethnicity of each child is drawn from the profile's
shares instead of ``ETHNICITY_WEIGHTS``; the probability that a court sentence is custodial, and the weight of a
remand to youth detention accommodation among a court case's bail and remand statuses (the statuses of
conditional bail and above keep their total), are multiplied by a per-ethnicity factor, the group's custody share
over its entry share (Black 2.4, Mixed 2.0, White, Asian and Other about 0.72, not recorded 1: mean 1 at entry, so the
overall custody and remand rates stay as calibrated). The relative rate index
(``pipeline.analysis.disproportionality``) then shows Black and Mixed children over-represented at first entry
(about 1.6 times the White rate, against Census 2021 shares) and more so at the custody and remand stages.

Every frame carries ``data_kind == "synthetic"`` in a column and in ``attrs``; every file
written here has a name ending ``_synthetic``. Plans built from it show the warning of
``pipeline.document.wording.SYNTHETIC_TEXT`` on every page (the renderers take it from the document metadata).

The simulation is a simple career model run for all children at once (numpy, one loop step per
outcome occasion, never per row): children enter at a steady rate with a first offence; each
occasion is dealt with by a community resolution, caution, conditional caution or court; after
each proven outcome (or release from custody) the child offends again with a probability that
depends on their risk, sex and history, until they stop, turn 18 or the extract ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis.tracking import codes
from .analysis.tracking import kpi_columns as kpi_codes

DEMO_AREA_ID = "demoshire"
DEMO_AREA_NAME = "Demoshire (synthetic)"
DEMO_FILE_NAME = "demoshire_case_extract_synthetic.csv"
SYNTHETIC_WATERMARK = "SYNTHETIC DATA — NOT REAL CHILDREN"
DATA_KIND = "synthetic"

_EPOCH = np.datetime64("1970-01-01", "D")

# --------------------------------------------------------------------------- calibration
FTE_PER_YEAR = 145.0
COMMUNITY_ONLY_PER_YEAR = 210.0
PRIOR_CR_SHARE = 0.35
FEMALE_SHARE = 0.22
BURN_IN_DAYS = 730  # careers start up to two years before the extract does, so it opens in a steady state
FIRST_AGE_WEIGHTS = np.array([1.5, 2.5, 5, 8, 13, 20, 25.5, 24.5])  # ages 10..17 at first offence
ETHNICITY_WEIGHTS = {"white": 0.77, "mixed": 0.085, "asian": 0.06, "black": 0.05, "other": 0.01, "unknown": 0.025}
OFFENCE_MIX = {
    "violence_against_the_person": 0.35,
    "criminal_damage": 0.13,
    "theft_and_handling": 0.11,
    "drugs": 0.09,
    "public_order": 0.08,
    "motoring": 0.06,
    "burglary": 0.04,
    "breach": 0.04,
    "robbery": 0.03,
    "vehicle_theft": 0.025,
    "sexual_offences": 0.015,
    "fraud_and_forgery": 0.01,
    "other": 0.04,
}
FEMALE_OFFENCE_MIX = {**OFFENCE_MIX, "violence_against_the_person": 0.40, "theft_and_handling": 0.17, "burglary": 0.02,
                      "motoring": 0.02, "robbery": 0.015, "vehicle_theft": 0.01, "sexual_offences": 0.0}
CR_OFFENCE_MIX = {"violence_against_the_person": 0.30, "theft_and_handling": 0.25, "criminal_damage": 0.20,
                  "drugs": 0.15, "public_order": 0.10}
GRAVITY = {  # (most common score, spread)
    "violence_against_the_person": (3, 1), "robbery": (6, 1), "sexual_offences": (5, 2), "burglary": (4, 1),
    "theft_and_handling": (2, 1), "vehicle_theft": (3, 1), "criminal_damage": (2, 1), "drugs": (2, 1),
    "public_order": (2, 1), "motoring": (3, 1), "breach": (3, 1), "fraud_and_forgery": (3, 1), "other": (2, 1),
}
OUTCOME_BY_OCCASION = [  # P(youth caution, conditional caution, court) for the 1st, 2nd, 3rd+ proven occasion
    (0.40, 0.19, 0.41),
    (0.12, 0.24, 0.64),
    (0.02, 0.08, 0.90),
]
FIRST_COURT = {"referral_order": 0.58, "youth_rehabilitation_order": 0.08, "fine": 0.08, "conditional_discharge": 0.12,
               "absolute_discharge": 0.03, "reparation_order": 0.04, "other_court": 0.07}
LATER_COURT = {"youth_rehabilitation_order": 0.40, "referral_order": 0.16, "fine": 0.11, "conditional_discharge": 0.12,
               "absolute_discharge": 0.02, "reparation_order": 0.05, "other_court": 0.14}
REMAND_WEIGHTS = {"none": 0.22, "unconditional_bail": 0.34, "conditional_bail": 0.32, "bail_supervision_support": 0.04,
                  "remand_local_authority": 0.03, "remand_youth_detention": 0.05}
RISK_BETA = {"male": (3.8, 1.7), "female": (1.5, 3.5)}
RISK_GROWTH = 0.22  # each further occasion raises the chance of another by this share
RISK_CAP = 0.9
GAP_SHAPE, GAP_SCALE = 1.1, 120.0  # days from an outcome (or release) to the next offence
LONG_GAP_SHARE, LONG_GAP_SHAPE, LONG_GAP_SCALE = 0.5, 2.0, 260.0  # some return only after a year or more
DTO_MONTHS = np.array([4, 6, 8, 10, 12, 18, 24])
DTO_WEIGHTS = np.array([0.25, 0.2, 0.15, 0.1, 0.15, 0.1, 0.05])

# --------------------------------------------------------------------------- profiles
#
# A profile recalibrates some of the shares above to national figures of a period (``generate_extract(...,
# profile=name)``); ``profile=None`` keeps the calibration above, byte for byte. Each number below is either
# CITED (document, section, the figure as published) or marked "assumption, not a cited figure".
#
# Sources as read (stored copies of public pages). The primary publication, Youth Justice Statistics 2023/24
# (YJB / Ministry of Justice), could not be read itself: no stored copy of its text was found, only press
# summaries of it. The ethnicity figures are therefore taken from secondary sources reporting national figures for
# 2022/23–2023/24 (the passages read do not name the table they take them from), named with each number; the
# primary tables should replace them before any real use.
SOURCE_VRU = (
    "Mayor of London Violence Reduction Unit, 'Racial disproportionality in violence affecting children and young "
    "people', section 'The current state of disproportionality' "
    "(https://fightingknifecrime.london/report/racial-disproportionality-in-violence-affecting-children-and-young-people)"
)
SOURCE_YEF = (
    "Youth Endowment Fund, 'Beyond the headlines 2024', core indicator 'Disproportionality: proportion of children in "
    "custody who are Black', section 'What does our core indicator show?' (last updated March 2024, reviewed April "
    "2025; https://youthendowmentfund.org.uk/reports/beyond-the-headlines-2024/disproportionality)"
)
SOURCE_YJB_DISPARITY = (
    "Youth Justice Board, 'Stephen Lawrence Day: we need to recognise the drivers for disparity' (GOV.UK news story, "
    "as mirrored by govwire.co.uk), section 'What does the wider evidence tell us?'"
)
SOURCE_KPI_QMI = (
    "Youth Justice Board, 'Quality and methodology information for new KPIs' (GOV.UK, published 12 June 2025; "
    "https://www.gov.uk/government/publications/quality-and-methodology-information-for-new-kpis)"
)

#: Profile "current" (2022/23–2023/24): ethnic group shares of the children who reach a caution or conviction,
#: where ethnicity is known. In the model these are also the shares among first-time entrants (a child's
#: ethnicity is drawn once, independently of the rest of their career).
CURRENT_ENTRY_SHARES = {
    # CITED: SOURCE_VRU: "White children make up 71% of 10–17-year-olds who are stopped and searched, 76% of those
    # arrested and 72% of those cautioned or convicted for an offence" (the year is not repeated in that sentence;
    # the sentence before it gives figures "in 2023/24"). Published as 72%.
    "white": 0.72,
    # CITED, USED AS A PROXY: SOURCE_VRU: "while Black children aged 10–17 make up 6% of the population, in 2023/24,
    # they represented 10% of arrests, 15% of stop and searches and 24% of the monthly youth custody population".
    # Published as 10% of ARRESTS. No published share of Black children among first-time entrants or children
    # cautioned or sentenced in 2023/24 could be read; using the arrest share for entry is an assumption (White
    # children are 76% of arrests but 72% of those cautioned or convicted, so the true entry share may be higher).
    "black": 0.10,
    # Assumption, not a cited figure: no published share of Mixed-ethnicity children among first-time entrants or
    # children cautioned or sentenced in 2022/23–2023/24 could be read. 9% is chosen so that Mixed children are
    # over-represented at entry (1.5 times their 6% share of the 10–17 population, SOURCE_YEF), as summaries of
    # Youth Justice Statistics 2023/24 report (Youth Justice Legal Centre, 'Youth Justice Board annual statistics
    # 2023-2024', 6 March 2025: "Black and Mixed children continued to be over-represented across most stages of
    # the youth justice systems"), and so that the five shares add to 100% with the cited White share.
    "mixed": 0.09,
    # Assumption, not a cited figure (Asian children are under-represented, SOURCE_VRU: "other groups – e.g. those
    # from Asian backgrounds – are under-represented"); 7% against 12% of the population file's working figure.
    "asian": 0.07,
    "other": 0.02,  # Assumption, not a cited figure: the remainder.
}
#: Share of children whose ethnicity is not recorded. Assumption, not a cited figure (the value of
#: ETHNICITY_WEIGHTS, kept).
CURRENT_UNKNOWN_ETHNICITY = 0.025

#: Profile "current": ethnic group shares of the children in youth custody (known ethnicity), used only to derive
#: CURRENT_CUSTODY_REMAND_MULTIPLIER below.
CURRENT_CUSTODY_SHARES = {
    # CITED: SOURCE_YEF: "In 2023/24, the share of Black children in custody fell for the third consecutive year.
    # It's now 24%, down from 26% the year before (2022/23)". Also SOURCE_VRU: "24% of the monthly youth custody
    # population" (2023/24). Published as 24% (2023/24) and 26% (2022/23); 24% used.
    "black": 0.24,
    # CITED: SOURCE_YEF: Mixed ethnicity children "now account for 18% of the average monthly custodial
    # population, despite making up only 6% of all 10-17-year-olds in England and Wales" (2023/24). Published as 18%.
    "mixed": 0.18,
    # Assumption, not a cited figure: the remaining 58% is split between White, Asian and Other children in
    # proportion to their entry shares (72 : 7 : 2), i.e. no disparity among these three groups after entry.
    "white": 0.58 * 72 / 81,
    "asian": 0.58 * 7 / 81,
    "other": 0.58 * 2 / 81,
}

#: Profile "current": a multiplier per ethnic group on the probability that a court sentence is custodial and on
#: the weight of a remand to youth detention accommodation among the bail and remand statuses of a court case
#: (the statuses of conditional bail and above keep their total, so only the remand decision differs). It is the
#: group's custody share divided by its entry share, so that (everything else in the model being independent of
#: ethnicity) the expected ethnic mix of custodial sentences is CURRENT_CUSTODY_SHARES while the overall custody
#: rate is unchanged (the entry-weighted mean multiplier is 1): Black 0.24 / 0.10 = 2.4, Mixed 0.18 / 0.09 = 2.0,
#: White, Asian and Other 0.58 / 0.81 ≈ 0.716, not recorded 1. Assumptions: (1) the custody shares are of the
#: average monthly custody POPULATION (which includes children on remand and weights long sentences more) and are
#: applied here to custodial SENTENCES; (2) the same multiplier is used for remands to youth detention
#: accommodation: the direction is cited (SOURCE_YJB_DISPARITY: "all ethnic minority groups are more likely to
#: receive a custodial remand than a community remand relative to White children"), the size is not.
CURRENT_CUSTODY_REMAND_MULTIPLIER = {
    **{g: CURRENT_CUSTODY_SHARES[g] / CURRENT_ENTRY_SHARES[g] for g in CURRENT_ENTRY_SHARES},
    "unknown": 1.0,
}

#: Named calibrations for ``generate_extract(profile=...)``; ``None`` (the default) is the original calibration.
#: Each profile has: ``label``; ``period`` it calibrates to; ``ethnicity_weights`` (replaces ETHNICITY_WEIGHTS, same
#: keys and order); ``custody_remand_multiplier`` (per ethnic group, see CURRENT_CUSTODY_REMAND_MULTIPLIER);
#: ``kpi_shares`` (overrides of KPI_SHARES where a national figure was found); ``cited`` and ``assumed`` (what is
#: which, in words).
PROFILES: dict[str, dict] = {
    "current": {
        "label": "National shares of 2022/23–2023/24 (as reported by secondary sources; see the module docstring)",
        "period": "2022/23–2023/24",
        "ethnicity_weights": {
            **{g: CURRENT_ENTRY_SHARES[g] * (1 - CURRENT_UNKNOWN_ETHNICITY) for g in ETHNICITY_WEIGHTS if g != "unknown"},
            "unknown": CURRENT_UNKNOWN_ETHNICITY,
        },
        "custody_remand_multiplier": CURRENT_CUSTODY_REMAND_MULTIPLIER,
        # No national KPI figure could be used: SOURCE_KPI_QMI presents the 2023/24 national data of the ten KPIs as
        # "illustrative" and "not yet suitable for decision-making", and its figures could not be read in the stored
        # copies (only its introduction). Every KPI share stays the assumed value of KPI_SHARES: assumption, not a
        # cited figure.
        "kpi_shares": {},
        "cited": (
            "White 72% of children cautioned or convicted and Black 10% of arrests (used as Black share at entry), "
            "2023/24 (" + SOURCE_VRU + "); Black 24% and Mixed 18% of the average monthly youth custody population, "
            "2023/24 (" + SOURCE_YEF + "); ethnic minority children more likely to be remanded to custody "
            "(direction only, " + SOURCE_YJB_DISPARITY + ")"
        ),
        "assumed": (
            "Mixed 9%, Asian 7%, Other 2% at entry; 2.5% ethnicity not recorded; custody shares of White, Asian and "
            "Other children; custody-population shares applied to custodial sentences; the same multipliers for "
            "remands; every KPI share (KPI_SHARES); everything else in the model (Oxfordshire 2017/18 calibration)"
        ),
    },
}


def _profile(profile: str | None) -> dict | None:
    """The calibration of ``profile`` (``None`` for the original one); ValueError naming the known profiles."""
    if profile is None:
        return None
    if not isinstance(profile, str) or profile not in PROFILES:
        known = ", ".join(repr(name) for name in PROFILES)
        raise ValueError(f"unknown synthetic profile {profile!r}; known profiles: {known} (or None for the original calibration)")
    return PROFILES[profile]


def _per_group(values: dict, groups: np.ndarray) -> np.ndarray:
    """``values[group]`` for every element of ``groups`` (vectorised; 1.0 for a group not in ``values``)."""
    names, inverse = np.unique(groups.astype(str), return_inverse=True)
    table = np.array([float(values.get(name, 1.0)) for name in names])
    return table[inverse] if groups.size else np.zeros(0)


def _remand_weights(multiplier: np.ndarray) -> np.ndarray:
    """Rows of REMAND_WEIGHTS with the remand to youth detention scaled by ``multiplier`` (conditional bail takes
    up the difference, so the statuses of conditional bail and above keep their total)."""
    base = np.array(list(REMAND_WEIGHTS.values()), dtype=float)
    names = list(REMAND_WEIGHTS)
    rows = np.tile(base, (multiplier.size, 1))
    yda, cond = names.index("remand_youth_detention"), names.index("conditional_bail")
    rows[:, yda] = base[yda] * multiplier
    rows[:, cond] = np.maximum(base[cond] - base[yda] * (multiplier - 1), 0.0)
    return rows / rows.sum(axis=1, keepdims=True)


def _pick_rows(rng: np.random.Generator, names: list, weights: np.ndarray) -> np.ndarray:
    """One of ``names`` per row of ``weights`` (each row a probability vector), vectorised."""
    u = rng.random(weights.shape[0])
    idx = (u[:, None] >= np.cumsum(weights, axis=1)).sum(axis=1)
    return np.array(names, dtype=object)[np.minimum(idx, len(names) - 1)]


def _pick(rng: np.random.Generator, weights: dict, size: int) -> np.ndarray:
    names = np.array(list(weights), dtype=object)
    p = np.array(list(weights.values()), dtype=float)
    return names[rng.choice(len(names), size=size, p=p / p.sum())]


def _day(value) -> int:
    return int((np.datetime64(pd.Timestamp(value).date(), "D") - _EPOCH).astype(np.int64))


def _ymd(days: np.ndarray):
    d = _EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, dd


def _age(birth: np.ndarray, day: np.ndarray) -> np.ndarray:
    by, bm, bd = _ymd(birth)
    y, m, d = _ymd(day)
    return y - by - ((m < bm) | ((m == bm) & (d < bd))).astype(np.int64)


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar months added to day numbers (day clipped to the month's last day)."""
    y, m, d = _ymd(days)
    total = (y - 1970) * 12 + (m - 1) + np.asarray(months, dtype=np.int64)
    first = np.array(total, dtype="datetime64[M]").astype("datetime64[D]")
    nxt = np.array(total + 1, dtype="datetime64[M]").astype("datetime64[D]")
    length = (nxt - first).astype(np.int64)
    return (first - _EPOCH).astype(np.int64) + np.minimum(d, length) - 1


def _ids(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    alphabet = np.array(list("23456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
    numbers = rng.choice(32**7, size=n, replace=False)
    chars = alphabet[(numbers[:, None] // (32 ** np.arange(6, -1, -1))) % 32]
    return np.array([prefix + "".join(row) for row in chars], dtype=object)


def generate_extract(
    seed: int = 20181,
    area_id: str = DEMO_AREA_ID,
    start: str = "2015-04-01",
    end: str = "2019-03-31",
    population: float = 60000,
    scale: float = 1.0,
    *,
    area_name: str | None = None,
    id_prefix: str | None = None,
    kpi_columns: bool = False,
    profile: str | None = None,
) -> pd.DataFrame:
    """A synthetic extract for a fictional area, in the documented format, sorted by outcome date.

    ``scale`` multiplies the number of children (1.0 gives a Demoshire-sized service);
    ``population`` is recorded in ``attrs`` for rates. The same arguments give the same frame.
    ``kpi_columns=True`` adds the optional per-intervention columns of the ten YJB KPIs
    (:func:`add_kpi_columns`, drawn from a separate random stream: every other column is the same,
    byte for byte, as without them). ``profile`` names a calibration of :data:`PROFILES` (``"current"``:
    national ethnic mix at entry and in custody and remand of 2022/23–2023/24, see the module docstring);
    ``None`` (the default) is the original calibration, unchanged byte for byte. An unknown name raises
    ValueError.
    """
    prof = _profile(profile)
    rng = np.random.default_rng(seed)
    d0, d1 = _day(start), _day(end)
    years = (d1 - d0 + 1) / 365.25
    prefix = id_prefix if id_prefix is not None else (area_id[:4].upper() + "-")

    # ---- children who reach a caution or conviction
    n = int(rng.poisson(FTE_PER_YEAR * scale * (years + BURN_IN_DAYS / 365.25)))
    sex = np.where(rng.random(n) < FEMALE_SHARE, "female", "male").astype(object)
    female = sex == "female"
    first_offence = rng.integers(d0 - BURN_IN_DAYS, d1 + 1, size=n)
    first_age = 10 + rng.choice(8, size=n, p=FIRST_AGE_WEIGHTS / FIRST_AGE_WEIGHTS.sum())
    birth = first_offence - (first_age * 365.25).astype(np.int64) - rng.integers(0, 365, size=n)
    birth = np.minimum(birth, first_offence - np.round(first_age * 365.25).astype(np.int64))
    eth_weights = ETHNICITY_WEIGHTS if prof is None else prof["ethnicity_weights"]
    ethnicity = _pick(rng, eth_weights, n)
    a_m, b_m = RISK_BETA["male"]
    a_f, b_f = RISK_BETA["female"]
    risk = np.where(female, rng.beta(a_f, b_f, n), rng.beta(a_m, b_m, n))
    eighteen = _add_months(birth, np.full(n, 18 * 12))

    # number of proven occasions in each career: after each one the child offends again with
    # a probability that grows with their history (the walk below stops careers at 18 or at `end`)
    occasions = np.ones(n, dtype=np.int64)
    going = np.arange(n)
    k = 0
    while going.size and k < 60:
        p = np.minimum(RISK_CAP, risk[going] * (1 + RISK_GROWTH * k))
        going = going[rng.random(going.size) < p]
        occasions[going] += 1
        k += 1
    occ_child = np.repeat(np.arange(n), occasions)
    starts = np.flatnonzero(np.r_[True, occ_child[1:] != occ_child[:-1]]) if n else np.array([], dtype=np.int64)
    lengths = np.diff(np.r_[starts, occ_child.size])
    occ_k = np.arange(occ_child.size) - np.repeat(starts, lengths)
    m = occ_child.size

    # proven outcome type by occasion number (first few occasions may be dealt with out of court)
    table = np.array(OUTCOME_BY_OCCASION)[np.minimum(occ_k, 2)]
    u = rng.random(m)
    outcome_type = np.where(
        u < table[:, 0], codes.YOUTH_CAUTION, np.where(u < table[:, 0] + table[:, 1], codes.YOUTH_CONDITIONAL_CAUTION, codes.COURT_DISPOSAL)
    ).astype(object)
    court = outcome_type == codes.COURT_DISPOSAL
    # number of offences dealt with together
    n_off = 1 + rng.poisson(np.where(court, 0.75, 0.25) * np.where(female[occ_child], 0.5, 1.0))
    # main offence category decides gravity, which can push an out-of-court case to court
    main_cat = np.where(female[occ_child], _pick(rng, FEMALE_OFFENCE_MIX, m), _pick(rng, OFFENCE_MIX, m))
    g_mode = np.array([GRAVITY[c][0] for c in main_cat])
    g_spread = np.array([GRAVITY[c][1] for c in main_cat])
    main_grav = np.clip(g_mode + rng.integers(-1, 2, size=m) * (rng.random(m) < 0.4) * g_spread, 1, 8)
    to_court = (main_grav >= 5) & ~court & (rng.random(m) < 0.7)
    outcome_type[to_court] = codes.COURT_DISPOSAL
    court = outcome_type == codes.COURT_DISPOSAL
    court_so_far = np.cumsum(court)
    court_within = court_so_far - np.repeat((court_so_far - court)[starts], lengths)
    first_court = court & (court_within == 1)
    # custody
    p_custody = np.where(court, 0.02 + 0.025 * np.minimum(occ_k, 5) + 0.15 * (main_grav >= 6), 0.0)
    if prof is not None:  # per-ethnicity disparity in custody (and remand, below); mean multiplier 1 at entry
        occ_multiplier = _per_group(prof["custody_remand_multiplier"], ethnicity[occ_child])
        p_custody = np.minimum(p_custody * occ_multiplier, 1.0)
    custodial = court & (rng.random(m) < p_custody)
    disposal = np.full(m, "", dtype=object)
    disposal[court & first_court] = _pick(rng, FIRST_COURT, int((court & first_court).sum()))
    disposal[court & ~first_court] = _pick(rng, LATER_COURT, int((court & ~first_court).sum()))
    long_term = custodial & (main_grav >= 7) & (rng.random(m) < 0.6)
    disposal[custodial] = "detention_and_training_order"
    disposal[long_term] = "long_term_detention"
    custody_months = np.where(
        long_term, rng.integers(12, 37, size=m), DTO_MONTHS[rng.choice(len(DTO_MONTHS), size=m, p=DTO_WEIGHTS)] // 2
    )
    # remand status of court cases
    remand = np.full(m, "", dtype=object)
    if prof is None:
        remand[court] = _pick(rng, REMAND_WEIGHTS, int(court.sum()))
    else:
        remand[court] = _pick_rows(rng, list(REMAND_WEIGHTS), _remand_weights(occ_multiplier[court]))
    remand[custodial & (rng.random(m) < 0.45)] = "remand_youth_detention"
    # outcome lags (days from offence to outcome)
    lag = np.where(
        court,
        25 + rng.gamma(2.5, 36, m),
        np.where(outcome_type == codes.YOUTH_CONDITIONAL_CAUTION, 18 + rng.gamma(2.0, 22, m), 12 + rng.gamma(2.0, 16, m)),
    ).astype(np.int64)
    gap = np.where(
        rng.random(m) < LONG_GAP_SHARE, rng.gamma(LONG_GAP_SHAPE, LONG_GAP_SCALE, m), rng.gamma(GAP_SHAPE, GAP_SCALE, m)
    ).astype(np.int64) + 1

    # walk each child's occasions in order to fix dates (vectorised over children, one step per occasion)
    offence_day = np.zeros(m, dtype=np.int64)
    outcome_day = np.zeros(m, dtype=np.int64)
    release_day = np.full(m, -1, dtype=np.int64)
    free_from = np.zeros(n, dtype=np.int64)  # day the child is next at liberty: outcome or release
    for step in range(int(occ_k.max()) + 1 if m else 0):
        idx = np.flatnonzero(occ_k == step)
        c = occ_child[idx]
        offence_day[idx] = first_offence[c] if step == 0 else free_from[c] + gap[idx]
        outcome_day[idx] = offence_day[idx] + lag[idx]
        rel = _add_months(outcome_day[idx], custody_months[idx])
        release_day[idx] = np.where(custodial[idx], rel, -1)
        free_from[c] = np.where(custodial[idx], rel, outcome_day[idx])
    # offence dates rise along a career, so these cut each career at 18 or at the end of the extract
    keep = (offence_day <= d1) & (offence_day < eighteen[occ_child]) & (outcome_day <= d1) & (outcome_day >= d0)
    # ---- expand occasions into offence rows
    occ = np.flatnonzero(keep)
    reps = n_off[occ]
    row_occ = np.repeat(occ, reps)
    first_of_occ = np.r_[True, row_occ[1:] != row_occ[:-1]]
    cat = np.where(female[occ_child[row_occ]], _pick(rng, FEMALE_OFFENCE_MIX, row_occ.size), _pick(rng, OFFENCE_MIX, row_occ.size))
    cat[first_of_occ] = main_cat[row_occ[first_of_occ]]
    g_mode = np.array([GRAVITY[c][0] for c in cat])
    g_spread = np.array([GRAVITY[c][1] for c in cat])
    grav = np.clip(g_mode + rng.integers(-1, 2, size=row_occ.size) * g_spread * (rng.random(row_occ.size) < 0.4), 1, 8)
    grav[first_of_occ] = main_grav[row_occ[first_of_occ]]
    rc = occ_child[row_occ]
    off = offence_day[row_occ] + np.where(first_of_occ, 0, rng.integers(0, 15, size=row_occ.size))
    off = np.minimum(off, np.minimum(outcome_day[row_occ], eighteen[rc] - 1))
    proven = pd.DataFrame(
        {
            "child": rc,
            "offence": off,
            "outcome": outcome_day[row_occ],
            "outcome_type": outcome_type[row_occ],
            "disposal": disposal[row_occ],
            "release": np.where(release_day[row_occ] <= d1, release_day[row_occ], -1),
            "category": cat,
            "gravity": grav,
            "remand": remand[row_occ],
        }
    )

    # ---- community resolutions: before some careers, and children who get no further
    prior = rng.random(n) < PRIOR_CR_SHARE
    cr_day = first_offence - rng.integers(30, 300, size=n)
    prior &= (cr_day >= d0) & (_age(birth, cr_day) >= 10)
    n_only = int(rng.poisson(COMMUNITY_ONLY_PER_YEAR * scale * years))
    only_sex = np.where(rng.random(n_only) < 0.28, "female", "male").astype(object)
    only_off = rng.integers(d0, d1 + 1, size=n_only)
    only_age = 10 + rng.choice(8, size=n_only, p=np.array([3, 5, 9, 13, 17, 19, 18, 16]) / 100)
    only_birth = only_off - np.round(only_age * 365.25).astype(np.int64) - rng.integers(0, 365, size=n_only)
    only_eth = _pick(rng, eth_weights, n_only)
    # children: proven careers first, then community-only
    all_sex = np.concatenate([sex, only_sex])
    all_birth = np.concatenate([birth, only_birth])
    all_eth = np.concatenate([ethnicity, only_eth])
    cr_child = np.concatenate([np.flatnonzero(prior), n + np.arange(n_only)])
    cr_off = np.concatenate([cr_day[prior], only_off])
    cr_lag = 5 + rng.gamma(2.0, 8, cr_child.size).astype(np.int64)
    second = rng.random(cr_child.size) < 0.12
    cr_child = np.concatenate([cr_child, cr_child[second]])
    cr_off = np.concatenate([cr_off, cr_off[second] + rng.integers(60, 300, size=int(second.sum()))])
    cr_lag = np.concatenate([cr_lag, 5 + rng.gamma(2.0, 8, int(second.sum())).astype(np.int64)])
    cr_cat = _pick(rng, CR_OFFENCE_MIX, cr_child.size)
    cr = pd.DataFrame(
        {
            "child": cr_child,
            "offence": cr_off,
            "outcome": cr_off + cr_lag,
            "outcome_type": codes.COMMUNITY_RESOLUTION,
            "disposal": "",
            "release": -1,
            "category": cr_cat,
            "gravity": np.clip(np.array([GRAVITY[c][0] for c in cr_cat]) - (rng.random(cr_child.size) < 0.5), 1, 3),
            "remand": "",
        }
    )
    rows = pd.concat([proven, cr], ignore_index=True)
    # two offences of one kind on one day dealt with together are legitimate, but the demo should raise no
    # double-entry warning: move such repeats a day earlier each
    key = ["child", "offence", "outcome", "outcome_type", "disposal", "category", "gravity"]
    for _ in range(5):
        repeat = rows.groupby(key, sort=False).cumcount().to_numpy()
        if not repeat.any():
            break
        rows["offence"] = rows["offence"].to_numpy() - repeat
    age = _age(all_birth[rows["child"].to_numpy()], rows["offence"].to_numpy())
    rows = rows[
        (rows["outcome"] <= d1) & (rows["outcome"] >= d0) & (age >= codes.MIN_AGE) & (age <= codes.MAX_AGE)
    ].copy()
    rows["age"] = _age(all_birth[rows["child"].to_numpy()], rows["offence"].to_numpy())
    frame = _finish_frame(rng, rows, all_sex, all_birth, all_eth, area_id, prefix, population, scale, seed, start, end, area_name)
    if prof is not None:
        frame.attrs["profile"] = profile
    if not kpi_columns:
        return frame
    return add_kpi_columns(frame, seed=seed, end=end, shares=None if prof is None else prof["kpi_shares"])


def _finish_frame(rng, rows, all_sex, all_birth, all_eth, area_id, prefix, population, scale, seed, start, end, area_name):
    n_children = all_sex.size
    ids = _ids(rng, n_children, prefix)
    child = rows["child"].to_numpy()
    by, bm, _ = _ymd(all_birth)
    birth_month = np.array([f"{y:04d}-{mm:02d}" for y, mm in zip(by, bm)], dtype=object)
    rows = rows.assign(child_id=ids[child])
    rows = rows.sort_values(["outcome", "child_id", "offence", "category"], kind="mergesort").reset_index(drop=True)
    child = rows["child"].to_numpy()

    def dates(d, missing=None):
        d = np.asarray(d, dtype=np.int64)
        values = (_EPOCH + d.astype("timedelta64[D]")).astype("datetime64[ns]")
        if missing is not None:
            values[missing] = np.datetime64("NaT")
        return pd.to_datetime(values)

    n = len(rows)
    width = max(7, len(str(n)))
    frame = pd.DataFrame(
        {
            "record_id": [f"{prefix}R{i:0{width}d}" for i in range(1, n + 1)],
            "area_id": area_id,
            "child_id": rows["child_id"].to_numpy(),
            "sex": all_sex[child],
            "age_at_offence": rows["age"].to_numpy(dtype=np.int64),
            "birth_month": birth_month[child],
            "ethnicity": all_eth[child],
            "offence_date": dates(rows["offence"]),
            "outcome_date": dates(rows["outcome"]),
            "outcome_type": rows["outcome_type"].to_numpy(),
            "disposal": rows["disposal"].to_numpy(),
            "release_date": dates(np.maximum(rows["release"].to_numpy(), 0), missing=rows["release"].to_numpy() < 0),
            "offence_category": rows["category"].to_numpy(),
            "gravity_score": rows["gravity"].to_numpy(dtype=np.int64),
            "remand_status": rows["remand"].to_numpy(),
            "data_kind": DATA_KIND,
        }
    )
    for col in ("record_id", "area_id", "child_id", "sex", "birth_month", "ethnicity", "outcome_type", "disposal",
                "offence_category", "remand_status", "data_kind"):
        frame[col] = frame[col].astype(str)
    frame.attrs.update(
        {
            "data_kind": DATA_KIND,
            "area_id": area_id,
            "area_name": area_name or (DEMO_AREA_NAME if area_id == DEMO_AREA_ID else f"{area_id} (synthetic)"),
            "population": float(population),
            "scale": float(scale),
            "seed": seed,
            "start": str(start),
            "end": str(end),
            "watermark": SYNTHETIC_WATERMARK,
        }
    )
    return frame


# --------------------------------------------------------------------------- KPI columns (ten YJB KPIs)
#
# The optional per-intervention columns of data_contracts/case_extract.md ("Optional KPI columns"),
# for the KPIs youth justice services report to the YJB since April 2023. ASSUMED SHARES, NOT
# CALIBRATED TO NATIONAL FIGURES: the YJB's "Quality and methodology information for new KPIs"
# (GOV.UK, 12 June 2025) gives illustrative national data for 2023/24 but says it is not yet suitable
# for decision-making, and its figures could not be retrieved when this was written; the shares below
# are round, plausible values chosen for a demonstration (each is named here so that it can be
# replaced by the published one). The KPI definitions themselves are in data/kpi_definitions.csv.
KPI_STREAM = 0x4B5049  # the KPI columns' own random stream: SeedSequence([seed, KPI_STREAM])
#: (intervention type or "" for none, probability) for each outcome; court disposals by sentence.
KPI_TYPE_BY_OUTCOME = {
    codes.COMMUNITY_RESOLUTION: ((kpi_codes.PREVENTION, 0.35), (kpi_codes.OUT_OF_COURT, 0.40), ("", 0.25)),
    codes.YOUTH_CAUTION: ((kpi_codes.OUT_OF_COURT, 0.60), ("", 0.40)),
    codes.YOUTH_CONDITIONAL_CAUTION: ((kpi_codes.OUT_OF_COURT, 0.95), ("", 0.05)),
}
KPI_COURT_ORDER_SENTENCES = {"referral_order": 1.0, "youth_rehabilitation_order": 1.0, "reparation_order": 1.0, "other_court": 0.5}
#: Length of an intervention in days (low, high), drawn uniformly; release lasts as long as the custody did.
KPI_DURATION_DAYS = {
    kpi_codes.PREVENTION: (60, 180),
    kpi_codes.OUT_OF_COURT: (45, 150),
    "referral_order": (90, 365),
    "youth_rehabilitation_order": (180, 540),
    "reparation_order": (60, 120),
    "other_court": (90, 365),
}
KPI_SHARES = {
    # KPI 1: suitable accommodation at the start; at the end given suitable / not suitable at the start
    "accommodation_start": 0.88, "accommodation_start_custodial": 0.75,
    "accommodation_end_if_yes": 0.96, "accommodation_end_if_no": 0.55,
    # KPI 2: suitable ETE at the start; at the end given suitable / not suitable at the start
    "ete_start": 0.62, "ete_end_if_yes": 0.88, "ete_end_if_no": 0.35,
    # KPI 3: identified SEND; a formal plan among them
    "send_identified": 0.35, "send_unknown": 0.08, "send_formal_plan": 0.55,
    # KPI 4: screened; need identified if screened / not; offered given need; attended given offered
    "mh_screened": 0.85, "mh_need_if_screened": 0.55, "mh_need_if_not": 0.20, "mh_offered": 0.75, "mh_attended": 0.70,
    # KPI 5: the same for substance misuse
    "sm_screened": 0.80, "sm_need_if_screened": 0.35, "sm_need_if_not": 0.10, "sm_offered": 0.80, "sm_attended": 0.60,
    # KPI 6: out-of-court disposal completed successfully
    "oocd_completed": 0.85, "oocd_not_completed": 0.10,
    # KPI 10: victims who consent to contact; contacted, offered RJ (of consenting); took part (of offered)
    "victims_consent": 0.55, "victims_contacted": 0.90, "victims_offered_rj": 0.70, "victims_participated_rj": 0.35,
    # recording: a yes/no answer left blank (not recorded) or 'unknown'
    "not_recorded": 0.05, "unknown": 0.02,
}
KPI_EXTRA_VICTIMS = 0.3  # victims per intervention with a victim: 1 + Poisson(0.3)
KPI_VICTIM_OFFENCES = ("violence_against_the_person", "robbery", "sexual_offences", "burglary", "theft_and_handling",
                       "vehicle_theft", "criminal_damage", "fraud_and_forgery")


def _yes_no(rng: np.random.Generator, p_yes: np.ndarray, recorded: bool = True, shares: dict = KPI_SHARES) -> np.ndarray:
    """yes/no with probability ``p_yes``; some answers blank (not recorded) or 'unknown' when ``recorded``."""
    p_yes = np.broadcast_to(np.asarray(p_yes, dtype=float), np.shape(p_yes))
    out = np.where(rng.random(p_yes.shape) < p_yes, kpi_codes.YES, kpi_codes.NO).astype(object)
    if recorded:
        u = rng.random(p_yes.shape)
        out[u < shares["not_recorded"] + shares["unknown"]] = kpi_codes.UNKNOWN
        out[u < shares["not_recorded"]] = ""
    return out


def add_kpi_columns(frame: pd.DataFrame, seed: int, end: str = "2019-03-31", shares: dict | None = None) -> pd.DataFrame:
    """``frame`` (a generated extract) with the optional KPI columns added; its own columns untouched.

    Drawn from a random stream of their own (``SeedSequence([seed, KPI_STREAM])``), so the columns of
    ``generate_extract`` are byte-identical with and without them. Each outcome (a child's rows with one
    outcome date, type and sentence) starts at most one intervention: community resolutions a prevention
    programme or a diversion (out_of_court), cautions a diversion, conditional cautions nearly always,
    referral, youth rehabilitation and reparation orders a court order, custodial sentences custody (while
    the child is still in custody) or release (supervision after release, as long as the custody lasted);
    fines and discharges none. An intervention ending after ``end`` is still open (end date and end-of-
    intervention answers blank). Shares are the assumed ``KPI_SHARES`` (not national figures), with ``shares``
    (a profile's ``kpi_shares``) replacing some of them; unknown keys raise ValueError.
    """
    unknown = sorted(set(shares or {}) - set(KPI_SHARES))
    if unknown:
        raise ValueError(f"unknown KPI share(s) {', '.join(unknown)}; known: {', '.join(KPI_SHARES)}")
    sh = {**KPI_SHARES, **(shares or {})}
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), KPI_STREAM]))
    n = len(frame)
    d_end = _day(end)
    out = frame.copy()
    outcome = _days_of(frame["outcome_date"])
    release = _days_of(frame["release_date"])
    occ_key = pd.MultiIndex.from_arrays([frame["child_id"], outcome, frame["outcome_type"], frame["disposal"]])
    occ = pd.factorize(occ_key)[0]
    n_occ = int(occ.max()) + 1 if n else 0
    first_row = np.full(n_occ, n, dtype=np.int64)
    np.minimum.at(first_row, occ, np.arange(n))
    o_type = frame["outcome_type"].to_numpy(dtype=object)[first_row]
    o_disp = frame["disposal"].to_numpy(dtype=object)[first_row]
    o_out = outcome[first_row]
    o_rel = release[first_row]
    o_cat = frame["offence_category"].to_numpy(dtype=object)[first_row]
    # intervention type per outcome
    u = rng.random(n_occ)
    itype = np.full(n_occ, "", dtype=object)
    for outcome_type, choices in KPI_TYPE_BY_OUTCOME.items():
        cum = 0.0
        rows = o_type == outcome_type
        for name, p in choices:
            itype[rows & (u >= cum) & (u < cum + p)] = name
            cum += p
    court = o_type == codes.COURT_DISPOSAL
    for sentence, p in KPI_COURT_ORDER_SENTENCES.items():
        itype[court & (o_disp == sentence) & (u < p)] = kpi_codes.COURT_ORDER
    custodial = court & np.isin(o_disp, codes.CUSTODIAL_DISPOSALS)
    released = custodial & (o_rel >= 0)
    itype[custodial] = kpi_codes.CUSTODY
    itype[released] = kpi_codes.RELEASE
    start = np.where(released, o_rel, o_out)
    lo = np.zeros(n_occ, dtype=np.int64)
    hi = np.zeros(n_occ, dtype=np.int64)
    for name, (a, b) in KPI_DURATION_DAYS.items():
        rows = (itype == name) | ((itype == kpi_codes.COURT_ORDER) & (o_disp == name))
        lo[rows], hi[rows] = a, b
    length = lo + (rng.random(n_occ) * (hi - lo + 1)).astype(np.int64)
    finish = start + length
    finish[released] = o_rel[released] + (o_rel[released] - o_out[released])
    finish[custodial & ~released] = -1  # still in custody
    finish[finish > d_end] = -1  # still open when the extract was taken
    # one intervention per (child, type, start): its details are drawn once and repeated on its rows
    has = itype != ""
    key = pd.MultiIndex.from_arrays([frame["child_id"].to_numpy(dtype=object)[first_row][has], itype[has], start[has]])
    iid = np.full(n_occ, -1, dtype=np.int64)
    iid[has] = pd.factorize(key)[0]
    m = int(iid.max()) + 1 if has.any() else 0
    rep = np.full(m, n_occ, dtype=np.int64)
    np.minimum.at(rep, iid[has], np.flatnonzero(has))
    i_type, i_start, i_end = itype[rep], start[rep], finish[rep]
    ended = i_end >= 0
    cust = np.isin(i_type, (kpi_codes.CUSTODY, kpi_codes.RELEASE))
    acc_s = _yes_no(rng, np.where(cust, sh["accommodation_start_custodial"], sh["accommodation_start"]), shares=sh)
    acc_e = _yes_no(rng, np.where(acc_s == kpi_codes.YES, sh["accommodation_end_if_yes"], sh["accommodation_end_if_no"]), shares=sh)
    ete_s = _yes_no(rng, np.full(m, sh["ete_start"]), shares=sh)
    ete_e = _yes_no(rng, np.where(ete_s == kpi_codes.YES, sh["ete_end_if_yes"], sh["ete_end_if_no"]), shares=sh)

    def hours(suitable):
        h = np.where(suitable == kpi_codes.YES, rng.normal(22, 6, m), rng.gamma(1.5, 3.0, m))
        h = np.round(np.clip(h, 0, 40) * 2) / 2
        return np.where(suitable == "", np.nan, h)

    hrs_s, hrs_e = hours(ete_s), hours(ete_e)
    u = rng.random(m)
    send = np.where(u < sh["send_identified"], kpi_codes.YES,
                    np.where(u < sh["send_identified"] + sh["send_unknown"], kpi_codes.UNKNOWN, kpi_codes.NO)).astype(object)
    plan = np.where(send == kpi_codes.YES, _yes_no(rng, np.full(m, sh["send_formal_plan"]), shares=sh), "").astype(object)

    def need_chain(prefix):
        screened = _yes_no(rng, np.full(m, sh[f"{prefix}_screened"]), recorded=False)
        need = _yes_no(rng, np.where(screened == kpi_codes.YES, sh[f"{prefix}_need_if_screened"], sh[f"{prefix}_need_if_not"]), recorded=False)
        offered = np.where(need == kpi_codes.YES, _yes_no(rng, np.full(m, sh[f"{prefix}_offered"]), recorded=False), "").astype(object)
        attended = np.where(offered == kpi_codes.YES, _yes_no(rng, np.full(m, sh[f"{prefix}_attended"]), recorded=False), "").astype(object)
        return screened, need, offered, attended

    mh = need_chain("mh")
    sm = need_chain("sm")
    u = rng.random(m)
    oocd = np.where(u < sh["oocd_completed"], kpi_codes.YES,
                    np.where(u < sh["oocd_completed"] + sh["oocd_not_completed"], kpi_codes.NO, "")).astype(object)
    oocd[(i_type != kpi_codes.OUT_OF_COURT) | ~ended] = ""
    victims = np.where(np.isin(o_cat[rep], KPI_VICTIM_OFFENCES), 1 + rng.poisson(KPI_EXTRA_VICTIMS, m), 0)
    consented = rng.binomial(victims, sh["victims_consent"])
    contacted = rng.binomial(consented, sh["victims_contacted"])
    offered_rj = rng.binomial(consented, sh["victims_offered_rj"])
    participated = rng.binomial(offered_rj, sh["victims_participated_rj"])
    # end-of-intervention answers only for interventions that have ended
    for values in (acc_e, ete_e):
        values[~ended] = ""
    hrs_e[~ended] = np.nan

    row_iid = iid[occ]
    on = row_iid >= 0
    take = np.where(on, row_iid, 0)

    def text(values):
        return np.where(on, np.asarray(values, dtype=object)[take] if m else "", "").astype(object)

    def day_col(values):
        d = np.where(on, np.asarray(values)[take] if m else -1, -1)
        return pd.to_datetime(np.where(d >= 0, (_EPOCH + np.maximum(d, 0).astype("timedelta64[D]")).astype("datetime64[ns]"),
                                       np.datetime64("NaT")))

    def number(values):
        return np.where(on, np.asarray(values, dtype=float)[take] if m else np.nan, np.nan)

    columns = {
        "intervention_type": text(i_type),
        "intervention_start_date": day_col(i_start),
        "intervention_end_date": day_col(i_end),
        "accommodation_suitable_start": text(acc_s),
        "accommodation_suitable_end": text(acc_e),
        "ete_suitable_start": text(ete_s),
        "ete_suitable_end": text(ete_e),
        "ete_hours_start": number(hrs_s),
        "ete_hours_end": number(hrs_e),
        "send_identified": text(send),
        "send_formal_plan": text(plan),
        "mh_screened": text(mh[0]),
        "mh_need_identified": text(mh[1]),
        "mh_intervention_offered": text(mh[2]),
        "mh_intervention_attended": text(mh[3]),
        "sm_screened": text(sm[0]),
        "sm_need_identified": text(sm[1]),
        "sm_intervention_offered": text(sm[2]),
        "sm_intervention_attended": text(sm[3]),
        "oocd_completed": text(oocd),
        "victims_consented_contact": number(consented),
        "victims_contacted": number(contacted),
        "victims_offered_rj": number(offered_rj),
        "victims_participated_rj": number(participated),
    }
    assert list(columns) == list(kpi_codes.COLUMNS)
    for col, values in columns.items():
        out[col] = values.astype(str) if values.dtype == object else values
    out.attrs = dict(frame.attrs)
    out.attrs["kpi_columns"] = "synthetic (assumed shares: pipeline/synthetic.py KPI_SHARES)"
    return out


def _days_of(series: pd.Series) -> np.ndarray:
    """Day numbers of a date column; -1 where blank."""
    values = np.asarray(pd.to_datetime(series).to_numpy()).astype("datetime64[D]")
    out = (values - _EPOCH).astype(np.int64)
    out[np.isnat(values)] = -1
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    """The extract as CSV text in the documented format (ISO dates, blanks for missing)."""
    out = frame.copy()
    for col in ("offence_date", "outcome_date", "release_date"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d").fillna("")
    for col in kpi_codes.DATE_COLUMNS:  # the optional KPI columns, when the frame has them
        if col in out.columns:
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d").fillna("")
    for col in kpi_codes.VICTIM_COLUMNS:
        if col in out.columns:
            out[col] = out[col].astype("Int64").astype(str).replace("<NA>", "")
    return out.to_csv(index=False, lineterminator="\n")


def synthetic_path(path: str | Path) -> Path:
    """``path`` with ``_synthetic`` at the end of its stem (added when missing); a folder gets the demo file name."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        return path / DEMO_FILE_NAME
    if path.stem.endswith("_synthetic"):
        return path
    return path.with_name(f"{path.stem}_synthetic{path.suffix}")


def write_demo_extract(path: str | Path, **kwargs) -> Path:
    """Write the Demoshire demonstration extract as CSV; the same bytes every time. Returns the path written.

    The file name always ends ``_synthetic`` (added when ``path`` lacks it). Keyword arguments
    go to ``generate_extract`` (defaults: Demoshire, April 2015 to March 2019, seed 20181, no profile);
    e.g. the 2024/25 demonstration edition uses ``start="2019-04-01", end="2024-03-31", kpi_columns=True,
    profile="current"``.
    """
    target = synthetic_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = generate_extract(**kwargs)
    with open(target, "w", encoding="utf-8", newline="") as fh:
        fh.write(to_csv_text(frame))
    return target


def rows_per_unit_scale(seed: int = 7, start: str = "2015-04-01", end: str = "2019-03-31") -> float:
    """Average extract rows generated per unit of ``scale`` over the period (measured, not assumed)."""
    frame = generate_extract(seed=seed, area_id="calibration", start=start, end=end, scale=4.0)
    return len(frame) / 4.0


def generate_many(
    n_areas: int = 150,
    rows_target: int = 1_000_000,
    seed: int = 2024,
    start: str = "2015-04-01",
    end: str = "2019-03-31",
    kpi_columns: bool = False,
    profile: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Synthetic extracts for ``n_areas`` fictional areas with ``rows_target`` rows or more in all.

    Areas are ``synthetic-area-001`` … with sizes that vary (a log-normal spread around the
    mean); each frame's ``attrs['population']`` keeps the FTE rate near Demoshire's. Yields one
    frame per area so callers can stream them; ``pd.concat(generate_many(...))`` gives one
    extract. Deterministic for a given seed. ``profile`` is passed to every ``generate_extract`` call (the
    sizes are measured without it).
    """
    if n_areas < 1:
        raise ValueError("n_areas must be at least 1")
    _profile(profile)  # an unknown name fails before any work
    per_unit = rows_per_unit_scale(start=start, end=end)
    rng = np.random.default_rng(seed)
    weights = rng.lognormal(0.0, 0.5, n_areas)
    seeds = np.random.SeedSequence(seed).spawn(n_areas)
    produced = 0
    for i in range(n_areas):
        remaining_weight = weights[i:].sum()
        wanted = max(rows_target - produced, 0) * weights[i] / remaining_weight
        margin = 1.05 if i == n_areas - 1 else 1.03
        scale = max(wanted * margin / per_unit, 0.01)
        area_id = f"synthetic-area-{i + 1:03d}"
        frame = generate_extract(
            seed=int(seeds[i].generate_state(1)[0]),
            area_id=area_id,
            start=start,
            end=end,
            population=round(60000 * scale),
            scale=scale,
            area_name=f"Synthetic area {i + 1:03d} (synthetic)",
            id_prefix=f"S{i + 1:03d}-",
            kpi_columns=kpi_columns,
            profile=profile,
        )
        produced += len(frame)
        yield frame
