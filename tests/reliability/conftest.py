"""The API fixtures, shared with the reliability battery."""

from tests.api.conftest import auth, client, clock, settings  # noqa: F401
