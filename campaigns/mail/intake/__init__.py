"""The ways mail comes in: IMAP polling, the LMTP/SMTP listener, files, and the runner.

These are entry points like views and actors: each owns its transactions (the IMAP poller
commits a batch together with its checkpoint), stores raw bytes through
``campaigns.core.inbound.store`` and leaves understanding to the workers.
"""
