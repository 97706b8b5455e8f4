"""Building plans: validate, execute the notebook with papermill, render, publish atomically.

One area's build runs in a staging folder and is moved into ``build/site/<area_id>/`` only when
every stage succeeded, so a failed run never leaves something that looks like a good plan (the
area's previous outputs are removed and the index marks it as failed). Outputs are skipped when
a content hash of everything that can change them is unchanged (``--force`` rebuilds).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import multiprocessing
import multiprocessing.util
import os
import shutil
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from . import __version__
from .contracts import write_report
from .errors import PipelineError
from .paths import PACKAGE_DIR, build_dir, content_dir, contracts_dir, data_dir, notebooks_dir

KERNEL_NAME = "yjplan"
SITE = "site"
PLAN_NOTEBOOK = "plan.ipynb"
COMPARE_NOTEBOOK = "compare.ipynb"


@dataclass
class BuildResult:
    """What happened to one output (an area's plan or a comparison)."""

    name: str
    status: str  # "built", "cached", "failed"
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: int = 0
    critical: int = 0
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("built", "cached")


Progress = Callable[[str, str, str], None]


def print_progress(name: str, stage: str, detail: str = "") -> None:
    """Default progress reporter: one line per stage."""
    print(f"[{name}] {stage}{(' ' + detail) if detail else ''}", flush=True)


def site_dir() -> Path:
    return build_dir() / SITE


# --------------------------------------------------------------------------- kernel


KERNEL_LOG_FLAG = "--IPKernelApp.log_level=ERROR"  # the kernel's start-up chatter is not the user's business


def ensure_kernel() -> str:
    """Install (once) a kernelspec named 'yjplan' pointing at this interpreter; return its name."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(KERNEL_NAME)
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve() and KERNEL_LOG_FLAG in spec.argv:
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    folder = Path(install(kernel_name=KERNEL_NAME, display_name="Python (yjplan)", prefix=sys.prefix))
    spec_file = folder / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    if KERNEL_LOG_FLAG not in spec["argv"]:
        spec["argv"].append(KERNEL_LOG_FLAG)
        spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return KERNEL_NAME


# --------------------------------------------------------------------------- fingerprints


def _hash_files(h, paths: Iterable[Path]) -> None:
    for p in sorted(paths):
        h.update(str(p.name).encode())
        h.update(p.read_bytes() if p.exists() else b"<missing>")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the package's code and templates (stands in for the package version during development)."""
    h = hashlib.sha256(__version__.encode())
    files = [p for p in PACKAGE_DIR.rglob("*") if p.is_file() and p.suffix in (".py", ".lua", ".css", ".typ", ".html", ".yml", ".yaml")]
    for p in sorted(files):
        h.update(str(p.relative_to(PACKAGE_DIR)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


_raw_tables: dict[tuple, object] = {}


def _read_raw_once(path: Path):
    """``read_raw_table`` memoised on the file's identity (path, size, mtime): one parse per file per run."""
    from .loaders import read_raw_table

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _raw_tables:
        if len(_raw_tables) > 64:
            _raw_tables.clear()
        _raw_tables[key] = read_raw_table(path)
    return _raw_tables[key]


def area_rows_fingerprint(area_id: str) -> str:
    """Hash of this area's rows in every table, plus the shared tables and the set of area ids."""
    from .dataset import AREA_TABLES
    from .loaders import table_path

    read_raw_table = _read_raw_once

    h = hashlib.sha256()
    defs = table_path("indicator_definitions")
    h.update(defs.read_bytes() if defs.exists() else b"<missing>")
    areas = table_path("areas")
    try:
        known = read_raw_table(areas)
        # The set of area ids matters (contracts check rows against it); other areas' details do not.
        h.update(",".join(sorted(known["area_id"].astype(str))).encode() if "area_id" in known.columns else areas.read_bytes())
    except PipelineError:
        h.update(areas.read_bytes() if areas.exists() else b"<missing>")
    for table in ("areas", *AREA_TABLES):
        path = table_path(table)
        h.update(table.encode())
        if not path.exists():
            h.update(b"<missing>")
            continue
        try:
            raw = read_raw_table(path)
        except PipelineError:
            h.update(path.read_bytes())
            continue
        h.update(",".join(raw.columns).encode())
        if "area_id" in raw.columns:
            raw = raw[raw["area_id"] == area_id]
        h.update(raw.drop(columns=["_line"]).to_csv(index=False).encode())
    return h.hexdigest()


def fingerprint(name: str, notebook: Path, renderer: str, formats: tuple[str, ...], extra: dict | None = None,
                area_ids: Iterable[str] = ()) -> str:
    """Content hash of everything that can change one output."""
    from .render import renderer_versions

    h = hashlib.sha256()
    h.update(json.dumps({"name": name, "renderer": renderer, "versions": renderer_versions(renderer),
                         "formats": list(formats), "extra": extra or {}}, sort_keys=True).encode())
    h.update(notebook.read_bytes())
    h.update(code_fingerprint().encode())
    _hash_files(h, contracts_dir().glob("*.json"))
    for area_id in area_ids:
        h.update(area_rows_fingerprint(area_id).encode())
        content = content_dir() / f"{area_id}.yml"
        h.update(content.read_bytes() if content.exists() else b"<missing>")
    return h.hexdigest()


# --------------------------------------------------------------------------- validation, once per input state


def _cache_file(kind: str, name: str, key: str, suffix: str) -> Path:
    return build_dir() / "cache" / kind / f"{name}-{key[:20]}{suffix}"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def validation_key(area_id: str) -> str:
    """Hash of everything an area's validation depends on: its rows, the area ids, contracts and code."""
    h = hashlib.sha256(area_rows_fingerprint(area_id).encode())
    h.update(code_fingerprint().encode())
    _hash_files(h, contracts_dir().glob("*.json"))
    return h.hexdigest()


def _validation_cache(area_id: str) -> Path:
    return _cache_file("validation", area_id, validation_key(area_id), ".json")


def _keep_report(area_id: str, report) -> None:
    """Cache a passing report (a failing one is produced again, with its context, by the area's build)."""
    if report.ok:
        cache = _validation_cache(area_id)
        tmp = cache.with_name(f".{cache.name}.{uuid.uuid4().hex[:8]}")
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_report(report, tmp)
        os.replace(tmp, cache)


def validated_report(area_id: str):
    """An area's Great Expectations report, validating only when its inputs changed.

    A passing report is kept under ``build/cache/validation`` keyed by ``validation_key``, so the
    comparison and later builds reuse the run of the driver (see ``prevalidate``) or of the area's
    own build instead of repeating it.
    """
    from .contracts import read_report
    from .dataset import validate_area

    cache = _validation_cache(area_id)
    if cache.exists():
        try:
            return read_report(cache)
        except (OSError, ValueError, KeyError):
            cache.unlink(missing_ok=True)  # unreadable: validate again
    report = validate_area(area_id)
    _keep_report(area_id, report)
    return report


def validated_extract(extract: str, staging: Path) -> str:
    """Validate a case-management extract here (GX stays out of the kernel); return the pickle the notebook reads.

    The typed extract and its report are cached by the file's content hash.
    """
    target = staging / "tracking_extract.pkl"
    shutil.copyfile(_validated_extract_cache(extract), target)
    return str(target.resolve())


def _validated_extract_cache(extract: str) -> Path:
    """The cached (typed extract, report) pickle of an extract, validating it first if needed."""
    import pickle

    from .tracking import load_extract

    source = Path(extract)
    h = hashlib.sha256(source.read_bytes() if source.exists() else b"<missing>")
    h.update(code_fingerprint().encode())
    _hash_files(h, contracts_dir().glob("case_extract*.json"))
    cache = _cache_file("extracts", source.stem, h.hexdigest(), ".pkl")
    if not cache.exists():
        frame, report = load_extract(source)  # raises with file, line and column on a critical failure
        _atomic_write(cache, pickle.dumps((frame, report), protocol=pickle.HIGHEST_PROTOCOL))
    return cache


def prevalidate(area_ids: Iterable[str]) -> list[str]:
    """Fill the validation caches of areas whose inputs changed, in one pass (``dataset.validate_areas``).

    ``build_many`` calls this in the driver while its workers start their kernels: each table is
    validated once for all the areas instead of once per area, and the workers, finding the
    reports cached, never import Great Expectations. Errors are left to each area's own build,
    which reports them with their context. Returns the areas validated now.
    """
    from .dataset import validate_areas

    try:
        stale = [a for a in _known(area_ids) if not _validation_cache(a).exists()]
        reports = validate_areas(stale)
    except Exception:  # noqa: BLE001 - e.g. an unknown area or an unreadable file: the builds say which
        return []
    for area_id, report in reports.items():
        _keep_report(area_id, report)
    return list(reports)


def _known(area_ids: Iterable[str]) -> list[str]:
    """The listed areas among ``area_ids`` (once each, in order); none if areas.csv cannot be read."""
    from .dataset import list_areas

    try:
        known = set(list_areas()["area_id"])
    except Exception:  # noqa: BLE001 - the builds report it
        return []
    return [a for a in dict.fromkeys(area_ids) if a in known]


def _needs_validation(area_ids: Iterable[str]) -> bool:
    """Whether any of these areas has no cached report for its current inputs."""
    try:
        return any(not _validation_cache(a).exists() for a in _known(area_ids))
    except Exception:  # noqa: BLE001 - unreadable inputs: let validation say what is wrong
        return True


def prevalidate_extract(area_id: str) -> None:
    """Fill the validation cache of an area's case-management extract, if it has one (errors: as above)."""
    try:
        tracking = default_tracking(area_id)
        if tracking and tracking.get("extract"):
            _validated_extract_cache(tracking["extract"])
    except Exception:  # noqa: BLE001
        pass


# --------------------------------------------------------------------------- one output


def _publish(staging: Path, final: Path) -> None:
    """Replace ``final`` with ``staging`` (same filesystem; the old folder is removed afterwards)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    trash = final.parent / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
    if final.exists():
        os.replace(final, trash)
    os.replace(staging, final)
    shutil.rmtree(trash, ignore_errors=True)


def _discard(final: Path) -> None:
    """Remove an output folder whose latest build failed, so no stale plan passes for a current one."""
    if final.exists():
        trash = final.parent / f".failed-{final.name}-{uuid.uuid4().hex[:8]}"
        os.replace(final, trash)
        shutil.rmtree(trash, ignore_errors=True)


def _cached(final: Path, key: str, formats: tuple[str, ...]) -> dict | None:
    manifest = final / "build.json"
    if not manifest.exists():
        return None
    try:
        info = json.loads(manifest.read_text())
    except json.JSONDecodeError:
        return None
    if info.get("fingerprint") != key or info.get("status") != "built":
        return None
    if not all((final / info["outputs"].get(f, "")).is_file() for f in formats if f in info.get("outputs", {})):
        return None
    if not all(f in info.get("outputs", {}) for f in formats):
        return None
    return info


#: Notebooks one kernel executes before it is replaced (bounds the memory a long run can accumulate).
KERNEL_REUSE = 20


@functools.lru_cache(maxsize=1)
def _prompt_client_class():
    """A kernel client whose ``wait_for_ready`` returns as soon as the kernel answers on both channels.

    jupyter_client's version then keeps reading IOPub until it has been silent for 0.2 s; a reused
    kernel gets a new client twice per notebook (here and in nbclient), so that is 0.4 s of idle
    time per plan. Skipping the silence is safe: nbclient only reads messages whose parent is a
    request it sent. Otherwise this is jupyter_client 8's ``_async_wait_for_ready``.
    """
    from queue import Empty

    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_core.utils import ensure_async, run_sync

    class PromptKernelClient(BlockingKernelClient):
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.time() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub is connected once it delivers that request's status messages
                        await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.time() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

        wait_for_ready = run_sync(_async_wait_for_ready)

    return PromptKernelClient


_kernel: dict = {}


def _shutdown_kernel() -> None:
    km = _kernel.pop("km", None)
    _kernel.clear()
    if km is not None:
        try:
            km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - the kernel may already be gone
            pass


#: Run in a new kernel before its first notebook: the imports every plan needs.
KERNEL_WARM_UP = "import pipeline.sections, pipeline.compare_sections, pipeline.tracking_section"


def _reused_kernel(cwd: Path, count: bool = True):
    """A started kernel for this process, reset to a clean namespace and moved to ``cwd``.

    Starting a kernel and importing pandas, matplotlib, scipy and the pipeline costs about two
    seconds; a build process reuses one kernel for up to KERNEL_REUSE notebooks instead. Each
    notebook still starts from an empty namespace with execution counts from 1.
    """
    from jupyter_client.manager import KernelManager

    if _kernel.get("uses", 0) >= KERNEL_REUSE:
        _shutdown_kernel()
    if "km" not in _kernel:
        km = KernelManager(kernel_name=ensure_kernel(), client_factory=_prompt_client_class())
        km.start_kernel(cwd=str(cwd))
        _kernel.update(km=km, uses=0, warm=False)
        atexit.register(_shutdown_kernel)
        # Pool workers leave through multiprocessing's own exit path, which skips atexit but runs finalizers.
        multiprocessing.util.Finalize(None, _shutdown_kernel, exitpriority=10)
    km = _kernel["km"]
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        code = f"get_ipython().reset(new_session=True, aggressive=False)\nimport os as _os\n_os.chdir({str(cwd)!r})\ndel _os"
        if not _kernel["warm"]:
            code = KERNEL_WARM_UP + "\n" + code
            _kernel["warm"] = True
        reply = kc.execute_interactive(code, silent=True, store_history=False, timeout=300)
    finally:
        kc.stop_channels()
    if reply["content"]["status"] != "ok":
        _shutdown_kernel()
        raise RuntimeError(f"could not prepare the kernel: {reply['content'].get('evalue', reply['content'])}")
    _kernel["uses"] += int(count)
    return km


def execute_notebook(notebook: Path, output: Path, parameters: dict, cwd: Path) -> None:
    """Run a notebook with papermill in the pinned kernel (the executed copy is kept for audit).

    The kernel is reused across the notebooks this process executes (see ``_reused_kernel``);
    after a failure it is discarded, so the next notebook gets a fresh one.
    """
    import papermill as pm

    km = _reused_kernel(cwd)
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            km=km,
        )
    except BaseException:
        _shutdown_kernel()
        raise


def execute_render_publish(result: BuildResult, notebook: Path, staging: Path, final: Path, params: dict, meta: dict,
                           formats: tuple[str, ...], renderer: str, stem: str, progress: Progress, t0: float) -> None:
    """Execute a notebook into ``staging``, render it, write the manifest and move it to ``final``."""
    from .render import render_document

    name = result.name
    staging.mkdir(parents=True, exist_ok=True)
    progress(name, "executing", "(papermill)")
    t = time.perf_counter()
    execute_notebook(notebook, staging / notebook.name, params, staging)
    result.seconds["execute"] = time.perf_counter() - t
    progress(name, "rendering", f"({renderer}: {', '.join(formats)})")
    t = time.perf_counter()
    outputs = render_document(staging / notebook.name, staging, stem, formats=formats, metadata=meta, renderer=renderer)
    result.seconds["render"] = time.perf_counter() - t
    result.outputs = {fmt: Path(p).name for fmt, p in outputs.items()}
    result.status = "built"
    result.seconds["total"] = time.perf_counter() - t0
    _write_manifest(staging, result, meta, renderer=renderer)
    _publish(staging, final)
    (site_dir() / ".failures" / f"{name}.json").unlink(missing_ok=True)
    progress(name, "built", f"in {result.seconds['total']:.1f}s → {final}")


def fail(result: BuildResult, exc: Exception, staging: Path, final: Path, progress: Progress) -> None:
    """Record a failure: no staging left behind, no stale output kept, the index told."""
    result.status = "failed"
    result.message = str(exc) if isinstance(exc, PipelineError) else f"{type(exc).__name__}: {_short(exc)}"
    if not isinstance(exc, PipelineError) and os.environ.get("YJPLAN_DEBUG"):
        traceback.print_exc()
    shutil.rmtree(staging, ignore_errors=True)
    _discard(final)
    _write_failure(final, result)
    progress(result.name, "FAILED", result.message.splitlines()[0] if result.message else "")


def build_area(area_id: str, formats=("html", "pdf"), renderer: str = "auto", force: bool = False,
               progress: Progress | None = print_progress, tracking: dict | None = None) -> BuildResult:
    """Build one area's plan end to end; never raises for data problems (the result says what failed)."""
    from .render import resolve_renderer

    progress = progress or (lambda *a: None)
    formats = tuple(formats)
    result = BuildResult(name=area_id, status="failed")
    final = site_dir() / area_id
    staging = build_dir() / ".staging" / f"{area_id}-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    try:
        from .dataset import area_row, check_area, read_content

        check_area(area_id)
        chosen = resolve_renderer(renderer)
        notebook = notebooks_dir() / PLAN_NOTEBOOK
        tracking = tracking if tracking is not None else default_tracking(area_id)
        key = area_fingerprint(area_id, chosen, formats, tracking)
        result.fingerprint = key
        cached = None if force else cached_result(area_id, key, formats, progress)
        if cached is not None:
            return cached

        progress(area_id, "validating", "(Great Expectations" + (": report cached for these inputs)" if _validation_cache(area_id).exists() else ")"))
        t = time.perf_counter()
        report = validated_report(area_id)
        result.warnings, result.critical = len(report.warnings), len(report.critical_failures)
        report.raise_for_critical()
        read_content(area_id)  # a broken narrative file fails here, with its line, not inside the notebook
        staging.mkdir(parents=True)
        write_report(report, staging / "validation.json")
        validated = validated_extract(tracking["extract"], staging) if tracking and tracking.get("extract") else ""
        result.seconds["validate"] = time.perf_counter() - t
        meta = plan_metadata(area_row(area_id))
        synthetic = meta["synthetic"]

        params = {
            "area_id": area_id,
            "validation_report": str((staging / "validation.json").resolve()),
            "figures_dir": "figures",
            "build_date": meta["date"],
            "tracking_extract": (tracking or {}).get("extract", ""),
            "tracking_validated": validated,
            "tracking_population": float((tracking or {}).get("population", 0)),
            "tracking_as_of": (tracking or {}).get("as_of", ""),
            "restricted_dir": str(restricted_dir().resolve()),
        }
        meta["synthetic"] = synthetic
        execute_render_publish(result, notebook, staging, final, params, meta, formats, chosen, f"{area_id}-plan", progress, t0)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result with its message
        fail(result, exc, staging, final, progress)
    result.seconds.setdefault("total", time.perf_counter() - t0)
    return result


def area_fingerprint(area_id: str, renderer: str, formats: tuple[str, ...], tracking: dict | None) -> str:
    """The content hash an area's plan is cached under (``renderer`` already resolved)."""
    notebook = notebooks_dir() / PLAN_NOTEBOOK
    return fingerprint(area_id, notebook, renderer, tuple(formats), extra={"tracking": tracking_fingerprint(tracking)}, area_ids=[area_id])


def cached_result(name: str, key: str, formats: tuple[str, ...], progress: Progress | None = None) -> BuildResult | None:
    """The result of output ``name`` (a folder of the site) when it was built under ``key``, else None."""
    info = _cached(site_dir() / name, key, tuple(formats))
    if info is None:
        return None
    result = BuildResult(name=name, status="cached", outputs=info["outputs"], warnings=info.get("warnings", 0), fingerprint=key)
    if progress is not None:
        progress(name, "up to date", "(nothing changed; use --force to rebuild)")
    return result


def up_to_date(area_id: str, formats=("html", "pdf"), renderer: str = "auto") -> BuildResult | None:
    """The cached result of an area's plan when nothing that can change it has changed, else None."""
    from .dataset import check_area
    from .render import resolve_renderer

    try:
        check_area(area_id)
        chosen = resolve_renderer(renderer)
        key = area_fingerprint(area_id, chosen, tuple(formats), default_tracking(area_id))
    except Exception:  # noqa: BLE001 - let the full build report the problem
        return None
    return cached_result(area_id, key, formats)


def _short(exc: Exception) -> str:
    text = str(exc)
    # papermill's PapermillExecutionError carries the notebook traceback: keep its last line.
    if hasattr(exc, "evalue"):
        return f"{getattr(exc, 'ename', '')}: {getattr(exc, 'evalue', '')}"
    return text[:2000]


def _write_manifest(folder: Path, result: BuildResult, meta: dict, renderer: str) -> None:
    info = asdict(result)
    info.update({"title": meta.get("title"), "period": meta.get("period"), "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "renderer": renderer, "synthetic": meta.get("synthetic", False)})
    (folder / "build.json").write_text(json.dumps(info, indent=1))


def _write_failure(final: Path, result: BuildResult) -> None:
    failures = site_dir() / ".failures"
    failures.mkdir(parents=True, exist_ok=True)
    (failures / f"{result.name}.json").write_text(json.dumps({**asdict(result), "failed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}, indent=1))


def plan_metadata(area: dict) -> dict:
    """Title page metadata for an area's plan."""
    from datetime import date

    synthetic = area.get("data_kind") == "synthetic"
    return {
        "title": f"{area['service_name']}: Youth Justice Strategic Plan",
        "subtitle": f"{area['plan_period_label']} — performance, resources and priorities" + (" (SYNTHETIC DEMONSTRATION)" if synthetic else ""),
        "author": area["service_name"],
        "date": date.today().isoformat(),
        "lang": "en-GB",
        "period": area["plan_period_label"],
        "synthetic": synthetic,
    }


def restricted_dir() -> Path:
    """Where internal-only outputs (the live tracker) go: never under the site."""
    return build_dir() / "restricted"


def default_tracking(area_id: str) -> dict | None:
    """Tracking inputs for an area: the demonstration area uses the generated synthetic extract."""
    config = data_dir() / "tracking.yml"
    if not config.exists():
        return None
    import yaml

    doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    entry = (doc.get("areas") or {}).get(area_id)
    if not entry:
        return None
    extract = entry.get("extract", "")
    if entry.get("generate") == "synthetic":
        from .synthetic import write_demo_extract

        path = build_dir() / "synthetic" / f"{area_id}_extract_synthetic.csv"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_demo_extract(path)
        extract = str(path)
    elif extract and not Path(extract).is_absolute():
        extract = str((data_dir() / extract).resolve())
    return {"extract": extract, "population": entry.get("population", 0), "as_of": str(entry.get("as_of", ""))}


def tracking_fingerprint(tracking: dict | None) -> str:
    if not tracking or not tracking.get("extract"):
        return ""
    p = Path(tracking["extract"])
    h = hashlib.sha256(json.dumps({k: v for k, v in tracking.items() if k != "extract"}, sort_keys=True).encode())
    h.update(p.read_bytes() if p.exists() else b"<missing>")
    return h.hexdigest()


# --------------------------------------------------------------------------- comparison


def comparison_name(area_ids: list[str], all_published: list[str] | None = None) -> str:
    """Folder name: 'compare' for the full set of published areas, else 'compare-<a>-<b>…'."""
    if all_published is not None and sorted(area_ids) == sorted(all_published):
        return "compare"
    return "compare-" + "-".join(area_ids)


def comparison_fingerprint(name: str, area_ids: list[str], renderer: str, formats: tuple[str, ...]) -> str:
    """The content hash a comparison is cached under (``renderer`` already resolved)."""
    return fingerprint(name, notebooks_dir() / COMPARE_NOTEBOOK, renderer, tuple(formats), extra={"areas": list(area_ids)}, area_ids=area_ids)


def comparison_up_to_date(area_ids: list[str], formats=("html", "pdf"), renderer: str = "auto") -> BuildResult | None:
    """The cached result of a comparison when nothing that can change it has changed, else None."""
    from .dataset import check_area, list_areas
    from .render import resolve_renderer

    try:
        areas_table = list_areas()
        published = list(areas_table[areas_table["data_kind"] != "synthetic"]["area_id"])
        name = comparison_name(area_ids, published)
        for a in area_ids:
            check_area(a)
        key = comparison_fingerprint(name, area_ids, resolve_renderer(renderer), tuple(formats))
    except Exception:  # noqa: BLE001 - let the full build report the problem
        return None
    return cached_result(name, key, formats)


def build_comparison(area_ids: list[str], formats=("html", "pdf"), renderer: str = "auto", force: bool = False,
                     progress: Progress | None = print_progress) -> BuildResult:
    """Execute and render the comparison notebook for the chosen areas."""
    from .contracts import write_report
    from .dataset import check_area, list_areas
    from .markdown import join_and
    from .render import resolve_renderer

    progress = progress or (lambda *a: None)
    formats = tuple(formats)
    areas_table = list_areas()
    published = list(areas_table[areas_table.get("data_kind", "published") != "synthetic"]["area_id"]) if "data_kind" in areas_table else list(areas_table["area_id"])
    name = comparison_name(area_ids, published)
    result = BuildResult(name=name, status="failed")
    final = site_dir() / name
    staging = build_dir() / ".staging" / f"{name}-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    try:
        if len(area_ids) < 2:
            raise ValueError("a comparison needs at least two areas")
        for a in area_ids:
            check_area(a)
        chosen = resolve_renderer(renderer)
        notebook = notebooks_dir() / COMPARE_NOTEBOOK
        key = comparison_fingerprint(name, area_ids, chosen, formats)
        result.fingerprint = key
        cached = None if force else cached_result(name, key, formats, progress)
        if cached is not None:
            return cached
        progress(name, "validating", f"({', '.join(area_ids)})")
        t = time.perf_counter()
        staging.mkdir(parents=True)
        reports = {}
        for a in area_ids:
            report = validated_report(a)
            report.raise_for_critical()
            result.warnings += len(report.warnings)
            path = staging / f"validation-{a}.json"
            write_report(report, path)
            reports[a] = str(path.resolve())
        result.seconds["validate"] = time.perf_counter() - t
        names = list(areas_table.set_index("area_id").loc[area_ids, "area_name"])
        meta = {
            "title": f"Youth justice: {join_and(names)} compared",
            "subtitle": "National indicators, money, staffing and inspection, side by side — each figure with its own period",
            "author": "yjplan comparison", "date": date.today().isoformat(), "lang": "en-GB", "synthetic": False,
            "period": "various",
        }
        import json

        params = {"areas": ",".join(area_ids), "validation_reports": json.dumps(reports), "figures_dir": "figures", "build_date": meta["date"]}
        execute_render_publish(result, notebook, staging, final, params, meta, formats, chosen, name, progress, t0)
    except Exception as exc:  # noqa: BLE001
        fail(result, exc, staging, final, progress)
    result.seconds.setdefault("total", time.perf_counter() - t0)
    return result


# --------------------------------------------------------------------------- many outputs


#: Outputs one worker process builds before it is replaced by a fresh one.
WORKER_TASKS = 40
#: How much lower the workers' scheduling priority is than the driver's (``os.nice``).
WORKER_NICENESS = 10


def _noop() -> None:
    return None


def _import_gx() -> None:
    try:
        from .contracts import _gx

        _gx()
    except Exception:  # noqa: BLE001 - validation will raise it again, with its context
        pass


def _worker_init() -> None:
    """A new build worker: PDFs compiled out of process (bounded memory); its kernel started and warmed now,
    while the driver validates, instead of on its first notebook."""
    from .render import embedded

    embedded.IN_PROCESS = False
    if hasattr(os, "nice"):
        # Workers (and their kernels, pandoc, typst) yield to the driver: while it validates the data,
        # which every build waits for, it keeps a core (measured: validation ends ~0.5 s sooner).
        os.nice(WORKER_NICENESS)
    try:
        folder = build_dir() / ".staging"
        folder.mkdir(parents=True, exist_ok=True)
        _reused_kernel(folder, count=False)  # warming up is not a notebook
    except Exception:  # noqa: BLE001 - the first build will start a kernel and report any problem
        _shutdown_kernel()


def _build_worker(args: tuple) -> BuildResult:
    kind, target, formats, renderer, force = args
    if kind == "compare":
        return build_comparison(list(target), formats=formats, renderer=renderer, force=force)
    return build_area(target, formats=formats, renderer=renderer, force=force)


def build_many(area_ids: list[str], formats=("html", "pdf"), renderer: str = "auto", force: bool = False, jobs: int | None = None,
               progress: Progress | None = print_progress, compare: list[str] | None = None) -> list[BuildResult]:
    """Build several areas (and optionally a comparison of ``compare``) in parallel processes.

    Up-to-date outputs are settled in this process without starting a worker; one failing
    output does not stop the others. Results come back in the order asked (comparison last).
    """
    jobs = max(1, jobs or os.cpu_count() or 1)
    progress = progress or (lambda *a: None)
    tasks: list[tuple[str, object]] = [("area", a) for a in area_ids]
    if compare:
        tasks.append(("compare", tuple(compare)))
    results: dict[int, BuildResult] = {}
    if not force:
        for i, (kind, target) in enumerate(tasks):
            cached = comparison_up_to_date(list(target), formats, renderer) if kind == "compare" else up_to_date(target, formats, renderer)
            if cached is not None:
                results[i] = cached
                progress(cached.name, "up to date", "(nothing changed; use --force to rebuild)")
    stale = [i for i in range(len(tasks)) if i not in results]
    if jobs == 1 or len(stale) <= 1:
        for i in stale:
            kind, target = tasks[i]
            results[i] = (build_comparison(list(target), formats=formats, renderer=renderer, force=force, progress=progress)
                          if kind == "compare" else build_area(target, formats=formats, renderer=renderer, force=force, progress=progress))
        return [results[i] for i in range(len(tasks))]
    # Workers are replaced after about WORKER_TASKS outputs each, so memory stays bounded on long runs.
    # The pool is renewed per batch rather than with max_tasks_per_child, which deadlocks on Python
    # 3.11-3.13 (CPython gh-115634). Where there is a fork server, workers fork from a process that has
    # imported papermill, jupyter_client and the pipeline once; elsewhere (Windows) they are spawned.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["pipeline._preload"])
    else:
        context = multiprocessing.get_context("spawn")
    needed = [a for i in stale for a in ([tasks[i][1]] if tasks[i][0] == "area" else tasks[i][1])]
    if _needs_validation(needed):
        # Great Expectations takes about two seconds to import: do it while the workers are being started.
        gx_import = threading.Thread(target=_import_gx, name="yjplan-import-gx", daemon=True)
        gx_import.start()
    else:
        gx_import, needed = None, []
    workers = min(jobs, len(stale))
    batch = workers * WORKER_TASKS
    validated = False
    for start in range(0, len(stale), batch):
        chunk = stale[start:start + batch]
        with ProcessPoolExecutor(max_workers=min(workers, len(chunk)), mp_context=context, initializer=_worker_init) as pool:
            for _ in range(min(workers, len(chunk))):
                pool.submit(_noop)  # start the workers (and their kernels) now, while this process validates
            if not validated:
                # One pass over the data for every area to build (GX imported here, once per run);
                # each worker then reads its area's report from the cache.
                if gx_import is not None:
                    gx_import.join()
                t = time.perf_counter()
                if done := prevalidate(needed):
                    progress("data", "validated", f"{len(done)} area{'s' if len(done) > 1 else ''} in "
                             f"{time.perf_counter() - t:.1f}s (Great Expectations, one pass over each table)")
                validated = True
            futures = {}
            for i in chunk:
                kind, target = tasks[i]
                if kind == "area":
                    prevalidate_extract(target)  # one at a time, while the workers build earlier areas
                futures[pool.submit(_build_worker, (kind, target, tuple(formats), renderer, force))] = i
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker is a failed output
                    name = "compare" if tasks[i][0] == "compare" else str(tasks[i][1])
                    results[i] = BuildResult(name=name, status="failed", message=f"{type(exc).__name__}: {exc}")
    return [results[i] for i in range(len(tasks))]


def summary_lines(results: list[BuildResult]) -> list[str]:
    """The end-of-run summary: what was built, where, and what failed."""
    lines = []
    site = site_dir()
    for r in results:
        if r.ok:
            where = ", ".join(str(site / r.name / f) if r.name != "compare" else str(site / "compare" / f) for f in r.outputs.values())
            extra = f"; {r.warnings} data-quality warning{'s' if r.warnings != 1 else ''}" if r.warnings else ""
            lines.append(f"  {r.status.upper():7} {r.name}: {where}{extra}")
        else:
            first = r.message.splitlines()
            lines.append(f"  FAILED  {r.name}: {first[0] if first else 'unknown error'}")
            lines.extend(f"          {l}" for l in first[1:12])
    built = sum(r.status == "built" for r in results)
    cached = sum(r.status == "cached" for r in results)
    failed = sum(not r.ok for r in results)
    lines.append(f"  {built} built, {cached} up to date, {failed} failed")
    return lines
