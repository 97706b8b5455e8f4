"""yjplan: a reproducible analytical pipeline for Youth Justice Strategic Plans."""

__version__ = "0.1.0"
