"""Fixtures of the intake tests: a real Dovecot per module; jobs kept off the broker."""

import pytest

from tests.support.dovecot import dovecot_server
from tests.support.inbound import parked_jobs  # noqa: F401 - a fixture


@pytest.fixture(scope="module")
def dovecot():
    """A running Dovecot IMAP server on loopback ports."""
    yield from dovecot_server()


@pytest.fixture(autouse=True)
def _park_jobs(parked_jobs):  # noqa: F811 - the imported fixture
    """Every test here keeps its jobs off the broker unless it runs the worker."""
