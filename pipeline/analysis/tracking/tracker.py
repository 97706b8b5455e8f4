"""The live tracker: the current cohort's children and their reoffending so far. RESTRICTED.

The tracker lists pseudonymous child ids. It is for the service's internal use: it is never
part of a published plan, the comparison page or the site, and ``write_restricted_tracker``
writes it only under the restricted folder it is given (refusing folders that look public).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .cohorts import CohortPeriod, as_timestamp, cohort_members, cohort_periods, period_label
from .extract import ensure_extract

PUBLIC_FOLDER_NAMES = {"site", "_site", "public", "docs", "html", "www", "publish", "published"}
RESTRICTED_NOTICE = (
    "RESTRICTED - contains pseudonymous child-level records for internal case work only. "
    "Do not publish, link from the site or share outside the service."
)

TRACKER_COLUMNS = [
    "area_id",
    "child_id",
    "cohort_label",
    "index_date",
    "index_event",
    "follow_up_end",
    "waiting_end",
    "reoffended",
    "reoffences",
    "first_reoffence_date",
    "days_remaining",
    "stage",
]


def current_cohort(extract: pd.DataFrame, as_of, frequency: str = "quarterly", start_month: int = 4) -> CohortPeriod | None:
    """The latest cohort period that has ended by ``as_of`` (its membership is complete, follow-up is running)."""
    periods = cohort_periods(extract, frequency, as_of, start_month)
    return periods[-1] if periods else None


def live_tracker(
    extract: pd.DataFrame,
    as_of,
    frequency: str = "quarterly",
    cohort_start=None,
    cohort_end=None,
    start_month: int = 4,
) -> pd.DataFrame:
    """One row per child of the current cohort: index date, reoffended so far, days left in follow-up.

    The current cohort is the latest ``frequency`` period that has ended by ``as_of`` (the
    YJB live tracker worked on quarterly cohorts), or the period ``cohort_start``–``cohort_end``.
    ``days_remaining`` counts the follow-up days after ``as_of`` (0 once follow-up is over);
    ``stage`` is 'follow-up', 'waiting period' or 'complete'. Columns: pseudonymous ids and
    dates only. The frame's ``attrs['restricted']`` is True.
    """
    extract = ensure_extract(extract)
    as_of = as_timestamp(as_of)
    if cohort_start is not None or cohort_end is not None:
        if cohort_start is None or cohort_end is None:
            raise ValueError("give both cohort_start and cohort_end, or neither")
        start, end = as_timestamp(cohort_start), as_timestamp(cohort_end)
        period = CohortPeriod(period_label(start, end), start, end)
    else:
        period = current_cohort(extract, as_of, frequency, start_month)
    if period is None:
        frame = pd.DataFrame(columns=TRACKER_COLUMNS)
    else:
        members = cohort_members(extract, as_of=as_of, periods=[period])
        frame = members[[c for c in TRACKER_COLUMNS if c in members.columns]].copy()
        remaining = (frame["follow_up_end"] - as_of).dt.days.to_numpy()
        frame["days_remaining"] = np.clip(remaining, 0, None).astype(np.int64)
        frame["stage"] = np.where(
            as_of < frame["follow_up_end"],
            "follow-up",
            np.where(as_of < frame["waiting_end"], "waiting period", "complete"),
        )
        frame = frame[TRACKER_COLUMNS].sort_values(["area_id", "index_date", "child_id"]).reset_index(drop=True)
    frame.attrs.update(
        {
            "restricted": True,
            "notice": RESTRICTED_NOTICE,
            "as_of": as_of,
            "cohort": period.label if period else None,
            "data_kind": extract.attrs.get("data_kind", ""),
        }
    )
    return frame


def _check_restricted_dir(restricted_dir: Path) -> Path:
    resolved = Path(restricted_dir).resolve()
    # the folder and the two above it: enough to catch site/…, _site/data/… without tripping over a home folder
    public = [part for part in resolved.parts[-3:] if part.lower() in PUBLIC_FOLDER_NAMES]
    if public:
        raise ValueError(
            f"{restricted_dir}: refusing to write the live tracker under a folder that looks public "
            f"({', '.join(public)}); give a separate restricted folder outside the site and the published plans"
        )
    return resolved


def tracker_csv(extract: pd.DataFrame, as_of, frequency: str = "quarterly") -> tuple[str, str]:
    """The live tracker as (file name, CSV text). The name says RESTRICTED and carries the area, the
    as-of date and, for generated data, ``_synthetic``."""
    extract = ensure_extract(extract)
    as_of = as_timestamp(as_of)
    tracker = live_tracker(extract, as_of, frequency=frequency)
    areas = sorted(extract["area_id"].unique())
    area = areas[0] if len(areas) == 1 else "multi_area"
    suffix = "_synthetic" if extract.attrs.get("data_kind") == "synthetic" else ""
    out = tracker.copy()
    for col in ("index_date", "follow_up_end", "waiting_end", "first_reoffence_date"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d").fillna("")
    return f"RESTRICTED_live_tracker_{area}_{as_of.date().isoformat()}{suffix}.csv", out.to_csv(index=False, lineterminator="\n")


def write_restricted_tracker(extract: pd.DataFrame, as_of, restricted_dir, frequency: str = "quarterly") -> Path:
    """Write the live tracker as CSV under ``restricted_dir`` (and nowhere else), owner-only; return its path.

    A README beside it repeats the handling notice.
    """
    from ...fileio import restricted_folder, write_restricted

    directory = restricted_folder(_check_restricted_dir(Path(restricted_dir)))
    name, text = tracker_csv(extract, as_of, frequency)
    path = write_restricted(directory / name, text.encode("utf-8"))
    write_restricted(directory / "README_RESTRICTED.txt", (
        RESTRICTED_NOTICE
        + "\n\nFiles here are written by pipeline.analysis.tracking.write_restricted_tracker. Each lists the children of the "
        "current reoffending cohort by pseudonymous id, whether they have reoffended so far and the days left in "
        "their 12-month follow-up.\n").encode("utf-8"))
    return path
