"""Building one output: an area's plan or a comparison, as a short story of steps.

    resolve the area → up to date? → validate → stage → (local tracking) → execute → render → publish

Every failure becomes a result naming its stage. When the **data** failed, the previous plan is
withdrawn (it must not pass for a plan of data that now fail); when the build **could not run**
(no renderer, a crash, a full disk) the last good plan stays and the index marks it stale.
Failure details go to the restricted folder only.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from ..data.contracts import write_report
from ..data.editions import edition_report
from ..errors import DataContractError, DataFileError, PipelineError, UnknownAreaError
from ..data.ids import InvalidIdError
from ..paths import notebooks_dir
from . import cache, kernel, tracking_step
from ..site import publish
from .context import AreaContext, area_rows, resolve_area

PLAN_NOTEBOOK = "plan.ipynb"
COMPARE_NOTEBOOK = "compare.ipynb"

Progress = Callable[[str, str, str], None]


def print_progress(name: str, stage: str, detail: str = "") -> None:
    """Default progress reporter: one line per stage."""
    print(f"[{name}] {stage}{(' ' + detail) if detail else ''}", flush=True)


def _quiet(*_args) -> None:
    return None


@dataclass
class BuildResult:
    """What happened to one output (an area's plan or a comparison)."""

    name: str
    status: str  # "built", "cached", "failed"
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""
    stage: str = ""  # the stage that failed
    kept_previous: bool = False  # a failed build left the last good plan in place
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: int = 0
    critical: int = 0
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("built", "cached")


#: Failures of the data (the plan must not stay published): everything else means the build could not run.
DATA_FAILURES = (DataContractError, DataFileError)


def plan_metadata(ctx: AreaContext) -> dict:
    """Title page metadata for an edition of an area's plan."""
    from ..document.templates import document_name
    from ..document.wording import SYNTHETIC_SUBTITLE

    row = {**ctx.row, **(ctx.edition.row if ctx.edition else {})}
    return {
        # the plan period names the edition: two editions of an area never share a page title
        "title": f"{row['service_name']}: {document_name(row.get('template'))} {row['plan_period_label']}",
        "subtitle": f"{row['plan_period_label']} — performance, resources and priorities" + (f" ({SYNTHETIC_SUBTITLE})" if ctx.synthetic else ""),
        "author": row["service_name"],
        "date": date.today().isoformat(),
        "lang": "en-GB",
        "period": row["plan_period_label"],
        "synthetic": ctx.synthetic,
    }


def area_fingerprint(ctx: AreaContext, renderer: str, formats: tuple[str, ...]) -> str:
    """The content hash an area's plan is cached under (``renderer`` already resolved)."""
    t = ctx.tracking
    extra = {"tracking": cache.file_fingerprint(t.fingerprint_settings(), t.extract) if t else ""}
    extra["edition"] = ctx.edition.row if ctx.edition else {}
    return cache.fingerprint(ctx.name, notebooks_dir() / PLAN_NOTEBOOK, renderer, tuple(formats), extra=extra,
                             area_ids=[ctx.area_id], edition=ctx.edition.edition if ctx.edition else None)


def comparison_name(area_ids: list[str], published: list[str] | None = None) -> str:
    """Folder name: 'compare' for the full set of published areas, else 'compare-<a>-<b>…'."""
    if published is not None and sorted(area_ids) == sorted(published):
        return "compare"
    return "compare-" + "-".join(area_ids)


def comparison_fingerprint(name: str, area_ids: list[str], renderer: str, formats: tuple[str, ...]) -> str:
    return cache.fingerprint(name, notebooks_dir() / COMPARE_NOTEBOOK, renderer, tuple(formats),
                             extra={"areas": list(area_ids)}, area_ids=area_ids)


def cached_result(name: str, key: str, formats: tuple[str, ...]) -> BuildResult | None:
    """The result of output ``name`` when it was built under ``key`` with every format asked for, else None."""
    folder = publish.output_dir(name)
    try:
        info = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # an unreadable manifest: rebuild
    outputs = info.get("outputs", {})
    if info.get("fingerprint") != key or info.get("status") != "built":
        return None
    if not all(f in outputs and (folder / outputs[f]).is_file() for f in formats):
        return None
    return BuildResult(name=name, status="cached", outputs=outputs, warnings=info.get("warnings", 0), fingerprint=key)


#: Metadata keys of the rendered documents recorded in build.json.
DOCUMENT_METADATA = ("title", "subtitle", "author", "date", "lang", "synthetic")


def _write_manifest(folder: Path, result: BuildResult, meta: dict, renderer: str) -> None:
    info = {k: v for k, v in asdict(result).items() if k not in ("message", "stage", "kept_previous")}
    info.update({"title": meta.get("title"), "period": meta.get("period"),
                 "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "renderer": renderer, "synthetic": meta.get("synthetic", False),
                 # the title-page metadata the documents were rendered with (the Quarto website uses it)
                 "document": {k: meta[k] for k in DOCUMENT_METADATA if meta.get(k) not in (None, "")}})
    (folder / "build.json").write_text(json.dumps(info, indent=1), encoding="utf-8")


def _short(exc: BaseException) -> str:
    if hasattr(exc, "evalue"):  # papermill's PapermillExecutionError: the notebook's own error
        return f"{getattr(exc, 'ename', '')}: {getattr(exc, 'evalue', '')}"
    return str(exc)[:2000]


def _path_labels(staging: Path) -> dict[str, Path]:
    """Absolute folders that must not appear in a published notebook, with what replaces them."""
    from ..paths import REPO_ROOT, build_dir, contracts_dir, data_dir

    labels = {"<output>": staging, "<build>": build_dir(), "<data>": data_dir(), "<contracts>": contracts_dir(),
              "<notebooks>": notebooks_dir(), "<repository>": REPO_ROOT, "<home>": Path.home()}
    return {k: v for k, v in labels.items() if len(str(v)) > 1}


class _Run:
    """One output's run: its result, its current stage, its staging folder."""

    def __init__(self, name: str, progress: Progress | None):
        self.result = BuildResult(name=name, status="failed")
        self.progress = progress or _quiet
        self.stage = "checking"
        self.staging: Path | None = None
        self.t0 = time.perf_counter()

    def step(self, stage: str, detail: str = "") -> None:
        self.stage = stage
        self.progress(self.result.name, stage, detail)

    def stage_folder(self) -> Path:
        self.staging = publish.new_staging(self.result.name)
        return self.staging

    def execute_render_publish(self, notebook: Path, params: dict, meta: dict, formats: tuple[str, ...], renderer: str,
                               stem: str) -> None:
        from ..render import render_document

        r = self.result
        self.step("executing", "(papermill)")
        t = time.perf_counter()
        kernel.execute_notebook(notebook, self.staging / notebook.name, params, self.staging)
        kernel.make_publishable(self.staging / notebook.name, _path_labels(self.staging))
        r.seconds["execute"] = time.perf_counter() - t
        self.step("rendering", f"({renderer}: {', '.join(formats)})")
        t = time.perf_counter()
        outputs = render_document(self.staging / notebook.name, self.staging, stem, formats=formats, metadata=meta, renderer=renderer)
        r.seconds["render"] = time.perf_counter() - t
        r.outputs = {fmt: Path(p).name for fmt, p in outputs.items()}
        r.status = "built"
        r.seconds["total"] = time.perf_counter() - self.t0
        self.stage = "publishing"
        _write_manifest(self.staging, r, meta, renderer=renderer)
        final = publish.publish(self.staging, r.name)
        self.staging = None
        self.progress(r.name, "built", f"in {r.seconds['total']:.1f}s → {final}")

    def fail(self, exc: BaseException) -> BuildResult:
        """Record a failure: staging removed; the previous plan withdrawn only when the data failed."""
        r = self.result
        r.status = "failed"
        r.stage = self.stage
        r.message = str(exc) if isinstance(exc, PipelineError) else f"{type(exc).__name__}: {_short(exc)}"
        if not isinstance(exc, PipelineError) and os.environ.get("YJPLAN_DEBUG"):
            traceback.print_exc()
        if self.staging is not None:
            publish.remove_staging(self.staging)
        if isinstance(exc, (InvalidIdError, UnknownAreaError, publish.UnsafeOutputError)):
            self.progress(r.name, "FAILED", r.message.splitlines()[0])
            return r  # nothing of the site is touched for an id that is not (or no longer) an area's
        data = isinstance(exc, DATA_FAILURES)
        try:
            r.kept_previous = not data and publish.output_dir(r.name).exists()
            if data:
                publish.withdraw(r.name)
            publish.record_failure(r.name, r.stage, "data" if data else "environment", r.message, r.kept_previous)
        except OSError as err:  # e.g. a read-only or full disk: say so, keep the original failure
            r.message += f"\n(the failure could not be recorded: {err})"
        kept = " (the last good plan is kept, marked stale in the index)" if r.kept_previous else ""
        self.progress(r.name, "FAILED", (r.message.splitlines()[0] if r.message else "") + kept)
        return r

    def done(self) -> BuildResult:
        self.result.seconds.setdefault("total", time.perf_counter() - self.t0)
        return self.result


def build_area(area_id: str, formats=("html", "pdf", "docx"), renderer: str = "auto", force: bool = False,
               progress: Progress | None = print_progress, ctx: AreaContext | None = None) -> BuildResult:
    """Build one edition of an area's plan end to end (``ctx``, else the area's latest edition); never raises
    for data problems (the result says what failed)."""
    from ..data.dataset import read_content
    from ..render import resolve_renderer

    run = _Run(ctx.name if ctx else str(area_id), progress)
    formats = tuple(formats)
    r = run.result
    try:
        ctx = ctx or resolve_area(area_id)
        r.name = ctx.name
        chosen = resolve_renderer(renderer)
        r.fingerprint = key = area_fingerprint(ctx, chosen, formats)
        cached = None if force else cached_result(ctx.name, key, formats)
        if cached is not None:
            run.progress(ctx.name, "up to date", "(nothing changed; use --force to rebuild)")
            return cached

        was_cached = cache.validation_cache(area_id).exists()
        run.step("validating", "(Great Expectations" + (": report cached for these inputs)" if was_cached else ")"))
        t = time.perf_counter()
        report = cache.validated_report(area_id)
        r.warnings, r.critical = len(report.warnings), len(report.critical_failures)
        report.raise_for_critical()
        if ctx.edition:  # the plan, its validation.json and the index speak of this edition's rows only
            report = edition_report(report, area_id, ctx.edition.edition)
            r.warnings = len(report.warnings)
        read_content(area_id, ctx.edition.edition)  # a broken narrative file fails here, with its line, not in the notebook
        tracking = tracking_step.load(ctx)
        r.seconds["validate"] = time.perf_counter() - t

        staging = run.stage_folder()
        write_report(report, staging / "validation.json")
        meta = plan_metadata(ctx)
        params = {
            "area_id": area_id,
            "edition": ctx.edition.edition if ctx.edition else "",
            "validation_report": "validation.json",
            "figures_dir": "figures",
            "build_date": meta["date"],
            "tracking_summary": tracking_step.write_summary(ctx, tracking, staging) if tracking else "",
        }
        run.execute_render_publish(notebooks_dir() / PLAN_NOTEBOOK, params, meta, formats, chosen, ctx.stem)
        if tracking:
            run.stage = "writing restricted outputs"
            tracking_step.write_restricted_outputs(ctx, tracking)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result naming its stage (see _Run.fail)
        return run.fail(exc)
    return run.done()


def published_area_ids(rows: list[dict] | None = None) -> list[str]:
    """Ids of the areas whose plans come from published documents (not synthetic demonstrations)."""
    from ..data.dataset import is_synthetic

    return [row["area_id"] for row in (area_rows() if rows is None else rows) if not is_synthetic(row)]


def build_comparison(area_ids: list[str], formats=("html", "pdf", "docx"), renderer: str = "auto", force: bool = False,
                     progress: Progress | None = print_progress) -> BuildResult:
    """Execute and render the comparison notebook for the chosen areas."""
    from ..document.markdown import join_and
    from ..render import resolve_renderer

    formats = tuple(formats)
    run = _Run("compare", progress)
    try:
        rows = area_rows()
        contexts = [resolve_area(a, rows) for a in area_ids]
        if len(set(area_ids)) < 2:
            raise PipelineError("a comparison needs at least two different areas")
        name = comparison_name(list(area_ids), published_area_ids(rows))
        run.result.name = name
        chosen = resolve_renderer(renderer)
        run.result.fingerprint = key = comparison_fingerprint(name, list(area_ids), chosen, formats)
        cached = None if force else cached_result(name, key, formats)
        if cached is not None:
            run.progress(name, "up to date", "(nothing changed; use --force to rebuild)")
            return cached
        run.step("validating", f"({', '.join(area_ids)})")
        t = time.perf_counter()
        staging = run.stage_folder()
        reports = {}
        for ctx in contexts:
            report = cache.validated_report(ctx.area_id)
            report.raise_for_critical()
            run.result.warnings += len(report.warnings)
            write_report(report, staging / f"validation-{ctx.area_id}.json")
            reports[ctx.area_id] = f"validation-{ctx.area_id}.json"
        run.result.seconds["validate"] = time.perf_counter() - t
        meta = {
            "title": f"Youth justice: {join_and([c.row['area_name'] for c in contexts])} compared",
            "subtitle": "National indicators, money, staffing and inspection, side by side — each figure with its own period",
            "author": "yjplan comparison", "date": date.today().isoformat(), "lang": "en-GB", "synthetic": False,
            "period": "various",
        }
        params = {"areas": ",".join(area_ids), "validation_reports": json.dumps(reports), "figures_dir": "figures", "build_date": meta["date"]}
        run.execute_render_publish(notebooks_dir() / COMPARE_NOTEBOOK, params, meta, formats, chosen, name if name != "compare" else "compare")
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result naming its stage (see _Run.fail)
        return run.fail(exc)
    return run.done()
