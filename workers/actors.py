"""Import every module that declares actors, so a worker knows them all."""

import workers.outbound  # noqa: F401
from workers import sweeps  # noqa: F401
