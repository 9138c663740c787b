"""ggrs: a plot renderer for huge scientific tables (CPU and GPU), also a Tercen operator."""

__version__ = "0.1.0"
