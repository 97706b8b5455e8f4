"""Imported once by the build's fork server, so every worker forked from it starts with these loaded.

Great Expectations is not among them: the driver validates every area before the workers need
the reports (``build.prevalidate``), so a worker imports it only when a cache was not filled (an
area that fails validation, whose build then reports why).
"""

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import jupyter_client.manager  # noqa: E402,F401
import papermill  # noqa: E402,F401

from pipeline import build, render  # noqa: E402,F401

from pipeline.data import contracts, dataset, reconcile  # noqa: E402,F401
