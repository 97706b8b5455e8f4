"""``yjplan``: list areas, validate their data, build plans, comparisons and the site.

Examples::

    yjplan list
    yjplan validate warwickshire
    yjplan build oxfordshire --format html,pdf
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

FORMATS = ("html", "pdf")


def _formats(text: str) -> tuple[str, ...]:
    items = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(bad) or text!r}: choose from {', '.join(FORMATS)}")
    return items


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="yjplan", description="Reproducible Youth Justice Strategic Plans")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the areas in data/areas.csv")

    v = sub.add_parser("validate", help="run the data contracts for areas and report every failure")
    v.add_argument("areas", nargs="*", help="area ids (default: --all)")
    v.add_argument("--all", action="store_true", help="every area")

    def common(sp):
        sp.add_argument("--format", dest="formats", type=_formats, default=FORMATS, help="html,pdf (default both)")
        sp.add_argument("--renderer", choices=("auto", "quarto", "embedded"), default="auto",
                        help="auto: Quarto when a quarto executable is found, else the embedded pandoc+typst renderer")
        sp.add_argument("--force", action="store_true", help="rebuild even when nothing changed")

    b = sub.add_parser("build", help="build plans (and with --all the comparison and the site index)")
    b.add_argument("areas", nargs="*", help="area ids")
    b.add_argument("--all", action="store_true", help="every area, the comparison and the index")
    b.add_argument("--jobs", type=int, default=None, help="parallel processes (default: number of cores)")
    common(b)

    c = sub.add_parser("compare", help="build a side-by-side comparison of chosen areas")
    c.add_argument("areas", nargs="+", help="two or more area ids")
    common(c)

    sub.add_parser("index", help="rewrite the site index from what is built")
    return p


def _all_area_ids() -> list[str]:
    from .dataset import list_areas

    return list(list_areas()["area_id"])


def cmd_list(_args) -> int:
    from .dataset import list_areas

    areas = list_areas()
    width = max(len(a) for a in areas["area_id"]) + 2
    for row in areas.to_dict("records"):
        kind = " [synthetic]" if row.get("data_kind") == "synthetic" else ""
        print(f"{row['area_id']:<{width}}{row['service_name']} — {row.get('plan_period_label', '')} ({row.get('region', '')}){kind}")
    return 0


def cmd_validate(args) -> int:
    from .dataset import check_area, load_area

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


def _finish(results, started: float, write_site: bool, renderer: str) -> int:
    from .build import summary_lines

    if write_site:
        try:
            from .site import write_index

            index = write_index(renderer)
            print(f"[site] index written: {index}")
        except Exception as exc:  # noqa: BLE001
            print(f"[site] FAILED to write the index: {exc}")
    print(f"\nSummary ({time.perf_counter() - started:.1f}s):")
    for line in summary_lines(results):
        print(line)
    return 0 if all(r.ok for r in results) else 1


def cmd_build(args) -> int:
    from .build import build_many

    if not args.all and not args.areas:
        print("yjplan build: name one or more areas, or use --all (see `yjplan list`)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    areas = _all_area_ids() if args.all else args.areas
    compare = [a for a in areas if _is_published(a)] if args.all else None
    results = build_many(areas, formats=args.formats, renderer=args.renderer, force=args.force, jobs=args.jobs,
                         compare=compare if compare and len(compare) >= 2 else None)
    return _finish(results, started, write_site=True, renderer=args.renderer)


def _is_published(area_id: str) -> bool:
    from .dataset import list_areas

    areas = list_areas()
    row = areas[areas["area_id"] == area_id]
    return not row.empty and row.iloc[0].get("data_kind", "published") != "synthetic"


def cmd_compare(args) -> int:
    from .build import build_comparison

    started = time.perf_counter()
    result = build_comparison(args.areas, formats=args.formats, renderer=args.renderer, force=args.force)
    return _finish([result], started, write_site=True, renderer=args.renderer)


def cmd_index(args) -> int:
    from .site import write_index

    print(write_index())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    handlers = {"list": cmd_list, "validate": cmd_validate, "build": cmd_build, "compare": cmd_compare, "index": cmd_index}
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
