"""A customer and the platform identities (handles) that belong to them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inbox.extensions import db
from inbox.models.base import utcnow


def trigram_index(name: str, column: str) -> Index:
    """A PostgreSQL pg_trgm index for the queue's substring search (ILIKE '%term%'). The extension
    lives in ``public`` so that every schema's search_path finds it. SQLite's search scans: there the
    index is partial on a false condition, empty and free, so both schemas list the same indexes."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "public.gin_trgm_ops"},
                 sqlite_where=text("0"))


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (trigram_index("ix_customers_display_name_trgm", "display_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(255))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")  # "VIP": rules read them
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[Identity]] = relationship(back_populates="customer")


class Identity(db.Model):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_user_id"),
                      trigram_index("ix_identities_handle_trgm", "handle"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_user_id: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")


# The search's trigram operators, before the first table that indexes with them (migration 0007 too).
event.listen(Customer.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public").execute_if(dialect="postgresql"))
