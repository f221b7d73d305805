"""Import every module that declares actors or sweep tasks, so a worker knows them all."""

from workers import followups, inbound, outbound, subscribers, sweeps  # noqa: F401
