"""Shared set-up for the routing tests: fixed classifier answers, rules and settings saved as an
admin saves them, agents made available."""
from __future__ import annotations

from inbox.extensions import db
from inbox.models import ModelVersion, User
from inbox.services import assignment, classification, routing_rules, routing_settings
from routing.intent import Prediction


def fixed_predictions(monkeypatch, by_word: dict[str, tuple[str | None, float]], lang: str = "en") -> int:
    """classify_texts answers from a keyword of each text (first match), from a saved version."""
    version = ModelVersion(status="ready", version="intent-fixed", directory="intent-fixed")
    db.session.add(version)
    db.session.commit()
    version_id = version.id

    def classify_texts(texts):
        out = []
        for text in texts:
            intent, confidence = next((v for k, v in by_word.items() if k in text), (None, 0.0))
            out.append(Prediction(intent, confidence, lang, "neutral", False))
        return out, version_id

    monkeypatch.setattr(classification, "classify_texts", classify_texts)
    return version_id


def rule(admin: User, name: str, conditions: list, actions: list, enabled: bool = True):
    return routing_rules.save_rule(admin, None, {"name": name, "conditions": conditions, "actions": actions,
                                                 "enabled": enabled})


def settings(admin: User, **values):
    return routing_settings.save(admin, {**routing_settings.get().to_dict(), **values})


def available(*agents: User, capacity: int | None = None, skills=None, languages=None) -> None:
    for agent in agents:
        if capacity is not None:
            agent.capacity = capacity
        if skills is not None:
            agent.skills = list(skills)
        if languages is not None:
            agent.languages = list(languages)
        db.session.commit()
        assignment.set_presence(agent, "online")
