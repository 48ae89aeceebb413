"""The register's staff pages."""
