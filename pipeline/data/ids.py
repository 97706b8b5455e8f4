"""Identifiers that become folder and file names: one rule, checked before any path is formed."""

from __future__ import annotations

import re

from ..errors import PipelineError

#: An area (or output) id: lower-case letters, digits, '_' or '-', starting with a letter, at most 64 characters.
ID_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")
ID_RULE = "lower-case letters, digits, '_' or '-', starting with a letter, at most 64 characters"


class InvalidIdError(PipelineError):
    """An id that does not follow ``ID_RULE`` (it could name a folder outside the build)."""


def check_area_id(area_id: object, where: str = "") -> str:
    """Return ``area_id`` unchanged when it follows the id rule, else raise InvalidIdError.

    ``where`` names the file and line the id came from, for the message.
    """
    text = area_id if isinstance(area_id, str) else ""
    if not ID_PATTERN.fullmatch(text):
        shown = repr(area_id)[:80] if area_id not in ("", None) else "an empty id"
        place = f"{where}: " if where else ""
        raise InvalidIdError(f"{place}invalid area id {shown}: expected {ID_RULE}")
    return text
