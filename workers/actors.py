"""Import every module that declares actors, so a worker knows them all."""

from workers import inbound, sweeps  # noqa: F401
