"""The synthetic extract generator: deterministic, labelled synthetic, calibrated, valid, scalable."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from pipeline import synthetic
from pipeline.synthetic import generate_extract, generate_many, write_demo_extract
from pipeline.analysis.tracking import codes, custody_summary, first_time_entrants, load_extract, reoffending_cohorts


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    """Ten Demoshires: rates as at scale 1, with a tenth of the noise."""
    return generate_extract(seed=20181, scale=10, population=600000)


def test_same_seed_same_frame_and_different_seed_different_frame():
    a, b = generate_extract(seed=1), generate_extract(seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert not generate_extract(seed=2).equals(a)


def test_demo_file_is_the_same_bytes_every_time_and_named_synthetic(tmp_path):
    p1 = write_demo_extract(tmp_path / "one" / "demo.csv")
    p2 = write_demo_extract(tmp_path / "two" / "demo.csv")
    assert p1.name == "demo_synthetic.csv"
    assert hashlib.sha256(p1.read_bytes()).hexdigest() == hashlib.sha256(p2.read_bytes()).hexdigest()
    assert write_demo_extract(tmp_path / "three").name == synthetic.DEMO_FILE_NAME
    assert write_demo_extract(tmp_path / "x_synthetic.csv").name == "x_synthetic.csv"


def test_every_frame_is_labelled_synthetic():
    frame = generate_extract(seed=3)
    assert list(frame.columns) == list(codes.COLUMNS)
    assert (frame["data_kind"] == "synthetic").all()
    assert frame.attrs["data_kind"] == "synthetic"
    assert frame.attrs["area_name"] == "Demoshire (synthetic)"
    assert (frame["area_id"] == "demoshire").all()


def test_records_keep_the_rules_of_the_format():
    f = generate_extract(seed=4)
    assert f["record_id"].is_unique
    assert f["age_at_offence"].between(10, 17).all()
    assert (f["outcome_date"] >= f["offence_date"]).all()
    custodial = f["disposal"].isin(codes.CUSTODIAL_DISPOSALS)
    assert f.loc[~custodial, "release_date"].isna().all()
    assert (f.loc[custodial & f["release_date"].notna(), "release_date"] >= f.loc[custodial & f["release_date"].notna(), "outcome_date"]).all()
    court = f["outcome_type"] == "court_disposal"
    assert f.loc[court, "disposal"].isin(codes.COURT_DISPOSALS).all()
    assert (f.loc[~court, "disposal"] == "").all()
    assert f["outcome_date"].between(pd.Timestamp("2015-04-01"), pd.Timestamp("2019-03-31")).all()
    # the child's attributes are the same on every row
    assert (f.groupby("child_id")[["sex", "ethnicity", "birth_month"]].nunique() == 1).all().all()


def test_demo_extract_passes_its_data_contract_without_warnings(tmp_path):
    path = write_demo_extract(tmp_path)
    frame, report = load_extract(path)
    assert report.ok and not report.warnings, report.to_frame().query("status != 'passed'")
    assert frame.attrs["data_kind"] == "synthetic"
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), generate_extract(), check_dtype=False)


# --------------------------------------------------------------------------- calibration (Oxfordshire 2017/18)


def _fy(frame, year):
    sub = frame[(frame["outcome_date"] >= f"{year}-04-01") & (frame["outcome_date"] <= f"{year + 1}-03-31")]
    return sub[sub["outcome_type"].isin(codes.PROVEN_OUTCOMES)]


def test_calibrated_offenders_sex_age_and_offence_mix(big):
    sub = _fy(big, 2017)
    offenders = sub["child_id"].nunique() / 10
    assert 234 * 0.85 <= offenders <= 234 * 1.15
    female = sub.groupby("child_id")["sex"].first().eq("female").mean()
    assert 0.14 <= female <= 0.22
    assert (sub["sex"] == "female").mean() < female  # girls commit a smaller share of offences (12%)
    assert 0.19 <= (sub["age_at_offence"] <= 14).mean() <= 0.29
    mix = sub["offence_category"].value_counts(normalize=True)
    assert 0.31 <= mix["violence_against_the_person"] <= 0.39
    assert 0.10 <= mix["criminal_damage"] <= 0.16
    assert 0.08 <= mix["theft_and_handling"] <= 0.14


def test_calibrated_fte_custody_and_remands(big):
    fte = first_time_entrants(big, "2017-01-01", "2017-12-31", 600000)
    assert 125 <= fte["count"] / 10 <= 165
    assert 210 <= fte["estimate"].value <= 275
    c = custody_summary(big, "2017-04-01", "2018-03-31", 600000)
    assert 167 * 0.8 <= c["court_disposals"] / 10 <= 167 * 1.2
    assert 3.0 <= c["share"].value <= 8.0  # 9 of 167 = 5.4%
    assert 0.08 <= c["rate"].value <= 0.25  # 0.15 per 1,000
    assert 10 <= c["remand_share"].value <= 22  # 12 of 77 = 16%


def test_calibrated_reoffending_rate(big):
    cohorts = reoffending_cohorts(big, "annual", "2019-03-31")
    final = cohorts[~cohorts["provisional"]]
    assert len(final) >= 2
    assert ((final["rate"] >= 32) & (final["rate"] <= 42)).all()  # about 37%


# --------------------------------------------------------------------------- scale


def test_generate_many_reaches_the_row_target_with_distinct_areas():
    frames = list(generate_many(n_areas=4, rows_target=30_000, seed=9))
    assert len(frames) == 4
    total = sum(len(f) for f in frames)
    assert 30_000 <= total <= 33_000
    assert len({f["area_id"].iloc[0] for f in frames}) == 4
    assert all((f["data_kind"] == "synthetic").all() and f.attrs["data_kind"] == "synthetic" for f in frames)
    ids = [set(f["child_id"]) for f in frames]
    assert not set.intersection(*ids)
    sizes = np.array([len(f) for f in frames])
    assert sizes.min() < sizes.max()  # areas of different sizes
    again = list(generate_many(n_areas=4, rows_target=30_000, seed=9))
    assert all(a.equals(b) for a, b in zip(frames, again))
