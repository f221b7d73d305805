"""Import every module that declares actors, so a worker knows them all."""

from workers import sweeps  # noqa: F401
