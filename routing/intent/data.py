"""Labelled messages in and out: the shipped data set, JSONL files, and a hash of what was used."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "intents.jsonl"


def read_jsonl(path: str | Path) -> list[dict]:
    """Every JSON object of a JSONL file; blank lines skipped. A line that is not a JSON object
    raises ValueError naming its line number."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"line {number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"line {number}: not a JSON object")
            rows.append(row)
    return rows


def load_split(split: str, path: str | Path = DATA_PATH) -> list[dict]:
    """The ``train`` or ``test`` rows of the shipped data (routing/data/README.md)."""
    return [row for row in read_jsonl(path) if row.get("split") == split]


def data_hash(rows: Iterable[dict]) -> str:
    """sha256 over what training reads from each row, in order: the same rows give the same hash
    whatever else the file holds."""
    digest = hashlib.sha256()
    for row in rows:
        used = [row.get("id"), row.get("text"), row.get("intent"), row.get("sentiment"), row.get("urgent")]
        digest.update(json.dumps(used, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n")
    return "sha256:" + digest.hexdigest()
