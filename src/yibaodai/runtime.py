"""Wiring the bank together: one place that builds the database, gateways, app and
dispatcher from settings, a clock and the key directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from yibaodai.admission.versions import seed_model_versions
from yibaodai.bootstrap import ensure_keys, keyring, seed_organisation
from yibaodai.clock import Clock
from yibaodai.db.migrate import upgrade
from yibaodai.db.session import Database
from yibaodai.gateway.service import BUREAU_INFNOS, HEAD_OFFICE_INFNOS, Gateway
from yibaodai.outbound.dispatcher import Dispatcher, Endpoint
from yibaodai.outbound.outbox import BUREAU, HEAD_OFFICE
from yibaodai.settings import Settings
from yibaodai.web.app import create_app
from yibaodai.web.context import AppContext


@dataclass
class Bank:
    db: Database
    clock: Clock
    settings: Settings
    app: FastAPI
    context: AppContext


def prepare_database(settings: Settings) -> Database:
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    with db.unit_of_work() as session:
        seed_organisation(session)
        seed_model_versions(session)
        session.commit()
    return db


def build_bank(settings: Settings, clock: Clock, db: Database | None = None) -> Bank:
    db = db or prepare_database(settings)
    ensure_keys(settings.keys_dir)
    ring = keyring(settings.keys_dir, "bank")
    window = timedelta(seconds=settings.timestamp_window_seconds)
    ctx = AppContext(
        db=db, clock=clock, settings=settings,
        bureau_gateway=Gateway(db=db, clock=clock, keyring=ring, peer="bureau",
                               allowed_infnos=BUREAU_INFNOS, window=window,
                               max_body_bytes=settings.max_body_bytes),
        head_office_gateway=Gateway(db=db, clock=clock, keyring=ring, peer="headoffice",
                                    allowed_infnos=HEAD_OFFICE_INFNOS, window=window,
                                    max_body_bytes=settings.max_body_bytes),
    )
    warm_feature_sql(db, clock)
    return Bank(db=db, clock=clock, settings=settings, app=create_app(ctx), context=ctx)


def warm_feature_sql(db: Database, clock: Clock) -> None:
    """Compile today's online feature SQL before the first request needs it (~0.3 s), so no
    decision pays the compile. A long-running server compiles again on its first decision of
    each new day."""
    from yibaodai.features.engines import compiled

    compiled(clock.today(), db.engine.dialect.name, one_institution=True)


def build_dispatcher(bank: Bank, *, bureau_url: str, head_office_url: str) -> Dispatcher:
    """``*_url``: the full receiving endpoints of the bureau and of head office."""
    return Dispatcher(db=bank.db, clock=bank.clock,
                      keyring=keyring(bank.settings.keys_dir, "bank"), endpoints={
                          BUREAU: Endpoint(bureau_url, "bureau"),
                          HEAD_OFFICE: Endpoint(head_office_url, "headoffice")})
