"""Reach the real services the suite uses; fail (never skip) under CI when one is missing."""

from __future__ import annotations

import os
import socket

import pytest

ON_CI = os.environ.get("CI", "").lower() == "true"

POSTGRES_URL = os.environ.get("CAMPAIGNS_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CAMPAIGNS_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
RABBITMQ_URL = os.environ.get("CAMPAIGNS_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def port_open(host: str, port: int) -> bool:
    """Tell whether something listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(name: str, host: str, port: int) -> None:
    """Skip locally, fail on CI, when a service does not answer."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if ON_CI:
        pytest.fail(message + " (CI=true: services are required)")
    pytest.skip(message)


def require_postgres() -> str:
    """Return the PostgreSQL test URL once the server answers."""
    require("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


def require_redis() -> str:
    """Return the Redis test URL once the server answers."""
    require("Redis", "127.0.0.1", 6379)
    return REDIS_URL


def require_rabbitmq() -> str:
    """Return the RabbitMQ test URL once the server answers."""
    require("RabbitMQ", "127.0.0.1", 5672)
    return RABBITMQ_URL
