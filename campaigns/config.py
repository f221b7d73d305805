"""Every setting, with a safe default and a one-line comment.

Order of precedence (later wins): these defaults → ``instance/config.py`` →
``CAMPAIGNS_<NAME>`` environment variables → the mapping a test passes to ``create_app``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Database URL; empty means SQLite at <instance>/campaigns.sqlite3.
    "DATABASE_URL": "",
    # Dramatiq broker: redis://…, amqp://…, or empty for the in-process worker.
    "BROKER_URL": "",
    # Outgoing mail: smtp://host:port, smtp+starttls://user:pass@host:587, smtps://…,
    # file:// (an .eml per message under <instance>/outbox), console://, memory://.
    "MAIL_URL": "file://",
    # Seconds before an SMTP connect/command gives up.
    "MAIL_TIMEOUT": 30,
    # Public URL of this app, used for links inside emails (unsubscribe, signup confirm).
    "BASE_URL": "http://127.0.0.1:5000",
    # Domain of tracked reply addresses (reply+TOKEN@REPLY_DOMAIN); empty = the sender's domain.
    "REPLY_DOMAIN": "",
    # Domain used in Message-IDs we create; empty = derived from BASE_URL.
    "SENDER_DOMAIN": "",
    # Signs sessions, CSRF and unsubscribe tokens. Empty = generated once into the instance folder.
    "SECRET_KEY": "",
    # Older secret keys, still accepted when verifying tokens (comma-separated), for rotation.
    "SECRET_KEY_FALLBACKS": [],
    # Where SQLite, the file outbox and raw inbound mail live.
    "INSTANCE_PATH": "",
    # Secret for POST /api/v1/inbound (token or HMAC-SHA256 of the body); empty = API tokens only.
    "INBOUND_SECRET": "",
    # Largest inbound message accepted, in bytes.
    "INBOUND_MAX_BYTES": 25 * 1024 * 1024,
    # Largest header block of an inbound message, in bytes (CPython's parser is quadratic).
    "INBOUND_MAX_HEADER_BYTES": 256 * 1024,
    # Login attempts allowed per address and per client, e.g. "10 per minute".
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (0 = none). Behind
    # one, set 1: rate limits then key on the client's address, not the proxy's.
    "TRUSTED_PROXIES": 0,
    # Storage for rate limits: memory:// (one process) or redis://…
    "RATELIMIT_STORAGE_URL": "memory://",
    # Send session cookies only over HTTPS; default follows BASE_URL's scheme.
    "SESSION_COOKIE_SECURE": None,
    # Rows a worker claims per Dramatiq message.
    "SEND_BATCH_SIZE": 200,
    # Rows whose "sending" mark is committed ahead of the SMTP transaction (the crash window).
    "SEND_WINDOW": 8,
    # Default sending limits per sender address (0 = unlimited).
    "SEND_RATE_PER_MINUTE": 0,
    "SEND_RATE_PER_HOUR": 0,
    # Seconds between periodic sweeps (re-enqueue stale work, wake snoozed follow-ups, poll IMAP).
    "SWEEP_INTERVAL": 30,
    # A pending or claimed row untouched this many seconds is re-enqueued by the sweep.
    "SWEEP_STALE_AFTER": 120,
    # Threads of the in-process worker (one-process mode).
    "INPROCESS_WORKER_THREADS": 2,
    # Start the in-process worker and sweep thread with the app (one-process mode only).
    "INPROCESS_WORKER": True,
    # Modules that declare the Dramatiq actors (imported by the worker, never by the web code).
    "WORKER_MODULES": ["workers.actors"],
    # What starts the in-process worker in one-process mode ("module:function").
    "INPROCESS_RUNNER": "workers.inprocess:start",
    # IMAP mailboxes to poll for replies: JSON list of {"url": "imaps://user:pass@host/INBOX", ...}.
    "IMAP_MAILBOXES": [],
    # Soft bounces before an address is suppressed.
    "SOFT_BOUNCE_LIMIT": 3,
    # Log level for the app and workers.
    "LOG_LEVEL": "INFO",
    # --- Subscribers (issue 3) ---
    # Imports of up to this many rows run within the request; bigger ones in a worker.
    "IMPORT_INLINE_ROWS": 2000,
    # Rows written per batch (one INSERT ... ON CONFLICT each; a worker commits after each).
    "IMPORT_CHUNK_ROWS": 2000,
    # From address of signup confirmation emails; empty = noreply@<SENDER_DOMAIN or BASE_URL host>.
    "SIGNUP_FROM_EMAIL": "",
    # Display name on signup confirmation emails.
    "SIGNUP_FROM_NAME": "",
    # Signup form submissions allowed per client, e.g. "5 per minute;30 per hour".
    "SIGNUP_RATE_LIMIT": "5 per minute;30 per hour",
    # Days a signup confirmation link stays valid; unconfirmed signups are removed after this.
    "SIGNUP_CONFIRM_DAYS": 7,
    # --- Sending (campaigns) ---
    # Ledger rows created per keyset batch when a campaign starts (the first batch in the request).
    "LEDGER_BATCH_SIZE": 2000,
    # Seconds before the first retry of an email the server deferred (4xx); doubles each time.
    "SEND_RETRY_BACKOFF": 60,
    # Attempts before a deferred email is marked failed.
    "SEND_MAX_ATTEMPTS": 5,
    # DKIM signing (all three set = sign): the d= domain, the selector, an RSA key (PEM or path).
    "DKIM_DOMAIN": "",
    "DKIM_SELECTOR": "",
    "DKIM_PRIVATE_KEY": "",
}

_ENV_PREFIX = "CAMPAIGNS_"


def load_settings(instance_path: Path, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Merge defaults, instance/config.py, CAMPAIGNS_* variables and overrides, in that order."""
    settings = dict(DEFAULTS)
    settings.update(_read_instance_file(instance_path / "config.py"))
    settings.update(_read_environment(os.environ))
    settings.update(overrides or {})
    return settings


def _read_instance_file(path: Path) -> dict[str, Any]:
    """Return the upper-case names a deployment's instance/config.py defines."""
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - operator's file
    return {k: v for k, v in namespace.items() if k.isupper()}


def _read_environment(environ: dict[str, str] | os._Environ) -> dict[str, Any]:
    """Return settings given as CAMPAIGNS_<NAME>, typed like their defaults."""
    found = {}
    for key, raw in environ.items():
        if not key.startswith(_ENV_PREFIX):
            continue
        name = key[len(_ENV_PREFIX):]
        found[name] = coerce(raw, DEFAULTS.get(name))
    return found


def coerce(raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the setting's default."""
    if isinstance(default, bool) or default is None and raw.lower() in ("true", "false"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, list):
        text = raw.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return raw
