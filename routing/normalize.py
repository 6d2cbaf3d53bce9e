"""Text clean-up before anything reads it: storage-safe and Arabic-aware."""
from __future__ import annotations

import re
import unicodedata

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_ARABIC_INDIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_ALEF_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})


def clean_for_storage(text: str) -> str:
    """Make any text storable everywhere: PostgreSQL ``text`` rejects NUL, and a lone
    surrogate cannot be encoded as UTF-8. Everything else is kept byte for byte."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def normalize_arabic(text: str) -> str:
    """Fold the spelling variants that mean the same word, for matching and classifying
    (never for display): diacritics, tatweel, alef/ya/ta-marbuta forms, Arabic-Indic digits."""
    text = unicodedata.normalize("NFKC", text)
    text = _TASHKEEL.sub("", text).replace(_TATWEEL, "")
    return text.translate(_ALEF_FORMS).translate(_ARABIC_INDIC_DIGITS)
