"""Arabizi → Arabic script, so that an Arabizi message shares what the classifier learnt from the
Arabic half of the data: "el fatora 3ndi 3alyeh" → "الفاتوره عندي عاليه".

Not a faithful transliteration (Arabizi drops short vowels and writes long ones as it pleases):
it aims at the spelling Jordanians use in Arabic script, folded as ``normalize_for_model`` folds
it (ة → ه, أ/إ/آ → ا, ى → ي), so that character n-grams of both meet. A small lexicon gives the
common words exactly; other words go letter by letter: digits as letters (2 ق, 3 ع, 3' غ, 5 خ,
6 ط, 7 ح, 8 ق, 9 ص), digraphs (sh ش, kh خ, gh غ, th ث, dh ذ, ch تش), short vowels dropped inside
a word, long ones (aa, ee, oo, ou) and i/o/u written as ا / ي / و, a final a/e/eh/ah as ه after
three letters (else ا). The article ("el", "il", "al", "l") joins the next word, as in Arabic script.

Plain Python, no state: every word's result is cached.
"""
from __future__ import annotations

import re
from functools import lru_cache

_LEXICON: dict[str, str] = {}
for _arabic, _spellings in {
    "عندي": "3ndi 3andi 3endi", "عندك": "3ndak 3andak 3ndek", "عندكم": "3ndkom 3andkom 3ndko 3andko",
    "عنا": "3nna 3enna 3ana", "مش": "mesh mish msh mush mosh", "بدي": "bdi badi biddi baddi bidi",
    "بدنا": "bdna badna", "شو": "shu sho shoo", "ليش": "lesh leish laish lash lish", "هلا": "hala halla",
    "هلق": "hala2 halla2 hal2a hala2a", "هسا": "hassa hasa hessa", "كتير": "ktir kteer kter ktiir",
    "من": "mn min men", "نت": "net", "رصيد": "raseed rased rasid ra9eed ra9ed", "رصيدي": "raseedi ra9eedi",
    "فاتوره": "fatora fatoora fatoura", "خط": "khat 5at 5a6 khatt", "شحن": "sha7en sha7n", "ما": "ma",
    "لا": "la", "انا": "ana", "انت": "inta enta inte ente", "انتي": "inti enti", "انتو": "into ento intu",
    "في": "fi fe fee", "فيه": "fih fiha", "مافي": "mafi mafee", "مع": "ma3 m3 ma3a", "على": "3ala 3la",
    "عن": "3an", "كيف": "kif keef kaif", "وين": "ween wein wen", "يعني": "ya3ni yani", "بس": "bas bs",
    "كمان": "kaman kman", "لسا": "lissa lsa lesa lessa", "هاي": "hay hayy", "هاد": "hada had",
    "هيك": "hek heik hik", "انو": "inno enno ino", "اللي": "elli illi lli", "يلا": "yalla yallah",
    "خلص": "khalas 5alas 5las 5la9", "طيب": "tayeb tayyeb", "تمام": "tamam", "اكيد": "akeed",
    "لازم": "lazem lazim", "ممكن": "mumken mmkn momken mumkin", "مرحبا": "marhaba mar7aba", "اهلا": "ahlan",
    "شكرا": "shukran shokran", "اشي": "ishi eshi", "كل": "kol kul", "كلشي": "kolshi", "مره": "mara marra",
    "يوم": "yom yoom", "شهر": "shahr shaher", "بعد": "ba3d", "قبل": "abl 2abl", "عشان": "3shan 3ashan",
    "حتى": "7ata 7atta", "صار": "sar 9ar", "صارلي": "sarli 9arli", "شبكه": "shabakeh shabakah shabake",
    "حزمه": "7azmeh 7azme 7azmah", "انترنت": "internet intarnet", "مشكله": "mushkele mshkle moshkle mushkeleh",
    "سرعه": "sor3a sor3ah sur3a", "بطيء": "ba6ee2 ba6i2 bati2", "مقطوع": "ma2too3 ma2tou3 maq6oo3",
    "فاصل": "fasel fa9el", "مسؤول": "mas2ool", "فرع": "far3", "موظف": "mowazzaf mwazzaf mowazaf",
    "فلوس": "flos floos", "مصاري": "masari mosari ma9ari", "دينار": "dinar", "تجوال": "tajwal",
    "رقم": "ra2am ra2m", "رقمي": "ra2mi", "شريحه": "shari7a shre7a shree7a", "جديد": "jdeed jdid",
    "والله": "wallah walla wallahi", "اليوم": "elyom elyoom", "امبارح": "mbare7 imbare7 embare7",
    "شركه": "sharikeh sharikah", "خدمه": "khedmeh 5edmeh 5idmeh khidmeh", "زباين": "zabayen",
    "رساله": "resaleh risaleh", "مكالمه": "mokalameh mokalame mukalameh", "اتصال": "ittisal etesal",
    "راوتر": "router rawter", "واي فاي": "wifi", "باقه": "ba2a", "عرض": "3ard", "عروض": "3orood 3rood",
}.items():
    for _spelling in _spellings.split():
        _LEXICON[_spelling] = _arabic

# The article and the prepositions written apart: joined to the next word, as in Arabic script.
_PREFIX_WORDS = {
    "el": "ال", "il": "ال", "al": "ال", "l": "ال", "w": "و", "wel": "وال", "wil": "وال",
    "bel": "بال", "bil": "بال", "fel": "فال", "fil": "فال", "lal": "لل", "lel": "لل", "3al": "عال",
}
_GLUED_ARTICLE = re.compile(r"(?:w|b|f)?(?:el|il)(?=[^aeiou]{1,2}[a-z0-9])")

_MULTI = {
    "3'": "غ", "7'": "خ", "9'": "ض", "6'": "ظ", "sh": "ش", "kh": "خ", "gh": "غ", "th": "ث", "dh": "ذ",
    "ch": "تش", "aa": "ا", "ee": "ي", "ii": "ي", "oo": "و", "ou": "و", "ei": "ي", "ai": "اي", "ay": "اي",
}
_SINGLE = {
    "2": "ق", "3": "ع", "5": "خ", "6": "ط", "7": "ح", "8": "ق", "9": "ص", "b": "ب", "t": "ت", "j": "ج",
    "g": "ج", "d": "د", "r": "ر", "z": "ز", "s": "س", "f": "ف", "q": "ق", "k": "ك", "l": "ل", "m": "م",
    "n": "ن", "h": "ه", "w": "و", "y": "ي", "v": "ف", "p": "ب", "x": "كس", "c": "ك",
    "i": "ي", "o": "و", "u": "و", "a": "", "e": "",
}
_UNITS = re.compile("3'|7'|9'|6'|sh|kh|gh|th|dh|ch|aa|ee|ii|oo|ou|ei|ai|ay|[a-z0-9]")
_VOWELS = frozenset("aeiou")
_LATIN = re.compile(r"[a-z0-9']*[a-z][a-z0-9']*")
_REPEATS = re.compile(r"([\u0621-\u064a])\1+")


@lru_cache(maxsize=65536)
def transliterate_word(word: str) -> str:
    """One lower-case Latin word in Arabic script; anything else is returned as it is."""
    if not _LATIN.fullmatch(word):
        return word
    found = _LEXICON.get(word)
    if found is not None:
        return found
    prefix = ""
    glued = _GLUED_ARTICLE.match(word)
    if glued and len(word) - glued.end() >= 3:
        prefix, word = _PREFIX_WORDS.get(glued.group(), "ال"), word[glued.end():]
        found = _LEXICON.get(word)
        if found is not None:
            return prefix + found
    units = _UNITS.findall(word)  # a stray apostrophe is skipped
    letters = []
    last = len(units) - 1
    for i, unit in enumerate(units):
        if unit in _MULTI:
            letters.append(_MULTI[unit])
        elif i == 0 and unit in _VOWELS:
            letters.append("ا")  # a word never starts with a vowel in Arabic script
        elif i == last and unit in "ae":
            letters.append("ه" if len("".join(letters)) >= 3 else "ا")
        elif i == last and unit == "h" and units[i - 1] in ("a", "e"):
            letters.append("ه")
        else:
            letters.append(_SINGLE.get(unit, ""))
    arabic = _REPEATS.sub(r"\1", "".join(letters))
    if arabic.endswith("هه") and len(arabic) > 2:
        arabic = arabic[:-1]
    return prefix + arabic


def transliterate(normalized: str) -> str:
    """A normalised message with its Latin words in Arabic script (``normalize_for_model`` tokens
    in, the same tokens out, the article joined to the word after it)."""
    return " ".join(transliterate_tokens(normalized.split()))


def transliterate_tokens(tokens: list[str]) -> list[str]:
    """``transliterate`` on a list of tokens."""
    out: list[str] = []
    pending = ""
    for token in tokens:
        joined = _PREFIX_WORDS.get(token)
        if joined is not None:
            pending += joined
            continue
        word = transliterate_word(token)
        if pending and word.startswith("ال") and pending.endswith("ال"):
            word = word[2:]
        out.append(pending + word)
        pending = ""
    if pending:
        out.append(pending)
    return out
