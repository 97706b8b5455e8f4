"""Publication safety: nothing record-level or secret reaches build/site, ids cannot escape the build,
environment failures keep the last good plan, one failure does not cascade, runs do not collide.

Each test builds for real (papermill, GX, pandoc, typst) in private folders, then scans what was
written. The synthetic Demoshire extract stands in for a service's record-level data.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cli, plan_file, plan_folder

pytestmark = pytest.mark.integration


@pytest.fixture
def env(private_env) -> dict:
    return private_env


def build_dir(env) -> Path:
    return Path(env["YJPLAN_BUILD_DIR"])


def site(env) -> Path:
    return build_dir(env) / "site"


def cli(env, *args, timeout=900):
    proc = run_cli(list(args), env, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def texts_of(folder: Path) -> dict[Path, str]:
    """Every file under ``folder`` as text: PDFs through pypdf, Word documents as their XML parts,
    everything else as bytes decoded leniently."""
    from pypdf import PdfReader

    out = {}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        raw = path.read_bytes().decode("utf-8", "replace")
        if path.suffix == ".pdf":
            raw += "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
        if path.suffix == ".docx":  # a zip: its text, properties and relationships are compressed XML
            from pipeline.render.docx import package_texts

            raw += "\n".join(package_texts(path).values())
        out[path] = raw
    return out


def demo_extract(env) -> Path:
    return build_dir(env) / "synthetic" / "demoshire_extract_synthetic.csv"


def use_extract(env, path: Path, area="demoshire", as_of="2019-03-31") -> None:
    """Point the area's Local tracking at ``path`` (instead of the generated demonstration extract)."""
    (Path(env["YJPLAN_DATA_DIR"]) / "tracking.yml").write_text(
        f"areas:\n  {area}:\n    extract: {path}\n    population: 60000\n    as_of: {as_of}\n", encoding="utf-8")


# --------------------------------------------------------------------------- children's data


def test_no_record_level_field_or_path_reaches_the_site(env, tmp_path):
    code, out = cli(env, "build", "demoshire", "buckinghamshire", "--renderer", "embedded")
    assert code == 0, out
    with demo_extract(env).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ids = {r["child_id"] for r in rows} | {r["record_id"] for r in rows if r.get("record_id")}
    assert len(ids) > 100
    texts = texts_of(site(env))
    assert not [p for p in texts if p.suffix in (".pkl", ".pickle", ".csv")], "no record-level file may be published"
    leaks = {p.name: i for p, t in texts.items() for i in ids if i in t}
    assert not leaks, f"child or record ids published: {list(leaks.items())[:5]}"
    for secret in (str(tmp_path), str(REPO), "/restricted", "tracking_extract"):
        found = [p.name for p, t in texts.items() if secret in t]
        assert not found, f"{secret!r} appears in published files {found}"
    # The extract's first outcome date (one child's caution, with a small extract) is not printed.
    first = min(r["outcome_date"] for r in rows)
    assert not [p.name for p, t in texts.items() if first in t and p.suffix != ".json"]
    # The restricted outputs exist, owner-only.
    restricted = build_dir(env) / "restricted"
    tracker = list((restricted / "demoshire").glob("RESTRICTED_live_tracker_*.csv"))
    assert tracker and stat.S_IMODE(tracker[0].stat().st_mode) == 0o600
    for folder in [restricted, *[p for p in restricted.rglob("*") if p.is_dir()]]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for path in [p for p in restricted.rglob("*") if p.is_file()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in site(env).rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path


def test_extract_warnings_are_published_as_counts_only(env, tmp_path):
    code, out = cli(env, "build", "demoshire", "--format", "html", "--renderer", "embedded")
    assert code == 0, out
    # A copy of the demonstration extract with one child's sex recorded two ways: a warning, row by row.
    with demo_extract(env).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["child_id"]] = counts.get(r["child_id"], 0) + 1
    child = next(c for c, n in counts.items() if n >= 2)
    same = [r for r in rows if r["child_id"] == child]
    same[0]["sex"] = "female" if same[0]["sex"] == "male" else "male"
    copy = tmp_path / "demoshire_copy_synthetic.csv"
    with copy.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    use_extract(env, copy)
    code, out = cli(env, "build", "demoshire", "--format", "html", "--renderer", "embedded")
    assert code == 0, out
    texts = texts_of(site(env))
    assert not [p.name for p, t in texts.items() if child in t], "the child's id must not be published"
    detail = json.loads((build_dir(env) / "restricted" / "demoshire" / "extract_validation_detail.json").read_text())
    line = rows.index(same[0]) + 2  # the header is line 1
    assert any(line in d["rows_listed"] and d["failing_rows"] >= 1 for d in detail), "row detail goes to the restricted folder"
    html = plan_file(site(env), "demoshire", "html").read_text(encoding="utf-8")
    assert "failed this rule" in html, "the plan counts the failing rows"


def test_failure_details_stay_restricted(env, tmp_path):
    bad = tmp_path / "bad_synthetic.csv"
    shutil.copyfile(REPO / "data" / "areas.csv", bad)  # not an extract at all: a file-level failure quoting its header
    use_extract(env, bad)
    code, out = cli(env, "build", "demoshire", "--format", "html", "--renderer", "embedded")
    assert code == 1 and "FAILED  demoshire/2019-20:" in out
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    use_extract(env, secret)
    code, out = cli(env, "build", "demoshire", "--format", "html", "--renderer", "embedded")
    assert code == 1
    assert not (site(env) / ".failures").exists()
    texts = texts_of(site(env))
    assert not [p.name for p, t in texts.items() if "root:x" in t or "ons_code" in t or str(tmp_path) in t]
    index = (site(env) / "index.html").read_text(encoding="utf-8")
    assert "build failed" in index and "validating the data" in index
    record = build_dir(env) / "restricted" / "failures" / "demoshire@2019-20.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert json.loads(record.read_text())["kind"] == "data"


# --------------------------------------------------------------------------- ids and paths


@pytest.mark.parametrize("bad_id", ["../../victim", ".", "", "..", "Oxfordshire", "a/b", "site"])
def test_an_id_cannot_reach_outside_its_folder(env, tmp_path, bad_id):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep", encoding="utf-8")
    code, out = cli(env, "build", "buckinghamshire", "--format", "html", "--renderer", "embedded")
    assert code == 0, out
    before = sorted(p.relative_to(site(env)) for p in site(env).rglob("*"))
    code, out = cli(env, "build", bad_id, "--format", "html", "--renderer", "embedded")
    assert code != 0
    assert "Traceback" not in out
    assert (victim / "keep.txt").read_text() == "keep"
    assert sorted(p.relative_to(site(env)) for p in site(env).rglob("*")) == before
    assert "BUILT" not in out


def test_an_empty_or_unsafe_id_in_areas_csv_stops_before_any_path_is_formed(env):
    code, out = cli(env, "build", "buckinghamshire", "--format", "html", "--renderer", "embedded")
    assert code == 0
    before = sorted(p.relative_to(site(env)) for p in site(env).rglob("*"))
    areas = Path(env["YJPLAN_DATA_DIR"]) / "areas.csv"
    lines = areas.read_text(encoding="utf-8").splitlines()
    lines.append("," + lines[1].split(",", 1)[1])  # a copy of a row with an empty id
    areas.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = cli(env, "build", "--all", "--format", "html", "--renderer", "embedded")
    assert code != 0 and "Traceback" not in out
    assert "areas.csv" in out and "area id" in out
    assert sorted(p.relative_to(site(env)) for p in site(env).rglob("*")) == before


# --------------------------------------------------------------------------- environment failures


def test_missing_renderer_keeps_the_last_good_plan(env):
    code, out = cli(env, "build", "buckinghamshire", "--format", "html", "--renderer", "embedded")
    assert code == 0
    plan = plan_file(site(env), "buckinghamshire", "html")
    first = plan.read_bytes()
    no_quarto = {**env, "PATH": "/usr/bin:/bin", "QUARTO_PATH": ""}
    code, out = cli(no_quarto, "build", "buckinghamshire", "--format", "html", "--renderer", "quarto", "--force")
    assert code == 1 and "Quarto" in out and "last good plan is kept" in out
    assert plan.read_bytes() == first
    index = (site(env) / "index.html").read_text(encoding="utf-8")
    assert "stale" in index and 'href="buckinghamshire/2016-17/buckinghamshire-2016-17-plan.html"' in index
    # pandoc missing: the same.
    code, out = cli({**env, "PYPANDOC_PANDOC": "/nonexistent/pandoc"}, "build", "buckinghamshire", "--format", "html",
                    "--renderer", "embedded", "--force")
    assert code == 1 and plan.read_bytes() == first
    # A good build clears the stale mark.
    code, out = cli(env, "build", "buckinghamshire", "--format", "html", "--renderer", "embedded", "--force")
    assert code == 0 and "stale" not in (site(env) / "index.html").read_text(encoding="utf-8")


def test_a_failure_does_not_cascade_to_the_next_notebook_in_the_same_process(env, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from pipeline import build
    from pipeline.render import RenderError

    import pipeline.render as render

    real = render.render_document
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RenderError("typst could not compile the PDF: simulated")
        return real(*args, **kwargs)

    monkeypatch.setattr(render, "render_document", flaky)
    first = build.build_area("buckinghamshire", formats=("html",), renderer="embedded", progress=None)
    assert not first.ok and first.stage == "rendering" and not first.kept_previous
    second = build.build_area("warwickshire", formats=("html",), renderer="embedded", progress=None)
    assert second.ok, second.message
    third = build.build_area("buckinghamshire", formats=("html",), renderer="embedded", progress=None)
    assert third.ok, third.message
    monkeypatch.setattr(render, "render_document", lambda *a, **k: (_ for _ in ()).throw(RenderError("simulated")))
    fourth = build.build_area("buckinghamshire", formats=("html",), renderer="embedded", progress=None, force=True)
    assert not fourth.ok and fourth.kept_previous
    assert (plan_file(site(env), "buckinghamshire", "html")).is_file()


def test_two_runs_on_one_build_folder_take_turns(env):
    procs = [subprocess.Popen([sys.executable, "-m", "pipeline.cli", "build", "buckinghamshire", "--format", "html",
                               "--renderer", "embedded", "--force"], cwd=REPO, env={**os.environ, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert any("waiting for it to finish" in o for o in outs), outs
    assert (plan_file(site(env), "buckinghamshire", "html")).is_file()
    assert not any((build_dir(env) / "staging").iterdir())


def test_killing_the_driver_stops_its_workers_and_the_next_run_cleans_up(env):
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "build", "--all", "--jobs", "2", "--format", "html",
                             "--renderer", "embedded"], cwd=REPO, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = ""
    deadline = time.time() + 300
    while "executing" not in seen and time.time() < deadline:
        seen += proc.stdout.readline()
    assert "executing" in seen, seen
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(8)  # long enough for a plan to finish if a worker had carried on
    published = [str(p.parent.relative_to(site(env))) for p in site(env).glob("**/build.json")] if site(env).exists() else []
    assert published == [], f"orphan workers published {published}"
    code, out = cli(env, "build", "buckinghamshire", "--format", "html", "--renderer", "embedded")
    assert code == 0 and "leftover" in out
    assert not any((build_dir(env) / "staging").iterdir())


# --------------------------------------------------------------------------- messages


def test_command_line_mistakes_get_messages_not_tracebacks(env):
    code, out = cli(env, "compare", "narnia", "oxfordshire")
    assert code == 1 and "Traceback" not in out and "narnia" in out and "areas.csv" in out
    for jobs in ("0", "-1", "two"):
        code, out = cli(env, "build", "oxfordshire", "--jobs", jobs)
        assert code == 2 and "--jobs" in out and "Traceback" not in out
    code, out = cli(env, "compare", "oxfordshire", "oxfordshire", "--format", "html")
    assert code == 1 and "two different areas" in out
