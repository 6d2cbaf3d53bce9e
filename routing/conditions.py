"""The conditions of admin routing rules (``routing.rules``) and the facts they read.

A rule fires when all of its conditions hold. Condition kinds and their ``value``:

* ``channel`` (channel ids), ``platform``, ``intent``, ``language``, ``sentiment``,
  ``customer_tag``: a list; the condition holds when the fact is any of them (tags ignore case).
* ``public``, ``urgent``, ``business_hours``: ``true`` or ``false``, compared with the fact.
* ``keywords``: a list of words or phrases matched as whole words on Arabic-normalised text: case,
  diacritics, tatweel, hamza/alef forms, ى/ي, ة/ه and Arabic-Indic digits are ignored, and an
  Arabic word may carry a leading clitic (ال، و، ب، ل، ف، ك، ع and their combinations), so
  "فاتورة" matches "بالفاتوره". A trailing ``*`` matches any word that starts so ("فاتور*").
* ``regex``: a pattern searched, ignoring case, in the message folded by
  ``normalize_arabic`` (the pattern is folded the same way). Patterns are capped in length and
  rejected when invalid, when they match every message, or when they nest repetitions.

An ``intent`` condition holds only for a confident intent (see ``routing.rules``): a guessed
intent must never fire a rule. ``negate: true`` turns any condition into its opposite.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from routing import labels
from routing.normalize import normalize_arabic, normalize_for_model

INTENTS = frozenset(labels.INTENTS)
LANGUAGES = frozenset(labels.LANGUAGES)
SENTIMENTS = frozenset(labels.SENTIMENTS)

MAX_TEXT_CHARS = 4000  # what conditions read of a message: bounds the work of every rule
MAX_PATTERN_CHARS = 200
MAX_KEYWORDS = 200
MAX_KEYWORD_CHARS = 100

_CHOICES: dict[str, frozenset[str] | None] = {
    "platform": None, "intent": INTENTS, "language": LANGUAGES, "sentiment": SENTIMENTS,
    "customer_tag": None, "keywords": None,
}
_FLAGS = frozenset({"public", "urgent", "business_hours"})
CONDITION_KINDS = frozenset({"channel", "regex", *_CHOICES, *_FLAGS})

# Clitics written before an Arabic word (the lexicon's list): "بالفاتوره" is "ب+ال+فاتوره".
_CLITICS = ("وبال", "وال", "بال", "فال", "كال", "عال", "لل", "ال", "و", "ف", "ب", "ل", "ك", "ع")
_PLACEHOLDERS = frozenset({"URL", "EMAIL", "MENTION", "PHONE"})  # what normalize_for_model puts in their place
# A group that repeats something and is itself repeated, "(a+)+" or "(\w*)*": with `re` (no
# timeout) such a pattern can take exponential time on a message that almost matches.
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*(?<!\\)[+*}](?:[^()\\]|\\.)*\)[+*{]")


@dataclass(frozen=True)
class Facts:
    """What is known about a conversation when the rules run."""

    text: str = ""  # the customer's message that opened (or reopened) the conversation
    channel_id: int | None = None
    platform: str | None = None
    is_public: bool = False
    intent: str | None = None  # None: no label (no model, or nothing to read)
    intent_confidence: float = 0.0
    model_version: str | None = None
    language: str | None = None
    sentiment: str | None = None
    urgent: bool = False
    customer_tags: frozenset[str] = frozenset()
    in_business_hours: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "customer_tags", frozenset(self.customer_tags))


class MessageText:
    """The text of one message, normalised once (and only if a rule reads it) for all the rules."""

    def __init__(self, text: str):
        self.text = text[:MAX_TEXT_CHARS]

    @cached_property
    def folded(self) -> str:
        return normalize_arabic(self.text)

    @cached_property
    def forms(self) -> list[tuple[str, ...]]:
        """Each token of the message, with and without the Arabic clitics it may start with."""
        return [_word_forms(token) for token in normalize_for_model(self.text).split()]

    @cached_property
    def starts(self) -> dict[str, list[int]]:
        """Where each form occurs: a keyword is looked for only where its first word is."""
        found: dict[str, list[int]] = {}
        for index, forms in enumerate(self.forms):
            for form in forms:
                found.setdefault(form, []).append(index)
        return found

    @cached_property
    def sorted_forms(self) -> list[str]:
        return sorted(self.starts)


def invalid(where: str, message: str) -> ValueError:
    return ValueError(f"{where}: {message}")


def one_of(names: frozenset[str]) -> str:
    return ", ".join(sorted(names))


def check_keys(data: Any, allowed: set[str], where: str) -> None:
    if not isinstance(data, Mapping):
        raise invalid(where, f"expected an object, got {type(data).__name__}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise invalid(where, f"unknown field {unknown[0]!r}")


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _word_forms(token: str) -> tuple[str, ...]:
    if token.isascii():
        return (token,)
    return (token, *(token[len(c):] for c in _CLITICS if token.startswith(c) and len(token) - len(c) >= 2))


def _keyword(raw: str) -> tuple[tuple[str, ...], bool]:
    prefix = raw.rstrip().endswith("*")
    return tuple(normalize_for_model(raw.rstrip().rstrip("*")).split()), prefix


def _keyword_at(message: MessageText, start: int, words: tuple[str, ...], prefix: bool) -> bool:
    if start + len(words) > len(message.forms):
        return False
    for offset, word in enumerate(words[1:], 1):
        forms = message.forms[start + offset]
        last = offset == len(words) - 1
        if not (word in forms or (prefix and last and any(form.startswith(word) for form in forms))):
            return False
    return True


@dataclass(frozen=True)
class Condition:
    kind: str
    value: Any = None
    negate: bool = False
    _compiled: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"condition {self.kind!r}"
        if not isinstance(self.kind, str) or self.kind not in CONDITION_KINDS:
            raise invalid("condition", f"kind: unknown {self.kind!r} (expected one of {one_of(CONDITION_KINDS)})")
        if not isinstance(self.negate, bool):
            raise invalid(where, "negate: expected true or false")
        if self.kind in _FLAGS:
            if not isinstance(self.value, bool):
                raise invalid(where, "value: expected true or false")
        elif self.kind == "regex":
            object.__setattr__(self, "_compiled", _compile(self.value, where))
        else:
            values = as_list(self.value, where)
            object.__setattr__(self, "value", values)
            if self.kind == "channel":
                if not all(is_id(v) for v in values):
                    raise invalid(where, "value: channel ids are positive integers")
            elif not all(isinstance(v, str) and v.strip() for v in values):
                raise invalid(where, "value: expected non-empty strings")
            elif (allowed := _CHOICES[self.kind]) is not None and (bad := sorted(set(values) - allowed)):
                raise invalid(where, f"value: unknown {bad[0]!r} (expected one of {one_of(allowed)})")
            elif self.kind == "keywords":
                object.__setattr__(self, "_compiled", _keywords(values, where))

    def failure(self, facts: Facts, message: MessageText, confident: bool) -> str | None:
        """None when the condition holds, otherwise why it does not (for the dry-run trace)."""
        if self.kind == "intent" and not confident:
            return f"intent {facts.intent or 'unknown'} is not confident ({facts.intent_confidence:.2f})"
        found, seen = self._match(facts, message)
        if found != self.negate:
            return None
        return seen + (", which the rule excludes" if self.negate else "")

    def _match(self, facts: Facts, message: MessageText) -> tuple[bool, str]:
        """Whether the condition (before ``negate``) holds, and what was seen, for the trace."""
        kind, value = self.kind, self.value
        if kind == "keywords":
            hit = next((raw for words, prefix, raw in self._compiled if _found(message, words, prefix)), None)
            return hit is not None, (f"keyword {hit!r} found" if hit else "no keyword found")
        if kind == "regex":
            hit = self._compiled.search(message.folded)
            return hit is not None, (f"pattern found: {hit.group(0)[:40]!r}" if hit else "pattern not found")
        if kind == "customer_tag":
            tags = {tag.casefold() for tag in facts.customer_tags}
            shown = ", ".join(sorted(facts.customer_tags)) or "none"
            return any(v.casefold() in tags for v in value), f"customer tags are {shown}"
        fact = {
            "channel": facts.channel_id, "platform": facts.platform, "intent": facts.intent,
            "language": facts.language, "sentiment": facts.sentiment, "public": facts.is_public,
            "urgent": facts.urgent, "business_hours": facts.in_business_hours,
        }[kind]
        seen = f"{kind} is {'unknown' if fact is None else str(fact).lower()}"
        return (fact == value if kind in _FLAGS else fact in value), seen

    def describe(self) -> str:
        shown = ", ".join(map(str, self.value)) if isinstance(self.value, tuple) else str(self.value).lower()
        return f"{'not ' if self.negate else ''}{self.kind}: {shown}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        check_keys(data, {"kind", "value", "negate"}, "condition")
        return cls(data.get("kind"), data.get("value"), data.get("negate", False))

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"kind": self.kind, "value": value, "negate": self.negate}


def as_list(value: Any, where: str) -> tuple:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple | frozenset | set):
        raise invalid(where, "value: expected a list")
    if not value:
        raise invalid(where, "value: the list is empty")
    return tuple(value)


def _keywords(values: tuple, where: str) -> tuple:
    if len(values) > MAX_KEYWORDS:
        raise invalid(where, f"value: more than {MAX_KEYWORDS} keywords")
    compiled = []
    for raw in values:
        if len(raw) > MAX_KEYWORD_CHARS:
            raise invalid(where, f"value: keyword longer than {MAX_KEYWORD_CHARS} characters: {raw[:20]!r}…")
        words, prefix = _keyword(raw)
        if not words:
            raise invalid(where, f"value: {raw!r} has no word to match")
        if _PLACEHOLDERS & set(words):
            raise invalid(where, f"value: {raw!r}: use a regex for links, e-mail addresses, @handles, phone numbers")
        compiled.append((words, prefix, raw))
    return tuple(compiled)


def _found(message: MessageText, words: tuple[str, ...], prefix: bool) -> bool:
    # Every word must occur somewhere before any position is worth checking.
    exact = words[:-1] if prefix else words
    if any(word not in message.starts for word in exact) or (prefix and not _has_prefix(message, words[-1])):
        return False
    return len(words) == 1 or any(_keyword_at(message, start, words, prefix) for start in message.starts[words[0]])


def _has_prefix(message: MessageText, start: str) -> bool:
    at = bisect_left(message.sorted_forms, start)
    return at < len(message.sorted_forms) and message.sorted_forms[at].startswith(start)


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise invalid(where, "value: expected a pattern")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise invalid(where, f"value: pattern longer than {MAX_PATTERN_CHARS} characters")
    if _NESTED_REPEAT.search(pattern):
        raise invalid(where, "value: nested repetition such as (a+)+ can take exponential time")
    try:
        compiled = re.compile(normalize_arabic(pattern), re.IGNORECASE)
    except re.error as error:
        raise invalid(where, f"value: invalid pattern: {error}") from None
    if compiled.search(""):
        raise invalid(where, "value: the pattern matches even an empty message")
    return compiled


