"""Real channels of real platforms, pointed at a FakePlatform, for pipeline tests."""
from __future__ import annotations

from inbox.extensions import db
from inbox.models import User
from inbox.services import channels

BOT_TOKEN = "123456:TEST-token-never-shown"
SECRET = "hook-secret_123"


def telegram_channel(app, fake_url: str, team_name: str = "Team A", mode: str = "webhook") -> int:
    with app.app_context():
        admin = db.session.query(User).filter_by(role="admin").first()
        channel = channels.save_channel(admin, None, "telegram", "Telegram bot", team_name, {
            "account_id": "999", "api_base": fake_url, "mode": mode, "timeout": "2",
            "bot_token": BOT_TOKEN, "secret_token": SECRET, "poll_interval": "5",
        })
        return channel.id


def telegram_update(update_id: int, text: str = "النت مقطوع", user_id: int = 555, message_id: int | None = None,
                    reply_to: int | None = None) -> dict:
    message = {
        "message_id": message_id or update_id,
        "from": {"id": user_id, "is_bot": False, "first_name": "Rami", "username": "rami_jo"},
        "chat": {"id": user_id, "type": "private", "first_name": "Rami"},
        "date": 1718103723,
        "text": text,
    }
    if reply_to:
        message["reply_to_message"] = {"message_id": reply_to, "chat": message["chat"], "date": 1718103700}
    return {"update_id": update_id, "message": message}


def sent_message(chat_id: int = 555, message_id: int = 9001, text: str = "ok") -> dict:
    return {"ok": True, "result": {"message_id": message_id, "date": 1718103800,
                                   "chat": {"id": chat_id, "type": "private"}, "text": text}}


WA_TOKEN = "wa-access-token"
WA_PHONE_ID = "109876543210987"
TEMPLATES = [{"name": "follow_up", "language": "ar", "text": "مرحبا، هل ما زلت بحاجة للمساعدة؟"}]


def whatsapp_conversation(app, fake_url: str, hours_ago: float, team_name: str = "Team A") -> tuple[int, int]:
    """A WhatsApp customer who last wrote ``hours_ago`` hours ago: (conversation id, channel id)."""
    from datetime import timedelta

    from connectors.types import InboundMessage
    from inbox.models import Conversation
    from inbox.models.base import utcnow
    from inbox.services import ingest

    with app.app_context():
        admin = db.session.query(User).filter_by(role="admin").first()
        channel = channels.save_channel(admin, None, "whatsapp", "WhatsApp", team_name, {
            "account_id": WA_PHONE_ID, "graph_base": fake_url, "access_token": WA_TOKEN,
            "app_secret": "app-secret", "verify_token": "verify-me", "timeout": "2",
        })
        channel.settings = channel.settings | {"templates": TEMPLATES}
        db.session.commit()
        got = ingest.ingest_message(channel.id, InboundMessage(
            platform="whatsapp", external_id="wamid.A1", author_id="962790000000", author_name="Huda",
            text="الخط مقطوع", is_public=False, created_at=utcnow()))
        conversation = db.session.get(Conversation, got.conversation_id)
        conversation.last_customer_message_at = utcnow() - timedelta(hours=hours_ago)
        db.session.commit()
        return got.conversation_id, channel.id
