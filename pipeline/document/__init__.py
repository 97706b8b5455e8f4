"""The document: plan and comparison sections (``sections``, ``compare_sections``, ``tracking_section``),
sentences from data (``narrative``), Markdown building blocks (``markdown``), charts (``charts``) and
fixed wording (``wording``)."""
