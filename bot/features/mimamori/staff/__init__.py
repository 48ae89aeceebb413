"""見守り staff pages."""
