"""Small shared helpers (filesystem, manifests, timing)."""
