"""Arabizi → Arabic script, so that an Arabizi message shares what the classifier learnt from the
Arabic half of the data: "el fatora 3ndi 3alyeh" → "الفاتوره عندي عاليه".

Not a faithful transliteration (Arabizi drops short vowels and writes long ones as it pleases):
it aims at the spelling Jordanians use in Arabic script, folded as ``normalize_for_model`` folds
it (ة → ه, أ/إ/آ → ا, ى → ي), so that character n-grams of both meet. A small lexicon gives the
common words exactly; other words go letter by letter: digits as letters (2 ق, 3 ع, 3' غ, 5 خ,
6 ط, 7 ح, 8 ق, 9 ص), digraphs (sh ش, kh خ, gh غ, th ث, dh ذ, ch تش), short vowels dropped inside
a word, long ones (aa, ee, oo, ou) and i/o/u written as ا / ي / و, a final a/e/eh/ah as ه after
three letters (else ا). The article ("el", "il", "al", "l") joins the next word, as in Arabic script.

Letter by letter cannot know which vowels are long, whether "2" is ق or ء, or whether a final
"et" is ة: "sa3a" comes out "سعا" where customers write "ساعه". ``ArabicWords`` resolves those
choices against the Arabic-script words a model was trained on: among the spellings the letters
allow, it takes the one customers write, preferring the fewest departures from letter by letter
(each costs ``DEPARTURE_COST`` in log-frequency), and keeps letter by letter when none is a known
word.

Plain Python: every word's result is cached (``ArabicWords`` keeps its own cache).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from routing.normalize import fold_arabic

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
    found = _from_lexicon(word)
    if found is not None:
        return found
    prefix, word = _article_and_stem(word)
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


def _article_and_stem(word: str) -> tuple[str, str]:
    """An article glued on ("elfatora", "bilnet") in Arabic script, and the rest of the word."""
    glued = _GLUED_ARTICLE.match(word)
    if glued and len(word) - glued.end() >= 3:
        return _PREFIX_WORDS.get(glued.group(), "ال"), word[glued.end():]
    return "", word


def _from_lexicon(word: str) -> str | None:
    """The lexicon's spelling of ``word``, or of its stem after a glued article; None if neither."""
    found = _LEXICON.get(word)
    if found is not None:
        return found
    prefix, stem = _article_and_stem(word)
    found = _LEXICON.get(stem) if prefix else None
    return None if found is None else prefix + found


def transliterate(normalized: str, words: ArabicWords | None = None) -> str:
    """A normalised message with its Latin words in Arabic script (``normalize_for_model`` tokens
    in, the same tokens out, the article joined to the word after it)."""
    return " ".join(transliterate_tokens(normalized.split(), words))


def transliterate_tokens(tokens: list[str], words: ArabicWords | None = None,
                         keep: frozenset[str] = frozenset()) -> list[str]:
    """``transliterate`` on a list of tokens; with ``words``, each word spelt as they spell it.
    Words in ``keep`` stay as they are, an article before them written apart ("el router" →
    "ال router", as Arabic script writes "الـ router")."""
    out: list[str] = []
    pending = ""
    spell = words.transliterate_word if words is not None else transliterate_word
    for token in tokens:
        if token in keep:
            out.extend((pending, token) if pending else (token,))
            pending = ""
            continue
        joined = _PREFIX_WORDS.get(token)
        if joined is not None:
            pending += joined
            continue
        word = spell(token)
        if pending and word.startswith("ال") and pending.endswith("ال"):
            word = word[2:]
        out.append(pending + word)
        pending = ""
    if pending:
        out.append(pending)
    return out


# --- spelt as the training data spells it ----------------------------------------------------

DEPARTURE_COST = 1.5  # a departure from letter by letter must be e^1.5 ≈ 4.5 times as common
MIN_COUNT = 2  # a word seen once may be a typo
_CACHE_LIMIT = 65536
_MAX_UNITS = 24  # longer "words" (laughter, keyboard mashing) are left letter by letter
_ARABIC_TOKEN = re.compile("[\u0621-\u064a]+")
_FINAL_LONG, _FINAL_SHORT = ("ه", "ا", "ي"), ("ا", "ه", "ي")
_FINAL_VOWEL = ("<a final a or e>",)  # a marker: _best reads it as _FINAL_LONG or _FINAL_SHORT by length
# What each unit may stand for, letter by letter's reading first.
_CHOICES: dict[str, tuple[str, ...]] = {
    "a": ("", "ا"), "e": ("", "ي", "ا"), "i": ("ي", ""), "o": ("و", ""), "u": ("و", ""),
    "2": ("ق", "ء", "ا", "ي", "و"), "9": ("ص", "ق"), "8": ("ق", "غ"), "g": ("ج", "ق", "غ"),
    "d": ("د", "ض", "ذ"), "t": ("ت", "ط", "ث", "ه"), "s": ("س", "ص", "ث"), "z": ("ز", "ظ", "ذ"),
    "th": ("ث", "ذ", "ظ"), "dh": ("ذ", "ض", "ظ"), "h": ("ه", "ح"), "6": ("ط", "ظ"), "k": ("ك", "ق"),
    "ay": ("اي", "ي"), "ai": ("اي", "ي"), "ei": ("ي", "اي"), "ou": ("و", "او"),
}


class ArabicWords:
    """The Arabic-script words of a model's training messages and how often each occurs: the
    spellings transliteration chooses from. Saved with the model (only the counts)."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        self._prefixes = {word[:i] for word in counts for i in range(1, len(word) + 1)}
        self._cache: dict[str, str] = {}

    @classmethod
    def of(cls, normalized_texts: Iterable[str], min_count: int = MIN_COUNT) -> ArabicWords:
        """From ``normalize_for_model`` texts: every Arabic-script word seen ``min_count`` times."""
        counts = Counter(token for text in normalized_texts for token in text.split()
                         if _ARABIC_TOKEN.fullmatch(token))
        return cls({word: n for word, n in counts.items() if n >= min_count})

    def __getstate__(self) -> dict:
        return {"counts": self.counts}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["counts"])

    def transliterate_word(self, word: str) -> str:
        """``transliterate_word``, each choice the letters leave open settled by these words."""
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) >= _CACHE_LIMIT:  # a server meets new spellings every day
                self._cache.clear()
            found = self._cache[word] = self._spell(word)
        return found

    def _spell(self, word: str) -> str:
        if not _LATIN.fullmatch(word):
            return word
        known = _from_lexicon(word)
        if known is not None:
            return fold_arabic(known)  # as the training words are spelt (على → علي)
        prefix, stem = _article_and_stem(word)
        best = self._best(prefix, _choices(_UNITS.findall(stem)))
        return best if best is not None else transliterate_word(word)

    def _best(self, prefix: str, choices: list[tuple[str, ...]]) -> str | None:
        """The known word the choices can spell with the least cost (departures × cost − log
        count), searched depth first and only along prefixes of known words. Each (unit, spelling
        so far) is visited again only with fewer departures, so a run of letters that spell
        nothing new ("hhhhhh", "aeaeae") costs linear time, not exponential."""
        if len(choices) > _MAX_UNITS:
            return None
        best: list = [None, math.inf]
        counts, prefixes, last = self.counts, self._prefixes, len(choices)
        fewest: dict[tuple[int, str, bool], int] = {}

        def visit(i: int, spelt: str, departures: int, dropped: bool = False) -> None:
            """``dropped``: the unit before wrote nothing (a short vowel), so the next letter is
            not a doubled one ("sabab" is سبب, "ba33" is بع)."""
            if fewest.get((i, spelt, dropped), _MAX_UNITS + 1) <= departures:
                return
            fewest[i, spelt, dropped] = departures
            if i == last:
                count = counts.get(spelt)
                if count:
                    cost = DEPARTURE_COST * departures - math.log(count)
                    if cost < best[1]:
                        best[:] = [spelt, cost]
                return
            options = choices[i]
            if options is _FINAL_VOWEL:  # as letter by letter: ه after three letters, else ا
                options = _FINAL_LONG if len(spelt) - len(prefix) >= 3 else _FINAL_SHORT
            for k, letters in enumerate(options):
                if letters and not dropped and len(spelt) > len(prefix) and spelt[-1] == letters[0]:
                    letters = letters[1:]  # a doubled letter is written once
                extended = spelt + letters
                if extended == spelt or extended in prefixes:
                    visit(i + 1, extended, departures + (k > 0), not options[k])

        visit(0, prefix, 0)
        return best[0]


def _choices(units: list[str]) -> list[tuple[str, ...]]:
    """What each unit of an Arabizi word may be in Arabic script, letter by letter's reading first."""
    last = len(units) - 1
    choices = []
    for i, unit in enumerate(units):
        if unit in _MULTI and unit not in _CHOICES:
            options: tuple[str, ...] = (_MULTI[unit],)
        elif i == 0 and unit in _VOWELS:
            options = ("ا",) if unit in "ae" else ("ا", "او" if unit in "ou" else "اي")
        elif i == last and unit in "ae":
            options = _FINAL_SHORT if i and units[i - 1] == "h" else _FINAL_VOWEL  # "-ha": ها
        elif i == last and unit == "h" and i and units[i - 1] in ("a", "e"):
            options = ("ه",)
        else:
            options = _CHOICES.get(unit, (_MULTI.get(unit) or _SINGLE.get(unit, ""),))
        choices.append(options)
    return choices
