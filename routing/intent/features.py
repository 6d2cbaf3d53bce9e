"""What the classifier sees of a normalised message, and a fast way to compute it.

Views of the same tokens, each a block of TF-IDF features:

* ``word``: the tokens and their bigrams;
* ``char`` / ``char_wb``: character n-grams (``char_wb`` inside word boundaries, as scikit-learn);
* ``skeleton``: character n-grams of each word's consonant skeleton, where Arabic script and
  Arabizi meet ("الفاتوره" and "el fatora" both give "ftr"), so Arabic training rows teach the
  Arabizi ones and back;
* ``concept``: domain concepts from lexicon.py ("bill", "فاتوره", "fatora" → ``bill``), where
  English and Arabic meet;
* ``translit``: character n-grams (as ``char_wb``) of the Arabic-script words, an Arabizi
  message's words transliterated first (routing/transliterate.py: "el fatora" → "الفاتوره"), so
  the Arabic half of the data teaches Arabizi with the same features; English words give none
  (models before the twentieth data round; the default now uses the reader below instead).

Before any view reads it, the default model rewrites an Arabizi message in Arabic script
(``ArabiziReader``), so every view, words and bigrams included, meets the Arabic half of the data.

Training fits scikit-learn ``TfidfVectorizer``s with these analyzers; prediction uses
``FastTfidf`` per view and ``FastFeatures`` for all of them at once: the same arithmetic without
scikit-learn's per-call validation (milliseconds per call in 1.9), checked equal to
``TfidfVectorizer.transform`` by the tests.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy import sparse

from routing.intent.lexicon import concepts
from routing.intent.skeleton import skeleton_word
from routing.language import has_arabic_script, is_arabizi
from routing.transliterate import ArabicWords, transliterate_tokens

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

# A Latin word that English and code-mixed rows write at least 3 times, and at least half as often
# as Arabizi rows do ("app", "router"; not "la"), stays Latin in an Arabizi message.
ENGLISH_MIN_COUNT, ENGLISH_SHARE = 3, 0.5

# --- analyzers -----------------------------------------------------------------------------


def _char_ngrams(text: str, low: int, high: int) -> list[str]:
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


def _word_char_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of one word padded with spaces (scikit-learn's ``char_wb``)."""
    padded = f" {word} "
    return [padded[i : i + n] for n in range(low, min(high, len(padded)) + 1) for i in range(len(padded) - n + 1)]


def _word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


@dataclass(frozen=True)
class Analyzer:
    """A picklable analyzer for TfidfVectorizer: normalised text → the features of one view."""

    view: str  # "word" | "char" | "char_wb" | "skeleton" | "concept" | "translit"
    low: int = 1
    high: int = 1
    # ``translit``: the training data's Arabic-script words, to spell Arabizi as customers spell
    # Arabic (routing/transliterate.py); None: letter by letter (models trained before them)
    arabic_words: ArabicWords | None = field(default=None, compare=False, hash=False)

    @property
    def per_word(self) -> bool:
        """Whether every feature comes from one word alone (so it can be cached per word)."""
        return self.view in ("char_wb", "skeleton", "translit")

    def words(self, normalized: str) -> list[str]:
        """The words a per-word view reads: the tokens, or for ``translit`` the Arabic-script
        words of the message with an Arabizi message's Latin words transliterated (an English
        message, or the English words of a mixed one, give none)."""
        tokens = normalized.split()
        if self.view != "translit":
            return tokens
        reading = translit_reading(tokens)
        if reading == "all":
            return tokens
        if reading == "arabizi":
            return self.transliterate(tokens)
        return [token for token in tokens if not token.isascii()]

    def transliterate(self, tokens: list[str]) -> list[str]:
        return transliterate_tokens(tokens, self.arabic_words)

    def word_features(self, word: str) -> list[str]:
        if self.view == "skeleton":
            word = skeleton_word(word)
            if not word:
                return []
        return _word_char_ngrams(word, self.low, self.high)

    def __call__(self, normalized: str) -> list[str]:
        if self.per_word:
            return [gram for word in self.words(normalized) for gram in self.word_features(word)]
        if self.view == "word":
            return _word_ngrams(normalized.split(), self.low, self.high)
        if self.view == "char":
            return _char_ngrams(normalized, self.low, self.high)
        if self.view == "concept":
            return _word_ngrams(concepts(normalized), self.low, self.high)
        raise ValueError(f"unknown view {self.view!r}")


@dataclass(frozen=True)
class ArabiziReader:
    """An Arabizi message rewritten in Arabic script before any view reads it, each word spelt as
    the training messages spell it ("el fatora 3alyeh" → "الفاتوره عاليه"): every view of an
    Arabizi message then meets the Arabic half of the data, words and bigrams included, instead
    of Latin features that only the Arabizi rows teach. Other messages pass unchanged; so does a
    message with any Arabic letter, whose Latin words are English (routing.language: "mixed")."""

    words: ArabicWords
    # English words the training rows write in Latin (router, app, bundle): an Arabizi message
    # keeps them, so they meet the English and code-mixed rows that use them
    english: frozenset[str] = frozenset()

    @classmethod
    def of(cls, normalized_texts: Sequence[str], *, keep_english: bool = True) -> ArabiziReader:
        english = frozenset()
        if keep_english:
            english_uses, arabizi_uses = Counter(), Counter()
            for text in normalized_texts:
                (arabizi_uses if is_arabizi_message(text) else english_uses).update(
                    token for token in text.split() if token.isascii() and token.isalpha() and len(token) > 1)
            english = frozenset(word for word, n in english_uses.items()
                                if n >= ENGLISH_MIN_COUNT and n >= ENGLISH_SHARE * arabizi_uses[word]
                                and not is_arabizi([word]))
        return cls(ArabicWords.of(normalized_texts), english)

    def __call__(self, normalized: str) -> str:
        if not is_arabizi_message(normalized):
            return normalized
        return " ".join(transliterate_tokens(normalized.split(), self.words, self.english))


def is_arabizi_message(normalized: str) -> bool:
    """Whether the reader rewrites this normalised message: Latin words that read as Arabizi,
    and no Arabic letter (with one, the Latin words are English: code-mixing)."""
    return not has_arabic_script(normalized) and translit_reading(normalized.split()) == "arabizi"


def translit_reading(tokens: list[str]) -> str:
    """Which words the ``translit`` view reads: ``all`` tokens (no lower-case Latin word),
    ``arabizi`` (every token, transliterated) or ``arabic`` (the non-ASCII tokens only)."""
    latin = [token for token in tokens if token.isascii() and token.islower()]
    if not latin:
        return "all"
    return "arabizi" if is_arabizi(latin) else "arabic"


def build_vectorizer(view: str, ngrams: tuple[int, int], min_df: int = 1,
                     arabic_words: ArabicWords | None = None) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer  # training only

    return TfidfVectorizer(analyzer=Analyzer(view, *ngrams, arabic_words=arabic_words), min_df=min_df,
                           sublinear_tf=True, dtype=np.float32)


# --- fast transform ------------------------------------------------------------------------

_WORD_CACHE_LIMIT = 200_000


class Encoded(NamedTuple):
    indptr: np.ndarray  # row i is values[indptr[i]:indptr[i + 1]]
    columns: np.ndarray
    values: np.ndarray


@dataclass
class FastTfidf:
    """A fitted TfidfVectorizer's transform (sublinear tf, idf, l2 norm) in plain numpy.

    Per-word views remember each word's feature indices, so a word seen before costs one lookup.
    """

    analyzer: Analyzer
    vocabulary: dict[str, int]
    idf: np.ndarray  # float32, one per feature
    _word_cache: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_vectorizer(cls, vectorizer: TfidfVectorizer) -> FastTfidf:
        if not (vectorizer.sublinear_tf and vectorizer.norm == "l2" and vectorizer.use_idf):
            raise ValueError("FastTfidf reproduces sublinear, l2-normalised TF-IDF only")
        return cls(vectorizer.analyzer, dict(vectorizer.vocabulary_), vectorizer.idf_.astype(np.float32))

    def __getstate__(self) -> dict:
        return {"analyzer": self.analyzer, "vocabulary": self.vocabulary, "idf": self.idf}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _word_cache={})

    @property
    def n_features(self) -> int:
        return len(self.idf)

    def indices(self, text: str) -> list[int]:
        """The column of every known feature of ``text``, repeated as often as it occurs."""
        vocabulary = self.vocabulary
        if not self.analyzer.per_word:
            return [j for j in map(vocabulary.get, self.analyzer(text)) if j is not None]
        return self.word_indices(self.analyzer.words(text))

    def word_indices(self, words: list[str]) -> list[int]:
        """``indices`` of a per-word view, from the words it reads."""
        vocabulary, cache, indices = self.vocabulary, self._word_cache, []
        for word in words:
            found = cache.get(word)
            if found is None:
                found = [j for j in map(vocabulary.get, self.analyzer.word_features(word)) if j is not None]
                if len(cache) >= _WORD_CACHE_LIMIT:
                    cache.clear()
                cache[word] = found
            indices.extend(found)
        return indices

    def encode(self, texts: list[str]) -> Encoded:
        """The TF-IDF rows of ``texts`` as CSR arrays."""
        found = [self.indices(text) for text in texts]
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), [len(f) for f in found])
        columns = np.fromiter(chain.from_iterable(found), np.int64, len(rows))
        matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)),
                                   shape=(len(texts), self.n_features))
        matrix.sum_duplicates()  # counts per (text, feature), added up in C
        indptr, columns, counts = matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64), matrix.data
        data = (np.log(counts.astype(np.float32)) + 1.0) * self.idf[columns]
        row_of = np.repeat(np.arange(len(texts)), np.diff(indptr))
        norms = np.sqrt(np.bincount(row_of, weights=data * data, minlength=len(texts))).astype(np.float32)
        norms[norms == 0] = 1.0
        return Encoded(indptr, columns, (data / norms[row_of]).astype(np.float32))

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        encoded = self.encode(texts)
        return sparse.csr_matrix((encoded.values, encoded.columns, encoded.indptr),
                                 shape=(len(texts), self.n_features))


@dataclass
class FastFeatures:
    """The blocks of a fitted FeatureUnion side by side, as one sparse matrix.

    ``scores`` reads each message once for all blocks: a token's features in every view that
    reads tokens alone (its word unigram, ``char_wb``, ``skeleton``, ``translit``) are looked up
    together in one cache, as columns of the whole matrix; the rest (bigrams, concepts, an Arabizi
    message's transliteration) are added per message. ``transform`` keeps one block at a time,
    as scikit-learn, and the tests check both against it.
    """

    blocks: list[FastTfidf]
    _token_cache: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)
    _plan: _Plan | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_union(cls, union) -> FastFeatures:
        return cls([FastTfidf.from_vectorizer(vectorizer) for _, vectorizer in union.transformer_list])

    def __getstate__(self) -> dict:
        return {"blocks": self.blocks}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _token_cache={}, _plan=None)

    @property
    def n_features(self) -> int:
        return sum(block.n_features for block in self.blocks)

    @property
    def offsets(self) -> list[int]:
        """The first column of each block."""
        return [sum(block.n_features for block in self.blocks[:i]) for i in range(len(self.blocks))]

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack([block.transform(texts) for block in self.blocks], format="csr")

    # --- scoring: all blocks in one pass ---

    @property
    def plan(self) -> _Plan:
        if self._plan is None:
            self._plan = _Plan.of(self.blocks, self.offsets)
        return self._plan

    def pieces(self, text: str) -> list[np.ndarray]:
        """The column in the whole matrix of every known feature of ``text``, repeated as often
        as it occurs (``transform(text)``'s non-zero columns before counting), in a few arrays:
        a message has hundreds of features, and arrays keep them out of Python's loops."""
        plan, cache = self.plan, self._token_cache
        tokens = text.split()
        pieces: list[np.ndarray] = []
        entries = []
        for token in tokens:
            entry = cache.get(token)
            if entry is None:
                entry = self._token_entry(token)
            pieces.append(entry[0])
            entries.append(entry)
        extra: list[int] = []
        if plan.translit is not None:
            reading = translit_reading(tokens)
            if reading == "all":
                pieces.extend(entry[1] for entry in entries)
            elif reading == "arabic":
                pieces.extend(entry[1] for token, entry in zip(tokens, entries, strict=True) if not token.isascii())
            else:
                block, offset = plan.translit
                extra.extend(j + offset for j in block.word_indices(block.analyzer.transliterate(tokens)))
        for block, offset, low, high in plan.word_ngrams:
            vocabulary = block.vocabulary
            for n in range(max(low, 2), high + 1):
                for i in range(len(tokens) - n + 1):
                    j = vocabulary.get(" ".join(tokens[i : i + n]))
                    if j is not None:
                        extra.append(j + offset)
        for block, offset in plan.whole_text:
            extra.extend(j + offset for j in block.indices(text))
        if extra:
            pieces.append(np.array(extra, dtype=np.int64))
        return pieces

    def _token_entry(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        plan = self.plan
        own: list[int] = []
        for block, offset in plan.unigrams:
            j = block.vocabulary.get(token)
            if j is not None:
                own.append(j + offset)
        for block, offset in plan.per_token:
            own.extend(j + offset for j in map(block.vocabulary.get, block.analyzer.word_features(token))
                       if j is not None)
        translit: list[int] = []
        if plan.translit is not None:
            block, offset = plan.translit
            translit = [j + offset for j in map(block.vocabulary.get, block.analyzer.word_features(token))
                        if j is not None]
        if len(self._token_cache) >= _WORD_CACHE_LIMIT:
            self._token_cache.clear()
        entry = (np.array(own, dtype=np.int64), np.array(translit, dtype=np.int64))
        self._token_cache[token] = entry
        return entry

    def scores(self, texts: list[str], weights: np.ndarray) -> np.ndarray:
        """``transform(texts) @ weights``."""
        pieces: list[np.ndarray] = []
        per_text: list[int] = []
        for text in texts:
            found = self.pieces(text)
            pieces.extend(found)
            per_text.append(len(found))
        if not pieces:
            return np.zeros((len(texts), weights.shape[1]))
        columns = np.concatenate(pieces)
        piece_rows = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
        rows = np.repeat(piece_rows, np.fromiter(map(len, pieces), np.int64, len(pieces)))
        width, n_blocks = self.n_features, len(self.blocks)
        keys, counts = np.unique(rows * width + columns, return_counts=True)  # sorted: row, then column
        rows, columns = np.divmod(keys, width)
        plan = self.plan
        data = (np.log(counts.astype(np.float32)) + 1.0) * plan.idf[columns]
        groups = rows * n_blocks + np.searchsorted(plan.starts, columns, side="right") - 1  # (text, block)
        norms = np.sqrt(np.bincount(groups, weights=data * data, minlength=len(texts) * n_blocks))
        data = (data / norms[groups]).astype(np.float32)
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return sparse.csr_matrix((data, columns, indptr), shape=(len(texts), width)) @ weights


@dataclass
class _Plan:
    """How ``FastFeatures.pieces`` reads each block, worked out once from the analyzers."""

    unigrams: list[tuple[FastTfidf, int]]  # word views whose n-grams start at 1
    per_token: list[tuple[FastTfidf, int]]  # per-word views that read the tokens
    translit: tuple[FastTfidf, int] | None
    word_ngrams: list[tuple[FastTfidf, int, int, int]]  # word views: (block, offset, low, high)
    whole_text: list[tuple[FastTfidf, int]]  # everything else, through the block's own indices
    starts: np.ndarray  # the first column of each block
    idf: np.ndarray  # every block's idf, side by side

    @classmethod
    def of(cls, blocks: list[FastTfidf], offsets: list[int]) -> _Plan:
        plan = cls([], [], None, [], [], np.asarray(offsets, dtype=np.int64),
                   np.concatenate([block.idf for block in blocks]).astype(np.float32))
        for block, offset in zip(blocks, offsets, strict=True):
            view = block.analyzer.view
            if view == "word":
                if block.analyzer.low == 1:
                    plan.unigrams.append((block, offset))
                if block.analyzer.high >= 2:
                    plan.word_ngrams.append((block, offset, block.analyzer.low, block.analyzer.high))
            elif view in ("char_wb", "skeleton"):
                plan.per_token.append((block, offset))
            elif view == "translit" and plan.translit is None:
                plan.translit = (block, offset)
            else:
                plan.whole_text.append((block, offset))
        return plan
