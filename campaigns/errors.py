"""The one exception tree. Web and API map these to flashes or {"error", "message"}."""

from __future__ import annotations


class CampaignsError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"
    http_status = 400

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details


class ValidationError(CampaignsError):
    """The input is not valid."""

    code = "invalid"
    http_status = 422


class NotFound(CampaignsError):
    """No such thing."""

    code = "not_found"
    http_status = 404


class Conflict(CampaignsError):
    """The thing is not in a state that allows this."""

    code = "conflict"
    http_status = 409


class Forbidden(CampaignsError):
    """You may not do this."""

    code = "forbidden"
    http_status = 403


class ConfigurationError(CampaignsError):
    """A setting is missing or malformed."""

    code = "configuration"
    http_status = 500


class MailError(CampaignsError):
    """Sending an email failed."""

    code = "mail_error"
    http_status = 502


class TransientMailError(MailError):
    """The mail server asked us to try later (4xx) or the connection failed before DATA."""

    code = "mail_transient"


class PermanentMailError(MailError):
    """The mail server refused the message for good (5xx)."""

    code = "mail_permanent"


class UncertainDeliveryError(MailError):
    """The connection broke after the message data was sent: it may have been delivered."""

    code = "mail_uncertain"


class InboundError(CampaignsError):
    """An inbound message could not be taken in."""

    code = "inbound_error"


class MessageTooLarge(InboundError):
    """The inbound message exceeds the size or header limits."""

    code = "too_large"
    http_status = 413
