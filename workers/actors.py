"""Import every module that declares actors, so a worker knows them all."""

import workers.subscribers  # noqa: F401 - imports, signup confirmations (subscribers area)
from workers import sweeps  # noqa: F401
