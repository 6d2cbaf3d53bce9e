"""Which language a customer wrote in: ar, en, arabizi or mixed (DESIGN.md, "Intents").

The rules follow how the training data was labelled (routing/data/README.md): an Arabic-script
message is ``mixed`` when it contains an English word, and ``ar`` when its only Latin characters
are @handles, links, masked numbers, network generations (4G/5G) or model codes (A54, S24).
Latin-script text is Arabizi or English by which of the two vocabularies it uses more.
"""
from __future__ import annotations

import re
from functools import lru_cache

from routing.normalize import clean_for_storage, fold_digits

_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f]")
_LATIN_LETTER = re.compile("[A-Za-z]")
# Latin text that says nothing about the writer's language.
_NOT_WORDS = re.compile(
    r"(?:https?://|www\.)\S+|\S+@\S+|[@#]\w+(?:\.\w+)*"
    # (look-arounds, not \b: "الـ5G" has no word boundary before the 5)
    r"|(?<![A-Za-z0-9])[A-Za-z0-9]*\d[A-Za-z0-9]*[xX]{2,}(?![A-Za-z0-9])"  # 07XXXXXXXX, 55xxx
    r"|(?<![A-Za-z0-9])\d+\s?[GgKkMm][Bb]?(?![A-Za-z0-9])"  # 4G, 5G, 10GB, 300MB
    r"|(?<![A-Za-z0-9])[A-Za-z]\d+(?![A-Za-z0-9])"  # model codes: A54, S24
)
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
# Arabizi writes ع ح خ ط ء ق غ as 3 7 5 6 2 9 3' inside Latin words ("3ndi", "ba6ee2", "7ada").
_ARABIZI_DIGIT_WORD = re.compile(r"(?=[a-z0-9']*[a-z])[a-z0-9']*(?:[235679]|3')[a-z0-9']*")
# ...but not "5g", "2nd", "10gb", "3rd", "s24": a number with a unit or ordinal, a model code.
_NUMBER_WITH_UNIT = re.compile(r"\d+(?:st|nd|rd|th|g|gb|mb|jd|k|m|h|min|mins|am|pm|x)|[a-z]{1,2}\d+")
_LAUGHTER = re.compile(r"(?:h{3,}|(?:ha){3,}|5{3,})")  # "hhhh", Arabic laughter; "haha" is neutral
_ARABIZI_WORDS = frozenset(
    """
    el il al l w wa b bel bil fel fil lal lel 3al 3ala 3an ma mish msh mesh mush ma3 m3 mn mni
    fi fe fih fiha mafi mafish ana ente enta enti ento inte hoe hoo hiye hye e7na i7na ehna
    bdi badi biddi bidi bdo bdha bdna bdkom baddi shu sho shoo esh eish lesh leish laish leh lei
    kif keef kaif kam addesh adesh qaddesh ween wein wen meen ya3ni yani ya wallah walla wala
    wla willa bas bs kaman kamn lissa lsa lesa lessa hala2 halla2 halla hala hal hay hayy hada hadi
    hadol hek heik hik zay zai zy inno enno enoh ino elli illi lli yalla yallah khalas 5alas 5las
    tayeb tayyeb tamam akeed lazem lazim mumken mmkn momken bs2al ba2dar b2dar bi2ol bt2ol
    marhaba mar7aba ahlan shukran shokran shokr shukr mashkoor mashkoorin ya3tikom
    kteer ktir kter ishi eshi shi kolshi kol kul kolha awwal tani tanyeh marra marrat mara
    yom yoom yomein ayyam shahr shhoor sa3a sob7 lail bukra mbare7 hala2 lamma lama
    ba3d 2abl abl 3shan 3ashan la2nno la2nu liesh bala 7ata 7atta ma3 m3ak ma3i ma3ko
    beit dar sa7bi sa7ebti a5oi a5ooi abooy abui emmi immi
    fatora fatoora raseed rased 7azmeh 7azmet tajwal shabakeh shabakah shari7a shre7a
    ra2am ra2mi masari mosari flos mablagh rsoom far3 mowazzaf mwazzaf fanni jdeed jdeedeh
    3ndi 3andi 3ndna 3endi ma3i sar sarli sarlna sarlo kan kanat ija ijat bijeeni
    """.split()
)
_ENGLISH_WORDS = frozenset(
    """
    the a an i i'm i've i'll my me mine you you're your yours he she it it's its we our us they
    their them is am are was were be been being have has had do does did don't doesn't didn't
    can can't cannot could couldn't will won't would wouldn't should shall may might must
    and or but if so because since for from to of in on at by with without about into over
    after before again still already just only even also not no yes please kindly thanks thank
    this that these those there here what why how when where who which whose all any some every
    one two three more most much many very too than then now today yesterday tomorrow week month
    get got give gave want need know think say says said tell told make made take took come came
    still back out up down off same other another new old good bad nothing something someone
    """.split()
)


@lru_cache(maxsize=65536)
def _votes(word: str) -> tuple[int, int]:
    """(1 if ``word`` reads as Arabizi, 1 if it is a common English word): a few regexes per word,
    so remembered."""
    arabizi = (word in _ARABIZI_WORDS or _LAUGHTER.fullmatch(word) is not None
               or (_ARABIZI_DIGIT_WORD.fullmatch(word) is not None and not _NUMBER_WITH_UNIT.fullmatch(word)))
    return int(arabizi), int(word in _ENGLISH_WORDS)


# Of _NOT_WORDS only "\d+\s?[GgKkMm]" can match across white space; without it, every pattern and
# every word stays inside one space-separated piece.
_UNIT_AFTER_SPACE = re.compile(r"\d\s[GgKkMm]")


def _words_of(text: str) -> list[str]:
    """The Latin words that tell English from Arabizi."""
    return [w for w in _LATIN_WORD.findall(_NOT_WORDS.sub(" ", text).lower()) if _LATIN_LETTER.search(w)]


@lru_cache(maxsize=65536)
def _words_of_piece(piece: str) -> tuple[str, ...]:
    return tuple(_words_of(piece))


def has_arabic_script(text: str) -> bool:
    """Whether any character of ``text`` is Arabic script (a letter, or Arabic punctuation)."""
    return _ARABIC_LETTER.search(text) is not None


def is_arabizi(words: list[str]) -> bool:
    """Whether lower-case Latin words read as Arabizi rather than English."""
    arabizi = english = 0
    for word in words:
        a, e = _votes(word)
        arabizi += a
        english += e
    return arabizi > english or (arabizi > 0 and arabizi == english and arabizi / len(words) >= 0.2)


def detect_language(text: str) -> str:
    """``ar``, ``en``, ``arabizi`` or ``mixed`` for any text; emoji- or digit-only text is ``ar``,
    the market's default."""
    text = clean_for_storage(text)
    if not _LATIN_LETTER.search(text):
        return "ar"  # Arabic script only, or emoji, digits and punctuation: the market's default
    text = fold_digits(text)
    if _UNIT_AFTER_SPACE.search(text):  # "4 G": the one thing that joins across a space
        words = _words_of(text)
    else:  # the same words, piece by piece, each piece remembered
        words = [w for piece in text.split() for w in _words_of_piece(piece)]
    if has_arabic_script(text):
        return "mixed" if words else "ar"
    if not words:
        return "ar"
    return "arabizi" if is_arabizi(words) else "en"
