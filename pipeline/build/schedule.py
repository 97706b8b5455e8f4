"""Building many outputs at once: a pool of build processes, their priority, and their lifetime.

* Up-to-date outputs are settled in this process without starting a worker.
* Workers fork from a server that has imported papermill, jupyter_client and the pipeline once
  (``pipeline._preload``), each keeps one warm kernel, and they run at a lower priority
  (``nice``) than this process, which meanwhile validates every area to build in one Great
  Expectations pass (``cache.prevalidate``).
* Workers are bound to this process: each watches it and, when it has gone (killed), stops its
  kernel and exits instead of publishing plans that no index will list.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from ..errors import PipelineError
from . import cache, kernel
from ..site import publish
from .context import AreaContext
from .driver import BuildResult, Progress, _quiet, build_area, build_comparison, cached_result

#: Outputs one worker process builds before it is replaced by a fresh one.
WORKER_TASKS = 40
#: How much lower the workers' scheduling priority is than the driver's (``os.nice``).
WORKER_NICENESS = 10
#: Seconds between a worker's checks that the driver is still there.
WATCH_INTERVAL = 0.5


def _noop() -> None:
    return None


def _import_gx() -> None:
    """Import Great Expectations (about two seconds) while the workers start."""
    from ..data.contracts import gx_module

    try:
        gx_module()
    except ImportError:  # validation will raise it again, with its context
        pass


def _watch_owner() -> None:
    while publish.owner_alive():
        time.sleep(WATCH_INTERVAL)
    kernel.kill_now()
    os._exit(1)


def _worker_init(owner_pid: int) -> None:
    """A new build worker: bound to the driver, PDFs compiled out of process, niced, its kernel warmed now."""
    from ..render import embedded

    publish.set_owner(owner_pid)
    threading.Thread(target=_watch_owner, name="yjplan-watch-driver", daemon=True).start()
    embedded.compile_out_of_process()
    if hasattr(os, "nice"):
        # Workers (and their kernels, pandoc, typst) yield to the driver: while it validates the data,
        # which every build waits for, it keeps a core (measured: validation ends ~0.5 s sooner).
        os.nice(WORKER_NICENESS)
    try:
        kernel.warm_up()
    except (RuntimeError, OSError):  # the first build starts a kernel again and reports any problem
        kernel.shutdown()


def _build_worker(args: tuple) -> BuildResult:
    kind, target, formats, renderer, force = args
    if kind == "compare":
        return build_comparison(list(target), formats=formats, renderer=renderer, force=force)
    return build_area(target.area_id, formats=formats, renderer=renderer, force=force, ctx=target)


def _up_to_date(kind: str, target, formats, renderer) -> BuildResult | None:
    """The cached result of a task when nothing changed, else None (errors are the build's to report)."""
    from ..render import resolve_renderer
    from .context import area_rows
    from .driver import area_fingerprint, comparison_fingerprint, comparison_name, published_area_ids

    try:
        chosen = resolve_renderer(renderer)
        if kind == "compare":
            name = comparison_name(list(target), published_area_ids(area_rows()))
            return cached_result(name, comparison_fingerprint(name, list(target), chosen, formats), formats)
        return cached_result(target.name, area_fingerprint(target, chosen, formats), formats)
    except (PipelineError, OSError):
        return None


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["pipeline._preload"])
        return context
    return multiprocessing.get_context("spawn")  # Windows


def build_many(contexts: list[AreaContext], formats=("html", "pdf", "docx"), renderer: str = "auto", force: bool = False,
               jobs: int | None = None, progress: Progress | None = None, compare: list[str] | None = None) -> list[BuildResult]:
    """Build several areas (and optionally a comparison of ``compare``) in parallel processes.

    One failing output does not stop the others. Results come back in the order asked (comparison last).
    """
    jobs = max(1, jobs or os.cpu_count() or 1)
    progress = progress or _quiet
    formats = tuple(formats)
    tasks: list[tuple[str, object]] = [("area", c) for c in contexts]
    if compare:
        tasks.append(("compare", tuple(compare)))
    results: dict[int, BuildResult] = {}
    if not force:
        for i, (kind, target) in enumerate(tasks):
            if (cached := _up_to_date(kind, target, formats, renderer)) is not None:
                results[i] = cached
                progress(cached.name, "up to date", "(nothing changed; use --force to rebuild)")
    stale = [i for i in range(len(tasks)) if i not in results]
    if jobs == 1 or len(stale) <= 1:
        for i in stale:
            kind, target = tasks[i]
            results[i] = (build_comparison(list(target), formats, renderer, force, progress) if kind == "compare"
                          else build_area(target.area_id, formats, renderer, force, progress, ctx=target))
        return [results[i] for i in range(len(tasks))]

    needed = [tasks[i][1].area_id for i in stale if tasks[i][0] == "area"]
    needed += [a for i in stale if tasks[i][0] == "compare" for a in tasks[i][1]]
    needed = [a for a in dict.fromkeys(needed) if not cache.validation_cache(a).exists()]
    gx_import = threading.Thread(target=_import_gx, name="yjplan-import-gx", daemon=True) if needed else None
    if gx_import is not None:
        gx_import.start()
    workers = min(jobs, len(stale))
    batch = workers * WORKER_TASKS
    validated = False
    # Workers are replaced after about WORKER_TASKS outputs each, so memory stays bounded on long runs.
    # The pool is renewed per batch rather than with max_tasks_per_child, which deadlocks on Python
    # 3.11-3.13 (CPython gh-115634).
    for start in range(0, len(stale), batch):
        chunk = stale[start:start + batch]
        pool = ProcessPoolExecutor(max_workers=min(workers, len(chunk)), mp_context=_context(),
                                   initializer=_worker_init, initargs=(os.getpid(),))
        try:
            for _ in range(min(workers, len(chunk))):
                pool.submit(_noop)  # start the workers (and their kernels) now, while this process validates
            if not validated:
                if gx_import is not None:
                    gx_import.join()
                t = time.perf_counter()
                try:
                    done = cache.prevalidate(needed)
                except PipelineError:
                    done = []  # each area's own build reports its data problem, with its context
                if done:
                    progress("data", "validated", f"{len(done)} area{'s' if len(done) > 1 else ''} in "
                             f"{time.perf_counter() - t:.1f}s (Great Expectations, one pass over each table)")
                validated = True
            futures = {pool.submit(_build_worker, (*tasks[i], formats, renderer, force)): i for i in chunk}
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker (e.g. killed when out of memory) is a failed output
                    kind, target = tasks[i]
                    name = "compare" if kind == "compare" else target.name
                    results[i] = BuildResult(name=name, status="failed", stage="building",
                                             message=f"the build process stopped: {type(exc).__name__}: {exc}",
                                             kept_previous=True)
        except BaseException:
            # Interrupted: cancel what has not started; the workers notice this process has gone and stop.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return [results[i] for i in range(len(tasks))]
