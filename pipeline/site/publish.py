"""Where outputs go and how they get there: staging, atomic publication, failure records, the lock.

* An output (an area's plan, a comparison) is built in ``build/staging/<name>-<random>/`` and moved
  to ``build/site/<name>/`` only when every stage succeeded (``publish``).
* Its folder name is checked first (``output_dir``): nothing is ever written or deleted outside
  the output's own folder in the site.
* When its **data** failed (a critical contract failure, an unreadable input), the previous plan
  is withdrawn (``withdraw``): a plan must not pass for one built from data that now fail. When
  the build **could not run** (no renderer, a crash, a full disk), the last good plan stays and
  the index marks it stale.
* Failure details (which may quote input) go to ``build/restricted/failures/``, owner-only; the
  public index learns only the stage that failed (``failure_status``).
* One build folder, one run at a time (``BuildLock``); leftovers of killed runs are removed
  when the next run takes the lock (``sweep``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..errors import PipelineError
from ..fileio import make_public, restricted_folder, write_restricted
from ..data.editions import EDITION_PATTERN
from ..data.ids import ID_PATTERN
from ..paths import RESTRICTED, STAGING, build_dir, site_dir


#: A site folder name: an area id, ``compare`` or ``compare-<id>-<id>…`` (ids follow pipeline.data.ids).
_OUTPUT_NAME = re.compile(r"[a-z][a-z0-9_-]{0,254}")
#: An edition's output: ``<area_id>/<edition>`` (the rules of pipeline.data.ids and pipeline.data.editions).
_EDITION_OUTPUT = re.compile(f"{ID_PATTERN.pattern}/{EDITION_PATTERN.pattern}")


class UnsafeOutputError(PipelineError):
    """An output name that could point outside the site folder."""


def restricted_dir() -> Path:
    """Owner-only outputs: the live tracker, record-level detail, failure details, typed extracts."""
    return restricted_folder(build_dir() / RESTRICTED)


def staging_root() -> Path:
    """Where outputs are assembled before publication (not hidden: Quarto ignores hidden folders)."""
    return build_dir() / STAGING


def output_dir(name: str) -> Path:
    """``build/site/<name>``, after checking that ``name`` is a folder of the site: ``<id>`` (e.g. the
    comparison) or ``<area_id>/<edition>`` (an edition of a plan)."""
    if not isinstance(name, str) or not (_OUTPUT_NAME.fullmatch(name) or _EDITION_OUTPUT.fullmatch(name)):
        raise UnsafeOutputError(f"refusing the output name {name!r}: expected lower-case letters, digits, '_' or '-', "
                                "starting with a letter, optionally followed by '/' and an edition such as 2025-26")
    site = site_dir().resolve()
    folder = (site / name).resolve()
    if folder.parent != site and folder.parent.parent != site:
        raise UnsafeOutputError(f"refusing the output name {name!r}: it does not name a folder of the site")
    return folder


def new_staging(name: str) -> Path:
    """A fresh private staging folder for output ``name``."""
    output_dir(name)  # the name is checked before it becomes part of any path
    folder = staging_root() / f"{name.replace('/', '@')}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True, mode=0o700)
    return folder


def remove_staging(staging: Path) -> None:
    """Remove a staging folder (only ever one below ``staging_root``)."""
    root = staging_root().resolve()
    staging = Path(staging).resolve()
    if staging.parent == root:
        shutil.rmtree(staging, ignore_errors=True)


class OrphanedBuildError(RuntimeError):
    """The run that started this build has gone: its output is not published."""


_owner_pid: int | None = None


def set_owner(pid: int | None) -> None:
    """Publish only while process ``pid`` (the ``yjplan`` run that handed out the build) is alive."""
    global _owner_pid
    _owner_pid = pid


def owner_alive() -> bool:
    if _owner_pid is None:
        return True
    try:
        os.kill(_owner_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True


def publish(staging: Path, name: str) -> Path:
    """Move a finished staging folder to ``build/site/<name>``, replacing the previous one at once.

    Everything published gets public permissions; the previous folder is removed afterwards.
    Refused when the run that asked for the build has been killed (its index would not list it).
    """
    final = output_dir(name)
    if not owner_alive():
        raise OrphanedBuildError(f"the yjplan run (pid {_owner_pid}) that asked for '{name}' has ended; not published")
    make_public(staging)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(final.parent, 0o755)
    trash = final.parent / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
    if final.exists():
        os.replace(final, trash)
    os.replace(staging, final)
    shutil.rmtree(trash, ignore_errors=True)
    clear_failure(name)
    return final


def withdraw(name: str) -> bool:
    """Remove the published output ``name`` (its latest data failed validation); True if there was one."""
    final = output_dir(name)
    if not final.exists():
        return False
    trash = final.parent / f".failed-{final.name}-{uuid.uuid4().hex[:8]}"
    os.replace(final, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return True


# --------------------------------------------------------------------------- failure records


def _failure_file(name: str) -> Path:
    output_dir(name)
    return build_dir() / RESTRICTED / "failures" / f"{name.replace('/', '@')}.json"


def record_failure(name: str, stage: str, kind: str, message: str, kept: bool) -> Path:
    """Write the restricted failure record of ``name``: stage, kind ('data' or 'environment'), message.

    ``kept`` says whether the last good plan stayed published (an environment failure) or not.
    """
    restricted_dir()
    record = {"name": name, "stage": stage, "kind": kind, "kept_previous": kept, "message": message,
              "failed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return write_restricted(_failure_file(name), json.dumps(record, indent=1).encode("utf-8"))


def clear_failure(name: str) -> None:
    _failure_file(name).unlink(missing_ok=True)


def failure_status(name: str) -> dict | None:
    """What the public index may say of a failure: stage, kind, whether the last plan was kept, when.

    Never the message (it may quote input).
    """
    path = _failure_file(name)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"stage": "unknown", "kind": "environment", "kept_previous": True, "failed_at": ""}
    return {k: record.get(k, "") for k in ("stage", "kind", "kept_previous", "failed_at")}


# --------------------------------------------------------------------------- one run at a time


class BuildLock:
    """An exclusive lock on a build folder for the length of a run (``build/.lock``).

    A second run on the same folder waits for the first (saying so) instead of interleaving its
    staging, publication and index with it.
    """

    def __init__(self, say=print) -> None:
        self.path = build_dir() / ".lock"
        self._say = say
        self._fh = None

    def __enter__(self) -> "BuildLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+", encoding="utf-8")
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks; runs are not serialised
            return self
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.seek(0)
            holder = self._fh.read().strip() or "unknown"
            self._say(f"[lock] another yjplan run (pid {holder}) is using {build_dir()}; waiting for it to finish")
            fcntl.flock(self._fh, fcntl.LOCK_EX)
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(str(os.getpid()))
        self._fh.flush()
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.truncate(0)
            self._fh.close()  # closing releases the lock
            self._fh = None


def sweep() -> list[str]:
    """Remove what killed runs left behind (call while holding the lock); returns what was removed.

    Staging folders, half-replaced site folders, and what older versions wrote into the site and
    must not be published (failure details, pickled extracts).
    """
    removed: list[str] = []
    for folder in (staging_root(), build_dir() / ".staging"):
        if folder.is_dir():
            for child in folder.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
                removed.append(child.name)
    site = site_dir()
    if site.is_dir():
        for child in [*site.iterdir(), *(c for d in site.iterdir() if d.is_dir() for c in d.iterdir())]:
            if child.name.startswith((".old-", ".failed-", ".failures")):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child.name)
        for leak in site.rglob("*.pkl"):
            leak.unlink(missing_ok=True)
            removed.append(leak.name)
    for leak in (build_dir() / "cache" / "extracts").glob("*.pkl"):  # typed extracts pickled by older versions
        leak.unlink(missing_ok=True)
        removed.append(leak.name)
    restricted = build_dir() / RESTRICTED
    if restricted.is_dir():  # whatever an older version wrote there readable by others becomes owner-only
        for folder, _dirs, files in os.walk(restricted):
            os.chmod(folder, 0o700)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o600)
    return removed


@contextlib.contextmanager
def exclusive_run(say=print) -> Iterator[list[str]]:
    """Hold the build folder's lock and sweep leftovers; yields what was swept."""
    with BuildLock(say):
        yield sweep()
