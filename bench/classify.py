"""Classifier benchmark: quality on the held-out split, speed of training, loading and predicting.

Run from the repository root:

    .venv/bin/python bench/classify.py            # 5 runs of each timing, medians
    .venv/bin/python bench/classify.py --cv       # also cross-validate every configuration (~8 min)
    .venv/bin/python bench/classify.py --runs 1   # a quick look

What it measures (routing/data/intents/, split by its ``split`` field):

* quality: accuracy and macro-F1 of the intent on the test split, overall and per language;
  sentiment macro-F1 and urgent precision/recall/F1 (the model is deterministic: one figure);
* with ``--cv``: 5-fold group-aware cross-validation on the train split of every configuration in
  ``routing.intent.config.ALL_CONFIGS`` and of the urgency methods (rules / model / model + cues);
* training time (features and three heads on the train rows);
* load time of the saved artifact (sidecar checks, hash, unpickle) in this process, and in a fresh
  interpreter including its imports;
* throughput batched (``predict_many`` over 10,000 messages) and one at a time (``predict`` in a
  loop); latency p50/p99 of one ``predict``, wall clock and CPU time.

Timings are medians over ``--runs``. The machine's load average is printed with them: on a shared
machine, wall-clock figures include time other processes took, CPU-time figures do not.
Exit status 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from routing.intent.artifact import load_model, save_model  # noqa: E402
from routing.intent.config import ALL_CONFIGS, DEFAULT_CONFIG  # noqa: E402
from routing.intent.data import load_split  # noqa: E402
from routing.intent.evaluate import evaluate  # noqa: E402
from routing.intent.train import cross_validate_configs, cross_validate_urgency, train_model  # noqa: E402

FIRST_ROUND = 3129  # the last id of the first round of data
TARGETS = {"macro_f1_per_lang": 0.85, "batched_per_s": 5000, "p99_ms": 5.0, "load_s": 1.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cv", action="store_true", help="cross-validate every configuration first")
    parser.add_argument("--batch", type=int, default=10_000, help="messages per batched run")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    train_rows, test_rows = load_split("train"), load_split("test")
    report: dict = {"load_average_at_start": os.getloadavg()}

    if args.cv:
        report["cv_configs"] = cross_validate_configs(train_rows, ALL_CONFIGS)
        report["cv_urgency"] = cross_validate_urgency(train_rows, DEFAULT_CONFIG)
        _print_cv(report)

    train_times, model = [], None
    for _ in range(args.runs):
        started = time.perf_counter()
        model = train_model(train_rows, DEFAULT_CONFIG)
        train_times.append(time.perf_counter() - started)
    report["train_s"] = statistics.median(train_times)
    report["test"] = evaluate(model, test_rows)
    # The first round's 626 test messages (ids up to m3129, never moved): figures comparable with
    # those measured before the second round of data (routing/data/README.md, "Split").
    report["test_first_round"] = evaluate(model, [row for row in test_rows if int(row["id"][1:]) <= FIRST_ROUND])

    with tempfile.TemporaryDirectory() as directory:
        save_model(model, directory, metrics=report["test"])
        report["artifact_mb"] = round(sum(f.stat().st_size for f in Path(directory).iterdir()) / 1e6, 1)
        report["load_s"] = statistics.median(_timed(load_model, directory) for _ in range(args.runs))
        report["load_cold_s"] = statistics.median(_cold_load(directory) for _ in range(max(1, args.runs // 2)))
        model = load_model(directory)

    texts = [row["text"] for row in test_rows]
    batch = (texts * (args.batch // len(texts) + 1))[: args.batch]
    model.predict_many(batch)  # warm the per-word caches, as a running server's are
    report["batched_per_s"] = statistics.median(len(batch) / _timed(model.predict_many, batch)
                                                for _ in range(args.runs))
    report["one_at_a_time_per_s"] = statistics.median(
        len(texts) / _timed(lambda: [model.predict(t) for t in texts]) for _ in range(args.runs))
    report["latency"] = _latency(model, texts, args.runs)
    report["load_average_at_end"] = os.getloadavg()
    _print(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    return 0 if not _missed(report) else 1


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def _cold_load(directory: str) -> float:
    code = ("import time; t = time.perf_counter(); from routing.intent import load_model; "
            f"assert load_model({directory!r}) is not None; print(time.perf_counter() - t)")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(output.stdout.strip())


def _latency(model, texts: list[str], runs: int) -> dict:
    per_run = []
    for _ in range(runs):
        wall, cpu = [], []
        for text in texts:
            w, c = time.perf_counter(), time.process_time()
            model.predict(text)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
        per_run.append({
            "wall_p50_ms": np.percentile(wall, 50) * 1e3, "wall_p99_ms": np.percentile(wall, 99) * 1e3,
            "cpu_p50_ms": np.percentile(cpu, 50) * 1e3, "cpu_p99_ms": np.percentile(cpu, 99) * 1e3,
        })
    return {key: round(statistics.median(run[key] for run in per_run), 3) for key in per_run[0]}


def _missed(report: dict) -> list[str]:
    floor = TARGETS["macro_f1_per_lang"]
    missed = [f"macro-F1 {lang} {scores['macro_f1']:.3f} < {floor}"
              for lang, scores in report["test"]["by_lang"].items() if scores["macro_f1"] < floor]
    if report["batched_per_s"] < TARGETS["batched_per_s"]:
        missed.append(f"batched {report['batched_per_s']:.0f} msg/s < {TARGETS['batched_per_s']}")
    if report["latency"]["wall_p99_ms"] >= TARGETS["p99_ms"]:
        missed.append(f"p99 {report['latency']['wall_p99_ms']:.2f} ms >= {TARGETS['p99_ms']}")
    if report["load_s"] >= TARGETS["load_s"]:
        missed.append(f"load {report['load_s']:.3f} s >= {TARGETS['load_s']}")
    return missed


def _print_cv(report: dict) -> None:
    print("cross-validation on the train split (5 folds, group-aware), intent macro-F1:")
    for result in report["cv_configs"]:
        langs = " ".join(f"{lang} {f1:.3f}" for lang, f1 in result["macro_f1_by_lang"].items())
        print(f"  {result['config']:45s} {result['macro_f1']:.4f} ±{result['macro_f1_std']:.4f}  "
              f"acc {result['accuracy']:.4f}  [{langs}]  {result['seconds']:.0f}s")
    print("urgency (urgent class):")
    for result in report["cv_urgency"]:
        print(f"  {result['mode']:11s} @ {result['threshold']:.1f}  P {result['precision']:.3f}  "
              f"R {result['recall']:.3f}  F1 {result['f1']:.3f}")


def _print(report: dict) -> None:
    test = report["test"]
    print(f"test split ({test['n']} messages): accuracy {test['accuracy']:.4f}  macro-F1 {test['macro_f1']:.4f}")
    for lang, scores in test["by_lang"].items():
        print(f"  {lang:8s} n={scores['n']:3d}  accuracy {scores['accuracy']:.4f}  macro-F1 {scores['macro_f1']:.4f}")
    first = report["test_first_round"]
    print(f"  first-round test messages (n={first['n']}): macro-F1 {first['macro_f1']:.4f}  " + "  ".join(
        f"{lang} {scores['macro_f1']:.3f}" for lang, scores in first["by_lang"].items()))
    print(f"  sentiment macro-F1 {test['sentiment']['macro_f1']:.4f}  accuracy {test['sentiment']['accuracy']:.4f}")
    urgent = test["urgent"]
    print(f"  urgent P {urgent['precision']:.3f}  R {urgent['recall']:.3f}  F1 {urgent['f1']:.3f}  "
          f"(n={urgent['n_urgent']})")
    confidence = test["confidence"]
    print(f"  confidence: ECE {confidence['ece']:.3f}; " + ", ".join(
        f"≥{threshold}: {at['coverage']:.0%} of messages at accuracy {at['accuracy']:.3f}"
        for threshold, at in confidence["at"].items()))
    latency = report["latency"]
    print(f"training {report['train_s']:.2f} s   artifact {report['artifact_mb']} MB   "
          f"load {report['load_s'] * 1e3:.0f} ms (fresh interpreter with imports: {report['load_cold_s']:.2f} s)")
    print(f"batched {report['batched_per_s']:.0f} msg/s   one at a time {report['one_at_a_time_per_s']:.0f} msg/s")
    print(f"one message: p50 {latency['wall_p50_ms']:.3f} ms  p99 {latency['wall_p99_ms']:.3f} ms wall | "
          f"p50 {latency['cpu_p50_ms']:.3f} ms  p99 {latency['cpu_p99_ms']:.3f} ms CPU")
    start, end = report["load_average_at_start"], report["load_average_at_end"]
    print(f"load average {start[0]:.2f} at start, {end[0]:.2f} at end ({os.cpu_count()} CPUs)")
    missed = _missed(report)
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))


if __name__ == "__main__":
    sys.exit(main())
