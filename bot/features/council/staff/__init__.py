"""The council report's staff pages."""
