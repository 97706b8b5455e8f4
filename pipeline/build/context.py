"""An edition of an area's plan resolved once: its checked id, its row of areas.csv, its edition (a row of
plans.csv), its content file, its tracking settings.

Everything the driver needs to know about an area before building it, read once per build
instead of at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..data.dataset import is_synthetic
from ..errors import DataFileError, UnknownAreaError
from ..data.editions import Edition, editions_of, resolve_edition
from ..data.ids import check_area_id
from ..data.loaders import LINE_COLUMN, table_path
from ..paths import build_dir, content_dir, data_dir
from .cache import read_raw_once


@dataclass(frozen=True)
class TrackingSettings:
    """The Local tracking inputs of an edition (``data/tracking.yml``: the area's entry, with its ``editions`` entry)."""

    extract: Path
    population: float
    as_of: str
    generated: bool  # the synthetic demonstration extract, made by ``pipeline.synthetic``
    #: Keyword arguments of ``pipeline.synthetic.write_demo_extract`` for a generated extract (start, end,
    #: kpi_columns, profile); empty for the defaults.
    generate: tuple = ()

    def fingerprint_settings(self) -> dict:
        return {"population": self.population, "as_of": self.as_of, "generated": self.generated,
                **({"generate": dict(self.generate)} if self.generate else {})}

    @property
    def generate_kwargs(self) -> dict:
        return dict(self.generate)


@dataclass(frozen=True)
class AreaContext:
    """One build target: an edition of an area's plan."""

    area_id: str
    row: dict = field(repr=False)
    content: Path
    tracking: TrackingSettings | None
    edition: Edition | None = None

    @property
    def synthetic(self) -> bool:
        return is_synthetic(self.row)

    @property
    def name(self) -> str:
        """The output name: ``<area_id>/<edition>`` (its folder under build/site/)."""
        return self.edition.key if self.edition else self.area_id

    @property
    def stem(self) -> str:
        """File name stem of the edition's documents: ``<area_id>-<edition>-plan``."""
        return f"{self.area_id}-{self.edition.edition}-plan" if self.edition else f"{self.area_id}-plan"


def area_rows() -> list[dict]:
    """Every row of areas.csv (text), each id checked against the id rule."""
    path = table_path("areas")
    raw = read_raw_once(path)
    if "area_id" not in raw.columns:
        raise DataFileError(f"{path.name}: no 'area_id' column")
    rows = []
    for row in raw.to_dict("records"):
        check_area_id(row["area_id"], where=f"{path.name}, line {row.get(LINE_COLUMN, '?')}, column 'area_id'")
        rows.append({k: v for k, v in row.items() if k != LINE_COLUMN})
    return rows


def generated_extract_path(area_id: str, edition: str | None = None) -> Path:
    """Where the synthetic demonstration extract of ``area_id`` (of one edition, when its settings are its own) is
    generated (never committed, never real)."""
    stem = check_area_id(area_id) + (f"-{edition}" if edition else "")
    return build_dir() / "synthetic" / f"{stem}_extract_synthetic.csv"


#: Keys of a ``data/tracking.yml`` entry that set how a synthetic extract is generated, and their types.
GENERATE_KEYS = {"start": str, "end": str, "kpi_columns": bool, "profile": str, "seed": int}


def _tracking_config() -> dict:
    import yaml

    config = data_dir() / "tracking.yml"
    if not config.exists():
        return {}
    try:
        doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DataFileError(f"data/tracking.yml: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return doc if isinstance(doc, dict) else {}


def tracking_settings(area_id: str, edition: str | None = None) -> TrackingSettings | None:
    """The tracking settings of an area's edition: the area's entry of ``data/tracking.yml`` with the keys of its
    ``editions: {<edition>: {...}}`` entry on top (None when the area has no Local tracking section)."""
    entry = (_tracking_config().get("areas") or {}).get(area_id)
    if not entry:
        return None
    where = f"data/tracking.yml: the entry of '{area_id}'"
    if not isinstance(entry, dict):
        raise DataFileError(f"{where} must be a mapping (extract, population, as_of)")
    editions = entry.get("editions") or {}
    if not isinstance(editions, dict):
        raise DataFileError(f"{where}: 'editions' must map an edition to its settings")
    own = editions.get(edition) if edition else None
    if own is not None and not isinstance(own, dict):
        raise DataFileError(f"{where}, edition '{edition}': its settings must be a mapping (as_of, start, end, kpi_columns, …)")
    merged = {k: v for k, v in entry.items() if k != "editions"}
    merged.update(own or {})
    where = f"{where}" + (f", edition '{edition}'" if own else "")
    generated = merged.get("generate") == "synthetic"
    generate = []
    for key, kind in GENERATE_KEYS.items():
        if key in merged and merged[key] not in (None, ""):
            value = merged[key]
            if kind is bool and not isinstance(value, bool):
                raise DataFileError(f"{where}: '{key}' must be true or false")
            generate.append((key, kind(value) if kind is not bool else value))
    if generate and not generated:
        raise DataFileError(f"{where}: {', '.join(k for k, _ in generate)} only apply to a generated extract (generate: synthetic)")
    if generated:
        extract = generated_extract_path(area_id, edition if own else None)
    elif merged.get("extract"):
        extract = Path(str(merged["extract"]))
        extract = extract if extract.is_absolute() else (data_dir() / extract).resolve()
    else:
        raise DataFileError(f"{where} names no extract (key 'extract')")
    try:
        population = float(merged.get("population", 0) or 0)
    except (TypeError, ValueError):
        raise DataFileError(f"{where}: 'population' must be a number") from None
    return TrackingSettings(extract=extract, population=population, as_of=str(merged.get("as_of", "") or ""),
                            generated=generated, generate=tuple(generate))


def resolve_area(area_id: str, rows: list[dict] | None = None, edition: str | None = None,
                 plans: list[dict] | None = None) -> AreaContext:
    """An edition's context (the area's latest edition when ``edition`` is None); InvalidIdError for an id
    that breaks the rule, UnknownAreaError if the area is not listed, UnknownEditionError for an unknown edition."""
    check_area_id(area_id)
    rows = area_rows() if rows is None else rows
    for row in rows:
        if row["area_id"] == area_id:
            chosen = resolve_edition(area_id, edition, plans)
            return AreaContext(area_id=area_id, row=row, content=chosen.content_path(data_dir()),
                               tracking=tracking_settings(area_id, chosen.edition), edition=chosen)
    known = ", ".join(r["area_id"] for r in rows) or "none"
    raise UnknownAreaError(f"unknown area '{area_id}': it is not listed in data/areas.csv (known areas: {known})")


def resolve_editions(area_id: str, rows: list[dict] | None = None, plans: list[dict] | None = None) -> list[AreaContext]:
    """Every edition of an area, oldest first, as build targets."""
    latest = resolve_area(area_id, rows, None, plans)
    return [resolve_area(area_id, rows, e.edition, plans) for e in editions_of(area_id, plans)] or [latest]
