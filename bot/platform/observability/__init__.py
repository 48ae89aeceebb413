"""Metrics and structured logs; neither carries names or LINE user IDs in plain text."""
