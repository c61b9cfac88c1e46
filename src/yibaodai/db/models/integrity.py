"""Signed checkpoints of the hash chains' heads (``audit.checkpoints``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yibaodai.db.models.base import Base
from yibaodai.db.types import AwareDateTime


class ChainCheckpointRow(Base):
    """What one chain looked like at a moment, signed with the bank's SM2 key: its last
    record's id and hash and how many records it held. Append-only (database triggers);
    ``seq`` runs 1, 2, 3... over all chains, so a checkpoint removed from the middle leaves a
    gap."""

    __tablename__ = "chain_checkpoints"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chain: Mapped[str] = mapped_column(String(20))
    last_id: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    records: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    key_id: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(Text)
