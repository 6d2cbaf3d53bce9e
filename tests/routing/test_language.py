import pytest

from routing.language import detect_language
from routing.normalize import clean_for_storage, normalize_arabic


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("النت فاصل عندي من الصبح", "ar"),
        ("My 5G router is slow since the 2nd", "en"),
        ("el net 3ndi ba6ee2 kteer", "arabizi"),
        ("mar7aba, shu fi 3arood?", "arabizi"),
        ("الـ router تبعي مش شغال since yesterday", "mixed"),
        ("😡😡", "ar"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_storage_cleaning_drops_nul_and_lone_surrogates_but_keeps_the_rest():
    assert clean_for_storage("a\x00b") == "ab"
    assert clean_for_storage("x\ud800y") == "x?y"
    assert clean_for_storage("<img src=x onerror=alert(1)> مرحبا") == "<img src=x onerror=alert(1)> مرحبا"


def test_arabic_normalisation_folds_spelling_variants():
    assert normalize_arabic("إنترنـــت") == normalize_arabic("انترنت")
    assert normalize_arabic("فاتورة") == "فاتوره"
    assert normalize_arabic("مُشكِلة ٥") == "مشكله 5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("الـ٥G ما بيشتغل عندي", "ar"),  # network generations are not English words
        ("اتصلوا على 07XXXXXXXX", "ar"),  # nor masked numbers
        ("@lana_j بدي اربح 🤞", "ar"),  # nor handles
        ("بدي الغي الـ eSIM", "mixed"),  # an English word in Arabic script
        ("kif bshoof tafaseel el mokalamat bel fatora?", "arabizi"),  # Arabizi without digits
        ("raseed??", "arabizi"),
        ("I can't log in to the app", "en"),
        ("", "ar"),
        ("\x00\ud800", "ar"),
    ],
)
def test_detect_language_follows_the_labelling_rules(text, expected):
    assert detect_language(text) == expected


def test_detect_language_agrees_with_the_labelled_data(train_rows, test_rows):
    for rows in (train_rows, test_rows):
        agreed = sum(detect_language(row["text"]) == row["lang"] for row in rows) / len(rows)
        assert agreed >= 0.99, agreed


def test_reading_a_message_piece_by_piece_finds_the_words_the_whole_text_gives(train_rows, test_rows):
    """detect_language reads most messages one space-separated piece at a time (and remembers
    pieces); the Latin words it finds must be those of the whole text, whatever joins pieces."""
    from routing import language

    texts = [row["text"] for row in train_rows + test_rows] + [
        "5G router", "need 4 G now", "10\tGB left", "1 gb", "bundle 3 k msgs", "@omar.k hi", "www.x.jo/a b",
        "07XXXXXXXX pls", "a54 screen", "mail me a@b.com", "#TawasulJO lesh", "3ndi 2 G bas", "hi\u00a0there 4\u00a0G",
    ]
    for text in texts:
        cleaned = language.fold_digits(clean_for_storage(text))
        pieces = [w for piece in cleaned.split() for w in language._words_of_piece(piece)]
        if not language._UNIT_AFTER_SPACE.search(cleaned):
            assert pieces == language._words_of(cleaned), text
    # Where pieces would differ ("4 G" read as a word "g"), the whole text is read instead.
    assert [w for p in "need 4 G now".split() for w in language._words_of_piece(p)] == ["need", "g", "now"]
    assert language._UNIT_AFTER_SPACE.search("need 4 G now")
