"""The staff pages' fixtures (a city with accounts, a logged-out client), from tests/staff."""

from tests.staff.conftest import city, client, clock, line_client  # noqa: F401
