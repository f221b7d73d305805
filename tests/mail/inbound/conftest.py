"""Helpers shared by the inbound understanding tests."""

from __future__ import annotations

import pytest


def build_message(body: str = "Sounds good, see you Tuesday!", **headers: str) -> bytes:
    """Return raw RFC 5322 bytes; keyword names become headers (underscores to dashes)."""
    defaults = {
        "From": "Alex Morgan <alex.morgan@example.org>",
        "To": "Campaign Replies <reply+tok123@campaigns.example.com>",
        "Subject": "Re: Coffee next week?",
        "Date": "Tue, 04 Mar 2025 09:30:00 +0000",
        "Message-ID": "<reply-1@mail.example.org>",
        "In-Reply-To": "<campaign-42.7f3a9c@campaigns.example.com>",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Transfer-Encoding": "8bit",
    }
    for name, value in headers.items():
        defaults[name.replace("_", "-")] = value
    head = "".join(f"{name}: {value}\r\n" for name, value in defaults.items() if value is not None)
    return (head + "\r\n" + body).encode("utf-8")


@pytest.fixture(scope="session")
def message():
    """Give tests the raw message builder."""
    return build_message
