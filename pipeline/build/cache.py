"""Knowing when nothing changed: content fingerprints, cached validation reports and typed extracts.

An output is rebuilt only when the hash of everything that can change it changes: the notebook,
the area's rows in every table, the shared tables, the contracts, the content file, the tracking
settings and extract, the package's code and templates, the renderer and its version.

Validation reports of the curated tables are cached under ``build/cache/validation`` (they hold
no record-level data). Typed case-management extracts are record-level: they are cached as CSV
with their report under ``build/restricted/cache/extracts``, owner-only, never pickled.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from .. import __version__
from ..data.contracts import ValidationReport, read_report
from ..fileio import PUBLIC_FILE, write_atomic, write_restricted
from ..paths import PACKAGE_DIR, build_dir, contracts_dir
from ..site.publish import RESTRICTED

#: Files of the package whose change must rebuild every output.
CODE_SUFFIXES = (".py", ".lua", ".css", ".typ", ".html", ".yml", ".yaml")


def _hash_files(h, paths: Iterable[Path]) -> None:
    for p in sorted(paths):
        h.update(str(p.name).encode())
        h.update(p.read_bytes() if p.exists() else b"<missing>")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the package's code and templates (stands in for the package version during development)."""
    h = hashlib.sha256(__version__.encode())
    for p in sorted(p for p in PACKAGE_DIR.rglob("*") if p.is_file() and p.suffix in CODE_SUFFIXES):
        h.update(str(p.relative_to(PACKAGE_DIR)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=64)
def _raw_table(path: str, size: int, mtime_ns: int):
    from ..data.loaders import read_raw_table

    return read_raw_table(Path(path))


def read_raw_once(path: Path):
    """``loaders.read_raw_table`` memoised on the file's identity (path, size, mtime): one parse per file per run."""
    st = path.stat()
    return _raw_table(str(path.resolve()), st.st_size, st.st_mtime_ns)


def _table_bytes(path: Path, area_id: str | None, known: set[str]) -> bytes:
    """What of a table an area's outputs depend on: its header and the area's rows (all of a shared table)."""
    from ..errors import DataFileError

    if not path.exists():
        return b"<missing>"
    try:
        raw = read_raw_once(path)
    except DataFileError:
        return path.read_bytes()  # unreadable: any change to the bytes may change the error
    if area_id is not None and "area_id" in raw.columns:
        # The area's rows, and rows of no listed area (a mistyped id fails every area's validation).
        raw = raw[(raw["area_id"] == area_id) | ~raw["area_id"].isin(known)]
    return ",".join(raw.columns).encode() + b"\n" + raw.drop(columns=["_line"]).to_csv(index=False).encode()


def _known_ids() -> set[str]:
    from ..data.loaders import table_path

    areas = table_path("areas")
    if not areas.exists():
        return set()
    raw = read_raw_once(areas)
    return set(map(str, raw["area_id"])) if "area_id" in raw.columns else set()


def _referenced_rows(path: Path, values: set[str]) -> bytes:
    """What of a reference table (comparator groups, sources) an area depends on: the header, the rows whose
    id (first column) the area's rows use, and whether any id is blank or repeated (those fail every area)."""
    from ..errors import DataFileError

    if not path.exists():
        return b"<missing>"
    try:
        raw = read_raw_once(path)
    except DataFileError:
        return path.read_bytes()
    key = raw.columns[0]
    ids = raw[key].astype(str)
    used = raw[ids.isin(values)].drop(columns=["_line"], errors="ignore")
    broken = bool((ids.str.strip() == "").any() or ids.duplicated().any())
    return (",".join(raw.columns).encode() + b"\n" + used.to_csv(index=False).encode()
            + (b"<ids blank or repeated>" if broken else b""))


def area_rows_fingerprint(area_id: str) -> str:
    """Hash of what an area's validation and plans depend on: this area's rows of every table (areas,
    plans, codes and the figures), the indicator definitions, the rows of the reference tables
    (comparator groups, sources) that those rows name, and rows of no listed area (they fail every
    area). Other areas' rows do not count, nor does the set of other area ids (an area's rows pass the
    known-area check whatever else is listed), so adding an area (with its sources and groups)
    rebuilds only its own plans."""
    from ..data.dataset import AREA_TABLES, REFERENCE_TABLES, SHARED_TABLES
    from ..data.loaders import table_path
    from ..errors import DataFileError

    h = hashlib.sha256()
    known = _known_ids()
    values: set[str] = set()
    for table in (*SHARED_TABLES, *AREA_TABLES):
        if table in REFERENCE_TABLES:
            continue
        chunk = _table_bytes(table_path(table), area_id, known)
        h.update(table.encode())
        h.update(chunk)
        if table != "indicator_definitions":
            try:
                raw = read_raw_once(table_path(table))
            except (DataFileError, OSError):  # an unreadable or missing table is hashed by its bytes above
                continue
            if "area_id" in raw.columns:
                mine = raw[raw["area_id"] == area_id]
                values.update(str(v) for v in mine.drop(columns=["_line"], errors="ignore").to_numpy().ravel())
    for table in REFERENCE_TABLES:
        h.update(table.encode())
        h.update(_referenced_rows(table_path(table), values))
    for table in PLAN_INPUT_TABLES:
        h.update(table.encode())
        h.update(_table_bytes(table_path(table), area_id, known))
    return h.hexdigest()


#: Tables a plan reads besides the area's validated tables: the templates, the KPI definitions, and the area's
#: rows of the KPI 7 and KPI 8 tables and of the populations by ethnicity (the whole of a table with no area_id).
PLAN_INPUT_TABLES = ("plan_templates", "kpi_definitions", "kpi_board_attendance", "kpi_wider_services", "populations_ethnicity")


def fingerprint(name: str, notebook: Path, renderer: str, formats: tuple[str, ...], extra: dict | None = None,
                area_ids: Iterable[str] = (), edition: str | None = None) -> str:
    """Content hash of everything that can change one output (``renderer`` already resolved): the
    areas' rows, and the content file of ``edition`` (else every content file of the areas)."""
    from ..paths import content_dir
    from ..render import renderer_versions

    h = hashlib.sha256()
    h.update(json.dumps({"name": name, "renderer": renderer, "versions": renderer_versions(renderer),
                         "formats": list(formats), "extra": extra or {}}, sort_keys=True).encode())
    h.update(notebook.read_bytes())
    h.update(code_fingerprint().encode())
    _hash_files(h, contracts_dir().glob("*.json"))
    for area_id in area_ids:
        h.update(area_rows_fingerprint(area_id).encode())
        folder = content_dir() / area_id
        files = [folder / f"{edition}.yml"] if edition else sorted(folder.glob("*.yml"))
        for content in files:
            h.update(content.name.encode())
            h.update(content.read_bytes() if content.exists() else b"<missing>")
    return h.hexdigest()


def file_fingerprint(settings: dict, path: Path | None) -> str:
    """Hash of tracking settings and the extract file they name ('' when there is none)."""
    if path is None:
        return ""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    h.update(path.read_bytes() if path.exists() else b"<missing>")
    return h.hexdigest()


# --------------------------------------------------------------------------- validation reports


def validation_key(area_id: str) -> str:
    """Hash of everything an area's validation depends on: its rows, the area ids, contracts and code."""
    h = hashlib.sha256(area_rows_fingerprint(area_id).encode())
    h.update(code_fingerprint().encode())
    _hash_files(h, contracts_dir().glob("*.json"))
    return h.hexdigest()


def validation_cache(area_id: str) -> Path:
    return build_dir() / "cache" / "validation" / f"{area_id}-{validation_key(area_id)[:20]}.json"


def keep_report(area_id: str, report: ValidationReport) -> None:
    """Cache a passing report (a failing one is produced again, with its context, by the area's build)."""
    if report.ok:
        write_atomic(validation_cache(area_id), json.dumps(report.to_json(), indent=1).encode("utf-8"), mode=PUBLIC_FILE)


def validated_report(area_id: str) -> ValidationReport:
    """An area's Great Expectations report, validating only when its inputs changed."""
    from ..data.dataset import validate_area

    cache = validation_cache(area_id)
    if cache.exists():
        try:
            return read_report(cache)
        except (OSError, ValueError, KeyError):
            cache.unlink(missing_ok=True)  # unreadable: validate again
    report = validate_area(area_id)
    keep_report(area_id, report)
    return report


def prevalidate(area_ids: Iterable[str]) -> list[str]:
    """Fill the validation caches of areas whose inputs changed, in one pass (``dataset.validate_areas``).

    Each table is validated once for all the areas instead of once per area. Returns the areas
    validated now. Data errors propagate as PipelineError: the caller leaves them to each
    area's own build, which reports them with their context.
    """
    from ..data.dataset import validate_areas

    stale = [a for a in dict.fromkeys(area_ids) if not validation_cache(a).exists()]
    if not stale:
        return []
    reports = validate_areas(stale)
    for area_id, report in reports.items():
        keep_report(area_id, report)
    return list(reports)


# --------------------------------------------------------------------------- typed extracts (restricted)


def _extract_cache(source: Path, key: dict) -> tuple[Path, Path]:
    h = hashlib.sha256(source.read_bytes())
    h.update(json.dumps(key, sort_keys=True).encode())
    h.update(code_fingerprint().encode())
    _hash_files(h, contracts_dir().glob("case_extract*.json"))
    folder = build_dir() / RESTRICTED / "cache" / "extracts"
    stem = f"{h.hexdigest()[:24]}"
    return folder / f"{stem}.csv", folder / f"{stem}.json"


def validated_extract(source: Path, load, key: dict) -> tuple[pd.DataFrame, ValidationReport]:
    """The typed extract and its report, validating with ``load(source)`` only when the file or ``key``
    (what else the validation depends on: the area, the as-of date) changed.

    Cached as CSV plus a JSON report, owner-only, under ``build/restricted/cache/extracts``.
    """
    from ..analysis.tracking import canonical

    if not source.is_file():
        return load(source)  # the loader says which extract is missing and where it is configured
    frame_file, report_file = _extract_cache(source, key)
    if frame_file.exists() and report_file.exists():
        try:
            meta = json.loads(report_file.read_text(encoding="utf-8"))
            frame = canonical(pd.read_csv(frame_file, dtype=str, keep_default_na=False))
            frame.attrs.update(meta["attrs"])
            return frame, ValidationReport.from_json(meta["report"])
        except (OSError, ValueError, KeyError):
            pass  # unreadable: validate again
    frame, report = load(source)
    text = io.StringIO()
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
    out.to_csv(text, index=False, lineterminator="\n")
    write_restricted(frame_file, text.getvalue().encode("utf-8"))
    attrs = {k: v for k, v in frame.attrs.items() if isinstance(v, (str, int, float, bool))}
    write_restricted(report_file, json.dumps({"attrs": attrs, "report": report.to_json()}).encode("utf-8"))
    return frame, report
