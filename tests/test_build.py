"""The build driver through the real CLI: failures leave no plan behind, and the cache rebuilds exactly what changed.

These run papermill and the embedded renderer for real (HTML only, to keep them quick).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, plan_file, plan_folder, replace_in, run_cli

pytestmark = pytest.mark.integration

WARKS_POLICE_STAFFING = 'warwickshire,2018-19,2018/19,Police,police,staffing,170,GBP_thousands,contribution,'


@pytest.fixture
def env(private_env) -> dict:
    return private_env


def build(env: dict, *args: str) -> tuple[int, str, dict[str, str]]:
    """Run ``yjplan build … --format html --renderer embedded``; return exit code, output and status per output."""
    proc = run_cli(["build", *args, "--format", "html", "--renderer", "embedded"], env)
    out = proc.stdout + proc.stderr
    statuses = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("BUILT", "CACHED", "FAILED") and parts[1].endswith(":"):
            statuses[parts[1][:-1].split("/")[0]] = parts[0].lower()  # "warwickshire/2018-19:" -> warwickshire (one edition each)
    return proc.returncode, out, statuses


def site(env: dict) -> Path:
    return Path(env["YJPLAN_BUILD_DIR"]) / "site"


# --------------------------------------------------------------------------- failures


def test_one_bad_area_fails_with_a_clear_message_and_the_others_build(env):
    replace_in(Path(env["YJPLAN_DATA_DIR"]) / "budget.csv", WARKS_POLICE_STAFFING, WARKS_POLICE_STAFFING.replace(",170,", ",-170,"))
    code, out, statuses = build(env, "oxfordshire", "warwickshire")
    assert code != 0
    assert statuses == {"oxfordshire": "built", "warwickshire": "failed"}
    assert "budget.csv" in out and "amount" in out and "-170" in out, out
    assert plan_file(site(env), "oxfordshire", "html").is_file()
    assert not plan_folder(site(env), "warwickshire").exists(), "a failed area must leave no plan"
    assert not any((Path(env["YJPLAN_BUILD_DIR"]) / "staging").glob("*")), "no half-built staging folder is left"
    index = (site(env) / "index.html").read_text(encoding="utf-8")
    assert "build failed" in index and 'href="warwickshire/' not in index


def test_a_failed_rebuild_removes_the_previous_good_plan(env):
    code, _, statuses = build(env, "warwickshire")
    assert code == 0 and statuses == {"warwickshire": "built"}
    assert plan_file(site(env), "warwickshire", "html").is_file()
    replace_in(Path(env["YJPLAN_DATA_DIR"]) / "budget.csv", WARKS_POLICE_STAFFING, WARKS_POLICE_STAFFING.replace(",170,", ",lots,"))
    code, out, statuses = build(env, "warwickshire")
    assert code != 0 and statuses == {"warwickshire": "failed"}
    assert "lots" in out and "number" in out
    assert not plan_folder(site(env), "warwickshire").exists(), "the stale plan would pass for a current one"
    failure = json.loads((Path(env["YJPLAN_BUILD_DIR"]) / "restricted" / "failures" / "warwickshire@2018-19.json").read_text())
    assert failure["kind"] == "data" and failure["stage"] == "validating" and "lots" in failure["message"]
    assert not (site(env) / ".failures").exists(), "failure details are not published"


def test_unknown_area_is_refused_without_output(env):
    code, out, statuses = build(env, "narnia")
    assert code != 0 and statuses == {"narnia": "failed"}
    assert "narnia" in out and "areas.csv" in out
    assert not (site(env) / "narnia").exists()


# --------------------------------------------------------------------------- cache


def test_cache_rebuilds_exactly_what_changed(env):
    data = Path(env["YJPLAN_DATA_DIR"])
    # Cold: both built. Warm: nothing rebuilt.
    code, _, statuses = build(env, "oxfordshire", "warwickshire")
    assert code == 0 and statuses == {"oxfordshire": "built", "warwickshire": "built"}
    first = plan_file(site(env), "warwickshire", "html").read_bytes()
    code, out, statuses = build(env, "oxfordshire", "warwickshire")
    assert statuses == {"oxfordshire": "cached", "warwickshire": "cached"}, out
    assert "0 built, 2 up to date" in out

    # One area's data rows: only that area.
    replace_in(data / "indicators.csv", "See the 2017/18 row.", "See the 2017/18 row (checked).")
    _, _, statuses = build(env, "oxfordshire", "warwickshire")
    assert statuses == {"oxfordshire": "cached", "warwickshire": "built"}

    # One area's content file: only that area.
    content = data / "content" / "oxfordshire" / "2018-21.yml"
    content.write_text(content.read_text(encoding="utf-8") + "\n# analyst's note\n", encoding="utf-8")
    _, _, statuses = build(env, "oxfordshire", "warwickshire")
    assert statuses == {"oxfordshire": "built", "warwickshire": "cached"}

    # Another area's row in areas.csv changes nothing here; a shared contract changes both.
    contract = Path(env["YJPLAN_CONTRACTS_DIR"]) / "budget.json"
    doc = json.loads(contract.read_text(encoding="utf-8"))
    doc.setdefault("meta", {})["reviewed"] = "test"
    contract.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    _, _, statuses = build(env, "oxfordshire", "warwickshire")
    assert statuses == {"oxfordshire": "built", "warwickshire": "built"}

    # The notebook changes both.
    nb = Path(env["YJPLAN_NOTEBOOKS_DIR"]) / "plan.ipynb"
    doc = json.loads(nb.read_text(encoding="utf-8"))
    doc["metadata"]["yjplan_test"] = 1
    nb.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    _, _, statuses = build(env, "oxfordshire", "warwickshire")
    assert statuses == {"oxfordshire": "built", "warwickshire": "built"}

    # Nothing changed: nothing rebuilt, unless forced.
    _, _, statuses = build(env, "oxfordshire", "warwickshire")
    assert statuses == {"oxfordshire": "cached", "warwickshire": "cached"}
    _, _, statuses = build(env, "oxfordshire", "warwickshire", "--force")
    assert statuses == {"oxfordshire": "built", "warwickshire": "built"}

    # A forced rebuild of unchanged inputs gives byte-identical output (the build date is a date, not a time).
    replace_in(data / "indicators.csv", "See the 2017/18 row (checked).", "See the 2017/18 row.")
    _, _, statuses = build(env, "warwickshire")
    assert statuses == {"warwickshire": "built"}
    again = plan_file(site(env), "warwickshire", "html").read_bytes()
    if again != first:  # say where they differ
        i = next(i for i in range(min(len(again), len(first))) if again[i] != first[i])
        pytest.fail(f"not byte-identical at {i}: {first[i - 200:i + 80]!r} vs {again[i - 200:i + 80]!r}")


def test_comparison_rebuilds_only_when_one_of_its_areas_changes(env):
    data = Path(env["YJPLAN_DATA_DIR"])
    proc = run_cli(["compare", "oxfordshire", "buckinghamshire", "--format", "html", "--renderer", "embedded"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BUILT   compare-oxfordshire-buckinghamshire" in proc.stdout
    replace_in(data / "indicators.csv", "See the 2017/18 row.", "See the 2017/18 row (checked).")  # Warwickshire
    proc = run_cli(["compare", "oxfordshire", "buckinghamshire", "--format", "html", "--renderer", "embedded"], env)
    assert "CACHED  compare-oxfordshire-buckinghamshire" in proc.stdout
    content = data / "content" / "buckinghamshire" / "2016-17.yml"
    content.write_text(content.read_text(encoding="utf-8") + "\n# edit\n", encoding="utf-8")
    budget = data / "budget.csv"
    replace_in(budget, "buckinghamshire,", "buckinghamshire,", 1)  # untouched bytes: still cached for data
    proc = run_cli(["compare", "oxfordshire", "buckinghamshire", "--format", "html", "--renderer", "embedded"], env)
    assert "BUILT   compare-oxfordshire-buckinghamshire" in proc.stdout
    index = (site(env) / "index.html").read_text(encoding="utf-8")
    assert 'href="compare-oxfordshire-buckinghamshire/compare-oxfordshire-buckinghamshire.html"' in index
