"""Exceptions raised by the pipeline, each carrying a message a user can act on."""

from __future__ import annotations


class PipelineError(Exception):
    """Base class: the message names the file, row, column and what was expected."""


class DataFileError(PipelineError):
    """An input file is missing, empty, unreadable or has the wrong columns or types."""


class DataContractError(PipelineError):
    """A critical data-contract expectation failed; ``report`` holds every outcome."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class UnknownAreaError(PipelineError):
    """An area id that is not in ``areas.csv``."""
