"""`flask --app app routing train | classify --jsonl | evaluate` (DESIGN.md contracts)."""
import json

import pytest

from app import create_app
from inbox.extensions import db
from routing.intent.data import load_split


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "k",
                      "INTENT_MODEL_DIR": str(models / "intent")})
    with app.app_context():
        db.create_all()  # training records a ModelVersion
    return app.test_cli_runner()


def test_classify_without_a_model_answers_no_label(runner):
    result = runner.invoke(args=["routing", "classify", "--jsonl", "-"], input='{"id": 1, "text": "hello"}\n')
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["id"] == 1 and row["intent"] is None and row["confidence"] == 0.0


@pytest.mark.trains
def test_train_then_classify_and_evaluate(runner, tmp_path):
    trained = runner.invoke(args=["routing", "train", "--no-select"])
    assert trained.exit_code == 0, trained.output
    assert "macro-F1" in trained.output and "version #1 (active)" in trained.output
    lines = [{"id": "a", "text": "النت عندي بطيء كتير من امبارح"}, {"id": "b", "text": "my bill is 38 JD, why?"},
             {"id": "c", "text": "shukran ktir 3al mosa3adeh ❤️"}]
    result = runner.invoke(args=["routing", "classify", "--jsonl", "-"],
                           input="\n".join(json.dumps(line, ensure_ascii=False) for line in lines))
    rows = {row["id"]: row for row in map(json.loads, result.output.splitlines())}
    assert rows["a"]["intent"] == "internet_speed" and rows["b"]["intent"] == "billing"
    assert rows["c"]["intent"] == "praise" and set(rows["a"]) == {"id", "intent", "confidence", "lang", "sentiment",
                                                                  "urgent"}
    test_split = tmp_path / "test.jsonl"
    test_split.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in load_split("test")),
                          encoding="utf-8")
    evaluated = runner.invoke(args=["routing", "evaluate", str(test_split)])
    assert evaluated.exit_code == 0 and "macro-F1" in evaluated.output


def test_an_unreadable_line_exits_2(runner):
    result = runner.invoke(args=["routing", "classify", "--jsonl", "-"], input="not json\n")
    assert result.exit_code == 2 and "line 1" in result.output


@pytest.mark.parametrize("args", [["routing", "train", "--no-select"], ["seed-demo"],
                                  ["users", "create", "boss@operator.jo", "--password", "a long password 1"]])
def test_a_command_on_a_database_without_tables_says_to_upgrade_it(tmp_path, args):
    """A fresh instance that never ran `db upgrade`: one clear line, not an SQL traceback."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite'}",
                      "SECRET_KEY": "k", "INTENT_MODEL_DIR": str(tmp_path / "models")})
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert "no tables yet: run `flask --app app db upgrade` first" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "models").exists()
