"""Embedded mode under concurrent writers: BEGIN IMMEDIATE plus busy_timeout means
read-then-write transactions wait for each other instead of failing "database is locked"."""
import threading

from sqlalchemy import select

from app import create_app
from inbox.extensions import db
from inbox.models import Team


def test_concurrent_read_then_write_transactions_never_fail(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'w.db'}"})
    with app.app_context():
        db.create_all()
        db.session.add(Team(name="counter-0"))
        db.session.commit()
    errors: list[Exception] = []

    def writer(n: int) -> None:
        with app.app_context():
            for i in range(50):
                try:
                    team = db.session.scalar(select(Team).order_by(Team.id).limit(1))  # read…
                    db.session.add(Team(name=f"w{n}-{i}-{team.id}"))  # …then write
                    db.session.commit()
                except Exception as exc:  # noqa: BLE001 - every failure counts
                    errors.append(exc)
                    db.session.rollback()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert len(db.session.scalars(select(Team)).all()) == 1 + 4 * 50
        db.engine.dispose()
