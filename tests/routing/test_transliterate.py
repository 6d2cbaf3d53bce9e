import pickle
import time

import pytest

from routing.intent.features import Analyzer, ArabiziReader
from routing.normalize import normalize_for_model
from routing.transliterate import ArabicWords, transliterate, transliterate_tokens, transliterate_word


@pytest.mark.parametrize(
    ("arabizi", "arabic"),
    [
        # the common words, from the lexicon
        ("el fatora 3ndi ktir", "الفاتوره عندي كتير"),
        ("shu fi? bdi raseed", "شو في ? بدي رصيد"),
        ("leish el net mish sha3'al", "ليش النت مش شغل"),
        # letter by letter: digits as letters, digraphs, the article joined to its word
        ("el 5a6 ma2too3 mn imbare7", "الخط مقطوع من امبارح"),
        ("bdi a7awel ra9eed la ra2am tani", "بدي احول رصيد لا رقم تني"),
        ("el shabakeh 6ay7a bel jami3a", "الشبكه طايحه بالجميعه"),
        ("ma 7ada bi7ki ma3i", "ما حدا بيحكي معي"),
        # glued article and preposition
        ("elfatora wel7azmeh", "الفاتوره والحزمه"),
    ],
)
def test_arabizi_meets_the_arabic_spelling(arabizi, arabic):
    assert transliterate(normalize_for_model(arabizi)) == arabic


def test_arabizi_and_arabic_share_character_ngrams():
    """The point of the view: an Arabizi message and its Arabic twin have features in common."""
    view = Analyzer("translit", 2, 5)
    arabizi = set(view(normalize_for_model("el fatora 3alyeh ktir hal shahr")))
    arabic = set(view(normalize_for_model("الفاتورة عالية كتير هالشهر")))
    assert len(arabizi & arabic) >= 0.5 * len(arabic)


def test_the_view_leaves_arabic_as_it_is_and_english_out():
    view = Analyzer("translit", 2, 5)
    assert view.words(normalize_for_model("الفاتورة غالية")) == ["الفاتوره", "غاليه"]
    assert view.words(normalize_for_model("My bill is too high this month")) == []
    # mixed: the Arabic words stay, the English ones are left to the other views
    assert view.words(normalize_for_model("الـ router تبعي مش شغال since yesterday")) == [
        "ال", "تبعي", "مش", "شغال"]


@pytest.mark.parametrize("token", ["", "5", "PHONE", "URL", "😡", "?", "الخط", "20.5", "3.5"])
def test_what_is_not_a_latin_word_is_kept(token):
    assert transliterate_word(token) == token


def test_odd_input_does_not_break_it():
    for text in ["el", "el el el", "w", "'''", "a", "aeiou", "x" * 5000, "3'3'3'", "l 5"]:
        assert isinstance(transliterate(normalize_for_model(text)), str)
    assert transliterate("el") == "ال"


def test_fast_enough_for_one_message():
    transliterate_word.cache_clear()
    words = [f"w{i}rd{i % 7}a" for i in range(2000)]  # nothing cached: the slow path
    started = time.perf_counter()
    for word in words:
        transliterate_word(word)
    assert (time.perf_counter() - started) / len(words) < 50e-6


# --- spelt as the training data spells Arabic (ArabicWords) ---

WORDS = ArabicWords({"ساعه": 40, "سعه": 2, "كان": 60, "كن": 3, "جوال": 25, "مكالمات": 12, "حزمه": 30,
                     "كلها": 9, "قال": 20, "على": 0, "علي": 50, "ميت": 4, "شغل": 15, "سبب": 6, "سب": 30,
                     "شباب": 7, "رد": 12})


@pytest.mark.parametrize(
    ("arabizi", "letter_by_letter", "guided"),
    [
        ("sa3a", "سعا", "ساعه"),  # a long vowel letter by letter cannot see
        ("kan", "كن", "كان"),
        ("jawwal", "جول", "جوال"),
        ("mokalamat", "موكلمت", "مكالمات"),  # a short o, a long a
        ("7azmet", "حزمت", "حزمه"),  # a final "et" is ة
        ("kollha", "كوله", "كلها"),
        ("3ala", "على", "علي"),  # the lexicon's word, folded as normalize_for_model folds it
        ("shoghol", "شوغول", "شغل"),
        ("sabab", "سب", "سبب"),  # a letter after a dropped vowel is not a doubled one
        ("shabab", "شب", "شباب"),
        ("radd", "رد", "رد"),  # a letter written twice is
    ],
)
def test_known_words_settle_what_letters_leave_open(arabizi, letter_by_letter, guided):
    assert transliterate_word(arabizi) == letter_by_letter
    assert WORDS.transliterate_word(arabizi) == guided


def test_the_article_stays_apart_from_a_word_kept_in_latin():
    assert transliterate_tokens(["el", "router", "5arban"], WORDS, frozenset({"router"})) == ["ال", "router", "خربن"]
    assert transliterate_tokens(["w", "el", "app"], keep=frozenset({"app"})) == ["وال", "app"]


def test_a_rare_spelling_needs_to_be_much_more_common_than_letter_by_letter():
    words = ArabicWords({"ساعه": 3, "سعا": 2})
    assert words.transliterate_word("sa3a") == "سعا"  # letter by letter is a known word: kept
    assert ArabicWords({"ساعه": 3}).transliterate_word("sa3a") == "ساعه"


def test_unknown_words_and_non_latin_tokens_are_as_letter_by_letter():
    for token in ("xyzzyq", "mafrooshat", "الفاتوره", "URL", "5g"):
        assert WORDS.transliterate_word(token) == transliterate_word(token)
    assert transliterate(normalize_for_model("el sa3a 5 w kan"), WORDS) == "الساعه 5 وكان"


def test_words_come_from_arabic_script_tokens_seen_twice_and_survive_pickling():
    words = ArabicWords.of(["الفاتوره عاليه bill", "الفاتوره واصله", "عاليه جدا"])
    assert words.counts == {"الفاتوره": 2, "عاليه": 2}
    again = pickle.loads(pickle.dumps(words))
    assert again.counts == words.counts
    assert again.transliterate_word("elfatoora") == words.transliterate_word("elfatoora") == "الفاتوره"


def test_the_view_spells_with_the_words_it_was_given():
    guided, plain = Analyzer("translit", 2, 5, arabic_words=WORDS), Analyzer("translit", 2, 5)
    assert guided.words("kan 3ndi sa3a") == ["كان", "عندي", "ساعه"]
    assert plain.words("kan 3ndi sa3a") == ["كن", "عندي", "سعا"]


@pytest.mark.parametrize("word", ["h" * 60, "ae" * 40, "s" * 50, "hahahahahahahahahahahaha", "a7a" * 10])
def test_long_runs_of_open_choices_are_spelt_at_once(word):
    """Every "h" may be ه or ح and every vowel dropped: a search over all of them would never end."""
    words = ArabicWords({"هه": 5, "حح": 5, "اح": 5, "سس": 3, "ه": 9, "ح": 9, "ا": 9})
    assert words.transliterate_word(word) in {transliterate_word(word), *words.counts}


# --- the reader: a whole Arabizi message in Arabic script (features.ArabiziReader) ---

def test_the_reader_learns_its_words_and_the_english_it_keeps_from_the_training_rows():
    texts = [normalize_for_model(text) for text in (
        "الراوتر خربان من امبارح", "الراوتر خربان", "my router is broken", "the router keeps dropping",
        "router reset did nothing", "the app is slow", "the app logs me out", "the app crashed again",
        "la ya3ni la", "la msh hek", "la2 la", "el app msh 3am yefta7",
    )]
    reader = ArabiziReader.of(texts)
    assert reader.words.counts == {"الراوتر": 2, "خربان": 2}
    # "router" and "app": English rows write them; "la" is Arabizi's as often as anyone's
    assert {"router", "app"} <= reader.english and "la" not in reader.english
    assert reader("el router 5arban") == "ال router خربان"
    assert reader("my router is broken") == "my router is broken"  # English is left as it is
    mixed = normalize_for_model("الـ router خربان")
    assert reader(mixed) == mixed == "ال router خربان"  # and so is code-mixing, whose Latin words are English
    assert ArabiziReader.of(texts, keep_english=False)("el router 5arban") == "الراوتر خربان"
    assert pickle.loads(pickle.dumps(reader))("el router 5arban") == "ال router خربان"
