"""Embedders: Haystack's sentence-transformers embedders with an int8 switch for CPUs."""
