"""Local tracking from a case-management extract: cohort rules at their edges, FTE, custody, tracker."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.synthetic import generate_extract
from pipeline.analysis.tracking import (
    canonical,
    cohort_changes,
    cohort_members,
    cohort_periods,
    custody_summary,
    first_time_entrants,
    follow_up_window,
    live_tracker,
    publication_tables,
    reoffending_breakdown,
    reoffending_cohorts,
    write_restricted_tracker,
)
from pipeline.analysis.tracking import codes
from pipeline.analysis.tracking.reference import reference_cohorts, reference_members

# --------------------------------------------------------------------------- helpers

_counter = iter(range(1, 10**9))


def row(child="C001", offence="2017-05-01", outcome="2017-06-01", kind="youth_caution", **kw) -> dict:
    """One extract row with sensible defaults."""
    disposal = kw.pop("disposal", "referral_order" if kind == "court_disposal" else "")
    return {
        "record_id": kw.pop("record_id", f"R{next(_counter):06d}"),
        "area_id": kw.pop("area_id", "testshire"),
        "child_id": child,
        "sex": kw.pop("sex", "male"),
        "age_at_offence": kw.pop("age", 15),
        "birth_month": "",
        "ethnicity": kw.pop("ethnicity", "white"),
        "offence_date": offence,
        "outcome_date": outcome,
        "outcome_type": kind,
        "disposal": disposal,
        "release_date": kw.pop("release", ""),
        "offence_category": kw.pop("category", "theft_and_handling"),
        "gravity_score": kw.pop("gravity", 2),
        "remand_status": kw.pop("remand", ""),
        "data_kind": "case_management",
    }


def extract(*rows) -> pd.DataFrame:
    return canonical(pd.DataFrame(list(rows)))


def days(date, n) -> str:
    return (pd.Timestamp(date) + pd.Timedelta(days=n)).date().isoformat()


INDEX = "2016-06-15"  # a caution on this date is the index event in the 2016/17 cohort
FINAL = "2020-12-31"  # an as-of date by which every cohort here is final


def one_cohort(*later_rows, as_of=FINAL, index=INDEX):
    """Cohort table of a child cautioned on ``index`` plus the given rows (the 2016/17 cohort, or the index's own)."""
    ext = extract(row(offence=days(index, -20), outcome=index), *later_rows)
    start = pd.Timestamp(index)
    fy = start.year if start.month >= 4 else start.year - 1
    table = reoffending_cohorts(ext, "annual", as_of, first_start=f"{fy}-04-01")
    return table[table["cohort_start"] == pd.Timestamp(f"{fy}-04-01")].iloc[0]


# --------------------------------------------------------------------------- follow-up: day 365 vs 366


def test_offence_on_day_365_after_index_is_a_reoffence():
    c = one_cohort(row(offence=days(INDEX, 365), outcome=days(INDEX, 400)))
    assert (c["cohort_size"], c["reoffenders"], c["reoffences"]) == (1, 1, 1)


def test_offence_on_day_366_after_index_is_not():
    c = one_cohort(row(offence=days(INDEX, 366), outcome=days(INDEX, 400)))
    assert (c["cohort_size"], c["reoffenders"], c["reoffences"]) == (1, 0, 0)


def test_offence_on_the_index_date_is_part_of_the_index_episode_and_day_1_counts():
    c0 = one_cohort(row(offence=INDEX, outcome=days(INDEX, 30)))
    c1 = one_cohort(row(offence=days(INDEX, 1), outcome=days(INDEX, 30)))
    assert c0["reoffenders"] == 0 and c1["reoffenders"] == 1


def test_follow_up_is_365_days_even_across_a_leap_day():
    fu_end, _ = follow_up_window("2015-03-01")
    assert fu_end == pd.Timestamp("2016-02-29")  # day 365: 2016 is a leap year
    assert one_cohort(row(offence="2016-02-29", outcome="2016-04-01"), index="2015-03-01")["reoffenders"] == 1
    assert one_cohort(row(offence="2016-03-01", outcome="2016-04-01"), index="2015-03-01")["reoffenders"] == 0


# --------------------------------------------------------------------------- waiting period: 6 calendar months


def test_waiting_period_is_six_calendar_months_after_follow_up():
    fu_end, wait_end = follow_up_window("2016-03-31")
    assert fu_end == pd.Timestamp("2017-03-31")
    assert wait_end == pd.Timestamp("2017-09-30")
    assert (wait_end - fu_end).days == 183  # here the waiting period is 183 days long


def test_proven_on_day_183_of_waiting_counts_and_day_184_does_not():
    index = "2016-03-31"  # follow-up ends 2017-03-31, waiting ends 2017-09-30 (day 183)
    inside = one_cohort(row(offence="2017-03-01", outcome="2017-09-30"), index=index)
    after = one_cohort(row(offence="2017-03-01", outcome="2017-10-01"), index=index)
    assert inside["reoffenders"] == 1 and after["reoffenders"] == 0


def test_waiting_end_clips_to_month_end():
    # follow-up ends 31 August; six months later there is no 31 February: the waiting period ends on the 28th
    fu_end, wait_end = follow_up_window("2016-08-31")
    assert (fu_end, wait_end) == (pd.Timestamp("2017-08-31"), pd.Timestamp("2018-02-28"))
    assert one_cohort(row(offence="2017-08-30", outcome="2018-02-28"), index="2016-08-31")["reoffenders"] == 1
    assert one_cohort(row(offence="2017-08-30", outcome="2018-03-01"), index="2016-08-31")["reoffenders"] == 0


def test_reoffence_proven_during_follow_up_counts_and_offence_before_index_does_not():
    during = one_cohort(row(offence=days(INDEX, 10), outcome=days(INDEX, 40)))
    before = one_cohort(row(offence=days(INDEX, -5), outcome=days(INDEX, 40)))
    assert during["reoffences"] == 1 and before["reoffences"] == 0


def test_community_resolution_is_not_a_reoffence_nor_an_index_event():
    c = one_cohort(row(offence=days(INDEX, 10), outcome=days(INDEX, 20), kind="community_resolution"))
    assert c["reoffenders"] == 0
    only_cr = extract(row(offence="2016-06-01", outcome="2016-06-15", kind="community_resolution"))
    table = reoffending_cohorts(only_cr, "annual", FINAL, first_start="2016-04-01")
    assert table["cohort_size"].sum() == 0


def test_reoffences_are_counted_per_offence_and_rates_per_reoffender_and_child():
    ext = extract(
        row("A", offence="2016-05-01", outcome="2016-06-01"),
        row("A", offence="2016-09-01", outcome="2016-12-01", kind="court_disposal"),
        row("A", offence="2016-09-01", outcome="2016-12-01", kind="court_disposal", category="criminal_damage"),
        row("B", offence="2016-05-01", outcome="2016-07-01"),
    )
    c = reoffending_cohorts(ext, "annual", FINAL, first_start="2016-04-01").iloc[0]
    assert (c["cohort_size"], c["reoffenders"], c["reoffences"]) == (2, 1, 2)
    assert c["rate"] == pytest.approx(50.0)
    assert c["reoffences_per_reoffender"] == pytest.approx(2.0)
    assert c["reoffences_per_child"] == pytest.approx(1.0)
    assert c["lower"] < 50 < c["upper"]


# --------------------------------------------------------------------------- cohort membership


def test_index_date_is_the_first_event_in_the_period_and_a_child_is_counted_once():
    ext = extract(
        row(offence="2016-04-10", outcome="2016-05-01"),
        row(offence="2016-07-10", outcome="2016-09-01"),
    )
    m = cohort_members(ext, "annual", FINAL, first_start="2016-04-01")
    first = m[m["cohort_start"] == pd.Timestamp("2016-04-01")]
    assert len(first) == 1
    assert first.iloc[0]["index_date"] == pd.Timestamp("2016-05-01")
    assert first.iloc[0]["reoffences"] == 1  # the July offence, proven in September


def test_a_child_can_be_in_consecutive_cohorts():
    ext = extract(row(offence="2016-04-10", outcome="2016-05-01"), row(offence="2017-05-10", outcome="2017-06-01"))
    m = cohort_members(ext, "annual", FINAL, first_start="2016-04-01")
    assert list(m["cohort_label"]) == ["Apr 2016 – Mar 2017", "Apr 2017 – Mar 2018"]
    assert list(m["reoffences"]) == [0, 0]  # the 2017 offence is day 374 after the first index date


def test_custodial_sentence_indexes_on_release_not_sentence():
    ext = extract(
        row(offence="2016-01-10", outcome="2016-02-01", kind="court_disposal", disposal="detention_and_training_order",
            release="2016-08-01"),
        row(offence="2017-07-15", outcome="2017-09-01"),  # day 348 after release, day 528 after sentence
    )
    m = cohort_members(ext, "annual", FINAL, first_start="2015-04-01")
    first = m[m["cohort_label"] == "Apr 2016 – Mar 2017"].iloc[0]
    assert first["index_event"] == "custody_release"
    assert first["index_date"] == pd.Timestamp("2016-08-01")
    assert first["reoffences"] == 1
    assert (m["cohort_label"] == "Apr 2015 – Mar 2016").sum() == 0  # the sentence itself is not an index event


def test_custodial_sentence_without_release_is_not_an_index_event():
    ext = extract(row(offence="2016-05-10", outcome="2016-06-01", kind="court_disposal",
                      disposal="detention_and_training_order"))
    assert reoffending_cohorts(ext, "annual", FINAL, first_start="2016-04-01")["cohort_size"].sum() == 0


def test_cohort_periods_annual_and_quarterly():
    ext = extract(row(offence="2015-03-20", outcome="2015-04-02"))
    annual = cohort_periods(ext, "annual", "2017-04-30")
    assert [p.label for p in annual] == ["Apr 2015 – Mar 2016", "Apr 2016 – Mar 2017"]
    quarterly = cohort_periods(ext, "quarterly", "2015-12-31")
    assert [p.label for p in quarterly] == ["Apr–Jun 2015", "Jul–Sep 2015", "Oct–Dec 2015"]
    assert quarterly[0].end == pd.Timestamp("2015-06-30")
    # an extract whose first outcome is mid-period starts with the next full period
    late = extract(row(offence="2015-06-20", outcome="2015-07-20"))
    assert cohort_periods(late, "annual", "2017-04-30")[0].label == "Apr 2016 – Mar 2017"
    assert [p.label for p in cohort_periods(ext, "annual", "2016-06-30", start_month=7)] == ["Jul 2015 – Jun 2016"]
    with pytest.raises(ValueError):
        cohort_periods(ext, "monthly", "2016-03-31")


# --------------------------------------------------------------------------- provisional cohorts and as_of


def test_cohort_is_provisional_until_its_waiting_period_has_ended():
    ext = extract(row(offence="2016-05-01", outcome="2016-06-01"))
    # 2016/17 cohort: follow-up to 2018-03-31, waiting to 2018-09-30
    def status(as_of):
        t = reoffending_cohorts(ext, "annual", as_of, first_start="2016-04-01")
        return t[t["cohort_label"] == "Apr 2016 – Mar 2017"].iloc[0]

    assert status("2017-06-30")["provisional"] and "follow-up" in status("2017-06-30")["status"]
    assert status("2018-05-01")["provisional"] and "waiting period" in status("2018-05-01")["status"]
    assert status("2018-09-29")["provisional"]
    assert not status("2018-09-30")["provisional"] and status("2018-09-30")["status"] == "final"
    assert status("2018-09-30")["waiting_end"] == pd.Timestamp("2018-09-30")


def test_outcomes_after_as_of_are_not_seen():
    ext = extract(row(offence="2016-05-01", outcome="2016-06-01"), row(offence="2016-08-01", outcome="2017-02-01"))

    def first_quarter(as_of):
        return reoffending_cohorts(ext, "quarterly", as_of, first_start="2016-04-01").iloc[0]

    assert first_quarter("2017-01-31")["reoffenders"] == 0  # the reoffence is not proven yet
    assert first_quarter("2017-02-01")["reoffenders"] == 1
    assert first_quarter("2017-02-01")["provisional"]
    # releases after as_of are not seen either
    custody = extract(row(offence="2016-01-10", outcome="2016-02-01", kind="court_disposal",
                          disposal="detention_and_training_order", release="2016-05-01"))
    def members(as_of):
        return len(live_tracker(custody, as_of, cohort_start="2016-04-01", cohort_end="2016-06-30"))

    assert (members("2016-04-30"), members("2016-05-01")) == (0, 1)


def test_only_cohorts_that_have_ended_are_listed():
    ext = extract(row(offence="2016-05-01", outcome="2016-06-01"))
    t = reoffending_cohorts(ext, "quarterly", "2016-09-29", first_start="2016-04-01")
    assert list(t["cohort_label"]) == ["Apr–Jun 2016"]
    t = reoffending_cohorts(ext, "quarterly", "2016-09-30", first_start="2016-04-01")
    assert list(t["cohort_label"]) == ["Apr–Jun 2016", "Jul–Sep 2016"]


# --------------------------------------------------------------------------- first-time entrants


def test_community_resolutions_do_not_make_a_first_time_entrant():
    ext = extract(
        row("A", offence="2016-11-01", outcome="2016-11-20", kind="community_resolution"),
        row("A", offence="2017-02-01", outcome="2017-03-01"),  # first caution: FTE in 2017
        row("B", offence="2017-02-01", outcome="2017-03-01", kind="community_resolution"),  # never an FTE
        row("C", offence="2016-12-01", outcome="2017-01-01", kind="court_disposal"),  # FTE on the first day
        row("D", offence="2016-10-01", outcome="2016-12-31"),  # FTE in 2016 ...
        row("D", offence="2017-03-01", outcome="2017-04-01"),  # ... so not again in 2017
        row("E", offence="2017-12-01", outcome="2017-12-31", kind="youth_conditional_caution"),  # last day
    )
    fte = first_time_entrants(ext, "2017-01-01", "2017-12-31", population=60000)
    assert fte["count"] == 3  # A, C, E
    assert fte["estimate"].value == pytest.approx(3 / 60000 * 100000)
    assert first_time_entrants(ext, "2016-01-01", "2016-12-31", 60000)["count"] == 1  # D
    assert "Counted from the extract" in fte["note"]
    assert "2017" not in fte["note"] and "2016" not in fte["note"], "no date of a child's outcome in a published note"


# --------------------------------------------------------------------------- custody


def test_custody_counts_sentencing_occasions_and_remand_episodes():
    rows = [
        # one sentencing occasion of two offences, custodial, remanded in youth detention
        row("A", offence="2017-05-01", outcome="2017-07-01", kind="court_disposal", disposal="detention_and_training_order",
            remand="remand_youth_detention"),
        row("A", offence="2017-05-03", outcome="2017-07-01", kind="court_disposal", disposal="detention_and_training_order",
            remand="remand_youth_detention", category="robbery"),
        row("B", offence="2017-05-01", outcome="2017-08-01", kind="court_disposal", remand="conditional_bail"),
        row("C", offence="2017-05-01", outcome="2017-08-01", kind="court_disposal", remand="unconditional_bail"),
        row("D", offence="2017-05-01", outcome="2017-08-01", kind="court_disposal", remand="none"),
        row("E", offence="2017-05-01", outcome="2017-08-01"),  # a caution: not a court sentence
        row("F", offence="2016-05-01", outcome="2016-08-01", kind="court_disposal", disposal="long_term_detention"),
    ]
    s = custody_summary(extract(*rows), "2017-04-01", "2018-03-31", population=60000)
    assert (s["custodial"], s["court_disposals"]) == (1, 4)
    assert s["share"].value == pytest.approx(25.0)
    assert s["rate"].value == pytest.approx(1 / 60000 * 1000)
    assert (s["remands"], s["eligible_episodes"]) == (1, 2)
    assert s["remand_share"].value == pytest.approx(50.0)


def test_custody_without_remand_status_reports_no_remands():
    s = custody_summary(extract(row(kind="court_disposal")), "2017-04-01", "2018-03-31", 60000)
    assert s["remands"] is None and s["remand_share"] is None
    assert any("no bail or remand status" in n for n in s["notes"])


# --------------------------------------------------------------------------- breakdowns and changes


def test_breakdown_lists_every_category_and_adds_up_to_the_cohort():
    ext = generate_extract(seed=3, scale=0.5)
    cohort = reoffending_cohorts(ext, "annual", "2019-03-31")
    first = cohort.iloc[1]
    for by in ("sex", "age_band", "ethnicity"):
        b = reoffending_breakdown(ext, first["cohort_start"], first["cohort_end"], by=by, as_of="2019-03-31")
        expected = {"sex": codes.SEXES, "age_band": codes.AGE_BANDS, "ethnicity": codes.ETHNICITIES}[by]
        assert tuple(b["group"]) == expected
        assert b["cohort_size"].sum() == first["cohort_size"]
        assert b["reoffenders"].sum() == first["reoffenders"]
        assert b["reoffences"].sum() == first["reoffences"]
    with pytest.raises(ValueError):
        reoffending_breakdown(ext, first["cohort_start"], first["cohort_end"], by="postcode")


def test_age_band_uses_age_at_the_index_offence():
    ext = extract(row("A", age=14), row("B", age=15))
    b = reoffending_breakdown(ext, "2017-04-01", "2018-03-31", by="age_band", as_of=FINAL)
    assert list(b["cohort_size"]) == [1, 1]


def test_cohort_changes_compare_consecutive_cohorts_and_flag_provisional():
    ext = generate_extract(seed=4, scale=0.5)
    cohorts = reoffending_cohorts(ext, "annual", "2019-03-31")
    ch = cohort_changes(cohorts, polarity="lower_is_better")
    assert len(ch) == len(cohorts) - 1
    assert list(ch["previous_label"]) == list(cohorts["cohort_label"][:-1])
    first = ch.iloc[0]
    assert first["absolute"] == pytest.approx(cohorts.iloc[1]["rate"] - cohorts.iloc[0]["rate"])
    assert 0 <= first["p_value"] <= 1 and first["test"]
    prov = ch[ch["provisional"]]
    assert len(prov) and (prov["assessment"] == "provisional: not assessed").all()
    assert not ch.iloc[0]["provisional"]  # 2016/17 (waiting ended Sep 2018) vs 2015/16: both final
    year_ago = cohort_changes(reoffending_cohorts(ext, "quarterly", "2019-03-31"), polarity="lower_is_better", lag=4)
    assert year_ago.iloc[0]["previous_label"] == "Apr–Jun 2015" and year_ago.iloc[0]["cohort_label"] == "Apr–Jun 2016"


# --------------------------------------------------------------------------- vectorised == reference


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("frequency", ["annual", "quarterly"])
def test_vectorised_equals_reference_on_synthetic_data(seed, frequency):
    ext = generate_extract(seed=seed, scale=0.4)
    for as_of in ("2016-09-30", "2018-02-14", "2019-03-31"):
        pd.testing.assert_frame_equal(
            reoffending_cohorts(ext, frequency, as_of), reference_cohorts(ext, frequency, as_of), check_exact=True
        )


def test_vectorised_equals_reference_member_by_member():
    ext = pd.concat([generate_extract(seed=21, scale=0.3), generate_extract(seed=22, area_id="otherland", scale=0.3)],
                    ignore_index=True)
    periods = cohort_periods(ext, "quarterly", "2019-03-31")
    vec = cohort_members(ext, "quarterly", "2019-03-31")
    ref = pd.DataFrame(reference_members(canonical(ext), periods, pd.Timestamp("2019-03-31")))
    cols = ["area_id", "child_id", "index_date", "index_event", "follow_up_end", "waiting_end", "reoffences",
            "first_reoffence_date", "sex", "ethnicity", "age_at_index_offence"]
    for col in ("index_date", "follow_up_end", "waiting_end", "first_reoffence_date"):
        ref[col] = pd.to_datetime(ref[col])
    vec = vec.assign(period=vec["period"].astype(int)).sort_values(["period", "area_id", "child_id"])[["period"] + cols]
    ref = ref.sort_values(["period", "area_id", "child_id"])[["period"] + cols]
    pd.testing.assert_frame_equal(vec.reset_index(drop=True), ref.reset_index(drop=True), check_dtype=False)
    by_area = reoffending_cohorts(ext, "annual", "2019-03-31", by_area=True)
    pd.testing.assert_frame_equal(by_area, reference_cohorts(ext, "annual", "2019-03-31", by_area=True))
    assert set(by_area["area_id"]) == {"demoshire", "otherland"}


_DAY0 = pd.Timestamp("2016-01-01")


@st.composite
def small_extracts(draw):
    n = draw(st.integers(1, 40))
    rows = []
    for i in range(n):
        child = f"K{draw(st.integers(0, 6)):03d}"
        offence = draw(st.integers(0, 1100))
        lag = draw(st.integers(0, 250))
        kind = draw(st.sampled_from(codes.OUTCOME_TYPES))
        custodial = kind == "court_disposal" and draw(st.booleans())
        release = ""
        if custodial and draw(st.booleans()):
            release = days(_DAY0, offence + lag + draw(st.integers(0, 300)))
        rows.append(
            row(
                child,
                offence=days(_DAY0, offence),
                outcome=days(_DAY0, offence + lag),
                kind=kind,
                disposal="detention_and_training_order" if custodial else ("fine" if kind == "court_disposal" else ""),
                release=release,
            )
        )
    as_of = days(_DAY0, draw(st.integers(200, 1600)))
    return extract(*rows), as_of, draw(st.sampled_from(["annual", "quarterly"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_extracts())
def test_vectorised_equals_reference_on_random_extracts(case):
    ext, as_of, frequency = case
    pd.testing.assert_frame_equal(
        reoffending_cohorts(ext, frequency, as_of, first_start="2016-01-01", start_month=1),
        reference_cohorts(ext, frequency, as_of, first_start="2016-01-01", start_month=1),
    )


# --------------------------------------------------------------------------- live tracker (restricted)


def test_live_tracker_lists_the_current_cohort_with_days_remaining():
    ext = extract(
        row("A", offence="2017-12-01", outcome="2018-01-10"),
        row("A", offence="2018-02-01", outcome="2018-03-20"),  # reoffence, proven before as_of
        row("B", offence="2018-01-01", outcome="2018-02-15"),
        row("C", offence="2018-03-01", outcome="2018-04-02"),  # next quarter: not in the current cohort
    )
    t = live_tracker(ext, "2018-04-30")
    assert t.attrs["restricted"] is True and t.attrs["cohort"] == "Jan–Mar 2018"
    assert list(t["child_id"]) == ["A", "B"]
    a, b = t.iloc[0], t.iloc[1]
    assert a["reoffended"] and a["reoffences"] == 1 and a["first_reoffence_date"] == pd.Timestamp("2018-02-01")
    assert not b["reoffended"]
    assert a["days_remaining"] == (pd.Timestamp("2018-01-10") + pd.Timedelta(days=365) - pd.Timestamp("2018-04-30")).days
    assert set(t["stage"]) == {"follow-up"}
    assert set(t.columns) == {
        "area_id", "child_id", "cohort_label", "index_date", "index_event", "follow_up_end", "waiting_end",
        "reoffended", "reoffences", "first_reoffence_date", "days_remaining", "stage",
    }
    later = live_tracker(ext, "2019-06-01", cohort_start="2018-01-01", cohort_end="2018-03-31")
    assert (later["days_remaining"] == 0).all() and set(later["stage"]) == {"waiting period"}


def test_restricted_tracker_is_written_only_under_the_restricted_folder(tmp_path):
    ext = generate_extract(seed=5, scale=0.3)
    restricted = tmp_path / "build" / "restricted"
    path = write_restricted_tracker(ext, "2019-03-31", restricted)
    assert path.parent == restricted.resolve()
    assert path.name.startswith("RESTRICTED_live_tracker_demoshire_2019-03-31") and path.name.endswith("_synthetic.csv")
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.parts[:2] == ("build", "restricted") for p in written)
    frame = pd.read_csv(path)
    assert len(frame) > 0 and "child_id" in frame.columns
    with pytest.raises(ValueError, match="public"):
        write_restricted_tracker(ext, "2019-03-31", tmp_path / "site" / "restricted")


# --------------------------------------------------------------------------- publication tables


def _shown_counts(table: pd.DataFrame, columns) -> list:
    return [v for c in columns if c in table.columns for v in table[c] if not isinstance(v, str)]


def test_publication_tables_are_disclosure_controlled_and_carry_no_ids():
    ext = generate_extract(seed=6, scale=0.3)  # small: plenty of counts under 5
    tables = publication_tables(ext, 18000, "2019-03-31", "2017-04-01", "2018-03-31", reoffending_polarity="lower_is_better")
    footnotes = tables.pop("footnotes")
    assert isinstance(footnotes, list) and footnotes
    assert any(n.startswith("<5") for n in footnotes)
    assert any("SYNTHETIC" in n for n in footnotes)
    expected = {"fte", "reoffending_cohorts", "reoffending_cohorts_quarterly", "reoffending_changes",
                "reoffending_by_sex", "reoffending_by_age_band", "reoffending_by_ethnicity", "custody"}
    assert set(tables) == expected
    ids = set(ext["child_id"])
    suppressed_any = False
    for name, table in tables.items():
        assert "child_id" not in table.columns
        assert not (ids & {v for c in table.columns for v in table[c].astype(str)})
        counts = ["first_time_entrants", "cohort_size", "reoffenders", "not_reoffended", "reoffences", "count",
                  "denominator"]
        assert all(not (1 <= v <= 4) for v in _shown_counts(table, counts)), name
        suppressed_any |= any((table[c].astype(str) == "<5").any() for c in table.columns)
        assert table.attrs["title"].endswith("(synthetic)")
    assert suppressed_any
    # a hidden reoffender count hides its rate
    q = tables["reoffending_cohorts_quarterly"]
    hidden = q["reoffenders"].astype(str).isin(["<5", "*"])
    assert (q.loc[hidden, "rate"].astype(str) == "*").all()


def test_publication_breakdown_has_a_total_and_secondary_suppression():
    ext = generate_extract(seed=8, scale=0.5)
    tables = publication_tables(ext, 30000, "2019-03-31", "2017-04-01", "2018-03-31", reoffending_polarity="lower_is_better")
    sex = tables["reoffending_by_sex"]
    assert sex["group"].iloc[-1] == "Total"
    for col in ("cohort_size", "reoffenders", "not_reoffended"):
        hidden = sex[col].astype(str).isin(["<5", "*"])[:-1]
        assert hidden.sum() != 1, f"{col}: a single hidden cell could be worked out from the total"


# --------------------------------------------------------------------------- benchmark script


def test_benchmark_script_prints_its_table(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "bench_cohorts.py"
    spec = importlib.util.spec_from_file_location("bench_cohorts", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--sizes", "3000", "6000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "vectorised s" in out and "speed-up" in out
    table = [line for line in out.splitlines() if line.strip().endswith("yes")]
    assert len(table) == 2
