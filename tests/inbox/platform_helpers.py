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
