"""Curating the shipped data (``intents/``): append hand-written batches, assign the split, check near-duplicates.

Run from the repository root (README.md, "How it was made" and "Split"):

    .venv/bin/python -m routing.data.curate add --lang en batch.txt ...   # append, split left empty
    .venv/bin/python -m routing.data.curate split                         # assign the empty splits
    .venv/bin/python -m routing.data.curate check                         # duplicates, counts

A batch file holds literal messages, one a line: ``intent|sentiment|urgent|text``, with intent
and sentiment as the first three letters of the label (``bil`` = billing, ``bal`` =
balance_recharge, ``n``/``u``/``p`` = negative/neutral/positive) and urgent ``0``/``1``. Nothing is
generated: ``add`` only parses the lines, gives each a new id and appends it.

``split`` never moves a row that has a split: it only places rows whose split is empty, so figures
measured on the old test split stay comparable. The method is the one the README describes.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse

from routing.intent import similarity
from routing.intent.data import DATA_PATH, id_number, read_jsonl, write_data
from routing.intent.skeleton import skeleton
from routing.labels import INTENTS, LANGUAGES
from routing.language import detect_language
from routing.normalize import normalize_arabic, normalize_for_model

SEED = 20240613
TEST_SHARE = 0.2
LANGS = LANGUAGES
_BY_PREFIX = {label[:3]: label for label in INTENTS}
_SENTIMENT = {"n": "negative", "u": "neutral", "p": "positive"}
_LATIN_WORD = re.compile(r"[a-z][a-z0-9']+")


# --- add ------------------------------------------------------------------------------------


def parse_batch(text: str, lang: str) -> list[dict]:
    """The rows of one batch file (ids and split left to the caller)."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            intent, sentiment, urgent, message = line.split("|", 3)
            row = {"text": message.strip(), "intent": _BY_PREFIX[intent], "lang": lang,
                   "sentiment": _SENTIMENT[sentiment], "urgent": {"0": False, "1": True}[urgent]}
        except (ValueError, KeyError):
            raise ValueError(f"line {number}: expected intent|sentiment|urgent|text, got {line!r}") from None
        if not row["text"]:
            raise ValueError(f"line {number}: empty message")
        rows.append(row)
    return rows


def add(rows: list[dict], new: list[dict]) -> list[dict]:
    """``new`` appended with the next ids and an empty split; exact duplicates refused."""
    seen = {_folded(row["text"]) for row in rows}
    last = max((id_number(row["id"]) for row in rows), default=0)
    added = []
    for row in new:
        if _folded(row["text"]) in seen:
            raise ValueError(f"already in the data: {row['text']!r}")
        seen.add(_folded(row["text"]))
        last += 1
        added.append({"id": f"m{last:04d}", **row, "split": None})
    return rows + added


# --- split ----------------------------------------------------------------------------------


def _folded(text: str) -> str:
    return " ".join(normalize_arabic(text).lower().split())


def char_vectors(texts: list[str]) -> sparse.csr_matrix:
    """Character 3–5-gram TF-IDF of the folded texts (routing.intent.similarity)."""
    return similarity.char_vectors([_folded(text) for text in texts])


@lru_cache(maxsize=2)
def _similar(texts: tuple[str, ...], threshold: float = 0.5) -> sparse.coo_matrix:
    """Pairs i < j of ``texts`` at character 3–5-gram cosine ``threshold`` or above; remembered,
    because ``check`` and the tests ask for both the near-duplicates and the groups."""
    vectors = char_vectors(list(texts))
    return similarity.pairs_above(vectors, vectors, threshold, upper=True)


def paraphrase_groups(rows: list[dict], threshold: float = 0.6, cross_threshold: float = 0.7) -> np.ndarray:
    """A group id per row. Joined: character 3–5-gram cosine ≥ ``threshold``; Arabic/Arabizi pairs
    whose consonant skeletons (routing.intent.skeleton) have character 3–5-gram cosine ≥
    ``cross_threshold``; code-mixed/English pairs sharing at least two Latin words and at least
    half of the Latin words of the longer one."""
    texts = [row["text"] for row in rows]
    close = _similar(tuple(texts), min(threshold, 0.5))
    keep = close.data >= threshold
    close = sparse.coo_matrix((close.data[keep], (close.row[keep], close.col[keep])), shape=close.shape)
    langs = np.array([row["lang"] for row in rows])
    skeleton_vectors = similarity.char_vectors([skeleton(normalize_for_model(text)) for text in texts])
    arabic, arabizi = np.flatnonzero(langs == "ar"), np.flatnonzero(langs == "arabizi")
    across = similarity.pairs_above(skeleton_vectors[arabic], skeleton_vectors[arabizi], cross_threshold)
    cross = sparse.coo_matrix((across.data, (arabic[across.row], arabizi[across.col])), shape=close.shape)
    words = [set(_LATIN_WORD.findall(text.lower())) for text in texts]
    english = defaultdict(list)
    for j in np.flatnonzero(langs == "en"):
        for word in words[j]:
            english[word].append(j)
    shared = [(i, j) for i in np.flatnonzero(langs == "mixed")
              for j, count in Counter(j for word in words[i] for j in english[word]).items()
              if count >= 2 and count >= 0.5 * max(len(words[i]), len(words[j]))]
    sharing = sparse.coo_matrix((np.ones(len(shared)), ([i for i, _ in shared], [j for _, j in shared])),
                                shape=close.shape)
    return similarity.groups(len(rows), close, cross, sharing)


def assign_split(rows: list[dict], seed: int = SEED) -> tuple[list[dict], list[str]]:
    """Rows with an empty split placed in train or test, and warnings. Group-aware: a new row in a
    group with placed rows takes their side; groups of new rows only are shuffled with ``seed``
    and taken into test while every intent × lang cell they touch stays within its target of
    max(3, round(0.2 × n)), counting the test rows the cell has already."""
    groups = paraphrase_groups(rows)
    members = defaultdict(list)
    for i, group in enumerate(groups):
        members[group].append(i)
    cell = [f"{row['intent']}|{row['lang']}" for row in rows]
    size = Counter(cell)
    target = {key: max(3, round(TEST_SHARE * n)) for key, n in size.items()}
    in_test = Counter(cell[i] for i, row in enumerate(rows) if row.get("split") == "test")
    warnings, open_groups = [], []
    for _group, indices in sorted(members.items()):
        placed = {rows[i]["split"] for i in indices if rows[i].get("split")}
        new = [i for i in indices if not rows[i].get("split")]
        if not new:
            continue
        if len(placed) > 1:
            warnings.append("new rows join a train and a test group: " + ", ".join(rows[i]["id"] for i in new))
            placed = {"test"}  # never let a test paraphrase leak into train
        if placed:
            side = placed.pop()
            for i in new:
                rows[i]["split"] = side
                in_test[cell[i]] += side == "test"
        else:
            open_groups.append(new)
    random.Random(seed).shuffle(open_groups)
    for indices in open_groups:
        needs = Counter(cell[i] for i in indices)
        side = "test" if all(in_test[key] + n <= target[key] for key, n in needs.items()) else "train"
        for i in indices:
            rows[i]["split"] = side
        if side == "test":
            in_test.update(needs)
    return rows, warnings


# --- check ----------------------------------------------------------------------------------


def near_duplicates(rows: list[dict]) -> dict:
    """Exact duplicates after folding, and the character 3–5-gram TF-IDF cosine of every pair."""
    texts = [row["text"] for row in rows]
    folded = Counter(_folded(text) for text in texts)
    similarity = _similar(tuple(texts), 0.5)  # every pair at 0.5 or above: all that is counted here
    pairs = len(rows) * (len(rows) - 1) // 2
    values = similarity.data
    top = np.argsort(-values)[:5]
    return {
        "messages": len(rows),
        "pairs": pairs,
        "exact_duplicates": sum(n - 1 for n in folded.values() if n > 1),
        "above_0.9": int((values > 0.9).sum()),
        "share_above_0.9": float((values > 0.9).sum() / max(pairs, 1)),
        "above_0.8": int((values > 0.8).sum()),
        "above_0.7": int((values > 0.7).sum()),
        "max": float(values.max()) if len(values) else 0.0,
        "closest": [(round(float(values[k]), 3), texts[similarity.row[k]], texts[similarity.col[k]]) for k in top],
    }


def counts(rows: list[dict]) -> dict:
    table = Counter((row["intent"], row["lang"], row["split"]) for row in rows)
    return {
        "table": {intent: {lang: (sum(table[intent, lang, s] for s in ("train", "test")), table[intent, lang, "test"])
                           for lang in LANGS} for intent in INTENTS},
        "urgent": Counter(row["intent"] for row in rows if row["urgent"]),
        "split": Counter(row["split"] for row in rows),
        "sentiment": Counter(row["sentiment"] for row in rows),
        "lang": Counter(row["lang"] for row in rows),
        "lang_disagreements": [(row["id"], row["lang"], detect_language(row["text"]), row["text"])
                               for row in rows if detect_language(row["text"]) != row["lang"]],
    }


def write(rows: list[dict], path: Path) -> None:
    """Back to where the rows came from: the shipped directory, one file per id range, or one file."""
    if path.is_dir():
        write_data(rows, path)
        return
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA_PATH)
    commands = parser.add_subparsers(dest="command", required=True)
    adding = commands.add_parser("add", help="append batch files")
    adding.add_argument("--lang", choices=LANGS, required=True)
    adding.add_argument("files", nargs="+", type=Path)
    commands.add_parser("split", help="place the rows whose split is empty")
    commands.add_parser("check", help="duplicates, near-duplicates and counts")
    args = parser.parse_args(argv)
    rows = read_jsonl(args.data)
    if args.command == "add":
        new = [row for path in args.files for row in parse_batch(path.read_text("utf-8"), args.lang)]
        write(add(rows, new), args.data)
        print(f"added {len(new)} rows")
    elif args.command == "split":
        rows, warnings = assign_split(rows)
        write(rows, args.data)
        print("\n".join(warnings) or "no conflicts")
    else:
        report = {"near_duplicates": near_duplicates(rows), **counts(rows)}
        print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
