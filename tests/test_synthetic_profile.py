"""Synthetic profiles (``generate_extract(profile=...)``): None unchanged, "current" calibrated, deterministic, checked.

Real computation throughout: the generator, the CSV writer, the extract's data contract and the relative rate
index of ``pipeline.analysis.disproportionality``. The synthetic data describe no real child.
"""

from __future__ import annotations

import hashlib
import time

import pandas as pd
import pytest

from pipeline import synthetic
from pipeline.analysis import disproportionality as dp
from pipeline.analysis.tracking import load_extract
from pipeline.synthetic import PROFILES, generate_extract, generate_many, to_csv_text, write_demo_extract

#: The Demoshire 2024/25 edition's extract (see the brief in the module docstring of pipeline/synthetic.py).
CURRENT = {"start": "2019-04-01", "end": "2024-03-31", "kpi_columns": True, "profile": "current"}
#: sha256 of to_csv_text(generate_extract()) before profiles existed (the same value as tests/test_kpis.py).
DEFAULT_SHA256 = "9ccaeb3690b8fe0a36a0e671574e8d57c614223a6cb49d14414c807bedabc7b3"
#: The cited shares (pipeline/synthetic.py, CURRENT_ENTRY_SHARES): White 72% of children cautioned or convicted,
#: Black 10% of arrests used as the entry share (2023/24, Mayor of London VRU quoting Youth Justice Statistics).
CITED_ENTRY = {"white": 0.72, "black": 0.10}


def sha(text: str | bytes) -> str:
    return hashlib.sha256(text if isinstance(text, bytes) else text.encode("utf-8")).hexdigest()


def fte_shares(frame: pd.DataFrame, start: str, end: str) -> pd.Series:
    """Shares of first-time entrants by ethnicity (ethnicity recorded), from the RRI module's stage counts."""
    counts = dp.stage_counts(frame, by="ethnicity", periods=[("all", start, end)])
    fte = counts[counts["stage"] == "first_time_entry"].set_index("group")["count"].drop("unknown")
    return fte / fte.sum()


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return generate_extract(**CURRENT)


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    """Ten Demoshires over the same years: shares with a tenth of the noise."""
    return generate_extract(start="2019-04-01", end="2024-03-31", profile="current", scale=10, population=600000)


# --------------------------------------------------------------------------- profile=None is the old generator


def test_none_and_omitted_give_the_same_bytes(tmp_path):
    assert sha(to_csv_text(generate_extract(profile=None))) == sha(to_csv_text(generate_extract())) == DEFAULT_SHA256
    kwargs = {"start": "2019-04-01", "end": "2024-03-31", "kpi_columns": True}
    omitted = write_demo_extract(tmp_path / "omitted", **kwargs)
    explicit = write_demo_extract(tmp_path / "none", profile=None, **kwargs)
    assert omitted.read_bytes() == explicit.read_bytes()
    again = [to_csv_text(f) for f in generate_many(n_areas=2, rows_target=6000, seed=3, kpi_columns=True, profile=None)]
    assert again == [to_csv_text(f) for f in generate_many(n_areas=2, rows_target=6000, seed=3, kpi_columns=True)]
    assert "profile" not in generate_extract().attrs


def test_the_profile_changes_the_extract_and_says_so(demo):
    plain = generate_extract(start="2019-04-01", end="2024-03-31", kpi_columns=True)
    assert to_csv_text(plain) != to_csv_text(demo)
    assert demo.attrs["profile"] == "current" and demo.attrs["data_kind"] == "synthetic"
    assert (demo["data_kind"] == "synthetic").all()


# --------------------------------------------------------------------------- profile="current"


def test_current_is_deterministic_and_fast(tmp_path, demo):
    t0 = time.perf_counter()
    first = write_demo_extract(tmp_path / "one", **CURRENT)
    elapsed = time.perf_counter() - t0
    second = write_demo_extract(tmp_path / "two", **CURRENT)
    assert first.name == synthetic.DEMO_FILE_NAME
    assert sha(first.read_bytes()) == sha(second.read_bytes()) == sha(to_csv_text(demo))
    assert elapsed < 5.0, f"Demoshire 2019-24 with the current profile took {elapsed:.2f} s"
    assert sha(to_csv_text(generate_extract(seed=5, **CURRENT))) != sha(first.read_bytes())


def test_current_extract_passes_its_data_contract(tmp_path):
    path = write_demo_extract(tmp_path, **CURRENT)
    frame, report = load_extract(path, area_id="demoshire", as_of="2024-03-31")
    assert report.ok and not report.warnings, report.to_frame().query("status != 'passed'")
    assert frame.attrs["data_kind"] == "synthetic"


def test_unknown_profile_raises_value_error_naming_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="'current'") as err:
        generate_extract(profile="2031")
    assert "'2031'" in str(err.value)
    for name in PROFILES:
        assert repr(name) in str(err.value)
    with pytest.raises(ValueError, match="known profiles"):
        write_demo_extract(tmp_path / "demo.csv", profile="Current")
    assert not list(tmp_path.glob("*.csv"))
    with pytest.raises(ValueError, match="known profiles"):
        next(generate_many(n_areas=1, rows_target=100, profile="nope"))


def test_profile_is_documented_with_what_is_cited_and_what_is_assumed():
    current = PROFILES["current"]
    assert set(current["ethnicity_weights"]) == set(synthetic.ETHNICITY_WEIGHTS)
    assert sum(current["ethnicity_weights"].values()) == pytest.approx(1.0)
    assert current["cited"] and current["assumed"] and current["period"] == "2022/23–2023/24"
    assert set(current["kpi_shares"]) <= set(synthetic.KPI_SHARES)
    doc = synthetic.__doc__
    for words in ("CITED", "ASSUMED", "SYNTHETIC", "profile=None", "assumption"):
        assert words in doc, words
    # the entry-weighted mean of the custody/remand multiplier is 1: the overall custody rate is unchanged
    shares, mult = synthetic.CURRENT_ENTRY_SHARES, current["custody_remand_multiplier"]
    assert sum(shares[g] * mult[g] for g in shares) == pytest.approx(1.0)


def test_first_time_entrants_have_the_cited_ethnic_mix(big, demo):
    shares = fte_shares(big, "2020-04-01", "2024-03-31")
    assert shares["white"] == pytest.approx(CITED_ENTRY["white"], abs=0.02)
    assert shares["black"] == pytest.approx(CITED_ENTRY["black"], abs=0.015)
    for group, assumed in synthetic.CURRENT_ENTRY_SHARES.items():  # the assumed ones too
        assert shares[group] == pytest.approx(assumed, abs=0.02), group
    # Demoshire itself (a tenth of the children): the same mix, with more noise
    small = fte_shares(demo, "2020-04-01", "2024-03-31")
    assert small["white"] == pytest.approx(CITED_ENTRY["white"], abs=0.07)
    assert small["black"] == pytest.approx(CITED_ENTRY["black"], abs=0.04)


def test_black_children_over_represented_at_first_entry_2021_24(demo):
    counts = dp.stage_counts(demo, by="ethnicity", periods=[("2021/22–2023/24", "2021-04-01", "2024-03-31")])
    out = dp.relative_rate_index(counts, dp.census_populations("demoshire"), reference="white")
    black = out[(out["group"] == "black") & (out["stage"] == "first_time_entry")].iloc[0]
    assert not black["suppressed"]
    assert black["rri"] > 1
    assert black["lower"] > 1  # not only above parity but clearly so
    mixed = out[(out["group"] == "mixed") & (out["stage"] == "first_time_entry")].iloc[0]
    assert mixed["rri"] > 1


def test_disparity_is_larger_at_custody_and_remand_than_at_entry(big):
    counts = dp.stage_counts(big, by="ethnicity", periods=[("2020/21–2023/24", "2020-04-01", "2024-03-31")])
    pops = {group: 10 * n for group, n in dp.census_populations("demoshire").items()}
    out = dp.relative_rate_index(counts, pops, reference="white").set_index(["group", "stage"])
    for group in ("black", "mixed"):
        entry = out.loc[(group, "first_time_entry"), "rri"]
        assert entry > 1
        assert out.loc[(group, "custody"), "rri"] > entry
        assert out.loc[(group, "remand"), "rri"] > entry
    # the statuses of conditional bail and above keep their total: no disparity at remand eligibility itself
    assert out.loc[("black", "remand_eligible"), "lower"] < 1 < out.loc[("black", "remand_eligible"), "upper"]


def test_overall_custody_rate_stays_as_calibrated(big):
    """The multipliers average 1 at entry: the custodial share of court sentences is near the unprofiled one."""
    plain = generate_extract(start="2019-04-01", end="2024-03-31", scale=10, population=600000)

    def custodial_share(frame):
        court = frame[frame["outcome_type"] == "court_disposal"].drop_duplicates(["child_id", "outcome_date"])
        return court["disposal"].isin(["detention_and_training_order", "long_term_detention"]).mean()

    assert custodial_share(big) == pytest.approx(custodial_share(plain), abs=0.012)
