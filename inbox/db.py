"""Database engine set-up and the few dialect-aware helpers the services need."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from inbox.extensions import db


def configure_sqlite(engine: Engine) -> None:
    """WAL, synchronous=NORMAL, a busy timeout, and BEGIN IMMEDIATE for every transaction.

    A deferred transaction that reads and then writes fails at once with "database is locked"
    when another writer holds the lock, whatever busy_timeout says; taking the write lock at
    BEGIN makes the second writer wait instead (RELIABILITY.md, SQLite measurements). Embedded
    mode has one writer process, and every transaction here is short.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_engine(app) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine)


def insert_ignoring_duplicates(model, values: dict, conflict_columns: list[str]):
    """Build INSERT ... ON CONFLICT DO NOTHING RETURNING id for the session's dialect.

    Executing it returns the new id, or None when the row already existed: the caller then
    skips every side effect. Safe under concurrent writers, unlike "select, then insert".
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict_columns)
        .returning(model.id)
    )
