"""Writing files safely: atomically, and with the permissions of what they are.

Two kinds of output and one rule each (see the README, "Data honesty and children's data"):

* **public** — everything under ``build/site/``: files 0644, folders 0755, so a web server can
  publish them;
* **restricted** — everything under ``build/restricted/`` (the live tracker, record-level
  detail, typed extracts, failure details): files 0600, folders 0700, readable by the owner only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

PUBLIC_FILE, PUBLIC_DIR = 0o644, 0o755
RESTRICTED_FILE, RESTRICTED_DIR = 0o600, 0o700


def write_atomic(path: Path, data: bytes, mode: int = PUBLIC_FILE) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, with ``mode``.

    Readers see the old file or the new one, never a part; a failure leaves no temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def restricted_folder(path: Path) -> Path:
    """Create ``path`` readable by the owner only (and every missing parent, owner-only too); return it."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=RESTRICTED_DIR, exist_ok=True)
        os.chmod(folder, RESTRICTED_DIR)
    os.chmod(path, RESTRICTED_DIR)
    return path


def write_restricted(path: Path, data: bytes) -> Path:
    """``write_atomic`` with owner-only permissions (the folder is made owner-only too)."""
    restricted_folder(Path(path).parent)
    return write_atomic(path, data, mode=RESTRICTED_FILE)


def make_public(root: Path) -> None:
    """Give ``root`` and everything below it public permissions (files 0644, folders 0755)."""
    root = Path(root)
    if not root.is_dir():
        os.chmod(root, PUBLIC_FILE)
        return
    os.chmod(root, PUBLIC_DIR)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), PUBLIC_DIR)
        for name in files:
            os.chmod(os.path.join(folder, name), PUBLIC_FILE)
