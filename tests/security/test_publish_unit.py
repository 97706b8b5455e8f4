"""Fast checks of the publication rules: folder names, withdrawal, sweeping, permissions, caps."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pipeline.site import publish
from pipeline.fileio import make_public, write_atomic, write_restricted
from pipeline.data.ids import InvalidIdError, check_area_id


@pytest.mark.parametrize("bad", ["", ".", "..", "../x", "a/b", "A", "1abc", "a b", "x" * 65, None, "é"])
def test_the_id_rule_refuses_what_could_become_a_path(bad):
    with pytest.raises(InvalidIdError, match="invalid area id"):
        check_area_id(bad)


@pytest.mark.parametrize("good", ["oxfordshire", "b", "north_east-lincs2"])
def test_the_id_rule_accepts_slugs(good):
    assert check_area_id(good) == good


@pytest.mark.parametrize("bad", ["", ".", "..", "../victim", "a/../../b", ".failures", "Site"])
def test_output_names_outside_the_site_are_refused(build_copy, bad):
    with pytest.raises(publish.UnsafeOutputError):
        publish.output_dir(bad)


def test_publish_replaces_and_withdraw_removes_only_the_named_folder(build_copy):
    site = publish.site_dir()
    (site / "other").mkdir(parents=True)
    staging = publish.new_staging("area")
    (staging / "plan.html").write_text("v1", encoding="utf-8")
    publish.publish(staging, "area")
    assert (site / "area" / "plan.html").read_text() == "v1"
    assert stat.S_IMODE((site / "area" / "plan.html").stat().st_mode) == 0o644
    assert publish.withdraw("area") and not (site / "area").exists()
    assert (site / "other").is_dir() and not publish.withdraw("area")


def test_failure_records_are_restricted_and_the_public_status_has_no_message(build_copy):
    publish.record_failure("area", "validating", "data", "child C123 born 2004-05-06", kept=False)
    path = build_copy / "restricted" / "failures" / "area.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    status = publish.failure_status("area")
    assert status["stage"] == "validating" and "C123" not in str(status)
    publish.clear_failure("area")
    assert publish.failure_status("area") is None


def test_sweep_removes_leftovers_and_legacy_leaks(build_copy):
    site = publish.site_dir()
    for folder in (publish.staging_root() / "x-1234", build_copy / ".staging" / "y", site / ".old-a-1", site / ".failures"):
        folder.mkdir(parents=True)
    (site / "demo").mkdir()
    (site / "demo" / "tracking_extract.pkl").write_bytes(b"x")
    (site / "demo" / "plan.html").write_text("ok")
    (build_copy / "cache" / "extracts").mkdir(parents=True)
    (build_copy / "cache" / "extracts" / "demo-1.pkl").write_bytes(b"x")
    old_tracker = build_copy / "restricted" / "tracker.csv"
    old_tracker.parent.mkdir(parents=True)
    old_tracker.write_text("child_id\n")
    old_tracker.chmod(0o644)
    removed = publish.sweep()
    assert {"x-1234", "y", ".old-a-1", ".failures", "tracking_extract.pkl", "demo-1.pkl"} <= set(removed)
    assert stat.S_IMODE(old_tracker.stat().st_mode) == 0o600
    assert (site / "demo" / "plan.html").exists() and not list(publish.staging_root().iterdir())


def test_publication_refused_once_the_owning_run_has_gone(build_copy):
    staging = publish.new_staging("area")
    publish.set_owner(2 ** 22 + 12345)  # no such process
    try:
        with pytest.raises(publish.OrphanedBuildError):
            publish.publish(staging, "area")
    finally:
        publish.set_owner(None)
    assert not (publish.site_dir() / "area").exists()


def test_permissions_public_and_restricted(tmp_path):
    public = write_atomic(tmp_path / "pub" / "index.html", b"x")
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    secret = write_restricted(tmp_path / "restricted" / "deep" / "tracker.csv", b"x")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    for folder in (tmp_path / "restricted", tmp_path / "restricted" / "deep"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    make_public(tmp_path / "pub")
    assert stat.S_IMODE((tmp_path / "pub").stat().st_mode) == 0o755


def test_the_appendix_lists_a_bounded_number_of_rows(monkeypatch):
    from pipeline.document import sections
    from pipeline.data.contracts import Outcome, ValidationReport

    outcome = Outcome(table="t", file="t.csv", expectation="e", column="c", severity="warning", stage="raw", success=False,
                      description="d", rows=list(range(5000)), details=[f"line {i}: value" for i in range(5000)])

    class Data:
        report = ValidationReport([outcome])

    class Plan:
        data = Data()
        tracking = None

    text = sections.data_quality(Plan())
    assert text.count("line ") <= sections.APPENDIX_ROWS + 1
    assert "4,980 more" in text


def test_extract_outcomes_are_reduced_to_counts():
    from pipeline.data.contracts import Outcome, ValidationReport
    from pipeline.document.tracking_section import public_report

    o = Outcome(table="case_extract", file="/secret/path/extract.csv", expectation="e", column="sex", severity="warning",
                stage="typed", success=False, description="child attributes consistent", rows=[3, 9],
                details=["line 3: child_id='C1', sex='M'", "line 9: child_id='C1', sex='F'"], observed="C1")
    out = public_report(ValidationReport([o])).outcomes[0]
    assert out.file == "extract.csv" and out.rows == [] and out.observed == ""
    assert "C1" not in " ".join(out.details) and "2 rows" in out.details[0]


def test_a_killed_renderer_is_reported_as_out_of_memory(tmp_path, monkeypatch):
    from pipeline.render import RenderError, embedded

    fake = tmp_path / "pandoc"
    fake.write_text("#!/bin/sh\nkill -9 $$\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(embedded, "pandoc_path", lambda: str(fake))
    with pytest.raises(RenderError, match="out of memory"):
        embedded.run_pandoc(["--to", "html5"], "# x\n", tmp_path)
