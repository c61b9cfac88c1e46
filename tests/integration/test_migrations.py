"""Alembic: one head, and the migrated schema matches the models on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from yibaodai.db.migrate import heads
from yibaodai.db.models import Base


def test_there_is_exactly_one_migration_head(db_url: str) -> None:
    assert len(heads(db_url)) == 1


def test_the_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []
