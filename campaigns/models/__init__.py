"""The data model, one module per concept; import from here."""

from campaigns.models.audience import (
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    ImportStatus,
    Segment,
    Subscriber,
    SubscriberImport,
    SubscriberNote,
    Suppression,
    SuppressionReason,
    Tag,
    address_hash,
    subscriber_tags,
)
from campaigns.models.campaign import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Delivery,
    DeliveryState,
    ReplyMode,
    SendQuota,
)
from campaigns.models.followup import (
    Direction,
    FollowUp,
    FollowUpMessage,
    FollowUpNote,
    FollowUpStatus,
    Outcome,
)
from campaigns.models.inbound import (
    InboundKind,
    InboundMessage,
    InboundStatus,
    MailboxCheckpoint,
    MatchMethod,
    ReceivedVia,
)
from campaigns.models.system import Lease
from campaigns.models.user import ApiToken, Role, User

__all__ = [
    "ApiToken", "Campaign", "CampaignKind", "CampaignStatus", "ConsentEvent", "ConsentSource",
    "ConsentStatus", "Delivery", "DeliveryState", "Direction", "FollowUp", "FollowUpMessage",
    "FollowUpNote", "FollowUpStatus", "ImportStatus", "InboundKind", "InboundMessage",
    "InboundStatus", "Lease", "MailboxCheckpoint", "MatchMethod", "Outcome", "ReceivedVia",
    "ReplyMode", "Role", "Segment", "SendQuota", "Subscriber", "SubscriberImport", "Suppression",
    "SuppressionReason", "Tag", "User", "address_hash", "subscriber_tags",
    "SubscriberNote",
]
