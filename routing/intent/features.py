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
  the Arabic half of the data teaches Arabizi with the same features; English words give none.

Training fits scikit-learn ``TfidfVectorizer``s with these analyzers; prediction uses
``FastTfidf``, the same arithmetic without scikit-learn's per-call validation (milliseconds per
call in 1.9), checked equal to ``TfidfVectorizer.transform`` by the tests.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy import sparse

from routing.intent.lexicon import concepts
from routing.intent.skeleton import skeleton_word
from routing.language import is_arabizi
from routing.transliterate import transliterate_tokens

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

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
        latin = [token for token in tokens if token.isascii() and token.islower()]
        if not latin:
            return tokens
        if is_arabizi(latin):
            return transliterate_tokens(tokens)
        return [token for token in tokens if not token.isascii()]

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


def build_vectorizer(view: str, ngrams: tuple[int, int], min_df: int = 1) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer  # training only

    return TfidfVectorizer(analyzer=Analyzer(view, *ngrams), min_df=min_df, sublinear_tf=True, dtype=np.float32)


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
    _idf_list: list[float] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_vectorizer(cls, vectorizer: TfidfVectorizer) -> FastTfidf:
        if not (vectorizer.sublinear_tf and vectorizer.norm == "l2" and vectorizer.use_idf):
            raise ValueError("FastTfidf reproduces sublinear, l2-normalised TF-IDF only")
        return cls(vectorizer.analyzer, dict(vectorizer.vocabulary_), vectorizer.idf_.astype(np.float32))

    def __getstate__(self) -> dict:
        return {"analyzer": self.analyzer, "vocabulary": self.vocabulary, "idf": self.idf}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _word_cache={}, _idf_list=None)

    @property
    def idf_list(self) -> list[float]:
        """``idf`` as Python floats, for reading one value at a time."""
        if self._idf_list is None:
            self._idf_list = self.idf.tolist()
        return self._idf_list

    @property
    def n_features(self) -> int:
        return len(self.idf)

    def indices(self, text: str) -> list[int]:
        """The column of every known feature of ``text``, repeated as often as it occurs."""
        vocabulary = self.vocabulary
        if not self.analyzer.per_word:
            return [j for j in map(vocabulary.get, self.analyzer(text)) if j is not None]
        cache, indices = self._word_cache, []
        for word in self.analyzer.words(text):
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
    """The blocks of a fitted FeatureUnion side by side, as one sparse matrix."""

    blocks: list[FastTfidf]

    @classmethod
    def from_union(cls, union) -> FastFeatures:
        return cls([FastTfidf.from_vectorizer(vectorizer) for _, vectorizer in union.transformer_list])

    @property
    def n_features(self) -> int:
        return sum(block.n_features for block in self.blocks)

    @property
    def offsets(self) -> list[int]:
        """The first column of each block."""
        return [sum(block.n_features for block in self.blocks[:i]) for i in range(len(self.blocks))]

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack([block.transform(texts) for block in self.blocks], format="csr")

    def scores(self, texts: list[str], weights: np.ndarray) -> np.ndarray:
        """``transform(texts) @ weights``, block by block; for one text, in plain Python."""
        if len(texts) == 1:
            return self._scores_of_one(texts[0], weights)[None, :]
        total = np.zeros((len(texts), weights.shape[1]), dtype=np.float64)
        for block, offset in zip(self.blocks, self.offsets, strict=True):
            encoded = block.encode(texts)
            matrix = sparse.csr_matrix((encoded.values, encoded.columns, encoded.indptr),
                                       shape=(len(texts), block.n_features))
            total += matrix @ weights[offset : offset + block.n_features]
        return total

    def _scores_of_one(self, text: str, weights: np.ndarray) -> np.ndarray:
        # One text: the same arithmetic in plain Python, then one gather and one product; numpy's
        # and scipy's per-call costs would otherwise be most of the time.
        columns: list[int] = []
        values: list[float] = []
        for block, offset in zip(self.blocks, self.offsets, strict=True):
            tally = Counter(block.indices(text))
            if not tally:
                continue
            idf = block.idf_list
            tfidf = [(math.log(count) + 1.0) * idf[j] for j, count in tally.items()]
            norm = math.sqrt(sum(v * v for v in tfidf))
            columns.extend(j + offset for j in tally)
            values.extend(v / norm for v in tfidf)
        if not columns:
            return np.zeros(weights.shape[1])
        return np.asarray(values, dtype=np.float32) @ weights[columns]
