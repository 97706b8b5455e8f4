"""Imported once by the build's fork server, so every worker forked from it starts with these loaded.

Great Expectations alone takes about two seconds to import; paying it once per run instead of once
per worker process is what this module is for (see ``build.build_many``).
"""

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations  # noqa: E402,F401
import jupyter_client.manager  # noqa: E402,F401
import papermill  # noqa: E402,F401

from pipeline import build, contracts, dataset, reconcile, render  # noqa: E402,F401
