"""Plain functions behind the ``flask routing …`` commands (DESIGN.md, "Contracts other tools
rely on"); the Flask wrappers parse arguments, call these and print.

* ``classify_jsonl(model, lines)``: ``{"id","text"}`` lines → ``{"id","intent","confidence",
  "lang","sentiment","urgent"}`` dicts, in order, classified in batches;
* ``evaluate_file(model, path)``: accuracy and macro-F1 (overall, per language, per intent) of a
  labelled JSONL file (``id``, ``text``, ``intent``; ``lang``, ``sentiment``, ``urgent`` used
  when present);
* ``train_and_evaluate()``: train (the default configuration, or one chosen by
  cross-validation) and evaluate a model from the shipped data; the caller saves it
  (inbox/services/model_versions.py). ``extra_rows`` (agents' corrections) join the train split
  only, so every version is measured on the same test split.

A line that is not a JSON object with a string ``text`` raises ``ValueError("line N: …")``: the
wrapper prints it and exits 2, as ``connectors parse`` does.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

from routing.intent.config import CONFIGS, DEFAULT_CONFIG
from routing.intent.data import DATA_PATH, load_split, read_jsonl
from routing.intent.evaluate import evaluate
from routing.intent.model import MAX_CHARS, IntentModel, classify_many
from routing.language import detect_language
from routing.normalize import normalize_for_model

BATCH = 512
SENTIMENTS = ("negative", "neutral", "positive")


def classify_jsonl(model: IntentModel | None, lines: Iterable[str]) -> Iterator[dict]:
    """One output dict per non-blank input line, in order; "no label" rows when model is None."""
    batch: list[tuple[object, str]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        batch.append(_parse_line(number, line))
        if len(batch) >= BATCH:
            yield from _classified(model, batch)
            batch = []
    yield from _classified(model, batch)


def classify_file(model: IntentModel | None, path: str | Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        yield from classify_jsonl(model, handle)


def evaluate_file(model: IntentModel | None, path: str | Path) -> dict:
    """``evaluate`` over a labelled JSONL file."""
    rows = read_jsonl(path)
    for number, row in enumerate(rows, 1):
        if not isinstance(row.get("text"), str) or not isinstance(row.get("intent"), str):
            raise ValueError(f"row {number}: needs a string text and intent")
    return evaluate(model, rows)


def summary_lines(metrics: dict) -> list[str]:
    """The evaluation as a few lines of text: overall, then per language."""
    lines = [f"accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  (n={metrics['n']})"]
    for lang, scores in metrics.get("by_lang", {}).items():
        lines.append(f"  {lang:8s} accuracy {scores['accuracy']:.4f}  macro-F1 {scores['macro_f1']:.4f}  "
                     f"(n={scores['n']})")
    return lines


def train_and_evaluate(data_path: str | Path = DATA_PATH, *, select: bool = False,
                       extra_rows: Sequence[dict] = ()) -> tuple[IntentModel, dict]:
    """The trained model and its scores on the test split. ``model.info["n_extra"]`` says how
    many of ``extra_rows`` it was trained on (see ``usable_extra_rows``)."""
    from routing.intent.train import URGENT_MODE, URGENT_THRESHOLD, choose_config, train_model

    train_rows, test_rows = load_split("train", data_path), load_split("test", data_path)
    labels = {row["intent"] for row in train_rows}
    extra = usable_extra_rows(extra_rows, labels, test_rows)
    rows = train_rows + extra
    info: dict = {"n_extra": len(extra)}
    if select:
        # The configurations only: urgency's mode is fixed (URGENT_MODE), and its cross-validation
        # (bench/classify.py --cv) would add half again to a training that must stay under 2 min.
        config, results = choose_config(rows, CONFIGS)
        info["cross_validation"] = {"configs": results}
    else:
        config = DEFAULT_CONFIG
    model = train_model(rows, config, urgent_mode=URGENT_MODE, urgent_threshold=URGENT_THRESHOLD, info=info)
    return model, evaluate(model, test_rows)


def usable_extra_rows(rows: Sequence[dict], labels: set[str], test_rows: Sequence[dict]) -> list[dict]:
    """Extra labelled rows as training rows: a known intent and something to read; never the
    text of a test row (the test split would leak into training and flatter the scores); one
    row per text, the last one given. Sentiment defaults to neutral, urgency to false, the
    language to the detected one."""
    held_out = {normalize_for_model(str(row.get("text", ""))[:MAX_CHARS]) for row in test_rows}
    usable: dict[str, dict] = {}
    for number, row in enumerate(rows, 1):
        text = row.get("text")
        if not isinstance(text, str) or row.get("intent") not in labels:
            continue
        key = normalize_for_model(text[:MAX_CHARS])
        if not key or key in held_out:
            continue
        usable.pop(key, None)  # the later label replaces the earlier, and goes last
        usable[key] = {
            "id": row.get("id", f"extra-{number}"),
            "text": text[:MAX_CHARS],
            "intent": row["intent"],
            "lang": row.get("lang") or detect_language(text),
            "sentiment": row.get("sentiment") if row.get("sentiment") in SENTIMENTS else "neutral",
            "urgent": bool(row.get("urgent", False)),
        }
    return list(usable.values())


def _parse_line(number: int, line: str) -> tuple[object, str]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"line {number}: not JSON ({error.msg})") from None
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        raise ValueError(f"line {number}: expected an object with a string \"text\"")
    return row.get("id"), row["text"]


def _classified(model: IntentModel | None, batch: list[tuple[object, str]]) -> Iterator[dict]:
    predictions = classify_many(model, [text for _, text in batch])
    for (row_id, _), prediction in zip(batch, predictions, strict=True):
        yield {"id": row_id, **asdict(prediction)}
