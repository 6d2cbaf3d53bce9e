
import pytest
from pyarabic import araby

from routing.intent.data import DATA_PATH, read_jsonl
from routing.normalize import fold_arabic, normalize_for_model, tokenize_for_model


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # elongation: Arabic letters to one, Latin to two
        ("مشكلةةةة", "مشكله"),
        ("ليييش", "ليش"),
        ("soooo slooow", "soo sloow"),
        # alef, hamza, ya, ta marbuta, tashkeel, tatweel
        ("إنترنـــت أسرع", "انترنت اسرع"),
        ("آخر مسؤول شاطئ على", "اخر مسوول شاطي علي"),
        ("مُشْكِلَة", "مشكله"),
        # Arabizi digits are letters inside Latin words
        ("el net 3ndi ba6ee2", "el net 3ndi ba6ee2"),
        ("ma nde3'mt", "ma nde3'mt"),
        ("3'eir ma fi, 7'alas", "3'eir ma fi 7'alas"),  # a word may start with 3' (غ) or 7' (خ)
        ("bill 3' 5", "bill 3 5"),  # but a lone digit and apostrophe is no word
        ("5G router, Samsung A54", "5g router samsung a54"),
        # placeholders
        ("https://t.co/xYz فاتورتي", "URL فاتورتي"),
        ("see tawasul.jo/offers", "see URL"),
        ("@ahmad.k @سارة_٩٢ بدي اربح", "MENTION MENTION بدي اربح"),
        ("mail me: a.b@x.com", "mail me EMAIL"),
        ("رقمي 07XXXXXXXX و 0791234xxx و +962 79 123 4567", "رقمي PHONE و PHONE و PHONE"),
        # amounts kept whole, dinars as one unit
        ("١٥ دينار و 15JD و JD 3.5 و 0.75", "15 jd و 15 jd و 3.5 jd و 0.75"),
        ("دفعت دينارين", "دفعت دينارين"),
        # Arabic-Indic digits, punctuation runs, emoji runs
        ("فاتورة شهر ٣؟؟؟", "فاتوره شهر 3 ?"),
        ("😡😡😡 !!!", "😡 !"),
        ("الـSMS", "ال sms"),
    ],
)
def test_normalize_for_model(text, expected):
    assert normalize_for_model(text) == expected


def test_tokens_are_what_the_vectorisers_see():
    assert tokenize_for_model("El net 3ndi ba6ee2 😡 https://x.co") == ["el", "net", "3ndi", "ba6ee2", "😡", "URL"]


@pytest.mark.parametrize("text", ["", " ", "\x00", "\ud800", "\u200f\u200e", "؟!"])
def test_nothing_to_read_normalises_to_little_or_nothing(text):
    assert normalize_for_model(text).replace("?", "").replace("!", "").strip() == ""


def test_arabic_folding_equals_pyarabic_on_every_message():
    def by_pyarabic(text):
        text = araby.strip_tatweel(araby.strip_tashkeel(text)).replace(araby.ALEF_MAKSURA, araby.YEH)
        return araby.normalize_teh(araby.normalize_alef(araby.normalize_hamza(text, method="tasheel")))

    texts = [row["text"] for row in read_jsonl(DATA_PATH)]
    texts += ["إِنَّ ٱلْقُرْآنَ", "مسؤول", "شاطئ", "مستشفى", "آمنة"]
    assert [fold_arabic(t) for t in texts] == [by_pyarabic(t) for t in texts]


SPANNING = [
    "call me on 079 123 4567 pls", "رقمي ٠٧٨ ١٢٣ ٤٥٦٧", "+962 79 123 4567", "9\u200b62 79 123 4567",
    "paid 5 jd yesterday", "الفاتورة 12.5 دينار", "jd 7 for 3 days", "٥ دنانير", "10 JOD", "5 د.ا",
    "07XXXXXXXX", "3ndi mshkle bl net", "wallah 7aram", "hiii\u00a0there", "x\u2028y", "a\u00a8b", "ﷺ ok",
    "@omar.k www.tawasul.jo/help?x=1 omar@mail.com", "ممممشكلةةةة؟؟؟ 😡😡😡", "\u200f\u202eابc\u200d",
]


def test_word_by_word_normalisation_equals_the_whole_text():
    """normalize_for_model reads most messages word by word (and remembers words); on every message
    of the data and on text that a phone number, an amount or odd spacing could join across a
    space, it must give what normalising the whole text gives."""
    import unicodedata

    from routing.normalize import _DIGITS, _INVISIBLE, _normalize_folded, clean_for_storage

    def folded(text):
        return _INVISIBLE.sub("", unicodedata.normalize("NFKC", clean_for_storage(text))).translate(_DIGITS).lower()

    texts = [row["text"] for row in read_jsonl(DATA_PATH)] + SPANNING
    whole = [_normalize_folded(folded(t)) for t in texts]
    assert [normalize_for_model(t) for t in texts] == whole
    assert normalize_for_model("call me on 079 123 4567 pls") == "call me on PHONE pls"
    assert normalize_for_model("paid 5 jd yesterday") == "paid 5 jd yesterday"
