"""Arabizi respellings for training (routing/intent/respell.py)."""
import random

from routing.intent.respell import respell, respell_word, respelt_rows
from routing.intent.skeleton import skeleton_word

ROWS = [
    {"text": "el net 3ndi ba6ee2 mn imbare7 w el fatoora 3alyeh", "intent": "internet_speed", "lang": "arabizi"},
    {"text": "leish el 5at msakkar, bdi a3'ayyer el ba2a", "intent": "sim_number", "lang": "arabizi"},
    {"text": "My bill is 40 JD, why?", "intent": "billing", "lang": "en"},
    {"text": "الفاتورة عالية كتير", "intent": "billing", "lang": "ar"},
    {"text": "shu el kood taba3 el sal7iyeh", "intent": "balance_recharge"},  # no lang: detected
]


def test_respellings_are_the_spellings_other_writers_use():
    rng = random.Random(1)
    spellings = {respell_word("5arbaneh", rng, p=1.0) for _ in range(200)}
    assert {"kharbaneh", "5arbana", "5arbane"} & spellings
    assert all(word[0] in "5k7" for word in spellings)  # the خ is written 5, kh or 7'
    assert {respell_word("3'ali", rng, p=1.0)[:2] for _ in range(100)} >= {"3'", "gh", "8a"}
    assert {respell_word("el", rng, p=1.0) for _ in range(100)} == {"el", "il", "l", "al"}


def test_a_respelt_word_keeps_its_consonants():
    rng = random.Random(2)
    for word in ("ma2too3", "msakkar", "fatoora", "sha7en", "shabakeh"):
        for _ in range(50):
            respelt = respell_word(word, rng)
            assert skeleton_word(respelt)[:2] == skeleton_word(word)[:2], (word, respelt)


def test_nothing_changes_at_probability_zero_and_numbers_never_change():
    rng = random.Random(3)
    assert respell("Leish El 5at msakkar 2023", rng, p=0.0) == "leish el 5at msakkar 2023"
    assert respell("0791234567 50 jd", rng, p=1.0).startswith("0791234567 50")


def test_only_arabizi_rows_get_copies_with_their_labels_and_one_seed_gives_one_set():
    copies = respelt_rows(ROWS, copies=2)
    sources = {row["intent"] for row in copies}
    assert sources <= {"internet_speed", "sim_number", "balance_recharge"} and "internet_speed" in sources
    assert all(row["text"] != source["text"].lower() for row in copies for source in ROWS
               if source["intent"] == row["intent"])
    assert len(copies) <= 6
    assert respelt_rows(ROWS, copies=2) == copies
    assert respelt_rows(ROWS, copies=2, seed=5) != copies
    assert respelt_rows(ROWS, copies=0) == []
