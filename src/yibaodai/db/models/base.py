"""The declarative base, the naming convention every table module shares, and the link
columns of the hash-chained tables."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class ChainLink(Base):
    """The columns of a row in a hash chain (``audit.chain``): its id orders the chain, each
    row's ``record_hash`` covers the previous row's and the row's own content.

    ``link_scheme`` says how ``record_hash`` was computed: ``"hmac-sm3"`` (keyed with the
    bank's chain key ``link_key_id``) for every row written since revision 0011, ``"sm3"``
    (unkeyed) for rows written before it, which keep verifying as they were."""

    __abstract__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))
    link_scheme: Mapped[str] = mapped_column(String(20))
    link_key_id: Mapped[str | None] = mapped_column(String(40))
