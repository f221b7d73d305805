"""Per-sender sending limits (emails per minute and per hour) shared by every worker process.

Fixed windows counted in Redis when one is configured (RATELIMIT_STORAGE_URL or BROKER_URL),
else in the ``send_quotas`` table. A worker reserves a window's worth of emails at a time and
gets what is left; the rest waits for the next window.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from campaigns.core.ledger import Executor
from campaigns.db import db, is_sqlite, utcnow
from campaigns.mail.sendloop import Grant
from campaigns.models import SendQuota

PERIODS = (("m", 60), ("h", 3600))

# Reserve min(wanted, what every limit has left) on all windows at once, atomically.
_RESERVE = """
local grant = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  grant = math.min(grant, math.max(0, tonumber(ARGV[1 + i]) - used))
end
if grant > 0 then
  for i, key in ipairs(KEYS) do
    redis.call('INCRBY', key, grant)
    redis.call('EXPIRE', key, tonumber(ARGV[1 + #KEYS + i]))
  end
end
return grant
"""

_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def limits_for(per_minute: int, per_hour: int) -> list[tuple[str, int, int]]:
    """Return the (period, seconds, limit) pairs in force: the campaign's or the defaults."""
    cfg = current_app.config
    chosen = {"m": per_minute or cfg["SEND_RATE_PER_MINUTE"],
              "h": per_hour or cfg["SEND_RATE_PER_HOUR"]}
    return [(name, seconds, chosen[name]) for name, seconds in PERIODS if chosen[name] > 0]


def reserve(sender: str, wanted: int, per_minute: int = 0, per_hour: int = 0,
            executor: Executor | None = None) -> Grant:
    """Take up to ``wanted`` emails from the sender's allowance; say when to come back.

    With the database limiter each change is its own atomic statement, so ``executor`` may be
    an autocommit connection (the send loop's) and the reservation holds at once.
    """
    limits = limits_for(per_minute, per_hour)
    if not limits or wanted <= 0:
        return Grant(wanted)
    now = time.time()
    keys = [(_key(sender, name, int(now // seconds)), seconds, limit)
            for name, seconds, limit in limits]
    url = _redis_url()
    granted = _reserve_redis(url, keys, wanted) if url \
        else _reserve_db(keys, wanted, executor or db.session)
    if granted >= wanted:
        return Grant(granted)
    # Ask again when the shortest window turns over: cheap, and right whichever limit bit.
    return Grant(granted, max(1.0, min(seconds - now % seconds for _, seconds, _ in keys)))


def _key(sender: str, period: str, window: int) -> str:
    """Return the counter name of one sender in one window."""
    return f"{sender.strip().lower()}|{period}|{window}"


def _redis_url() -> str:
    """Return the Redis URL to count in, or empty to count in the database."""
    cfg = current_app.config
    for url in (cfg["RATELIMIT_STORAGE_URL"], cfg["BROKER_URL"]):
        if url and url.startswith(("redis://", "rediss://", "unix://")):
            return url
    return ""


def _reserve_redis(url: str, keys: list[tuple[str, int, int]], wanted: int) -> int:
    """Reserve in Redis with one atomic script."""
    with _clients_lock:
        if url not in _clients:
            import redis

            _clients[url] = redis.Redis.from_url(url)
        client = _clients[url]
    names = [f"campaigns:send-rate:{key}" for key, _, _ in keys]
    args = [wanted] + [limit for _, _, limit in keys] + [seconds * 2 for _, seconds, _ in keys]
    return int(client.eval(_RESERVE, len(names), *names, *args))  # type: ignore[attr-defined]


def _reserve_db(keys: list[tuple[str, int, int]], wanted: int, executor: Executor) -> int:
    """Reserve in the send_quotas table with conditional updates (safe in autocommit).

    Each window's counter only grows while it stays within its limit; when a second limit
    refuses, what the first gave is handed back.
    """
    rows = [{"key": key, "used": 0, "expires_at": _expiry(key, seconds)}
            for key, seconds, _ in keys]
    insert = (sqlite.insert if is_sqlite() else postgresql.insert)(SendQuota.__table__)
    executor.execute(insert.on_conflict_do_nothing(index_elements=["key"]), rows)
    for _ in range(5):  # another worker may take the same allowance between look and take
        used = dict(executor.execute(select(SendQuota.key, SendQuota.used)
                                     .where(SendQuota.key.in_([k for k, _, _ in keys]))).all())
        granted = min([wanted] + [limit - used.get(key, 0) for key, _, limit in keys])
        if granted <= 0:
            return 0
        if _take(executor, keys, granted):
            return granted
    return 0


def _take(executor: Executor, keys: list[tuple[str, int, int]], count: int) -> bool:
    """Add count to every counter if each stays within its limit; all or nothing."""
    taken = []
    for key, _, limit in keys:
        done = executor.execute(
            update(SendQuota).where(SendQuota.key == key, SendQuota.used + count <= limit)
            .values(used=SendQuota.used + count)
            .execution_options(synchronize_session=False)).rowcount
        if not done:
            for back in taken:
                executor.execute(update(SendQuota).where(SendQuota.key == back)
                                 .values(used=SendQuota.used - count)
                                 .execution_options(synchronize_session=False))
            return False
        taken.append(key)
    return True


def _expiry(key: str, seconds: int) -> datetime:
    """Return when a window's counter can be deleted."""
    window = int(key.rsplit("|", 1)[1])
    return datetime.fromtimestamp((window + 2) * seconds, UTC).replace(tzinfo=None)


def delete_expired() -> int:
    """Delete the database counters of windows long past."""
    return db.session.execute(delete(SendQuota).where(SendQuota.expires_at < utcnow())).rowcount
