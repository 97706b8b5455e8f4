"""The published site: where outputs go and how (``publish``: staging, atomic publication, failure
records, the run lock) and the index page of what is published (``index``)."""

from .index import index_markdown, write_index

__all__ = ["index_markdown", "write_index"]
