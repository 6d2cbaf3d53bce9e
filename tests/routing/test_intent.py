from dataclasses import replace

import numpy as np
import pytest

from routing.intent import MAX_CHARS, Prediction, classify, classify_many, evaluate
from routing.intent import model as model_module
from routing.intent.config import ALL_CONFIGS, CONFIGS, DEFAULT_CONFIG, read_texts
from routing.intent.features import FastFeatures
from routing.intent.heads import LinearHead
from routing.intent.train import fit_sklearn, train_model
from routing.normalize import normalize_for_model

INTENTS = {
    "billing", "balance_recharge", "network_coverage", "internet_speed", "plans_offers", "sim_number", "roaming",
    "device_delivery", "app_account", "cancellation", "service_complaint", "praise", "other",
}


def test_training_learns_every_label(trained):
    """(How long training takes is measured by bench/classify.py, not here.)"""
    assert set(trained.labels) == INTENTS
    assert trained.sentiment_labels == ["negative", "neutral", "positive"]


def test_test_split_macro_f1(trained, test_rows):
    metrics = evaluate(trained, test_rows)
    print("test split:", metrics["accuracy"], metrics["macro_f1"],
          {lang: scores["macro_f1"] for lang, scores in metrics["by_lang"].items()})
    assert metrics["n"] == len(test_rows)
    assert metrics["macro_f1"] >= 0.80
    assert min(scores["macro_f1"] for scores in metrics["by_lang"].values()) >= 0.70
    assert metrics["sentiment"]["macro_f1"] >= 0.80
    assert metrics["urgent"]["f1"] >= 0.70
    assert metrics["confidence"]["ece"] < 0.15
    assert set(metrics["by_intent"]) == INTENTS
    assert np.array(metrics["confusion"]["matrix"]).sum() == len(test_rows)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ليش الفاتورة طالعة ٤٠ دينار هالشهر؟", "billing"),
        ("My bill this month is 30 JD higher than usual, please explain the extra charges", "billing"),
        ("el fatora 3alye 45 JD w ana mishtrek b 7azmet 15, leish?", "billing"),
        ("How do I top up my prepaid balance with a card?", "balance_recharge"),
        ("النت عندي بطيء كتير من امبارح والراوتر بيقطع", "internet_speed"),
        ("el net ba6ee2 kteer w el router bi2ta3", "internet_speed"),
        ("الـ router تبعي مش شغال since yesterday، النت فاصل", "internet_speed"),
        ("ما في تغطية بالبيت، المكالمات بتقطع", "network_coverage"),
        ("I'm travelling to Turkey next week, what roaming bundles do you have?", "roaming"),
        ("I want to cancel my line", "cancellation"),
        ("ضاعت شريحتي بدي بدل فاقد", "sim_number"),
        ("I can't log into the app, the OTP never arrives", "app_account"),
        ("شكرا كتير للموظف على المساعدة، خدمة ممتازة", "praise"),
        ("shokran ktir 3al mosa3adeh, 5edmeh mumtazeh", "praise"),
        ("el shabakeh 6ay7a bel beit, ma fi irsal w el mokalamat bt2ta3", "network_coverage"),
        ("bdi a3ba ra9eedi b kart, kif?", "balance_recharge"),
        ("@friend بدي اربح 🤞", "other"),
    ],
)
def test_clear_messages_in_every_language(trained, text, intent):
    prediction = trained.predict(text)
    assert prediction.intent == intent
    assert 0.0 < prediction.confidence <= 1.0


def test_prediction_carries_language_sentiment_and_urgency(trained):
    thanks, outage = trained.predict_many([
        "Thank you so much, great service!",
        "عندي صيدلية والخط ما بيستقبل ولا مكالمة من الصبح، الناس مش قادرة توصلنا",
    ])
    assert (thanks.lang, thanks.sentiment, thanks.urgent) == ("en", "positive", False)
    assert (outage.lang, outage.sentiment, outage.urgent) == ("ar", "negative", True)


def test_batch_and_single_predictions_agree(trained, test_rows):
    texts = [row["text"] for row in test_rows[:40]]
    batch, single = trained.predict_many(texts), [trained.predict(text) for text in texts]
    # The same labels; the confidences (rounded to 4 places) from float32 sums taken in another
    # order may differ in the last place.
    assert [replace(p, confidence=0.0) for p in batch] == [replace(p, confidence=0.0) for p in single]
    assert np.allclose([p.confidence for p in batch], [p.confidence for p in single], atol=1.5e-4)


HOSTILE = [
    "",
    "   \n\t ",
    "😡😡😡",
    "🙏",
    "\x00" * 100,
    "a\x00b\ud800c\udfff",
    "a" * 200_000,
    "x@" * 100_000,
    "a-" * 100_000,
    "1" * 200_000,
    "مشكلة " * 40_000,
    "\u200f\u202e" * 50_000,
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_cut_before_anything_reads_it_and_answered(trained, text, monkeypatch):
    """Whatever a sender posts, the normaliser and the language rules read at most MAX_CHARS
    characters: what bounds the time of a prediction (measured by bench/classify.py)."""
    read: list[int] = []
    for name in ("normalize_for_model", "detect_language"):
        real = getattr(model_module, name)
        monkeypatch.setattr(model_module, name, lambda t, real=real: read.append(len(t)) or real(t))
    prediction = trained.predict(text)
    assert read and max(read) <= MAX_CHARS
    assert isinstance(prediction, Prediction) and prediction.lang in {"ar", "en", "arabizi", "mixed"}
    if normalize_for_model(text[:MAX_CHARS]):
        assert prediction.intent in INTENTS and prediction.sentiment in {"negative", "neutral", "positive"}
    else:  # nothing to read: no label, so triage decides
        assert (prediction.intent, prediction.confidence) == (None, 0.0)


def test_non_string_input_is_answered(trained):
    assert trained.predict(None).intent is None
    assert trained.predict(12345).intent in INTENTS


def test_no_model_means_no_label():
    assert classify(None, "ليش الفاتورة غالية؟") == Prediction(None, 0.0, "ar", None, False)
    assert [p.intent for p in classify_many(None, ["a", "b"])] == [None, None]
    assert evaluate(None, [{"text": "bill", "intent": "billing"}])["accuracy"] == 0.0


@pytest.mark.parametrize("config", CONFIGS, ids=lambda config: config.classifier)
def test_fast_path_equals_scikit_learn(train_rows, test_rows, config):
    # About 3,000 rows, every label there: equality does not need the whole split's minute.
    fitted = fit_sklearn(train_rows[:: max(1, len(train_rows) // 3000)], config)
    texts = read_texts(fitted["reader"], [normalize_for_model(row["text"]) for row in test_rows] + ["", "zzzz qqqq"])
    reference = fitted["features"].transform(texts)
    fast = FastFeatures.from_union(fitted["features"])
    assert abs(fast.transform(texts) - reference).max() < 1e-5
    for head in ("intent", "sentiment", "urgent"):
        expected = fitted[head].predict_proba(reference)
        assert np.allclose(LinearHead.from_sklearn(fitted[head]).predict_proba(reference), expected, atol=1e-5)
    weights = np.hstack([LinearHead.from_sklearn(fitted[h]).weights for h in ("intent", "sentiment")])
    one = fast.scores(texts[:1], weights)
    assert np.allclose(one, fast.scores(texts[:2], weights)[:1], atol=1e-5)
    assert np.allclose(one, reference[:1] @ weights, atol=1e-5)
    assert np.allclose(fast.scores(texts, weights), reference @ weights, atol=1e-5)  # every block, every row




def _tiny_rows():
    rows = [
        {"text": "el 5at ma2too3 mn imbare7", "intent": "network_coverage", "lang": "arabizi"},
        {"text": "bdi a3'ayyer el ba2a", "intent": "plans_offers", "lang": "arabizi"},
        {"text": "el fatoora 3alyeh kteer", "intent": "billing", "lang": "arabizi"},
        {"text": "الخط مقطوع من امبارح", "intent": "network_coverage", "lang": "ar"},
        {"text": "الساعه كم بتفتحوا؟ كان الفرع مسكر ساعه كامله", "intent": "other", "lang": "ar"},
        {"text": "my bill is too high", "intent": "billing", "lang": "en"},
    ] * 5  # five of each label: the calibration's folds
    sentiments = {"other": "positive", "plans_offers": "neutral"}
    return [{**row, "sentiment": sentiments.get(row["intent"], "negative"),
             "urgent": row["intent"] == "network_coverage"} for row in rows]


def test_the_default_reads_arabizi_in_the_arabic_script_of_its_rows():
    """routing/data/README.md, "Measured after the twentieth round": every view reads an Arabizi
    message in Arabic script, spelt as the training rows spell Arabic, so an Arabizi message and
    its Arabic twin share words, not just character n-grams."""
    rows = _tiny_rows()
    fitted = fit_sklearn(rows, DEFAULT_CONFIG)
    reader = fitted["reader"]
    assert reader is not None and reader.words.counts["ساعه"] >= 2
    assert reader("kan el 5at ma2too3") == "كان الخط مقطوع"  # the Arabic rows' spelling, not letter by letter
    assert reader("my bill is too high") == "my bill is too high"  # English stays English
    assert reader("الـ mesh wifi تبعكم") == "الـ mesh wifi تبعكم"  # so do a mixed message's English words
    words = set(dict(fitted["features"].transformer_list)["word12"].vocabulary_)
    assert {"الخط مقطوع", "bill"} <= words  # an Arabizi row's bigram meets its Arabic twin's
    assert not {"5at", "ma2too3", "fatoora"} & words  # no Latin spelling of Arabizi is learnt
    model = train_model(rows)
    assert model.reader is not None
    assert model.predict("el 5at ma2too3").intent == "network_coverage"
    assert model.predict("el 5at ma2too3").lang == "arabizi"  # the language is read off what was written
    assert train_model(rows, replace(DEFAULT_CONFIG, arabizi_in_arabic=False)).reader is None


def test_respelt_copies_and_guided_translit_are_learnt():
    """With Arabizi left in Latin (the configuration before), respelt copies of the Arabizi rows
    (respell.py) add Latin spellings no row wrote, and the ``translit`` view spells Arabizi with
    the Arabic-script words the rows contain."""
    rows = _tiny_rows()
    before = next(config for config in ALL_CONFIGS if config.guided_translit)
    fitted = fit_sklearn(rows, replace(before, respellings=3))
    assert fitted["reader"] is None
    views = dict(fitted["features"].transformer_list)
    words = {gram for gram in views["word12"].vocabulary_ if " " not in gram}
    written = {word for row in rows for word in normalize_for_model(row["text"]).split()}
    assert words - written and all(word.isascii() for word in words - written)  # only Arabizi was respelt
    assert views["translit25"].analyzer.words("kan el 5at") == ["كان", "الخط"]
    plain = dict(fit_sklearn(rows, replace(before, respellings=0, guided_translit=False))["features"].transformer_list)
    assert {gram for gram in plain["word12"].vocabulary_ if " " not in gram} <= written
    assert plain["translit25"].analyzer.arabic_words is None
