"""hancho."""
