"""Database engine set-up and the few dialect-aware helpers the services need."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import any_, bindparam, event, text
from sqlalchemy import update as sa_update
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
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


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def among(column, values):
    """``column IN (values)``; on PostgreSQL ``column = ANY(array)``: one parameter however many
    values, so the SQL text stays short and cacheable."""
    values = list(values)
    if is_postgresql():
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def bulk_insert(model, rows: list[dict], returning: tuple[str, ...] = ("id",),
                ignore_conflicts_on: list[str] | None = None) -> list:
    """Insert many rows through Core (no ORM objects); the ``returning`` columns of the rows
    inserted, sorted by id (the first of them), which is the rows' own order. With
    ``ignore_conflicts_on`` a row that would break that unique key is skipped (ON CONFLICT DO
    NOTHING) and not returned: safe under concurrent writers, unlike "select, then insert".

    On PostgreSQL one statement with one parameter: the rows as a JSON array, read back by
    ``json_to_recordset`` in order (WITH ORDINALITY). Its SQL text is the same for any number
    of rows (psycopg and the server cache and prepare it), where a multi-row VALUES has
    thousands of placeholders to render and parse, and JSON is encoded in C where psycopg
    escapes array literals in Python. Rows are inserted in ordinality order, so their serial
    ids ascend in the rows' order: the guarantee SQLAlchemy's own insertmanyvalues relies on
    for PostgreSQL.
    """
    table = model.__table__
    if not rows:
        return []
    if not is_postgresql():
        columns_out = [table.c[name] for name in returning]
        statement = sqlite.insert(table)
        if ignore_conflicts_on:
            statement = statement.on_conflict_do_nothing(index_elements=ignore_conflicts_on)
            return sorted(db.session.execute(statement.returning(*columns_out), rows).all(), key=lambda r: r[0])
        return db.session.execute(statement.returning(*columns_out, sort_by_parameter_order=True), rows).all()
    rows = _with_defaults(table, rows)
    dialect = db.session.get_bind().dialect
    quote = dialect.identifier_preparer.quote_identifier
    names = list(rows[0])
    columns = ", ".join(quote(name) for name in names)
    definitions = ", ".join(f"{quote(name)} {table.c[name].type.compile(dialect=dialect)}" for name in names)
    conflict = (f" ON CONFLICT ({', '.join(quote(n) for n in ignore_conflicts_on)}) DO NOTHING"
                if ignore_conflicts_on else "")
    statement = text(
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({columns}) SELECT {columns} "
        f"FROM ROWS FROM (json_to_recordset(CAST(:rows AS json)) AS ({definitions})) "
        f"WITH ORDINALITY AS bulk ({columns}, bulk_ordinality) ORDER BY bulk_ordinality{conflict} "
        f"RETURNING {', '.join(quote(name) for name in returning)}")
    encoded = json.dumps(rows, ensure_ascii=False, default=_json_value)
    return sorted(db.session.execute(statement, {"rows": encoded}).all(), key=lambda r: r[0])


def bulk_update(model, rows: list[dict]) -> None:
    """Set each row's columns on the row with its ``id`` (every row names the same columns).
    On PostgreSQL one ``UPDATE … FROM json_to_recordset(…)`` statement, whatever the number of
    rows; elsewhere an executemany."""
    if not rows:
        return
    table = model.__table__
    names = [name for name in rows[0] if name != "id"]
    if not is_postgresql():
        statement = (sa_update(table).where(table.c.id == bindparam("v_id"))
                     .values({name: bindparam("v_" + name) for name in names}))
        db.session.execute(statement, [{"v_" + k: v for k, v in row.items()} for row in rows])
        return
    dialect = db.session.get_bind().dialect
    quote = dialect.identifier_preparer.quote_identifier
    definitions = ", ".join(f"{quote(name)} {table.c[name].type.compile(dialect=dialect)}" for name in ["id", *names])
    assignments = ", ".join(f"{quote(name)} = changed.{quote(name)}" for name in names)
    db.session.execute(text(
        f"UPDATE {dialect.identifier_preparer.format_table(table)} SET {assignments} "
        f"FROM json_to_recordset(CAST(:rows AS json)) AS changed ({definitions}) "
        f"WHERE {dialect.identifier_preparer.format_table(table)}.id = changed.id"),
        {"rows": json.dumps(rows, ensure_ascii=False, default=_json_value)})


def _with_defaults(table, rows: list[dict]) -> list[dict]:
    """The model's Python-side defaults (created_at, attempts …) for columns the rows leave out:
    SQL written by hand does not apply them the way Core does."""
    missing = {}
    for column in table.columns:
        default = column.default
        if column.name in rows[0] or default is None or column.primary_key:
            continue
        if default.is_scalar:
            missing[column.name] = default.arg
        elif default.is_callable:
            missing[column.name] = default.arg(None)
    return [{**row, **missing} for row in rows] if missing else rows


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a bulk insert")


def insert_returning_ids(model, rows: list[dict]) -> list[int]:
    """The new ids of ``rows``, in their order."""
    return [row[0] for row in bulk_insert(model, rows)]
