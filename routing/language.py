"""Which language a customer wrote in: ar, en, arabizi or mixed (DESIGN.md, "Intents")."""
from __future__ import annotations

import re

_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f]")
_LATIN_LETTER = re.compile("[A-Za-z]")
# Arabizi writes ع ح خ ط ء as 3 7 5 6 2 inside Latin words ("3ndi", "ba6ee2", "7ada").
_ARABIZI_DIGIT_WORD = re.compile(r"(?=[a-z0-9]*[a-z])[a-z0-9]*[235679][a-z0-9]*")
# ...but not "5g", "2nd", "10gb", "3rd": a number followed by a unit or ordinal.
_NUMBER_WITH_UNIT = re.compile(r"\d+(?:st|nd|rd|th|g|gb|mb|jd|k|m)")
_ARABIZI_WORDS = frozenset(
    "el il bdi badi biddi shu sho leh lesh mish msh kteer ktir hala2 halla wallah wala "
    "inno enno ana ento ya3ni marhaba mar7aba shukran shokran ma3 3ndi 3andi ahlan bas "
    "kaman lissa lesa zay zai ween wein".split()
)


def detect_language(text: str) -> str:
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if arabic == 0 and latin == 0:
        return "ar"  # emoji or digits only: the market's default
    if arabic and latin:
        share = arabic / (arabic + latin)
        if 0.2 < share < 0.8:
            return "mixed"
        if share >= 0.8:
            return "ar"
    elif arabic:
        return "ar"
    words = re.findall(r"[a-z0-9']+", text.lower())
    arabizi_hits = sum(
        1
        for w in words
        if w in _ARABIZI_WORDS
        or (_ARABIZI_DIGIT_WORD.fullmatch(w) and not _NUMBER_WITH_UNIT.fullmatch(w))
    )
    if words and arabizi_hits / len(words) >= 0.2:
        return "arabizi"
    return "en"
