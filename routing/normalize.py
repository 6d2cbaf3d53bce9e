"""Text clean-up before anything reads it: storage-safe and Arabic-aware.

``clean_for_storage`` keeps what the customer wrote; ``normalize_arabic`` folds spelling variants
for matching; ``normalize_for_model`` turns a message into the space-separated tokens that the
classifier's vectorisers read (never shown to anyone).
"""
from __future__ import annotations

import re
import unicodedata
import warnings
from functools import lru_cache

with warnings.catch_warnings():
    # pyarabic 0.6.15 has an invalid "\w" escape in a string literal: a DeprecationWarning
    # (SyntaxWarning on 3.12+) whenever its bytecode is compiled afresh. Not our code.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    from pyarabic import araby

# Diacritics: pyarabic's tashkeel plus the Quranic marks, superscript alef and combining hamzas
# it leaves in place. One regex, because araby.strip_tashkeel tests each character in Python.
_MARKS = re.compile("[" + "".join(araby.TASHKEEL) + "\u0610-\u061a\u0653-\u065f\u0670\u06d6-\u06ed]")
# pyarabic's letter folds in one translate: tatweel dropped; ى → ي (first, because pyarabic's
# normalize_alef would make it an alef); hamza "tasheel" (أ إ آ ٱ → ا, ؤ → و, ئ → ي); ة → ه.
# tests/routing/test_normalize.py checks this table against pyarabic's own functions.
_LETTERS = str.maketrans({
    araby.TATWEEL: None,
    araby.ALEF_MAKSURA: araby.YEH,
    araby.ALEF_MADDA: araby.ALEF,
    araby.ALEF_HAMZA_ABOVE: araby.ALEF,
    araby.ALEF_HAMZA_BELOW: araby.ALEF,
    araby.ALEF_WASLA: araby.ALEF,
    araby.WAW_HAMZA: araby.WAW,
    araby.YEH_HAMZA: araby.YEH,
    araby.TEH_MARBUTA: araby.HEH,
})
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
# Bidi marks, zero-width characters and the emoji variation selector: invisible, never meaningful.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")


def clean_for_storage(text: str) -> str:
    """Make any text storable everywhere: PostgreSQL ``text`` rejects NUL, and a lone
    surrogate cannot be encoded as UTF-8. Everything else is kept byte for byte."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def fold_arabic(text: str) -> str:
    """Diacritics and tatweel dropped; alef, hamza, alef maksura and ta marbuta forms folded."""
    return _MARKS.sub("", text).translate(_LETTERS)


def fold_digits(text: str) -> str:
    """Arabic-Indic and Persian digits (and the Arabic decimal and thousands marks) → ASCII."""
    return text.translate(_DIGITS)


def normalize_arabic(text: str) -> str:
    """Fold the spelling variants that mean the same word, for matching and classifying
    (never for display): diacritics, tatweel, alef/ya/ta-marbuta forms, Arabic-Indic digits."""
    text = unicodedata.normalize("NFKC", text)
    return fold_arabic(text).translate(_DIGITS)


# --- normalisation for the classifier -------------------------------------------------------

# The look-behinds anchor each pattern at the start of a run, keeping every search linear.
_URL = re.compile(r"(?:https?://|www\.)\S+|(?<![\w.-])[a-z0-9][a-z0-9-]*\.(?:com|net|org|jo|ly|io|me)\b(?:/\S*)?")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"@\w+(?:\.\w+)*")
# Jordanian mobiles (07[789] + 7 digits, +962 / 00962 / 962 prefixes) and Amman-style
# landlines; customers mask digits with x ("07XXXXXXXX", "0791234xxx").
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)?962[\s-]?0?|0)(?:7[789x]|[2356x])(?:[\s-]?[\dx]){7}(?![\w])"
)
_CURRENCY = re.compile(
    r"(?<![\d.,])(\d+(?:[.,]\d+)?)\s*(?:jd|jod|dinars?|دينار|دنانير|د\.ا)(?![a-z\u0621-\u064a])"
    r"|(?<![a-z])(?:jd|jod)\s*(\d+(?:[.,]\d+)?)"
)
_ARABIC_ELONGATION = re.compile(r"([\u0621-\u064a])\1{2,}")  # مشكلههههه → مشكله, ليييش → ليش
_LATIN_ELONGATION = re.compile(r"([a-z])\1{2,}")  # soooo → soo, pleeease → pleease
_ANY_ARABIC = re.compile("[\u0600-\u06ff]")
_ANY_DIGIT = re.compile(r"\d")
_MARK_RUN = re.compile(r"([?!])\1+")  # ؟؟؟ → ?, !!! → !
_EMOJI_RUN = re.compile(r"([\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff])\1+")

# One token: a placeholder; a number (decimals, times and IPs kept whole); a Latin word in which
# digits are letters (Arabizi "3ndi", "ba6ee2", "3'eir", "7'alas": 3' 7' 9' 6' are letters too, even
# first; also "5g", "a54"); an Arabic word; one
# emoji; a question or exclamation mark. Anything else separates tokens.
_TOKEN = re.compile(
    r"URL|EMAIL|MENTION|PHONE"
    r"|(?:\d*[3679]')?\d*[a-z][0-9a-z]*(?:'[0-9a-z]+)*"
    r"|\d+(?:[.,:]\d+)*"
    r"|[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff\u0750-\u077f]+"
    r"|[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]"
    r"|[?!]"
)


def normalize_for_model(text: str) -> str:
    """The classifier's view of a message: one string of space-separated tokens.

    Storage-cleaned and NFKC-folded; URLs, e-mail addresses, @mentions and phone numbers become
    the placeholders URL, EMAIL, MENTION, PHONE; Latin lower-cased; Arabic folded (pyarabic:
    tashkeel, tatweel, hamza/alef, alef maksura → ya, ta marbuta → ha); Arabic-Indic digits → ASCII;
    amounts in dinars → "<number> jd"; elongations collapsed (Arabic letters to one, Latin to two);
    emojis kept as tokens. Digits inside Latin words are Arabizi letters, so "3ndi" stays whole.
    Linear in the length of the text; callers bound the length.

    No token spans white space, and only a phone number or an amount can be matched across it; a
    message that can hold neither (no "0", no "962", no digit beside a currency word: four in five)
    is normalised word by word, each word remembered, with the same result.
    """
    text = unicodedata.normalize("NFKC", clean_for_storage(text))
    text = _INVISIBLE.sub("", text).translate(_DIGITS).lower()  # none of these makes white space
    if "0" in text or "962" in text or (_may_hold_amount(text) and _ANY_DIGIT.search(text)):
        return _normalize_folded(text)
    return " ".join(filter(None, map(_normalize_word, text.split())))


def _may_hold_amount(text: str) -> bool:
    return "j" in text or "din" in text or "د" in text


def _normalize_folded(text: str) -> str:
    """``normalize_for_model`` of text already cleaned, NFKC-folded, stripped of invisible
    characters, with ASCII digits and lower-cased."""
    # Each pattern needs a character that most messages lack: test for it before searching.
    if "@" in text:
        text = _MENTION.sub(" MENTION ", _EMAIL.sub(" EMAIL ", text))
    if "." in text:
        text = _URL.sub(" URL ", text)
    if "0" in text or "9" in text:
        text = _PHONE.sub(" PHONE ", text)
    if _may_hold_amount(text) and _ANY_DIGIT.search(text):  # an amount has digits
        text = _CURRENCY.sub(lambda m: f" {m.group(1) or m.group(2)} jd ", text)
    if _ANY_ARABIC.search(text):
        text = _ARABIC_ELONGATION.sub(r"\1", fold_arabic(text.replace("؟", "?")))
    text = _LATIN_ELONGATION.sub(r"\1\1", text)
    if not text.isascii():
        text = _EMOJI_RUN.sub(r"\1", text)
    if "?" in text or "!" in text:
        text = _MARK_RUN.sub(r"\1", text)
    return " ".join(_TOKEN.findall(text))


_normalize_word = lru_cache(maxsize=100_000)(_normalize_folded)


def tokenize_for_model(text: str) -> list[str]:
    """The tokens of ``normalize_for_model``."""
    return normalize_for_model(text).split()
