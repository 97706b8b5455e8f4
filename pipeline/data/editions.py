"""Plan editions: an area (a youth justice service) publishes a plan every year.

``data/areas.csv`` describes the service; ``data/plans.csv`` lists its plans, one row per
edition (``area_id``, ``edition`` such as ``2025-26``, title, period, template, content file,
data cut-off, source). Budget, staffing, grant expenditure and the narrative content belong to an
edition; indicator, measure and inspection rows belong to the area and their own periods, and an
edition shows what was known at its cut-off (see ``dataset.load_area``). Every edition stays
buildable; its outputs live in ``build/site/<area_id>/<edition>/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import DataFileError, PipelineError, UnknownAreaError
from .ids import check_area_id
from .loaders import LINE_COLUMN, read_raw_table, table_path

#: An edition id: the plan year, e.g. ``2025-26``, ``2018-21``, ``2019`` (also a folder name).
EDITION_PATTERN = re.compile(r"[0-9]{4}(?:-[0-9]{2}|-[0-9]{4})?")
EDITION_RULE = "the plan year: four digits, optionally '-' and two or four digits (e.g. 2025-26, 2018-21, 2019)"

#: Tables whose rows belong to one edition (column ``edition``); the content file does too.
EDITION_TABLES = ("budget", "grant_expenditure", "staffing", "not_published")


class InvalidEditionError(PipelineError):
    """An edition id that does not follow ``EDITION_RULE``."""


class UnknownEditionError(UnknownAreaError):
    """An area has no such edition in plans.csv."""


def check_edition(edition: object, where: str = "") -> str:
    """Return ``edition`` when it follows the edition rule, else raise InvalidEditionError."""
    text = edition if isinstance(edition, str) else ""
    if not EDITION_PATTERN.fullmatch(text):
        shown = repr(edition)[:40] if edition not in ("", None) else "an empty edition"
        raise InvalidEditionError(f"{where + ': ' if where else ''}invalid edition {shown}: expected {EDITION_RULE}")
    return text


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise DataFileError(f"{where}: expected a date YYYY-MM-DD, found {str(text)[:20]!r}") from None


@dataclass(frozen=True)
class Edition:
    """One plan of one area (a row of plans.csv, as text)."""

    area_id: str
    edition: str
    row: dict = field(repr=False, compare=False)

    @property
    def key(self) -> str:
        """``<area_id>/<edition>``: the edition's output name (its folder under build/site/)."""
        return f"{self.area_id}/{self.edition}"

    @property
    def cutoff(self) -> date:
        return _date(self.row["data_cutoff"], f"plans.csv, {self.key}, column 'data_cutoff'")

    @property
    def period_start(self) -> date:
        return _date(self.row["plan_period_start"], f"plans.csv, {self.key}, column 'plan_period_start'")

    @property
    def stale_after_months(self) -> int:
        try:
            return int(str(self.row.get("stale_after_months") or "24"))
        except ValueError:
            raise DataFileError(f"plans.csv, {self.key}, column 'stale_after_months': expected a whole number") from None

    @property
    def template(self) -> str:
        return str(self.row.get("template") or "")

    def content_path(self, data: Path) -> Path:
        """The edition's content file (``content/<area_id>/<edition>.yml`` under ``data``)."""
        return data / "content" / self.area_id / f"{self.edition}.yml"


def plan_rows(base: Path | None = None) -> list[dict]:
    """Every row of plans.csv (text), area ids and editions checked against their rules."""
    path = table_path("plans", base)
    raw = read_raw_table(path)
    for column in ("area_id", "edition"):
        if column not in raw.columns:
            raise DataFileError(f"{path.name}: no '{column}' column")
    rows = []
    for row in raw.to_dict("records"):
        where = f"{path.name}, line {row.get(LINE_COLUMN, '?')}"
        check_area_id(row["area_id"], where=f"{where}, column 'area_id'")
        check_edition(row["edition"], where=f"{where}, column 'edition'")
        rows.append({k: v for k, v in row.items() if k != LINE_COLUMN})
    return rows


def editions_of(area_id: str, rows: list[dict] | None = None) -> list[Edition]:
    """An area's editions, oldest first (by plan period start, then edition id)."""
    rows = plan_rows() if rows is None else rows
    found = [Edition(area_id, r["edition"], r) for r in rows if r["area_id"] == area_id]
    return sorted(found, key=lambda e: (str(e.row.get("plan_period_start", "")), e.edition))


def resolve_edition(area_id: str, edition: str | None = None, rows: list[dict] | None = None) -> Edition:
    """The area's edition ``edition``, or its latest when None; UnknownEditionError names the known ones."""
    check_area_id(area_id)
    found = editions_of(area_id, rows)
    if not found:
        raise UnknownEditionError(f"area '{area_id}' has no plan in data/plans.csv: add a row (area_id, edition, "
                                  "title, period, template, content file, data cut-off) — see data/README.md")
    if edition is None:
        return found[-1]
    check_edition(edition)
    for e in found:
        if e.edition == edition:
            return e
    raise UnknownEditionError(f"area '{area_id}' has no edition '{edition}' in data/plans.csv "
                              f"(its editions: {', '.join(e.edition for e in found)})")


def previous_edition(current: Edition, rows: list[dict] | None = None) -> Edition | None:
    """The edition before ``current`` of the same area, or None for the first."""
    found = editions_of(current.area_id, rows)
    keys = [e.edition for e in found]
    i = keys.index(current.edition)
    return found[i - 1] if i > 0 else None


def split_target(target: str) -> tuple[str, str | None]:
    """``"oxfordshire"`` -> (``oxfordshire``, None); ``"oxfordshire/2018-21"`` -> (``oxfordshire``, ``2018-21``)."""
    area, sep, edition = str(target).partition("/")
    check_area_id(area)
    return area, (check_edition(edition) if sep else None)


def ons_code_on(area_id: str, on: date, base: Path | None = None) -> str:
    """The area's ONS code valid on ``on`` (``area_codes.csv``); '' when none is recorded for that date."""
    path = table_path("area_codes", base)
    if not path.exists():
        return ""
    raw = read_raw_table(path)
    best = ""
    for row in raw.to_dict("records"):
        if row.get("area_id") != area_id:
            continue
        start = str(row.get("valid_from") or "")
        end = str(row.get("valid_to") or "")
        if start and start > on.isoformat():
            continue
        if end and end < on.isoformat():
            continue
        best = str(row.get("ons_code") or "")
    return best


# --------------------------------------------------------------------------- starting a new edition

#: Marker of text carried forward by ``start_edition`` that the analyst must review.
REVIEW_MARKER = "TO REVIEW"


def _period_of(edition: str) -> tuple[str, str, str]:
    """(label, start, end) of the financial years an edition id names: 2025-26 -> 2025–26, 1 April 2025 - 31 March 2026."""
    first = int(edition[:4])
    if "-" in edition:
        tail = edition.split("-", 1)[1]
        last = int(tail) if len(tail) == 4 else (first // 100) * 100 + int(tail) + (100 if int(tail) < first % 100 else 0)
    else:
        last = first + 1
    label = f"{first}–{str(last)[-2:]}" if last == first + 1 else f"{first}–{last}"
    return label, f"{first}-04-01", f"{last}-03-31"


def start_edition(area_id: str, edition: str, from_edition: str | None = None, data: Path | None = None,
                  today: date | None = None, template: str | None = None) -> tuple[Path, dict]:
    """Start ``edition`` of an area's plan from its latest (or ``from_edition``): a row appended to plans.csv
    and a content file copied from the previous edition, with its priorities carried forward as
    "progress on last year's priorities" and everything marked for review. Returns (content file, plan row).
    ``template``: the new edition's plan template (``plan_templates.csv``; default: the previous edition's).

    Budget, staffing and figures are not copied: the new plan says they have not been entered yet.
    """
    import csv

    import yaml

    from ..paths import data_dir

    data = data or data_dir()
    today = today or date.today()
    check_edition(edition)
    rows = plan_rows(data)
    existing = [e.edition for e in editions_of(area_id, rows)]
    if edition in existing:
        raise PipelineError(f"area '{area_id}' already has an edition '{edition}' in data/plans.csv")
    previous = resolve_edition(area_id, from_edition, rows)
    if template is not None:
        known = read_raw_table(table_path("plan_templates", data))
        known = sorted(set(known["template"].astype(str))) if "template" in known else []
        if template not in known:
            raise PipelineError(f"unknown template '{template}': data/plan_templates.csv has {', '.join(known) or 'none'}")
    source = previous.content_path(data)
    try:
        content = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataFileError(f"{source}: cannot start from this content file ({exc})") from None
    priorities = content.get("priorities") or []
    carried = []
    for i, p in enumerate(priorities if isinstance(priorities, list) else [priorities], start=1):
        title = p.get("title", f"Priority {i}") if isinstance(p, dict) else str(p)
        carried.append({"title": title,
                        "progress": f"{REVIEW_MARKER}: describe progress on this priority during {previous.edition}."})
    content.pop("previous_priorities", None)
    content["review"] = {
        "status": "to_review",
        "carried_from": previous.edition,
        "note": (f"Started with `yjplan new-edition` from the {previous.edition} edition on {today.isoformat()}: the text "
                 "below is the previous plan's; review and rewrite it, then delete this 'review' entry."),
    }
    content["previous_priorities"] = carried
    target = data / "content" / area_id / f"{edition}.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Narrative content of the {edition} plan of {area_id}, started from the {previous.edition} edition by\n"
              f"# `yjplan new-edition` ({today.isoformat()}). Review every section; see data/README.md.\n")
    ordered = {"review": content.pop("review"), **content}
    target.write_text(header + yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")

    label, start, end = _period_of(edition)
    row = dict(previous.row)
    areas = read_raw_table(table_path("areas", data))
    names = areas[areas["area_id"] == area_id]["service_name"] if "service_name" in areas else []
    service = str(names.iloc[0]) if len(names) else area_id
    row.update({
        "edition": edition,
        "plan_title": f"{service} Youth Justice Plan {label}",
        "plan_period_label": label,
        "plan_period_start": start,
        "plan_period_end": end,
        "content_file": f"content/{area_id}/{edition}.yml",
        "template": template or row.get("template", ""),
        "data_cutoff": f"{start[:4]}-06-30",
        "note": (f"{REVIEW_MARKER}: started from {previous.edition} by yjplan new-edition on {today.isoformat()}; the data "
                 "cut-off is set to 30 June of the plan's first year (the YJB deadline for plans): set it to the date the "
                 "figures were taken, and the source to the new plan once published."),
    })
    path = table_path("plans", data)
    with open(path, encoding="utf-8", newline="") as fh:
        header_row = next(csv.reader(fh))
        fh.seek(0)
        ends_with_newline = fh.read().endswith("\n")
    with open(path, "a", encoding="utf-8", newline="") as fh:
        if not ends_with_newline:
            fh.write("\n")
        csv.writer(fh, lineterminator="\n").writerow([row.get(c, "") for c in header_row])
    return target, row


def edition_report(report, area_id: str, edition: str, data: Path | None = None):
    """The outcomes of an area's validation that concern one edition.

    The contracts validate all of an area's rows at once. A failure in an edition table (:data:`EDITION_TABLES`) whose
    offending rows belong to other editions is left out, and a failure's list of rows keeps only the edition's own
    (a warning on another edition's budget row is not this plan's). Every other outcome, passed or table-wide, is
    kept: the expectations ran for every edition.
    """
    from dataclasses import replace

    from .contracts import ValidationReport

    lines: dict[str, set[int]] = {}
    for table in EDITION_TABLES:
        try:
            raw = read_raw_table(table_path(table, data))
        except DataFileError:
            continue  # a missing or unreadable table: its outcomes stay as they are
        if {"area_id", "edition"} <= set(raw.columns):
            mine = raw[(raw["area_id"].astype(str) == area_id) & (raw["edition"].astype(str) == edition)]
            lines[table] = {int(v) for v in mine[LINE_COLUMN]}
    kept = []
    for o in report.outcomes:
        own = lines.get(o.table)
        if own is None or o.success or not o.rows:
            kept.append(o)
        elif set(o.rows) & own:
            if len(o.details) == len(o.rows):
                pairs = [(r, d) for r, d in zip(o.rows, o.details) if r in own]
                o = replace(o, rows=[r for r, _ in pairs], details=[d for _, d in pairs])
            else:
                o = replace(o, rows=[r for r in o.rows if r in own])
            kept.append(o)
    return ValidationReport(kept)

