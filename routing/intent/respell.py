"""Arabizi written the way other people write it, for training only.

Arabizi has no fixed spelling: one writer's "5arbaneh" is another's "kharbana", "3'ali" is
"ghali" or "8ali", "ma2too3" is "m2tou3". A classifier that saw each word spelt one way misses the
same word spelt another, and on writers it has never seen Arabizi is the language it scores
lowest on (routing/data/README.md). Training therefore adds, for every Arabizi row, copies whose
words are respelt as other Jordanians spell them: 5/kh/7', 3'/gh/8, ee/i, oo/u/ou, ei/ai/ay,
9/s, 6/t, th/s/t, dh/z/d, el/il/l/al, a short vowel dropped or swapped, a double consonant
written single, the ending eh/e/a/ah. Each change is taken with probability ``p``; the random
generator is seeded, so one set of rows always gives one model.

Nothing here is shipped as data: the copies exist only while a model is fitted.
"""
from __future__ import annotations

import random
import re
from collections.abc import Sequence

from routing.language import detect_language

SEED = 20240613
_ALTERNATIVES = {
    "kh": ("5", "kh", "7'"), "5": ("5", "kh"), "3'": ("3'", "gh", "8"), "gh": ("gh", "3'", "8"),
    "ee": ("ee", "i", "ii"), "oo": ("oo", "u", "ou", "o"), "ou": ("ou", "oo", "u"),
    "ei": ("ei", "ai", "ay", "e"), "ai": ("ai", "ei", "ay"), "sh": ("sh", "sh", "ch"),
    "9": ("9", "s"), "6": ("6", "t"), "th": ("th", "s", "t"), "dh": ("dh", "z", "d"),
}
_SPELLINGS = re.compile("|".join(re.escape(unit) for unit in sorted(_ALTERNATIVES, key=len, reverse=True)))
_ARTICLES = {"el": ("el", "il", "l", "al"), "il": ("il", "el", "l"), "l": ("l", "el"), "al": ("al", "el")}
_ENDINGS = (("eh", ("eh", "e", "a", "ah")), ("ah", ("ah", "a", "eh")), ("e", ("e", "eh", "a")), ("a", ("a", "ah", "e")))
_SHORT_VOWEL_SWAP = {"a": "e", "e": "i", "i": "e", "o": "u", "u": "o"}
_WORD = re.compile(r"[a-z0-9']+")


def respell_word(word: str, rng: random.Random, p: float = 0.5) -> str:
    """One lower-case Latin word as another writer might spell it (often unchanged)."""
    if word in _ARTICLES:
        return rng.choice(_ARTICLES[word]) if rng.random() < p else word
    if len(word) < 3 or not any(ch.isalpha() for ch in word):
        return word  # short words and numbers are spelt one way
    word = _SPELLINGS.sub(lambda m: rng.choice(_ALTERNATIVES[m.group()]) if rng.random() < p else m.group(), word)
    letters: list[str] = []
    for i, letter in enumerate(word):
        if 0 < i < len(word) - 1 and letter in _SHORT_VOWEL_SWAP and rng.random() < p / 3:
            if rng.random() < 0.5:
                continue  # a short vowel left out: "ma2too3" → "m2too3"
            letter = _SHORT_VOWEL_SWAP[letter]
        if letters and letter == letters[-1] and letter.isalpha() and rng.random() < p:
            continue  # "msakkar" → "msakar"
        letters.append(letter)
    word = "".join(letters)
    for ending, alternatives in _ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            if rng.random() < p:
                word = word[: -len(ending)] + rng.choice(alternatives)
            break
    if word.startswith("el") and len(word) > 5 and rng.random() < p / 2:
        word = rng.choice(("el", "il", "l")) + word[2:]  # the article glued on: "elfatora" → "lfatora"
    return word


def respell(text: str, rng: random.Random, p: float = 0.5) -> str:
    """``text`` lower-cased with its Latin words respelt (everything else kept)."""
    return _WORD.sub(lambda m: respell_word(m.group(), rng, p), text.lower())


def respelt_rows(rows: Sequence[dict], copies: int, seed: int = SEED) -> list[dict]:
    """``copies`` respelt copies of every Arabizi row (by its ``lang``, else detected), labels
    kept; a copy that came out unchanged is left out."""
    if copies <= 0:
        return []
    rng = random.Random(seed)
    extra = []
    for row in rows:
        if (row.get("lang") or detect_language(row["text"])) != "arabizi":
            continue
        for _ in range(copies):
            text = respell(row["text"], rng)
            if text != row["text"].lower():
                extra.append({**row, "text": text})
    return extra
