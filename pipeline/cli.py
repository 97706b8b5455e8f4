"""``yjplan``: list areas, validate their data, build plans, comparisons and the site.

Examples::

    yjplan list
    yjplan validate warwickshire
    yjplan build oxfordshire --format html,pdf,docx
    yjplan build --all --jobs 2
    yjplan compare oxfordshire warwickshire
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import time

from .errors import PipelineError

FORMATS = ("html", "pdf", "docx")


def _formats(text: str) -> tuple[str, ...]:
    items = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(bad) or text!r}: choose from {', '.join(FORMATS)}")
    return items


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--jobs takes a whole number of processes, 1 or more (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--jobs takes a whole number of processes, 1 or more (got {value})")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="yjplan", description="Reproducible Youth Justice Strategic Plans")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the areas in data/areas.csv")

    v = sub.add_parser("validate", help="run the data contracts for areas and report every failure")
    v.add_argument("areas", nargs="*", help="area ids (default: --all)")
    v.add_argument("--all", action="store_true", help="every area")

    def common(sp):
        sp.add_argument("--format", dest="formats", type=_formats, default=FORMATS, help="html,pdf,docx: any of them, comma-separated (default all three)")
        sp.add_argument("--renderer", choices=("auto", "quarto", "embedded"), default="auto",
                        help="auto: Quarto when a quarto executable is found, else the embedded pandoc+typst renderer")
        sp.add_argument("--force", action="store_true", help="rebuild even when nothing changed")

    b = sub.add_parser("build", help="build plans (and with --all the comparison and the site index)")
    b.add_argument("areas", nargs="*", help="area ids")
    b.add_argument("--all", action="store_true", help="every area, the comparison and the index")
    b.add_argument("--jobs", type=_jobs, default=None, help="parallel processes (default: number of cores)")
    common(b)

    c = sub.add_parser("compare", help="build a side-by-side comparison of chosen areas")
    c.add_argument("areas", nargs="+", help="two or more area ids")
    common(c)

    sub.add_parser("index", help="rewrite the site index from what is built")
    sub.add_parser("quarto-project", help="regenerate the repository's _quarto.yml from the Quarto back-end's options")
    ne = sub.add_parser("new-edition", help="start next year's plan of an area from its latest edition (plans.csv row + "
                        "content file with last year's priorities carried forward, marked for review)")
    ne.add_argument("area", help="area id, e.g. oxfordshire")
    ne.add_argument("edition", help="the new edition (plan year), e.g. 2025-26")
    ne.add_argument("--from", dest="from_edition", default=None, help="start from this edition instead of the latest")
    ne.add_argument("--template", default=None, help="the new edition's plan template (data/plan_templates.csv), e.g. "
                    "yjb_2024 for the YJB's current structure; default: the previous edition's")
    return p


def _all_area_ids() -> list[str]:
    from .data.dataset import list_areas

    return list(list_areas()["area_id"])


def cmd_new_edition(args) -> int:
    from .data.editions import start_edition

    try:
        content, row = start_edition(args.area, args.edition, args.from_edition, template=args.template)
    except PipelineError as exc:
        print(f"new-edition: {exc}")
        return 1
    print(f"Started {args.area}/{args.edition} ({row['plan_period_label']}, template {row['template']}):")
    print(f"  data/plans.csv      a row for the edition (data cut-off {row['data_cutoff']}: set it to when the figures were taken)")
    print(f"  data/{content.relative_to(content.parents[2]).as_posix()}  copied, last year's priorities carried forward for review")
    print("Next: review the content file (everything marked TO REVIEW), add the edition's budget and staffing rows")
    print(f"(column edition = {args.edition}) and new indicator periods, then: yjplan build {args.area}/{args.edition}")
    missing = _missing_content_keys(row["template"], content)
    if missing:
        print(f"The {row['template']} template's required sections have no text yet (the plan says 'Not yet written' and "
              f"lists them in its data-quality appendix until you add them): {', '.join(missing)}")
    return 0


def _missing_content_keys(template_id: str, content_file) -> list[str]:
    """The first content key of each required content section of the template that the content file lacks."""
    import yaml

    from .document.templates import load_templates

    template = load_templates().get(template_id)
    content = yaml.safe_load(content_file.read_text(encoding="utf-8")) or {}
    return [spec.content_keys[0] for spec in (template.sections if template else ())
            if spec.required and spec.source == "content" and spec.content_keys and not any(content.get(k) for k in spec.content_keys)]


def cmd_list(_args) -> int:
    from .data.dataset import is_synthetic, list_areas

    areas = list_areas()
    width = max(len(a) for a in areas["area_id"]) + 2
    from .data.editions import editions_of, plan_rows
    from .data.reference import group_label

    plans = plan_rows()
    for row in areas.to_dict("records"):
        kind = " [synthetic]" if is_synthetic(row) else ""
        editions = editions_of(row["area_id"], plans)
        listed = ", ".join(f"{e.edition} ({e.row.get('plan_period_label', '')})" for e in reversed(editions)) or "no plan yet"
        print(f"{row['area_id']:<{width}}{row['service_name']} ({group_label(row.get('region', ''))}){kind}: {listed}")
    return 0


def cmd_validate(args) -> int:
    from .data.dataset import check_area, load_area

    areas = _all_area_ids() if args.all or not args.areas else args.areas
    failed = 0
    for area in areas:
        try:
            check_area(area)
            t = time.perf_counter()
            report = load_area(area, raise_on_critical=False).report
        except PipelineError as exc:
            print(f"[{area}] FAILED: {exc}")
            failed += 1
            continue
        s = report.summary()
        print(f"[{area}] {s['expectations']} expectations: {s['passed']} passed, {s['warnings']} warnings, "
              f"{s['critical']} critical ({time.perf_counter() - t:.1f}s)")
        for o in report.warnings:
            print(f"  warning: {o.message()}")
        for o in report.critical_failures:
            print(f"  CRITICAL: {o.message()}")
        failed += bool(report.critical_failures)
    return 1 if failed else 0


def _finish(run, started: float) -> int:
    from .build import summary_lines

    if run.index:
        print(f"[site] index {run.index}")
    if run.swept:
        print(f"[build] removed {len(run.swept)} leftover item{'s' if len(run.swept) != 1 else ''} of earlier runs")
    print(f"\nSummary ({time.perf_counter() - started:.1f}s):")
    for line in summary_lines(run.results):
        print(line)
    return 0 if run.ok else 1


def cmd_build(args) -> int:
    from .build import create_plans

    if not args.all and not args.areas:
        print("yjplan build: name one or more areas, or use --all (see `yjplan list`)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    areas = _all_area_ids() if args.all else args.areas
    run = create_plans(areas, compare=True if args.all else None, formats=args.formats, renderer=args.renderer,
                       force=args.force, jobs=args.jobs)
    return _finish(run, started)


def cmd_compare(args) -> int:
    from .build import create_plans, resolve_area

    started = time.perf_counter()
    for area in args.areas:
        resolve_area(area)  # an invalid or unknown id is reported before anything is built
    run = create_plans([], compare=args.areas, formats=args.formats, renderer=args.renderer, force=args.force, jobs=1)
    return _finish(run, started)


def cmd_index(args) -> int:
    from .build import exclusive_run
    from .site.index import write_index

    with exclusive_run():
        path, changed = write_index()
    print(f"{path} ({'written' if changed else 'unchanged'})")
    return 0


def cmd_quarto_project(_args) -> int:
    from .paths import REPO_ROOT
    from .render.quarto import site_project_yaml

    path = REPO_ROOT / "_quarto.yml"
    path.write_text(site_project_yaml(REPO_ROOT), encoding="utf-8")
    print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    handlers = {"list": cmd_list, "validate": cmd_validate, "build": cmd_build, "compare": cmd_compare, "index": cmd_index,
                "quarto-project": cmd_quarto_project, "new-edition": cmd_new_edition}
    try:
        return handlers[args.command](args)
    except PipelineError as exc:
        print(f"yjplan: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """The ``yjplan`` command: ``main`` then exit, skipping the interpreter's final teardown.

    Exit handlers still run (kernels shut down, logs flushed); what is skipped is freeing every
    module one by one, which takes about half a second once Great Expectations has been imported.
    """
    code = main()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
