"""What the fault tests' ``dramatiq`` processes import: workers.main on a quick Redis broker.

Dramatiq's own tests do the same: a killed worker's unacknowledged messages go back to the
queue once its heartbeat is older than ``heartbeat_timeout``, checked on "maintenance" runs
that happen on a fraction of the broker commands. Both are made fast here, so a kill -9 is
recovered from within seconds, as in the ledger's sweep.
"""

import os

from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

from campaigns import jobs

_url = os.environ["CAMPAIGNS_BROKER_URL"]
_broker = RedisBroker(url=_url, heartbeat_timeout=2000, maintenance_chance=MAINTENANCE_SCALE)
for _queue in jobs.QUEUES:
    _broker.declare_queue(_queue)
jobs._brokers[_url] = _broker  # what create_app() picks up for this URL (a private registry)

import workers.main  # noqa: E402,F401 - the real worker set-up, on that broker
