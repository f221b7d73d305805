"""Optional DKIM signing (dkimpy) covering both List-Unsubscribe headers, as RFC 8058 asks."""

from __future__ import annotations

from pathlib import Path

import dkim

from campaigns.errors import ConfigurationError

SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to",
                  b"in-reply-to", b"references", b"list-unsubscribe", b"list-unsubscribe-post",
                  b"mime-version", b"content-type")


class DkimSigner:
    """Sign finished messages for one domain and selector."""

    def __init__(self, *, domain: str, selector: str, private_key: bytes) -> None:
        self.domain, self.selector = domain.encode("ascii"), selector.encode("ascii")
        self.private_key = private_key  # an RSA key in PEM form

    def sign(self, message: bytes) -> bytes:
        """Return the DKIM-Signature header line (CRLF included) to put before the message."""
        try:
            return dkim.sign(message, self.selector, self.domain, self.private_key,
                             include_headers=list(SIGNED_HEADERS),
                             canonicalize=(b"relaxed", b"relaxed"))
        except dkim.DKIMException as exc:
            raise ConfigurationError(f"DKIM signing failed: {exc}") from exc


def signer_from_settings(config: dict) -> DkimSigner | None:
    """Return a signer when DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY are set."""
    domain, selector, key = (config.get("DKIM_DOMAIN"), config.get("DKIM_SELECTOR"),
                             config.get("DKIM_PRIVATE_KEY"))
    if not (domain and selector and key):
        return None
    pem = key.encode() if "-----BEGIN" in key else Path(key).read_bytes()
    return DkimSigner(domain=domain, selector=selector, private_key=pem)
