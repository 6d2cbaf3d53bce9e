"""Near-paraphrase detection shared by the data tooling and training (routing/intent/similarity.py)."""
import numpy as np

from routing.intent import similarity
from routing.intent.train import folds

TEXTS = [
    "my bill is 40 JD this month, why so high",
    "my bill is 40 JD this month why so high??",
    "el net 3ndi ba6ee2 mn imbare7",
    "el net 3andi ba6ee2 mn embare7",
    "how do I activate roaming in Turkey",
    "شو عروض الفايبر بالزرقاء",
]


def test_pairs_above_computed_in_blocks_equal_the_whole_product():
    vectors = similarity.char_vectors(TEXTS)
    whole = (vectors @ vectors.T).toarray()
    for block in (1, 2, 4, 100):
        found = similarity.pairs_above(vectors, vectors, 0.3, block=block).toarray()
        assert np.allclose(found, np.where(whole >= 0.3, whole, 0))
        upper = similarity.pairs_above(vectors, vectors, 0.3, upper=True, block=block)
        assert all(j > i for i, j in zip(upper.row, upper.col, strict=True))
        assert upper.nnz == (np.triu(whole, 1) >= 0.3).sum()


def test_paraphrase_groups_join_close_wordings_only():
    groups = similarity.paraphrase_groups(TEXTS)
    assert groups[0] == groups[1] and groups[2] == groups[3]
    assert len({groups[0], groups[2], groups[4], groups[5]}) == 4


def test_groups_joins_every_pair_matrix_transitively():
    vectors = similarity.char_vectors(TEXTS[:2])
    close = similarity.pairs_above(vectors, vectors, 0.6, upper=True)
    assert len(set(similarity.groups(2, close))) == 1
    assert len(set(similarity.groups(3))) == 3


def test_cross_validation_never_splits_a_paraphrase_group_between_train_and_test():
    rows = [{"intent": intent, "lang": "en"} for intent in ("billing", "roaming") for _ in range(10)]
    texts = [f"{intent} question number {i} about my line" if i % 2 else f"{intent} case {i * 7919} differs"
             for intent in ("billing", "roaming") for i in range(10)]
    groups = similarity.paraphrase_groups(texts)
    assert len(set(groups)) < len(texts)  # the "question number" wordings are paraphrases
    for train_idx, test_idx in folds(rows, texts, n_folds=2):
        assert not set(groups[train_idx]) & set(groups[test_idx])
