"""The staff pages' fixtures (a small city, logged-in clients) for this feature's page tests."""

from tests.staff.conftest import city, client, clock, line_client  # noqa: F401
