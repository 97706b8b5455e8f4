"""Data and contracts: reading the curated tables (``loaders``), their Great Expectations contracts
(``contracts``), an area's validated data (``dataset``), published totals that must add up
(``reconcile``) and the id rule (``ids``)."""
