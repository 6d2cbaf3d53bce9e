"""The domain, one module per aggregate (DESIGN.md, "Domain")."""
from inbox.models.audit import AuditLog
from inbox.models.canned import CannedResponse
from inbox.models.channel import Channel, RawEvent
from inbox.models.conversation import Conversation, ConversationEvent, Message, Note, Tag
from inbox.models.customer import Customer, Identity
from inbox.models.notification import Notification
from inbox.models.routing import IntentLabel, ModelVersion
from inbox.models.rules import RoutingRule, Setting
from inbox.models.sla import BusinessHours, SlaPolicy
from inbox.models.user import Team, User

__all__ = [
    "AuditLog", "BusinessHours", "CannedResponse", "Channel", "Conversation", "ConversationEvent", "Customer",
    "Identity", "IntentLabel", "Message", "ModelVersion", "Note", "Notification", "RawEvent", "RoutingRule", "Setting",
    "SlaPolicy", "Tag", "Team", "User",
]
