import json

import pytest

from routing.cli_support import classify_file, classify_jsonl, evaluate_file, summary_lines, usable_extra_rows

FIELDS = {"id", "intent", "confidence", "lang", "sentiment", "urgent"}


def test_classify_jsonl_keeps_ids_and_order(trained):
    lines = [json.dumps({"id": i, "text": text}, ensure_ascii=False)
             for i, text in enumerate(["ليش الفاتورة غالية؟", "", "el net ba6ee2"])]
    rows = list(classify_jsonl(trained, lines + ["", "  "]))
    assert [row["id"] for row in rows] == [0, 1, 2]
    assert all(set(row) == FIELDS for row in rows)
    assert rows[0]["intent"] == "billing" and rows[1]["intent"] is None
    json.dumps(rows)  # printable as JSON lines


def test_classify_without_a_model_answers_no_label(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "hello"}\n', "utf-8")
    assert list(classify_file(None, path)) == [
        {"id": "a", "intent": None, "confidence": 0.0, "lang": "en", "sentiment": None, "urgent": False}
    ]


@pytest.mark.parametrize("line", ["not json", "[1, 2]", '{"id": 1}', '{"id": 1, "text": 5}'])
def test_unreadable_line_names_its_number(trained, line):
    with pytest.raises(ValueError, match="line 2"):
        list(classify_jsonl(trained, ['{"id": 0, "text": "hi"}', line]))


def test_evaluate_file(trained, tmp_path, test_rows):
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps({k: r[k] for k in ("id", "text", "intent")}, ensure_ascii=False)
                              for r in test_rows[:100]), "utf-8")
    metrics = evaluate_file(trained, path)
    assert metrics["n"] == 100 and 0.5 < metrics["accuracy"] <= 1.0
    assert set(metrics["by_lang"]) <= {"ar", "en", "arabizi", "mixed"}  # detected when not given
    assert summary_lines(metrics)[0].startswith("accuracy ")


def test_evaluate_file_needs_labels(trained, tmp_path):
    path = tmp_path / "unlabelled.jsonl"
    path.write_text('{"id": 1, "text": "hi"}\n', "utf-8")
    with pytest.raises(ValueError, match="row 1"):
        evaluate_file(trained, path)


def test_extra_rows_train_but_never_test(test_rows):
    labels = {"billing", "roaming"}
    rows = [
        {"text": "wen el roaming?", "intent": "billing"},
        {"text": "  WEN el roaming?? ", "intent": "roaming", "sentiment": "negative", "urgent": True},  # same text
        {"text": test_rows[0]["text"], "intent": test_rows[0]["intent"]},  # a test message: held out
        {"text": "   ", "intent": "billing"},  # nothing to read
        {"text": "fatora", "intent": "weather"},  # not a label the model has
        {"text": 5, "intent": "billing"},
        {"id": "label-9", "text": "ليش الفاتورة غالية", "intent": "billing", "sentiment": "sad"},
    ]
    usable = usable_extra_rows(rows, labels | {test_rows[0]["intent"]}, test_rows)
    assert [(row["text"], row["intent"]) for row in usable] == [
        ("  WEN el roaming?? ", "roaming"), ("ليش الفاتورة غالية", "billing")]
    assert (usable[0]["sentiment"], usable[0]["urgent"], usable[0]["lang"]) == ("negative", True, "arabizi")
    assert (usable[1]["id"], usable[1]["sentiment"], usable[1]["urgent"], usable[1]["lang"]) == (
        "label-9", "neutral", False, "ar")
