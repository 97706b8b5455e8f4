"""Indicators and statistics: intervals and tests (``stats``), the national indicators (``indicators``),
inspection scoring (``inspection``), disclosure control (``disclosure``), area comparisons
(``compare``) and local tracking from case records (``tracking``)."""
