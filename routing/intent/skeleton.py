"""The consonant skeleton of a word, where Arabic script and Arabizi meet: "الفاتوره" and
"el fatora" both give "ftr", "بطيء" and "ba6ee2" both "btq". Long vowels and w/y are dropped
(Arabizi writes them as it pleases), the article taken off, and sounds merged where Jordanian
speech merges them (ق/ء, ت/ط, س/ص/ث, ز/ذ/ظ, د/ض).
"""
from __future__ import annotations

import re
from functools import lru_cache

_ARABIC_WORD = re.compile("[\u0621-\u064a]+")
_ARABIC_SKELETON = str.maketrans({
    "ا": None, "و": None, "ي": None, "ء": "q", "ب": "b", "ت": "t", "ث": "s", "ج": "j", "ح": "7",
    "خ": "x", "د": "d", "ذ": "z", "ر": "r", "ز": "z", "س": "s", "ش": "S", "ص": "s", "ض": "d",
    "ط": "t", "ظ": "z", "ع": "3", "غ": "G", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m",
    "ن": "n", "ه": "h", "پ": "b", "چ": "S", "ڤ": "f", "گ": "j",
})
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "عال", "ال", "لل")
# Arabizi: 2=ء/ق 3=ع 3'/8/gh=غ 5/kh=خ 6=ط 7=ح 9=ق/ص.
_LATIN_DIGRAPHS = re.compile(r"sh|ch|kh|gh|3'|th|dh")
_DIGRAPH_SKELETON = {"sh": "S", "ch": "S", "kh": "x", "gh": "G", "3'": "G", "th": "s", "dh": "d"}
_LATIN_SKELETON = str.maketrans({
    "2": "q", "5": "x", "6": "t", "8": "G", "9": "q", "a": None, "e": None, "i": None, "o": None,
    "u": None, "y": None, "w": None, "'": None, "g": "j", "c": "k", "p": "b", "v": "f",
})
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def skeleton_word(word: str) -> str:
    """The consonant skeleton of one normalised token; "" for numbers, emoji and placeholders."""
    if _ARABIC_WORD.fullmatch(word):
        for prefix in _ARABIC_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 2:
                word = word[len(prefix):]
                break
        skeleton = word.translate(_ARABIC_SKELETON)
    elif word.islower() and word.isascii():  # Latin words; placeholders are upper-case
        skeleton = _LATIN_DIGRAPHS.sub(lambda m: _DIGRAPH_SKELETON[m.group()], word).translate(_LATIN_SKELETON)
    else:
        return ""
    skeleton = _REPEATS.sub(r"\1", skeleton)
    if len(skeleton) > 2 and skeleton.endswith("h"):  # ه / ة / "eh" endings: often unwritten
        skeleton = skeleton[:-1]
    return skeleton


def skeleton(normalized: str) -> str:
    return " ".join(s for s in map(skeleton_word, normalized.split()) if s)
