"""Fixed wording that several outputs show, defined once.

The synthetic-data warning reaches the HTML template, the typst template and the Quarto filter as
document metadata (``synthetic-text``, set by ``render``), so no template carries its own copy.
"""

from __future__ import annotations

#: The warning on every page (banner, running footer) of a plan built from synthetic data.
SYNTHETIC_TEXT = "SYNTHETIC DATA — demonstration only, not a real area"
#: Added to the subtitle of a synthetic plan.
SYNTHETIC_SUBTITLE = "SYNTHETIC DEMONSTRATION"
