"""odqa: open-domain extractive question answering over your own document collection."""

__version__ = "0.1.0"
