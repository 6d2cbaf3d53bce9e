"""Which messages are near-paraphrases of each other: character 3–5-gram TF-IDF cosine.

Shared by the data tooling (routing/data/curate.py: near-duplicates and the group-aware split)
and by training (group-aware cross-validation folds), so both draw the same line.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

BLOCK = 2048  # rows of a similarity product at a time: the whole product would hold ~10^8 values


def char_vectors(texts: Sequence[str]) -> sparse.csr_matrix:
    """Character 3–5-gram TF-IDF inside word boundaries (``char_wb``, sublinear tf), l2-normalised."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(texts)


def pairs_above(left: sparse.csr_matrix, right: sparse.csr_matrix, threshold: float,
                upper: bool = False, block: int = BLOCK) -> sparse.coo_matrix:
    """The (i, j) with ``left[i] · right[j] >= threshold`` (only j > i when ``upper``), computed
    ``block`` rows at a time so that the many small similarities are never all held at once."""
    rows, columns, values = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    right_t = right.T.tocsr()
    for start in range(0, left.shape[0], block):
        product = (left[start : start + block] @ right_t).tocoo()
        keep = product.data >= threshold
        if upper:
            keep &= product.col > product.row + start
        rows.append(product.row[keep] + start)
        columns.append(product.col[keep])
        values.append(product.data[keep])
    return sparse.coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
                             shape=(left.shape[0], right.shape[0]))


def groups(n: int, *pairs: sparse.coo_matrix) -> np.ndarray:
    """A group id per item of ``n``, joining the (i, j) of every pair matrix (connected components)."""
    graph = sparse.csr_matrix((n, n), dtype=np.int8)
    for found in pairs:
        graph = graph + sparse.coo_matrix((np.ones(found.nnz, dtype=np.int8), (found.row, found.col)),
                                          shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)[1]


def paraphrase_groups(texts: Sequence[str], threshold: float = 0.6) -> np.ndarray:
    """Group ids joining texts whose character 3–5-gram cosine is ≥ ``threshold``."""
    vectors = char_vectors(texts)
    return groups(len(texts), pairs_above(vectors, vectors, threshold, upper=True))
