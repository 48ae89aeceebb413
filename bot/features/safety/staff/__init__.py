"""The safety checks' staff pages."""
