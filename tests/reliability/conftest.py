"""The API and read-model fixtures, shared with the reliability battery."""

from tests.api.conftest import auth, client, clock, settings  # noqa: F401
from tests.projections.conftest import read_models  # noqa: F401
