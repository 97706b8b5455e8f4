"""Building the plans: the run, step by step.

``create_plans`` is the whole job of ``yjplan build``, in order:

1. take the build folder's lock and remove what killed runs left (``pipeline.site.publish.exclusive_run``);
2. resolve every area once (id rule, row of areas.csv, content file, tracking settings);
3. generate the synthetic demonstration inputs, if any area uses them (``prepare_inputs``);
4. validate and build each plan, then the comparison, in a pool of build processes
   (``schedule.build_many``; one plan: ``driver.build_area``);
5. write the site index from what is published (``pipeline.site.index``).

Modules: ``context`` (an area resolved once), ``cache`` (fingerprints, cached reports and
extracts), ``kernel`` (papermill engine reusing one kernel), ``tracking_step`` (record-level
extract to aggregate tables; restricted outputs), ``driver`` (one output), ``schedule`` (many
outputs). Staging, publication, failure records and the lock are ``pipeline.site.publish``'s.
"""

from __future__ import annotations

from pathlib import Path

from dataclasses import dataclass, field

from ..errors import PipelineError
from .context import AreaContext, area_rows, resolve_area
from .driver import BuildResult, Progress, build_area, build_comparison, plan_metadata, print_progress, published_area_ids
from .kernel import ensure_kernel
from ..site.publish import exclusive_run, restricted_dir, site_dir

__all__ = [
    "BuildResult", "RunReport", "build_area", "build_comparison", "create_plans", "ensure_kernel", "plan_metadata",
    "prepare_inputs", "print_progress", "resolve_area", "resolve_targets", "restricted_dir", "site_dir", "summary_lines",
]


@dataclass
class RunReport:
    """What a run did: a result per output, and what happened to the index."""

    results: list[BuildResult] = field(default_factory=list)
    index: str = ""  # "written", "unchanged" or "FAILED: …"
    swept: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results) and not self.index.startswith("FAILED")


def prepare_inputs(contexts: list[AreaContext]) -> None:
    """Generate the synthetic demonstration extracts the editions ask for (fixed seed; never real data), again
    whenever their settings or the generator's code changed (a stamp beside the extract records both)."""
    import hashlib
    import json

    from .. import synthetic

    code = hashlib.sha256(Path(synthetic.__file__).read_bytes()).hexdigest()
    for ctx in contexts:
        if not (ctx.tracking and ctx.tracking.generated):
            continue
        extract = ctx.tracking.extract
        stamp_file = extract.with_name(extract.name + ".stamp.json")
        stamp = {"settings": ctx.tracking.generate_kwargs, "generator": code}
        try:
            current = json.loads(stamp_file.read_text(encoding="utf-8")) == stamp and extract.exists()
        except (OSError, ValueError):
            current = False
        if not current:
            synthetic.write_demo_extract(extract, **ctx.tracking.generate_kwargs)
            stamp_file.write_text(json.dumps(stamp, sort_keys=True), encoding="utf-8")


def create_plans(area_ids: list[str], compare: list[str] | bool | None = None, formats=("html", "pdf", "docx"),
                 renderer: str = "auto", force: bool = False, jobs: int | None = None,
                 progress: Progress | None = print_progress, write_index: bool = True) -> RunReport:
    """Build the plans of ``area_ids`` (and a comparison), then the index; see the module's steps.

    Each of ``area_ids`` is an area (every edition of its plan is built) or ``<area_id>/<edition>``
    (that edition). ``compare``: a list of area ids, or True for every published area among
    ``area_ids``; the comparison uses each area's latest edition. An id that breaks the id rule or
    is not listed fails on its own, before any path is formed.
    """
    from .schedule import build_many

    report = RunReport()
    with exclusive_run(lambda text: progress("lock", "waiting", text) if progress else None) as swept:
        report.swept = swept
        rows = area_rows()
        contexts, order = [], []
        for target in area_ids:
            try:
                found = resolve_targets(target, rows)
            except PipelineError as exc:
                failed = BuildResult(name=str(target)[:80], status="failed", stage="checking", message=str(exc))
                order.append(failed)
                if progress:
                    progress(str(target)[:80], "FAILED", str(exc))
                continue
            contexts.extend(found)
            order.extend(c.name for c in found)
        if compare is True:  # every published area, when there are at least two
            compare = list(dict.fromkeys(c.area_id for c in contexts if not c.synthetic))
            compare = compare if len(compare) >= 2 else None
        prepare_inputs(contexts)
        built = build_many(contexts, formats=formats, renderer=renderer, force=force, jobs=jobs, progress=progress,
                           compare=list(compare) if compare else None)
        by_name = {r.name: r for r in built[:len(contexts)]}
        report.results = [item if isinstance(item, BuildResult) else by_name[item] for item in order] + built[len(contexts):]
        if write_index:
            report.index = _write_index(renderer)
    return report


def resolve_targets(target: str, rows: list[dict] | None = None) -> list[AreaContext]:
    """The editions a build target names: ``<area_id>`` (every edition) or ``<area_id>/<edition>``."""
    from ..data.editions import split_target
    from .context import resolve_editions

    area_id, edition = split_target(target)
    if edition is None:
        return resolve_editions(area_id, rows)
    return [resolve_area(area_id, rows, edition)]


def _write_index(renderer: str) -> str:
    from ..site.index import write_index

    try:
        path, changed = write_index(renderer)
    except (PipelineError, OSError) as exc:
        return f"FAILED: {exc}"
    return f"{'written' if changed else 'unchanged'}: {path}"


def summary_lines(results: list[BuildResult]) -> list[str]:
    """The end-of-run summary: what was built, where, and what failed (at which stage)."""
    lines = []
    site = site_dir()
    for r in results:
        if r.ok:
            where = ", ".join(str(site / r.name / f) for f in r.outputs.values())
            extra = f"; {r.warnings} data-quality warning{'s' if r.warnings != 1 else ''}" if r.warnings else ""
            lines.append(f"  {r.status.upper():7} {r.name}: {where}{extra}")
        else:
            first = r.message.splitlines() or ["unknown error"]
            stage = f"[{r.stage}] " if r.stage else ""
            kept = " — the last good plan is kept (marked stale)" if r.kept_previous else ""
            lines.append(f"  FAILED  {r.name}: {stage}{first[0]}{kept}")
            lines.extend(f"          {line}" for line in first[1:12])
    built = sum(r.status == "built" for r in results)
    cached = sum(r.status == "cached" for r in results)
    failed = sum(not r.ok for r in results)
    lines.append(f"  {built} built, {cached} up to date, {failed} failed")
    return lines
