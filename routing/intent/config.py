"""The model configurations we compare, and the scikit-learn pieces each one builds.

A configuration names its feature views (features.py) and its linear classifier. All three heads
(intent, sentiment, urgency) read the same features. The vectorisers see text already passed
through ``normalize_for_model``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from routing.intent.features import ArabiziReader, build_vectorizer
from routing.transliterate import ArabicWords

# scikit-learn is imported inside the builders: predicting and loading never need it, and a
# process that only classifies starts a second faster without it.

# Bump when normalize_for_model, the analyzers, the lexicon or routing/transliterate.py change what
# they produce: a model trained on the old features must not be loaded with the new ones
# (artifact.py refuses it). A new view needs no bump: older models do not use it.
# 2: Arabizi words may start with 3' 7' 9' 6' ("3'eir" was "3 eir"); 3: the guided spelling
# writes a letter twice after a dropped vowel ("sabab" سبب, was سب)
FEATURES_VERSION = 3

WORD = ("word", 1, 2, 1)
CHAR_WB = ("char_wb", 2, 5, 2)
CHAR = ("char", 1, 5, 2)
SKELETON = ("skeleton", 2, 5, 2)
CONCEPT = ("concept", 1, 2, 1)
TRANSLIT = ("translit", 2, 5, 2)


@dataclass(frozen=True)
class ModelConfig:
    name: str
    views: tuple[tuple[str, int, int, int], ...]  # (view, lowest n, highest n, min_df)
    classifier: str = "svm"  # "svm" (LinearSVC, sigmoid-calibrated) | "logreg"
    C: float = 0.5
    respellings: int = 0  # respelt copies of each Arabizi training row (respell.py)
    guided_translit: bool = False  # ``translit`` spells Arabizi as the training data spells Arabic
    arabizi_in_arabic: bool = False  # every view reads Arabizi in Arabic script (features.ArabiziReader)
    keep_english: bool = False  # ...but the English words of the training rows stay in Latin

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        return cls(data["name"], tuple(tuple(view) for view in data["views"]), data["classifier"], data["C"],
                   data.get("respellings", 0), data.get("guided_translit", False),
                   data.get("arabizi_in_arabic", False), data.get("keep_english", False))


ALL_CONFIGS: tuple[ModelConfig, ...] = (
    ModelConfig("word12_logreg", (WORD,), "logreg", 10.0),
    ModelConfig("word12+charwb25_logreg", (WORD, CHAR_WB), "logreg", 10.0),
    ModelConfig("word12+charwb25_svm", (WORD, CHAR_WB)),
    ModelConfig("word12+charwb25+skeleton_svm", (WORD, CHAR_WB, SKELETON)),
    ModelConfig("word12+charwb25+skeleton+concept_svm", (WORD, CHAR_WB, SKELETON, CONCEPT)),
    ModelConfig("word12+charwb25+skeleton+concept_logreg", (WORD, CHAR_WB, SKELETON, CONCEPT), "logreg", 10.0),
    ModelConfig("word12+charwb25+skeleton+concept_logreg_C30", (WORD, CHAR_WB, SKELETON, CONCEPT), "logreg", 30.0),
    ModelConfig("word12+char15+skeleton+concept_svm", (WORD, CHAR, SKELETON, CONCEPT)),
    ModelConfig("word12+charwb25+skeleton+concept+translit_svm", (WORD, CHAR_WB, SKELETON, CONCEPT, TRANSLIT)),
    ModelConfig("word12+charwb25+skeleton+concept+translit_logreg_C30", (WORD, CHAR_WB, SKELETON, CONCEPT, TRANSLIT),
                "logreg", 30.0),
    ModelConfig("word12+charwb25+skeleton+concept+guided_translit_svm+respelt",
                (WORD, CHAR_WB, SKELETON, CONCEPT, TRANSLIT), respellings=1, guided_translit=True),
    ModelConfig("arabizi_in_arabic+word12+charwb25+skeleton+concept_svm+respelt",
                (WORD, CHAR_WB, SKELETON, CONCEPT), respellings=1, arabizi_in_arabic=True, keep_english=True),
    ModelConfig("arabizi_in_arabic+word12+charwb25+skeleton+concept_logreg_C30+respelt",
                (WORD, CHAR_WB, SKELETON, CONCEPT), "logreg", 30.0, respellings=1, arabizi_in_arabic=True,
                keep_english=True),
)
# The best by cross-validated macro-F1 on the train split (bench/classify.py --cv prints the table
# for ALL_CONFIGS). On the 3,317 train rows of the second data round: logreg C=30 0.848, C=10
# 0.844, C=100 0.843, the calibrated SVM 0.839; a light English suffix-stripping word view instead
# of plain words 0.845 (not kept). On the 5,722 train rows of the sixth round (frozen copy), adding
# the ``translit`` view (Arabizi in Arabic script, routing/transliterate.py) raised Arabizi from
# 0.832 to 0.841 (better in 4 of 5 folds), overall 0.855 → 0.858, log loss 0.483 → 0.468, the
# other languages within noise. With the seventh and eighth rounds the order turned: on the 10,739
# train rows the calibrated SVM scores 0.8445 ± 0.004 against logreg C=30's 0.8398 ± 0.005, ahead in
# every language (en 0.837 / 0.834, ar 0.843 / 0.838, arabizi 0.843 / 0.835), and also on the
# eighth round's unseen English test rows; it trains in less time too. With rounds 9 and 10, no
# variant tried on their unseen writers (C, min_df, view weights, n-gram ranges) beat it.
# bench/README.md, "classify.py", has the tables.
# After the seventeenth data round, spelling Arabizi as the training data spells Arabic
# (``guided_translit``) and one respelt copy of each Arabizi training row (respell.py) raised
# Arabizi on writers never seen in each of rounds 13–17 (1.1 points on average, and 1.9 on round
# 18, written afterwards), code-mixed 0.7, English flat, Arabic −0.2; two copies trade English
# for Arabizi (routing/data/README.md, "Measured after the eighteenth round").
# After the twentieth round, every view reading an Arabizi message in Arabic script
# (``arabizi_in_arabic``, features.ArabiziReader), the English words the rows write in Latin kept
# (``keep_english``), instead of the one ``translit`` view doing so, raised Arabizi on writers
# never seen from 0.830 to 0.857 (the mean over rounds 14–20, forward-chained; better in six
# rounds of seven), English, Arabic and code-mixed within ±0.3. The ``translit`` view, then a
# copy of ``char_wb`` for every message, was dropped: 29 % fewer features, and training takes a
# fifth less time.
# routing/data/README.md, "Measured after the twentieth round", has the table.
DEFAULT_CONFIG = next(config for config in ALL_CONFIGS
                      if config.name == "arabizi_in_arabic+word12+charwb25+skeleton+concept_svm+respelt")
# What ``flask routing train --select`` (train.choose_config) compares: the default and logistic
# regression on the same views, the runner-up family. Selection cross-validates both (5 folds, on
# every core) before the final fit: 3½ minutes on the eighth round's 10,739 train rows, beyond
# the two-minute budget of a plain training, so it is asked for, not done by default.
CONFIGS: tuple[ModelConfig, ...] = (
    DEFAULT_CONFIG,
    next(config for config in ALL_CONFIGS
         if config.name == "arabizi_in_arabic+word12+charwb25+skeleton+concept_logreg_C30+respelt"),
)


def build_reader(config: ModelConfig, texts: Sequence[str]) -> ArabiziReader | None:
    """What rewrites a message before the views read it (None: they read it as normalised),
    learnt from the normalised training ``texts``."""
    if not config.arabizi_in_arabic:
        return None
    return ArabiziReader.of(texts, keep_english=config.keep_english)


def read_texts(reader: ArabiziReader | None, texts: Sequence[str]) -> list[str]:
    return [reader(text) for text in texts] if reader is not None else list(texts)


def build_features(config: ModelConfig, texts: Sequence[str]):
    """A FeatureUnion of one TF-IDF vectoriser per view, to be fitted on ``texts`` (normalised):
    a guided ``translit`` view learns its Arabic-script words from them."""
    from sklearn.pipeline import FeatureUnion

    words = ArabicWords.of(texts) if config.guided_translit else None
    return FeatureUnion([
        (f"{view}{low}{high}", build_vectorizer(view, (low, high), min_df, words if view == "translit" else None))
        for view, low, high, min_df in config.views
    ])


def build_head(config: ModelConfig, *, balanced: bool = False, n_jobs: int | None = None):
    """A linear classifier with ``predict_proba``. ``n_jobs``: processes for the SVM's calibration
    folds (the final fit of a model uses every core; cross-validation runs its folds in parallel
    instead)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    class_weight = "balanced" if balanced else None
    if config.classifier == "logreg":
        return LogisticRegression(C=config.C, max_iter=3000, class_weight=class_weight)
    if config.classifier == "svm":
        # ensemble=False: one LinearSVC fitted on all the rows, its scores calibrated (sigmoid)
        # on cross-validated scores, so predicting costs one linear model, not five.
        svm = LinearSVC(C=config.C, class_weight=class_weight, random_state=0)
        return CalibratedClassifierCV(svm, method="sigmoid", cv=5, ensemble=False, n_jobs=n_jobs)
    raise ValueError(f"unknown classifier {config.classifier!r}")
