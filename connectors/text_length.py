"""How platforms count a message's length: code points by default, X's weighted count for X.

X (twitter-text's v3 configuration): a URL counts 23 whatever its length; code points in a few
ranges (Latin, Arabic, general punctuation…) count 1 and every other one 2 (CJK, emoji); the
text is NFC-normalised first. The composer (inbox/static/conversation.js) counts the same way.
"""
from __future__ import annotations

import re
import unicodedata

URL_WEIGHT = 23
# (first, last) code points that weigh 1; all others weigh 2.
LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def code_points(text: str) -> int:
    return len(text)  # a Python str is code points, not UTF-16 units


def _weight(char: str) -> int:
    point = ord(char)
    return 1 if any(first <= point <= last for first, last in LIGHT_RANGES) else 2


def x_weighted(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total, at = 0, 0
    for match in URL.finditer(text):
        total += sum(_weight(c) for c in text[at:match.start()]) + URL_WEIGHT
        at = match.end()
    return total + sum(_weight(c) for c in text[at:])
