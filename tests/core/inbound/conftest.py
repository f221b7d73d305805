"""Fixtures of the inbound core tests."""

import pytest

from tests.support.inbound import parked_jobs  # noqa: F401 - a fixture


@pytest.fixture(autouse=True)
def _park_jobs(parked_jobs):  # noqa: F811 - the imported fixture
    """Every test here keeps its jobs off the broker unless it runs the worker."""
