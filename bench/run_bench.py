"""Benchmark: building the plans the naive way (a shell loop) against ``yjplan build``.

    .venv/bin/python bench/run_bench.py                  # full run (make bench): 3 repeats, N = 10, 50, 150
    .venv/bin/python bench/run_bench.py --quick          # smoke run: 1 repeat, N = 2, 4
    .venv/bin/python bench/run_bench.py --repeat 5 --scale-sizes 10 50

What is timed (every build with the embedded renderer: pandoc + typst wheels, HTML and PDF):

1. naive: what an analyst's shell loop does, one document after another. For each published area
   (oxfordshire, buckinghamshire, warwickshire) and then the comparison: the ``papermill`` CLI
   (a fresh process and a fresh ``yjplan`` kernel each) with the parameters ``yjplan build`` passes,
   except ``validation_report`` (not passed: the notebook validates its data itself), then
   ``python -c "... render_document(...)"`` (a fresh process per document, the same renderer).
2. ours, cold: ``yjplan build --all --renderer embedded`` into an empty build folder.
3. ours, warm: the same command again with nothing changed (must build nothing).
4. ours, one area changed: one figure of warwickshire in indicators.csv edited, the same command.
5. scale: N synthetic fictional areas (``pipeline.synthetic.generate_many``: one extract per area, about
   6,700 rows each, the density of bench_cohorts.py), added to a copy of the published data (areas.csv
   rows with data_kind=synthetic, region Synthetic, codes Z99......, a content file each, tracking.yml
   entries naming the extracts), then ``yjplan build <their ids> --format html,pdf``.

Fair comparison: ``--all`` also builds the synthetic demonstration area (demoshire) and the site
index. Scenarios 1-4 therefore run on a copy of data/ WITHOUT demoshire (its areas.csv row, content
file and tracking.yml entry removed), so both sides build exactly the three published plans and the
comparison; ours also writes the site index (the naive loop has none).

Isolation: everything is written under ``--out`` (default bench/out/, git-ignored): a snapshot of
the code (pipeline/, notebooks/, data_contracts/, put first on PYTHONPATH so that the CLI, papermill
kernels and renderers all run it even if the working tree is edited during the run), data copies,
and build folders (YJPLAN_BUILD_DIR, YJPLAN_DATA_DIR, YJPLAN_NOTEBOOKS_DIR, YJPLAN_CONTRACTS_DIR).
The repository's build/ is never touched. GX_ANALYTICS_ENABLED=False for every process (the CLI
sets it itself; the naive loop gets it too, so neither side pays for analytics calls).

Reported: median, min and max wall time of ``--repeat`` runs (each a fresh process tree, timed
from the bench), peak RSS of the process tree (sum over live processes, sampled every 0.1 s with
psutil, else /proc; forked workers share pages, so the sum over-counts) and the background CPU
(machine busy time during the run not spent by our processes, as a share of all cores: noise).
Then: the same-figures check (pypdf text of the PDFs, tag-stripped text of the HTML, naive and ours),
the scale table, and a profile of one area's stages. Results are also written to
``<out>/results.md`` and ``<out>/results.json``.

A yjplan run that prints nothing for ``--stall-timeout`` seconds (default 180) is declared hung:
its process tree is killed (by pid) and the table says how far it got.

Exit status 1 when a correctness check fails (a build failed, figures differ, the warm run built
something, the change rebuilt the wrong outputs); missed speed targets are reported, not fatal.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin" if (REPO / ".venv" / "bin" / "yjplan").exists() else Path(sys.executable).parent
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
PUBLISHED = ("oxfordshire", "buckinghamshire", "warwickshire")
KERNEL = "yjplan"
AS_OF = "2019-03-31"
# Working directory of every child process: outside the repository, so that `python -c` (whose sys.path[0]
# is the working directory) imports the snapshot on PYTHONPATH rather than the working tree's pipeline/.
WORK = REPO / "bench" / "out"
ROWS_PER_AREA = 1_000_000 / 150  # the density of bench/bench_cohorts.py: 150 areas for 1M extract rows
STALL_SECONDS = 180.0  # a yjplan run printing nothing for this long is hung (--stall-timeout)

# Figures that must appear in the same document built both ways (HTML and PDF).
KEY_FIGURES = {
    "oxfordshire": ["240 per 100,000", "37.6%", "£1,383,382"],
    "buckinghamshire": ["£1,531,381"],
    "warwickshire": ["33.23%"],
    "compare": ["234 per 100,000", "33.23%", "29.9%"],
}
# Scenario 4: the figure edited (warwickshire, first-time entrants 2017/18, published as 125 per 100,000).
EDIT_PREFIX = "warwickshire,fte_rate,area,Warwickshire,2017/18,2017-04-01,2018-03-31,"
EDIT_ORIGINAL = 125

RENDER_SNIPPET = (
    "import json, sys\n"
    "from pipeline.render import render_document\n"
    "render_document(sys.argv[1], sys.argv[2], sys.argv[3], formats=('html', 'pdf'), "
    "metadata=json.loads(sys.argv[4]), renderer='embedded')\n"
)
IMPORT_SNIPPET = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


# --------------------------------------------------------------------------- helpers


def log(msg: str = "") -> None:
    print(msg, flush=True)


def stats(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt_s(v, width=8, digits=2) -> str:
    return f"{'—':>{width}}" if v is None else f"{v:>{width}.{digits}f}"


def mb(v) -> str:
    return "—" if not v else f"{v / 2**20:,.0f}"


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _busy_cpu_seconds() -> float | None:
    """Machine-wide non-idle CPU seconds so far (psutil, else /proc/stat)."""
    try:
        import psutil

        t = psutil.cpu_times()
        return sum(t) - t.idle - getattr(t, "iowait", 0.0)
    except ImportError:
        try:
            fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
            hz = os.sysconf("SC_CLK_TCK")
            return (sum(fields[:8]) - fields[3] - fields[4]) / hz
        except (OSError, ValueError, IndexError):
            return None


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class TreeSampler(threading.Thread):
    """Peak RSS of a process and all its descendants (sum over live processes, and the largest one)."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_total = 0
        self.peak_single = 0
        self.cpu_by_pid: dict[int, float] = {}  # last seen own CPU (user + system) of every process in the tree
        self._done = threading.Event()

    @property
    def tree_cpu(self) -> float:
        """CPU seconds of the tree's processes, as last sampled (catches workers of a fork server, which
        getrusage(RUSAGE_CHILDREN) never sees because they are not reaped by our children)."""
        return sum(self.cpu_by_pid.values())

    def _sample_psutil(self, psutil) -> list[int]:
        try:
            root = psutil.Process(self.pid)
            procs = [root] + root.children(recursive=True)
        except psutil.Error:
            return []
        out = []
        for p in procs:
            try:
                out.append(p.memory_info().rss)
                t = p.cpu_times()
                self.cpu_by_pid[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        return out

    def _sample_proc(self) -> list[int]:
        page = os.sysconf("SC_PAGE_SIZE")
        todo, seen, out = [self.pid], set(), []
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                out.append(int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page)
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo.extend(int(c) for c in (task / "children").read_text().split())
            except (OSError, ValueError, IndexError):
                continue
        return out

    def run(self) -> None:
        try:
            import psutil
        except ImportError:
            psutil = None
        while not self._done.is_set():
            rss = self._sample_psutil(psutil) if psutil else self._sample_proc()
            if rss:
                self.peak_total = max(self.peak_total, sum(rss))
                self.peak_single = max(self.peak_single, max(rss))
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


def kill_tree(pid: int) -> None:
    """SIGKILL a process we started and all its descendants (by pid; never by name)."""
    try:
        import psutil

        try:
            procs = psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            procs = []
        for p in procs:
            try:
                p.kill()
            except psutil.Error:
                pass
    except ImportError:
        pass
    try:
        os.killpg(pid, 9)  # the child leads its own session (start_new_session), so its group is ours alone
    except OSError:
        pass


def run_timed(cmd: list, env: dict, log_path: Path, cwd: Path | None = None, timeout: float = 7200,
              stall: float | None = None) -> dict:
    """Run a command (output to ``log_path``); wall time, exit code, peak tree RSS, background CPU.

    With ``stall``, a run whose output has not grown for that many seconds is taken as hung: the
    whole process tree is killed and the result says ``hung``.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    busy0, ours0 = _busy_cpu_seconds(), _children_cpu()
    hung = None
    with open(log_path, "ab") as fh:
        fh.write(f"$ {' '.join(map(str, cmd))}\n".encode())
        fh.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], env=env, cwd=str(cwd or WORK), stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        size, last_change = -1, time.perf_counter()
        while True:
            try:
                rc = proc.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.perf_counter()
            current = log_path.stat().st_size
            if current != size:
                size, last_change = current, now
            if now - t0 > timeout or (stall and now - last_change > stall):
                hung = now - last_change
                kill_tree(proc.pid)
                rc = proc.wait()
                break
        seconds = time.perf_counter() - t0
        sampler.stop()
        if hung is not None:
            fh.write(f"\n[bench] no output for {hung:.0f} s: process tree killed\n".encode())
    busy1, ours1 = _busy_cpu_seconds(), _children_cpu()
    # Reaped children's CPU, or the sampled tree's when larger: workers forked by a fork server are not
    # reaped by the CLI, so getrusage misses them (the sampled figure misses only processes shorter than
    # the 0.1 s sampling interval).
    ours_cpu = max(ours1 - ours0, sampler.tree_cpu)
    background = None if busy0 is None or busy1 is None else max(0.0, (busy1 - busy0) - ours_cpu)
    return {"seconds": seconds, "rc": rc, "peak_tree": sampler.peak_total, "peak_single": sampler.peak_single,
            "cpu": ours_cpu, "background_cpu": background, "hung": hung}


def background_share(runs: list[dict]) -> float | None:
    """Background CPU as a share of the machine's capacity during the runs."""
    wall = sum(r["seconds"] for r in runs)
    bg = [r.get("background_cpu") for r in runs]
    if not wall or any(b is None for b in bg):
        return None
    return sum(bg) / (wall * (os.cpu_count() or 1))


def parse_summary(text: str) -> dict:
    """Statuses from the CLI's end-of-run summary (``BUILT name: ...`` lines and the count line)."""
    part = text.rsplit("\nSummary (", 1)
    out = {"statuses": {}, "built": None, "cached": None, "failed": None, "cli_seconds": None}
    if len(part) < 2:
        return out
    tail = "Summary (" + part[1]
    m = re.match(r"Summary \(([\d.]+)s\)", tail)
    if m:
        out["cli_seconds"] = float(m.group(1))
    for m in re.finditer(r"^  (BUILT|CACHED|FAILED)\s+(\S+?): ", tail, flags=re.M):
        out["statuses"][m.group(2)] = m.group(1).lower()
    m = re.search(r"^  (\d+) built, (\d+) up to date, (\d+) failed", tail, flags=re.M)
    if m:
        out["built"], out["cached"], out["failed"] = (int(x) for x in m.groups())
    return out


def last_run_text(log_path: Path) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return text[text.rfind("\n$ ") + 1:] if "\n$ " in text else text


def normalise_text(text: str) -> str:
    for ch in ("\u00a0", "\u202f", "\u2009", "\u2007", "\u2002", "\u2003"):
        text = text.replace(ch, " ")
    return re.sub(r"\s+", " ", text).strip()


def html_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?s)<[^>]*>", " ", raw)
    return normalise_text(html.unescape(raw))


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return normalise_text(" ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages))


# --------------------------------------------------------------------------- setup


def snapshot_code(dest: Path) -> Path:
    """Copy the code the pipeline runs (package, notebooks, contracts) so edits during the run do not leak in."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "pipeline", dest / "pipeline", ignore=ignore)
    shutil.copytree(REPO / "notebooks", dest / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(REPO / "data_contracts", dest / "data_contracts", ignore=ignore)
    if (REPO / "_quarto.yml").exists():
        shutil.copy2(REPO / "_quarto.yml", dest / "_quarto.yml")
    return dest


def base_env(code: Path) -> dict:
    env = dict(os.environ)
    if code != REPO:
        env["PYTHONPATH"] = str(code) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["YJPLAN_NOTEBOOKS_DIR"] = str(code / "notebooks")
    env["YJPLAN_CONTRACTS_DIR"] = str(code / "data_contracts")
    seeds = REPO.parent / "shared" / "seeds"
    if seeds.exists() and "YJPLAN_SEEDS_DIR" not in env:
        env["YJPLAN_SEEDS_DIR"] = str(seeds)
    env["GX_ANALYTICS_ENABLED"] = "False"
    env.pop("YJPLAN_DATA_DIR", None)
    env.pop("YJPLAN_BUILD_DIR", None)
    return env


def with_dirs(env: dict, data: Path, build: Path) -> dict:
    return {**env, "YJPLAN_DATA_DIR": str(data), "YJPLAN_BUILD_DIR": str(build)}


def read_csv_rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def write_csv_rows(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})


def published_data_copy(dest: Path) -> list[str]:
    """data/ without the synthetic areas (row, content file, tracking entry); returns the removed ids."""
    shutil.copytree(REPO / "data", dest)
    header, rows = read_csv_rows(dest / "areas.csv")
    removed = [r["area_id"] for r in rows if r.get("data_kind") == "synthetic"]
    write_csv_rows(dest / "areas.csv", header, [r for r in rows if r.get("data_kind") != "synthetic"])
    for area in removed:
        (dest / "content" / f"{area}.yml").unlink(missing_ok=True)
    (dest / "tracking.yml").write_text("# bench copy: the synthetic demonstration area is removed\nareas: {}\n", encoding="utf-8")
    ids = [r["area_id"] for r in rows if r.get("data_kind") != "synthetic"]
    if tuple(ids) != PUBLISHED:
        raise SystemExit(f"bench: expected the published areas {PUBLISHED} in data/areas.csv, found {ids}")
    return removed


def document_metadata(data: Path) -> dict[str, dict]:
    """Render metadata of each document, as the driver builds it (build.plan_metadata, compare title)."""
    _, rows = read_csv_rows(data / "areas.csv")
    by_id = {r["area_id"]: r for r in rows}
    today = date.today().isoformat()
    meta = {}
    for area in PUBLISHED:
        a = by_id[area]
        synthetic = a.get("data_kind") == "synthetic"
        meta[area] = {
            "title": f"{a['service_name']}: Youth Justice Strategic Plan",
            "subtitle": f"{a['plan_period_label']} — performance, resources and priorities" + (" (SYNTHETIC DEMONSTRATION)" if synthetic else ""),
            "author": a["service_name"], "date": today, "lang": "en-GB", "period": a["plan_period_label"], "synthetic": synthetic,
        }
    names = [by_id[a]["area_name"] for a in PUBLISHED]
    meta["compare"] = {
        "title": "Youth justice: " + ", ".join(names[:-1]) + f" and {names[-1]} compared",
        "subtitle": "National indicators, money, staffing and inspection, side by side — each figure with its own period",
        "author": "yjplan comparison", "date": today, "lang": "en-GB", "synthetic": False, "period": "various",
    }
    return meta


# --------------------------------------------------------------------------- 1. naive


def run_naive(env: dict, code: Path, data: Path, out: Path, meta: dict, logfile: Path) -> dict:
    """papermill CLI then a render process, per document, one after another."""
    env = with_dirs(env, data, out)
    build_date = date.today().isoformat()
    papermill = BIN / "papermill"
    steps, t0 = [], time.perf_counter()
    docs = [(a, code / "notebooks" / "plan.ipynb", f"{a}-plan") for a in PUBLISHED] + [("compare", code / "notebooks" / "compare.ipynb", "compare")]
    for name, notebook, stem in docs:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        executed = folder / notebook.name
        if name == "compare":
            params = ["-r", "areas", ",".join(PUBLISHED), "-r", "figures_dir", "figures", "-r", "build_date", build_date]
        else:
            params = ["-r", "area_id", name, "-r", "figures_dir", "figures", "-r", "build_date", build_date]
        cmd = [papermill, notebook, executed, "-k", KERNEL, "--cwd", folder, "--no-progress-bar", *params]
        r = run_timed(cmd, env, logfile)
        steps.append({"doc": name, "stage": "papermill", **r})
        if r["rc"] != 0:
            break
        r = run_timed([PYTHON, "-c", RENDER_SNIPPET, executed, folder, stem, json.dumps(meta[name])], env, logfile)
        steps.append({"doc": name, "stage": "render", **r})
        if r["rc"] != 0:
            break
    seconds = time.perf_counter() - t0
    ok = len(steps) == 2 * len(docs) and all(s["rc"] == 0 for s in steps)
    return {"seconds": seconds, "ok": ok, "steps": steps, "cpu": sum(s["cpu"] for s in steps), "peak_tree": max(s["peak_tree"] for s in steps),
            "peak_single": max(s["peak_single"] for s in steps), "background_cpu": _sum_or_none(s["background_cpu"] for s in steps),
            "outputs": {name: {"html": out / name / f"{stem}.html", "pdf": out / name / f"{stem}.pdf"} for name, _, stem in docs}}


def _sum_or_none(values) -> float | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


# --------------------------------------------------------------------------- 2-4. ours


def yjplan_build(env: dict, data: Path, build: Path, logfile: Path, args: list[str], jobs: int | None) -> dict:
    cmd = [BIN / "yjplan", "build", *args, "--renderer", "embedded"] + (["--jobs", str(jobs)] if jobs else [])
    r = run_timed(cmd, with_dirs(env, data, build), logfile, stall=STALL_SECONDS)
    text = last_run_text(logfile)
    r.update(parse_summary(text))
    r["progress_built"] = len(re.findall(r"^\[[^\]]+\] built in ", text, flags=re.M))
    m = re.search(r"^\[data\] validated (\d+) areas? in ([\d.]+)s", text, flags=re.M)
    r["driver_validation"] = (int(m.group(1)), float(m.group(2))) if m else None
    r["ok"] = r["rc"] == 0 and r["failed"] == 0 and r["hung"] is None
    return r


def manifests(site: Path) -> dict[str, tuple]:
    """Per output folder: (mtime_ns of build.json, built_at) — to see what a run rewrote."""
    out = {}
    for m in sorted(site.glob("*/build.json")):
        try:
            info = json.loads(m.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        out[m.parent.name] = (m.stat().st_mtime_ns, info.get("built_at"))
    return out


def stage_seconds(site: Path) -> dict[str, dict]:
    out = {}
    for m in sorted(site.glob("*/build.json")):
        try:
            out[m.parent.name] = json.loads(m.read_text()).get("seconds", {})
        except (OSError, json.JSONDecodeError):
            pass
    return out


def edit_figure(data: Path, value: int) -> None:
    path = data / "indicators.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    hits = [i for i, line in enumerate(lines) if line.startswith(EDIT_PREFIX)]
    if len(hits) != 1:
        raise SystemExit(f"bench: expected one line starting {EDIT_PREFIX!r} in {path}, found {len(hits)}")
    line = lines[hits[0]]
    rest = line[len(EDIT_PREFIX):]
    lines[hits[0]] = EDIT_PREFIX + str(value) + rest[rest.index(","):]
    path.write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------- figures check


def check_figures(naive: dict, ours_site: Path) -> dict:
    rows, all_ok = [], True
    identical = {}
    for doc, figures in KEY_FIGURES.items():
        stem = "compare" if doc == "compare" else f"{doc}-plan"
        texts = {}
        for side, paths in (("naive", naive[doc]), ("ours", {"html": ours_site / doc / f"{stem}.html", "pdf": ours_site / doc / f"{stem}.pdf"})):
            for fmt in ("html", "pdf"):
                p = Path(paths[fmt])
                try:
                    texts[(side, fmt)] = html_text(p) if fmt == "html" else pdf_text(p)
                except Exception as exc:  # noqa: BLE001 - a missing/unreadable output fails the check
                    texts[(side, fmt)] = ""
                    log(f"  could not read {p}: {exc}")
        for fig in figures:
            found = {k: fig in t for k, t in texts.items()}
            ok = all(found.values())
            all_ok &= ok
            rows.append({"doc": doc, "figure": fig, **{f"{s}_{f}": found[(s, f)] for s, f in found}, "ok": ok})
        for fmt in ("html", "pdf"):
            a, b = texts[("naive", fmt)], texts[("ours", fmt)]
            identical[f"{doc}.{fmt}"] = {"identical": bool(a) and a == b, "words_naive": len(a.split()), "words_ours": len(b.split()),
                                         "words_differing": _word_diff(a, b)}
    return {"ok": all_ok, "rows": rows, "identical": identical}


def _word_diff(a: str, b: str) -> int:
    import difflib

    sm = difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal")


# --------------------------------------------------------------------------- 5. scale


def generate_scale_extracts(n_max: int, dest: Path, seed: int, code: Path) -> list[dict]:
    """Write one synthetic extract per fictional area (generate_many); returns their descriptions."""
    if str(code) not in sys.path:
        sys.path.insert(0, str(code))
    from pipeline.synthetic import generate_many, to_csv_text

    dest.mkdir(parents=True, exist_ok=True)
    areas = []
    for i, frame in enumerate(generate_many(n_areas=n_max, rows_target=int(n_max * ROWS_PER_AREA), seed=seed), start=1):
        area_id = f"synthetic_area_{i:03d}"  # areas.csv ids are [a-z][a-z0-9_]* (no hyphens)
        population = int(round(frame.attrs.get("population", 60000)))
        frame = frame.assign(area_id=area_id)
        path = dest / f"{area_id}_case_extract_synthetic.csv"
        path.write_text(to_csv_text(frame), encoding="utf-8")
        areas.append({"area_id": area_id, "i": i, "extract": str(path.resolve()), "rows": len(frame),
                      "population": population})
    return areas


def scale_data_dir(dest: Path, base: Path, areas: list[dict]) -> None:
    """A copy of ``base`` (the published areas' data) with the synthetic areas added: areas.csv rows,
    content files and tracking.yml entries. The other tables keep the published areas' rows (the loaders
    refuse a table without data rows); the synthetic areas have no rows there, as Demoshire."""
    import yaml

    shutil.copytree(base, dest)
    header, existing = read_csv_rows(dest / "areas.csv")
    template = (REPO / "data" / "content" / "demoshire.yml").read_text(encoding="utf-8")
    rows, tracking = [], {}
    for a in areas:
        name = f"Synthetic area {a['i']:03d}"
        rows.append({
            "area_id": a["area_id"], "area_name": f"{name} (synthetic)", "service_name": f"{name} Youth Justice Service (synthetic)",
            "service_abbrev": "YJS", "ons_code": f"Z99{100 + a['i']:06d}", "region": "Synthetic", "police_force_area": "Synthetic",
            "plan_title": f"{name} Youth Justice Strategic Plan 2019/20 (SYNTHETIC DEMONSTRATION)",
            "plan_period_label": "2019/20 (synthetic)", "plan_period_start": "2019-04-01", "plan_period_end": "2020-03-31",
            "data_kind": "synthetic", "ons_code_source": "Made-up code for a fictional area (Z99 is not an ONS code prefix)",
            "source_document": "pipeline/synthetic.py",
            "source_section": "bench/run_bench.py scale test: pipeline.synthetic.generate_many (fixed seed)",
        })
        text = template.replace("area_id: demoshire", f"area_id: {a['area_id']}").replace("Demoshire", name)
        (dest / "content" / f"{a['area_id']}.yml").write_text(text, encoding="utf-8")
        tracking[a["area_id"]] = {"extract": a["extract"], "population": a["population"], "as_of": AS_OF}
    write_csv_rows(dest / "areas.csv", header, existing + rows)
    (dest / "tracking.yml").write_text("# bench: synthetic fictional areas (NOT REAL DATA)\n" + yaml.safe_dump({"areas": tracking}, sort_keys=False),
                                       encoding="utf-8")


# --------------------------------------------------------------------------- profile (one area)


def profile_worker(area: str, out: Path) -> dict:
    """Time one area's stages directly through the pipeline's functions (runs in a fresh process)."""
    timings: dict[str, float] = {}

    def timed(key, fn, *a, **k):
        t = time.perf_counter()
        value = fn(*a, **k)
        timings[key] = time.perf_counter() - t
        return value

    out.mkdir(parents=True, exist_ok=True)
    from jupyter_client.manager import start_new_kernel

    km, kc = timed("kernel_start", start_new_kernel, kernel_name=KERNEL, startup_timeout=120)
    try:
        for key, code in (("kernel_import_sections", "import pipeline.document.sections"), ("kernel_import_gx", "import great_expectations")):
            t = time.perf_counter()
            reply = kc.execute_interactive(code, timeout=300, output_hook=lambda msg: None)
            timings[key] = time.perf_counter() - t
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"kernel could not {code}")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    import pipeline.document.sections  # noqa: F401 - what the driver/kernel import anyway
    from pipeline import build
    from pipeline.data.contracts import write_report
    from pipeline.data.dataset import load_area
    from pipeline.render import notebook_to_markdown
    from pipeline.render import embedded
    from pipeline.render._common import normalise_metadata

    timed("gx_import", __import__, "great_expectations")
    data = timed("validate_first", load_area, area, raise_on_critical=False)
    timed("validate_again", load_area, area, raise_on_critical=False)
    from pipeline.data.dataset import validate_areas

    timed("validate_all_one_pass", validate_areas, list(PUBLISHED))
    report = out / "validation.json"
    write_report(data.report, report)
    from pipeline.build import kernel
    from pipeline.build.driver import PLAN_NOTEBOOK
    from pipeline.paths import notebooks_dir

    meta = build.plan_metadata(build.resolve_area(area))
    params = {"area_id": area, "figures_dir": "figures", "build_date": meta["date"], "tracking_summary": ""}
    notebook = notebooks_dir() / PLAN_NOTEBOOK
    driver_dir, naive_dir, again_dir = out / "driver", out / "naive", out / "again"
    for d in (driver_dir, naive_dir, again_dir):
        d.mkdir()
    # The driver keeps one kernel per process (kernel.shutdown): start each of the first two
    # measurements from a fresh kernel, then time a second notebook in the same process (kernel reused).
    fresh = kernel.shutdown
    with_report = {**params, "validation_report": str(report.resolve())}
    fresh()
    timed("papermill_with_report", kernel.execute_notebook, notebook, driver_dir / "plan.ipynb", with_report, driver_dir)
    timed("papermill_again_same_process", kernel.execute_notebook, notebook, again_dir / "plan.ipynb", with_report, again_dir)
    fresh()
    timed("papermill_validate_in_kernel", kernel.execute_notebook, notebook, naive_dir / "plan.ipynb", params, naive_dir)
    fresh()
    markdown = timed("to_markdown", notebook_to_markdown, driver_dir / "plan.ipynb")
    m = normalise_metadata(meta)
    timed("pandoc_html", embedded.render_html, markdown, out / f"{area}.html", m, driver_dir)
    source = timed("pandoc_typst", embedded.typst_source, markdown, m, driver_dir)
    timed("typst_pdf", embedded.compile_pdf, source, out / f"{area}.pdf", driver_dir, m)
    return timings


PROFILE_ROWS = [
    ("python_start", "python interpreter start (python -c pass, wall)"),
    ("import_pandas", "import pandas (fresh interpreter)"),
    ("import_papermill", "import papermill (fresh interpreter)"),
    ("import_gx", "import great_expectations (fresh interpreter)"),
    ("import_sections", "import pipeline.document.sections (fresh interpreter)"),
    ("kernel_start", "kernel start-up to ready (jupyter_client, yjplan kernel)"),
    ("kernel_import_sections", "  in kernel: import pipeline.document.sections"),
    ("kernel_import_gx", "  in kernel: import great_expectations"),
    ("validate_first", "driver GX validation, 1st load_area (GX imported)"),
    ("validate_again", "driver GX validation, 2nd load_area, same process"),
    ("validate_all_one_pass", "driver GX validation of the 3 published areas in one pass (validate_areas, what yjplan build does)"),
    ("papermill_with_report", "papermill execute, report given (ours), fresh kernel"),
    ("papermill_again_same_process", "  the same again in the same process (kernel reused if the driver reuses kernels)"),
    ("papermill_validate_in_kernel", "papermill execute, validates in kernel (naive), fresh kernel"),
    ("to_markdown", "executed notebook -> markdown"),
    ("pandoc_html", "pandoc -> self-contained HTML"),
    ("pandoc_typst", "pandoc -> typst source"),
    ("typst_pdf", "typst -> PDF (typst wheel, in-process)"),
]


def run_profile(env: dict, data: Path, out: Path, repeat: int, area: str, logfile: Path) -> dict:
    env = with_dirs(env, data, out / "build")
    samples: dict[str, list[float]] = {}
    for i in range(repeat):
        for key, mod in (("import_pandas", "pandas"), ("import_papermill", "papermill"), ("import_gx", "great_expectations"),
                         ("import_sections", "pipeline.document.sections")):
            p = subprocess.run([PYTHON, "-c", IMPORT_SNIPPET.format(mod=mod)], env=env, capture_output=True, text=True, cwd=str(out.parent))
            if p.returncode == 0:
                samples.setdefault(key, []).append(float(p.stdout.strip().splitlines()[-1]))
        t = time.perf_counter()
        subprocess.run([PYTHON, "-c", "pass"], env=env, check=False, cwd=str(out.parent))
        samples.setdefault("python_start", []).append(time.perf_counter() - t)
        folder = out / f"run{i + 1}"
        p = subprocess.run([PYTHON, str(Path(__file__).resolve()), "--profile-worker", area, str(folder)], env=env,
                           capture_output=True, text=True, cwd=str(out.parent))
        with open(logfile, "a", encoding="utf-8") as fh:
            fh.write(p.stdout + p.stderr)
        if p.returncode != 0:
            log(f"  profile worker failed (exit {p.returncode}); see {logfile}")
            continue
        for key, value in json.loads(p.stdout.strip().splitlines()[-1]).items():
            samples.setdefault(key, []).append(value)
    return {k: stats(v) for k, v in samples.items()}


# --------------------------------------------------------------------------- machine


def machine_info() -> dict:
    info = {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(), "machine": platform.machine()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gib"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        freeze = subprocess.run([PYTHON, "-m", "pip", "freeze"], capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        freeze = ""
    wanted = {"papermill", "great-expectations", "pypandoc-binary", "typst", "pandas", "nbclient", "ipykernel", "jupyter-client", "psutil", "pypdf"}
    info["packages"] = [line for line in freeze.splitlines() if re.split(r"==| @ ", line)[0].lower().replace("_", "-") in wanted]
    try:
        import pypandoc

        info["pandoc"] = str(pypandoc.get_pandoc_version())
    except Exception:  # noqa: BLE001
        pass
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "pipeline", "notebooks", "data_contracts", "data"],
                               capture_output=True, text=True).stdout.split("\n")
        info["git"] = head
        info["dirty"] = [l[3:] for l in dirty if l.strip()]
    except OSError:
        pass
    info["env"] = {k: os.environ[k] for k in ("PYTHONDONTWRITEBYTECODE",) if k in os.environ}
    return info


# --------------------------------------------------------------------------- report


class Report:
    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        self.lines.append(text)
        print(text, flush=True)


def main(argv=None) -> int:
    global WORK, STALL_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (median, min, max are reported); default 3")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, N = 2 and 4 synthetic areas")
    parser.add_argument("--scale-sizes", type=int, nargs="*", default=None, help="numbers of synthetic areas (default 10 50 150; --quick: 2 4)")
    parser.add_argument("--scale-repeat", type=int, default=1, help="runs per scale size (default 1)")
    parser.add_argument("--jobs", type=int, default=None, help="yjplan --jobs (default: yjplan's default, the number of cores)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["naive", "ours", "scale", "profile"], help="scenarios to leave out")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="work folder (emptied first; default bench/out)")
    parser.add_argument("--no-snapshot", action="store_true", help="run the working tree's code instead of a snapshot copy")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the synthetic areas")
    parser.add_argument("--profile-area", default="oxfordshire")
    parser.add_argument("--stall-timeout", type=float, default=STALL_SECONDS,
                        help="seconds without any output after which a yjplan run is declared hung and killed (default 180)")
    parser.add_argument("--profile-worker", nargs=2, metavar=("AREA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.profile_worker:
        print(json.dumps(profile_worker(args.profile_worker[0], Path(args.profile_worker[1]))))
        return 0

    STALL_SECONDS = args.stall_timeout
    repeat = 1 if args.quick else max(1, args.repeat)
    sizes = args.scale_sizes if args.scale_sizes is not None else ([2, 4] if args.quick else [10, 50, 150])
    out = args.out.resolve()
    if REPO / "build" in (out, *out.parents):
        raise SystemExit("bench: refusing to write under the repository's build/ folder")
    load_start = loadavg()
    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    WORK = out
    logs = out / "logs"
    logs.mkdir()
    code = REPO if args.no_snapshot else snapshot_code(out / "code")
    sys.path.insert(0, str(code))
    env = base_env(code)
    probe = subprocess.run([PYTHON, "-c", "import pipeline; print(pipeline.__file__)"], env=env, capture_output=True, text=True, cwd=str(out))
    if code != REPO and not probe.stdout.strip().startswith(str(code)):
        raise SystemExit(f"bench: the snapshot is not what child processes import ({probe.stdout.strip() or probe.stderr.strip()})")
    machine = machine_info()
    data = out / "data-published"
    removed = published_data_copy(data)
    shutil.copytree(data, out / "data-profile")  # scenario 4 edits `data`; the profile reads the data as published
    meta = document_metadata(data)
    results: dict = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "load_at_start": load_start,
                     "machine": machine, "repeat": repeat, "scale_sizes": sizes, "code": str(code),
                     "pipeline_imported_from": probe.stdout.strip()}
    problems: list[str] = []
    R = Report()

    R("# yjplan benchmark")
    R()
    R(f"- started {results['started_at']}; load average at start (1, 5, 15 min): {load_start}")
    R(f"- machine: {machine.get('cores')} cores ({machine.get('cpu', '?')}), {machine.get('ram_gib', '?')} GiB RAM, "
      f"{machine.get('platform')}, python {machine.get('python')}, pandoc {machine.get('pandoc', '?')}")
    R(f"- packages (pip freeze): {', '.join(machine.get('packages', []))}")
    R(f"- code: git {machine.get('git', '?')}" + (f", working tree differs from it in {', '.join(machine['dirty'])}" if machine.get("dirty") else "")
      + (f"; snapshot copied to {code} (pipeline imported from {results['pipeline_imported_from']})" if code != REPO else ""))
    if machine.get("env"):
        R(f"- environment: {', '.join(f'{k}={v}' for k, v in machine['env'].items())}")
    R(f"- repeats: {repeat} (median, min, max); scale sizes: {', '.join(map(str, sizes))}; yjplan --jobs {args.jobs or 'default (cores)'}")
    R(f"- scenarios 1-4 use a copy of data/ without the synthetic demonstration area ({', '.join(removed) or 'none'}): both sides build the "
      f"3 published plans ({', '.join(PUBLISHED)}) + the comparison, HTML + PDF, embedded renderer; ours also writes the site index")
    R("- naive = `papermill <nb> <out> -k yjplan --cwd <out> --no-progress-bar -r area_id ... ` (otherwise papermill's CLI defaults) "
      "then `python -c 'render_document(...)'`, per document, no validation_report (the kernel validates)")
    R()

    table: list[tuple] = []  # (label, runs, extra)
    naive_runs, cold_runs = [], []
    cold_sites: list[Path] = []

    # ---- 1 & 2, interleaved so that background load hits both alike
    for i in range(repeat):
        if "naive" not in args.skip:
            log(f"[bench] naive loop, run {i + 1}/{repeat} (load {loadavg()}) ...")
            r = run_naive(env, code, data, out / f"naive-{i + 1}", meta, logs / f"naive-{i + 1}.log")
            naive_runs.append(r)
            log(f"[bench]   {r['seconds']:.1f} s{'' if r['ok'] else '  FAILED, see ' + str(logs / f'naive-{i + 1}.log')}")
            if not r["ok"]:
                problems.append(f"naive run {i + 1} failed (see {logs / f'naive-{i + 1}.log'})")
        if "ours" not in args.skip:
            build = out / f"ours-cold-{i + 1}"
            log(f"[bench] yjplan build --all, cold, run {i + 1}/{repeat} (load {loadavg()}) ...")
            r = yjplan_build(env, data, build, logs / f"ours-cold-{i + 1}.log", ["--all"], args.jobs)
            r["site"] = build / "site"
            cold_runs.append(r)
            cold_sites.append(build / "site")
            log(f"[bench]   {r['seconds']:.1f} s, {r['built']} built, {r['failed']} failed")
            if not r["ok"] or r["built"] != len(PUBLISHED) + 1:
                problems.append(f"cold run {i + 1}: exit {r['rc']}, {r['built']} built, {r['failed']} failed (see {logs / f'ours-cold-{i + 1}.log'})")

    if naive_runs:
        table.append(("1 naive: papermill CLI + render process per doc, sequential", naive_runs,
                      f"{sum(r['ok'] for r in naive_runs)}/{len(naive_runs)} ok; 4 docs"))
    if cold_runs:
        table.append(("2 ours cold: yjplan build --all (empty build dir)", cold_runs,
                      f"built {'/'.join(str(r['built']) for r in cold_runs)} (3 plans + compare) + index"))

    # ---- same figures
    figures = None
    if naive_runs and cold_runs and naive_runs[-1]["ok"] and cold_runs[-1]["ok"]:
        log("[bench] checking figures in naive and ours outputs (HTML and PDF) ...")
        figures = check_figures(naive_runs[-1]["outputs"], cold_sites[-1])
        if not figures["ok"]:
            problems.append("key figures differ between naive and ours outputs")

    # ---- 3. warm
    warm_runs, change_runs = [], []
    if cold_runs and cold_runs[-1]["ok"]:
        build = cold_sites[-1].parent
        before = manifests(cold_sites[-1])
        for i in range(repeat):
            log(f"[bench] yjplan build --all, warm (nothing changed), run {i + 1}/{repeat} ...")
            r = yjplan_build(env, data, build, logs / "ours-warm.log", ["--all"], args.jobs)
            after = manifests(cold_sites[-1])
            r["rewritten"] = sorted(k for k in after if before.get(k) != after[k])
            warm_runs.append(r)
            log(f"[bench]   {r['seconds']:.2f} s, {r['built']} built, {r['cached']} up to date; manifests rewritten: {r['rewritten'] or 'none'}")
            if not r["ok"] or r["built"] != 0 or r["rewritten"]:
                problems.append(f"warm run {i + 1} rebuilt something: {r['built']} built, rewritten {r['rewritten']}")
        table.append(("3 ours warm: same command, nothing changed", warm_runs,
                      f"built {'/'.join(str(r['built']) for r in warm_runs)}, up to date {'/'.join(str(r['cached']) for r in warm_runs)}"))

        # ---- 4. one area's figure changed
        for i in range(repeat):
            value = EDIT_ORIGINAL + 1 + i
            edit_figure(data, value)
            before = manifests(cold_sites[-1])
            log(f"[bench] warwickshire FTE rate 2017/18 set to {value}; yjplan build --all, run {i + 1}/{repeat} ...")
            r = yjplan_build(env, data, build, logs / "ours-change.log", ["--all"], args.jobs)
            after = manifests(cold_sites[-1])
            r["rebuilt"] = sorted(n for n, s in r["statuses"].items() if s == "built")
            r["rewritten"] = sorted(k for k in after if before.get(k) != after[k])
            fig = f"{value} per 100,000"
            r["propagated"] = {doc: fig in html_text(cold_sites[-1] / doc / f"{stem}.html")
                               for doc, stem in (("warwickshire", "warwickshire-plan"), ("compare", "compare"))}
            change_runs.append(r)
            log(f"[bench]   {r['seconds']:.1f} s, rebuilt {r['rebuilt']}; '{fig}' now in {[d for d, ok in r['propagated'].items() if ok]}")
            if not r["ok"] or r["rebuilt"] != ["compare", "warwickshire"] or r["rewritten"] != ["compare", "warwickshire"] or not all(r["propagated"].values()):
                problems.append(f"change run {i + 1}: rebuilt {r['rebuilt']}, manifests rewritten {r['rewritten']}, propagated {r['propagated']}")
        table.append(("4 ours, warwickshire indicators.csv row edited", change_runs,
                      "rebuilt: " + "; ".join(",".join(r["rebuilt"]) or "none" for r in change_runs)))

    # ---- the main table
    R("## Build times (wall clock, seconds)")
    R()
    R("| scenario | runs | median s | min s | max s | CPU s (median) | peak RSS tree MiB | bg CPU | notes |")
    R("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, runs, note in table:
        s = stats([r["seconds"] for r in runs])
        bg = background_share(runs)
        cpu = stats([r.get("cpu") for r in runs])
        R(f"| {label} | {s['n']} | {fmt_s(s['median'], 0)} | {fmt_s(s['min'], 0)} | {fmt_s(s['max'], 0)} | {fmt_s(cpu['median'], 0, 1)} | "
          f"{mb(max(r['peak_tree'] for r in runs))} | {'—' if bg is None else f'{bg:.0%}'} | {note} |")
    R()
    R("CPU s: user + system CPU time of the whole process tree (getrusage of reaped children, or the per-process CPU sampled every 0.1 s when larger: fork-server workers are not reaped by the CLI).")
    R("bg CPU: CPU time of other processes on the machine during the runs, as a share of all cores (noise from e.g. a concurrent test run).")
    R("peak RSS tree: largest sum of RSS over the live process tree (CLI, pool workers, kernels, pandoc), sampled every 0.1 s.")
    R()
    targets: list[tuple[str, bool | None, str]] = []
    if naive_runs and cold_runs:
        n, c = statistics.median(r["seconds"] for r in naive_runs), statistics.median(r["seconds"] for r in cold_runs)
        nc, cc = statistics.median(r["cpu"] for r in naive_runs), statistics.median(r["cpu"] for r in cold_runs)
        targets.append(("cold full build >= 3x faster than naive", n / c >= 3,
                        f"{n / c:.2f}x (naive {n:.1f} s / ours cold {c:.1f} s, medians); CPU work naive {nc:.0f} s vs ours {cc:.0f} s "
                        f"({nc / cc:.2f}x less), so on {os.cpu_count()} cores the speed-up cannot exceed about {nc / cc * (os.cpu_count() or 1):.1f}x"))
    if warm_runs:
        w = statistics.median(r["seconds"] for r in warm_runs)
        wmax = max(r["seconds"] for r in warm_runs)
        nothing = all(r["built"] == 0 and not r["rewritten"] for r in warm_runs)
        cli = stats([r["cli_seconds"] for r in warm_runs])
        targets.append(("warm rebuild < 1 s, rebuilding nothing", w < 1 and nothing,
                        f"median {w:.2f} s (max {wmax:.2f} s; the CLI's own summary says {fmt_s(cli['median'], 0)} s, i.e. without interpreter start-up); "
                        f"{'nothing rebuilt' if nothing else 'SOMETHING WAS REBUILT'}"))
    if change_runs:
        ok = all(r["rebuilt"] == ["compare", "warwickshire"] and r["rewritten"] == ["compare", "warwickshire"] and all(r["propagated"].values())
                 for r in change_runs)
        targets.append(("changing one area rebuilds only what depends on it", ok,
                        f"rebuilt {change_runs[-1]['rebuilt']} (expected compare, warwickshire), new figure in both: "
                        f"{all(all(r['propagated'].values()) for r in change_runs)}; median {statistics.median(r['seconds'] for r in change_runs):.1f} s"))

    if cold_runs and naive_runs:
        R("### Where the time goes inside each (medians over runs)")
        R()
        R("| document | naive: papermill CLI s | naive: render process s | ours: validate s | ours: execute s | ours: render s | ours: total s |")
        R("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        per = [stage_seconds(s) for s in cold_sites]
        for doc in (*PUBLISHED, "compare"):
            pm = stats([st["seconds"] for r in naive_runs for st in r["steps"] if st["doc"] == doc and st["stage"] == "papermill"])
            rd = stats([st["seconds"] for r in naive_runs for st in r["steps"] if st["doc"] == doc and st["stage"] == "render"])
            ours = {k: stats([p.get(doc, {}).get(k) for p in per]) for k in ("validate", "execute", "render", "total")}
            R(f"| {doc} | {fmt_s(pm['median'], 0)} | {fmt_s(rd['median'], 0)} | {fmt_s(ours['validate']['median'], 0)} | "
              f"{fmt_s(ours['execute']['median'], 0)} | {fmt_s(ours['render']['median'], 0)} | {fmt_s(ours['total']['median'], 0)} |")
        R()
        R("ours: stage times from each output's build.json, measured inside the pool workers, where the outputs run "
          "--jobs at a time (default: one per core), so they include waiting for the CPU.")
        validations = [r["driver_validation"] for r in cold_runs if r.get("driver_validation")]
        if validations:
            v = stats([sec for _, sec in validations])
            R(f"Before that, the driver validated the data of all {validations[0][0]} areas in one Great Expectations pass "
              f"over each table (median {v['median']:.2f} s, min {v['min']:.2f}, max {v['max']:.2f}; the CLI's "
              "'[data] validated' line); ours' 'validate' column is each worker reading that cached report.")
        R()

    if figures:
        R("## Same figures, naive and ours")
        R()
        R("| document | figure | naive HTML | naive PDF | ours HTML | ours PDF |")
        R("| --- | --- | :---: | :---: | :---: | :---: |")
        yes = lambda b: "yes" if b else "**NO**"  # noqa: E731
        for row in figures["rows"]:
            R(f"| {row['doc']} | {row['figure']} | {yes(row['naive_html'])} | {yes(row['naive_pdf'])} | {yes(row['ours_html'])} | {yes(row['ours_pdf'])} |")
        R()
        same = [f"{k}: {'identical' if v['identical'] else str(v['words_differing']) + ' of ' + str(v['words_ours']) + ' words differ'}"
                for k, v in figures["identical"].items()]
        R(f"Key figures: **{'PASS' if figures['ok'] else 'FAIL'}**. Whole extracted text, naive vs ours: {'; '.join(same)}.")
        R()
        results["figures"] = figures

    # ---- 5. scale
    scale_rows = []
    if "scale" not in args.skip and sizes:
        n_max = max(sizes)
        log(f"[bench] generating synthetic extracts for {n_max} fictional areas (~{ROWS_PER_AREA:,.0f} rows each on average) ...")
        t = time.perf_counter()
        areas = generate_scale_extracts(n_max, out / "scale-extracts", args.seed, code)
        gen_seconds = time.perf_counter() - t
        log(f"[bench]   {sum(a['rows'] for a in areas):,} rows in {gen_seconds:.1f} s")
        for n in sizes:
            subset = areas[:n]
            sdata = out / f"scale-{n}" / "data"
            scale_data_dir(sdata, out / "data-profile", subset)
            runs = []
            for j in range(max(1, args.scale_repeat)):
                sbuild = out / f"scale-{n}" / f"build-{j + 1}"
                log(f"[bench] scale: yjplan build <{n} synthetic areas>, run {j + 1} (load {loadavg()}) ...")
                r = yjplan_build(env, sdata, sbuild, logs / f"scale-{n}.log", [a["area_id"] for a in subset] + ["--format", "html,pdf"], args.jobs)
                per = stage_seconds(sbuild / "site")
                r["worker_total"] = stats([v.get("total") for v in per.values()])
                runs.append(r)
                if r["hung"] is not None:
                    log(f"[bench]   HUNG: no output for {r['hung']:.0f} s after {r['progress_built']}/{n} areas built "
                        f"({r['seconds']:.0f} s in all); process tree killed")
                    problems.append(f"scale N={n}: yjplan hung after {r['progress_built']}/{n} areas built (no output for "
                                    f"{r['hung']:.0f} s; killed; see {logs / f'scale-{n}.log'})")
                else:
                    log(f"[bench]   {r['seconds']:.1f} s ({r['seconds'] / n:.2f} s/area), {r['built']} built, {r['failed']} failed, "
                        f"peak tree RSS {mb(r['peak_tree'])} MiB")
                    if not r["ok"] or r["built"] != n:
                        problems.append(f"scale N={n}: {r['built']} built, {r['failed']} failed (see {logs / f'scale-{n}.log'})")
                if j + 1 < max(1, args.scale_repeat):
                    shutil.rmtree(sbuild, ignore_errors=True)
            done = [r for r in runs if r["hung"] is None and r["ok"] and r["built"] == n]
            s = stats([r["seconds"] for r in done])
            scale_rows.append({"n": n, "rows": sum(a["rows"] for a in subset), "seconds": s,
                               "per_area": s["median"] / n if s["median"] else None, "complete": bool(done) and len(done) == len(runs),
                               "hung": next((f"hung after {r['progress_built']}/{n} built, {r['seconds']:.0f} s" for r in runs if r["hung"] is not None), ""),
                               "built": runs[-1]["built"] if runs[-1]["built"] is not None else runs[-1]["progress_built"],
                               "failed": runs[-1]["failed"], "peak_tree": max(r["peak_tree"] for r in runs),
                               "peak_single": max(r["peak_single"] for r in runs), "worker_total": runs[-1]["worker_total"],
                               "bg": background_share(runs)})
        R("## Scale: N synthetic fictional areas, `yjplan build <ids> --renderer embedded --format html,pdf`")
        R()
        R(f"Extracts from `pipeline.synthetic.generate_many(n_areas={n_max}, rows_target={int(n_max * ROWS_PER_AREA):,}, seed={args.seed})` "
          f"(generated in {gen_seconds:.0f} s, not timed); N areas = the first N of them, each with a Local tracking section.")
        R()
        R("| N areas | extract rows | total s (median) | s per area | built / failed | per-area worker s (median, build.json) | peak RSS tree MiB | largest process MiB | bg CPU |")
        R("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in scale_rows:
            if row["hung"]:
                R(f"| {row['n']} | {row['rows']:,} | **{row['hung']}** | — | {row['built']} / — | {fmt_s(row['worker_total']['median'], 0)} | "
                  f"{mb(row['peak_tree'])} | {mb(row['peak_single'])} | {'—' if row['bg'] is None else format(row['bg'], '.0%')} |")
                continue
            R(f"| {row['n']} | {row['rows']:,} | {fmt_s(row['seconds']['median'], 0, 1)} | {row['per_area']:.2f} | {row['built']} / {row['failed']} | "
              f"{fmt_s(row['worker_total']['median'], 0)} | {mb(row['peak_tree'])} | {mb(row['peak_single'])} | "
              f"{'—' if row['bg'] is None else format(row['bg'], '.0%')} |")
        R()
        complete = [row for row in scale_rows if row["complete"]]
        if any(not row["complete"] for row in scale_rows):
            targets.append(("every scale run completes", False, "; ".join(f"N={row['n']}: {row['hung'] or 'failed'}"
                                                                        for row in scale_rows if not row["complete"])))
        if len(complete) > 1:
            first, last = complete[0], complete[-1]
            growth = last["per_area"] / first["per_area"]
            mem = last["peak_tree"] / first["peak_tree"] if first["peak_tree"] else float("nan")
            single = last["peak_single"] / first["peak_single"] if first["peak_single"] else float("nan")
            all_built = all(r["built"] == r["n"] and not r["failed"] for r in complete)
            R(f"Per-area time at N={last['n']} is {growth:.2f}x that at N={first['n']}; peak tree memory {mem:.2f}x, "
              f"largest single process {single:.2f}x.")
            R()
            targets.append((f"per-area cost flat with N (s/area at N={last['n']} <= 1.25x N={first['n']}, completed sizes)",
                            growth <= 1.25 and all_built,
                            f"s/area {first['per_area']:.2f} (N={first['n']}) -> {last['per_area']:.2f} (N={last['n']}), {growth:.2f}x; "
                            f"{'all built' if all_built else 'SOME FAILED'}"))
            targets.append((f"memory bounded as N grows (peak tree RSS at N={last['n']} <= 1.5x N={first['n']})", mem <= 1.5,
                            f"peak tree RSS {mb(first['peak_tree'])} -> {mb(last['peak_tree'])} MiB ({mem:.2f}x); largest process "
                            f"{mb(first['peak_single'])} -> {mb(last['peak_single'])} MiB ({single:.2f}x)"))
        results["scale"] = scale_rows

    # ---- profile
    if "profile" not in args.skip:
        log(f"[bench] profiling one area ({args.profile_area}) ...")
        prof = run_profile(env, out / "data-profile", out / "profile", repeat, args.profile_area, logs / "profile.log")
        R(f"## Profile of one area ({args.profile_area}), each stage timed directly, sequential, one core busy")
        R()
        R("| stage | median s | min s | max s |")
        R("| --- | ---: | ---: | ---: |")
        for key, label in PROFILE_ROWS:
            s = prof.get(key)
            if s and s["n"]:
                R(f"| {label} | {fmt_s(s['median'], 0)} | {fmt_s(s['min'], 0)} | {fmt_s(s['max'], 0)} |")
        R()
        R("Timed in a fresh process per repeat (`run_bench.py --profile-worker`). The 'fresh kernel' papermill rows include "
          "starting the kernel; they differ by what the kernel does when no validation report is given (import GX, run the "
          "contracts). The 'same again' row is a second notebook in the same process: with a driver that keeps its kernel "
          "it shows the saving of reuse.")
        R()
        results["profile"] = prof

    # ---- targets
    R("## Targets")
    R()
    for name, ok, detail in targets:
        R(f"- {'PASS' if ok else 'FAIL'}: {name} — {detail}")
    if problems:
        R()
        R("Correctness problems:")
        for p in problems:
            R(f"- {p}")
    R()
    R(f"Total bench time {time.perf_counter() - started:.0f} s; load average at end: {loadavg()}. Logs: {logs}")

    results.update({"table": [{"scenario": l, "runs": [{k: v for k, v in r.items() if k not in ("outputs", "site", "steps")} for r in runs], "note": n}
                              for l, runs, n in table],
                    "naive_steps": [[{k: v for k, v in s.items()} for s in r["steps"]] for r in naive_runs],
                    "targets": [{"target": t, "pass": ok, "detail": d} for t, ok, d in targets], "problems": problems,
                    "load_at_end": loadavg()})
    (out / "results.md").write_text("\n".join(R.lines) + "\n", encoding="utf-8")
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
