"""Cues of urgency (routing/data/README.md, "urgent"), from the glossary's concepts.

Four kinds of cue: a threat to go to court, a regulator or the press (``legal``, ``publicity``);
an emergency (illness, danger, stranded, theft or fraud in progress); a business that cannot
work (``business`` with ``down``); a line that cannot call at all (``cannot_call``,
``no_service``). A cue alone is weak evidence ("sick of this", "our shop's bill"), so train.py
measures the rules alone, the model alone and the model with the cues as extra columns, and the
model keeps the best.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from routing.intent.lexicon import concepts

CUES = ("legal", "publicity", "emergency", "business", "down", "cannot_call", "no_service")


def cues(normalized: str) -> set[str]:
    """The urgency cues in a normalised message."""
    return set(concepts(normalized)).intersection(CUES)


def rule_says_urgent(normalized: str) -> bool:
    """The rules alone: a threat, an emergency, a line that cannot call, a business that is down."""
    found = cues(normalized)
    return bool(found & {"legal", "publicity", "emergency", "cannot_call", "no_service"}) or {
        "business", "down"} <= found


def cue_matrix(normalized_texts: list[str]) -> sparse.csr_matrix:
    """One 0/1 column per cue, to sit beside the TF-IDF features of the urgent head."""
    rows = np.zeros((len(normalized_texts), len(CUES)), dtype=np.float32)
    for i, text in enumerate(normalized_texts):
        for cue in cues(text):
            rows[i, CUES.index(cue)] = 1.0
    return sparse.csr_matrix(rows)
