"""The integration tests' fixtures (recorder, time, blocking-call guard) for benchmarks."""

from tests.components.kilowise.conftest import *  # noqa: F403
from tests.conftest import *  # noqa: F403  (imports our custom_components first)
