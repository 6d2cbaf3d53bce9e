"""Labelled messages in and out: the shipped data set, JSONL files, and a hash of what was used.

The shipped set is a directory of JSONL files, one per range of ``CHUNK_IDS`` ids
(``m05000-m09999.jsonl``), so no file grows without bound and a change touches one range. Ids rise
through the files, so reading them in name order gives the rows in id order.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "intents"
CHUNK_IDS = 5000


def id_number(row_id: str) -> int:
    """``m0042`` -> 42: ids are ``m`` and a number whose width grew with the data."""
    return int(row_id[1:])


def chunk_name(row_id: str) -> str:
    """The file of the shipped set that holds ``row_id``."""
    first = id_number(row_id) // CHUNK_IDS * CHUNK_IDS
    return f"m{first:05d}-m{first + CHUNK_IDS - 1:05d}.jsonl"


def read_jsonl(path: str | Path) -> list[dict]:
    """Every JSON object of a JSONL file, or of every ``*.jsonl`` file of a directory in name
    order; blank lines skipped. A line that is not a JSON object raises ValueError naming its line
    number (and its file, for a directory)."""
    path = Path(path)
    if path.is_dir():
        rows = []
        for part in sorted(path.glob("*.jsonl")):
            try:
                rows += read_jsonl(part)
            except ValueError as error:
                raise ValueError(f"{part.name} {error}") from None
        return rows
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


def write_data(rows: list[dict], directory: Path = DATA_PATH) -> None:
    """Write the shipped set: each row to its id range's file, in the order given (curate.py keeps
    ids rising); a range left with no rows loses its file."""
    chunks: dict[str, list[dict]] = {}
    for row in rows:
        chunks.setdefault(chunk_name(row["id"]), []).append(row)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in directory.glob("*.jsonl")) - set(chunks):
        (directory / stale).unlink()
    for name, part in chunks.items():
        with open(directory / name, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in part)


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
