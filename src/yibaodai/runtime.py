"""Wiring the bank together: the one place that builds the database, the message bus, the
gateways, the app and the worker from settings, a clock and the key directory. The packages
themselves know nothing of one another's handlers: the gateways and the web app get the bus's
``publish`` (``flow.handlers`` is the registry), the worker gets the jobs (``worker.jobs``)."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from yibaodai.admission.versions import seed_model_versions
from yibaodai.bootstrap import ensure_keys, keyring, open_database, seed_organisation
from yibaodai.clock import Clock
from yibaodai.db.migrate import upgrade
from yibaodai.db.session import Database
from yibaodai.flow.bus import MessageBus
from yibaodai.flow.handlers import message_bus
from yibaodai.gateway.quarantine import QuarantineBound
from yibaodai.gateway.service import BUREAU_INFNOS, HEAD_OFFICE_INFNOS, Gateway
from yibaodai.outbound.connector import Connector, Endpoint
from yibaodai.outbound.outbox import BUREAU, HEAD_OFFICE
from yibaodai.settings import Settings
from yibaodai.web.app import create_app
from yibaodai.web.context import AppContext
from yibaodai.worker.dispatcher import Dispatcher
from yibaodai.worker.jobs import standard_jobs
from yibaodai.worker.runner import Worker, default_holder


@dataclass
class Bank:
    db: Database
    clock: Clock
    settings: Settings
    bus: MessageBus
    app: FastAPI
    context: AppContext


def prepare_database(settings: Settings) -> Database:
    upgrade(settings.database_url)
    db = open_database(settings)
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
    bus = message_bus()
    ctx = AppContext(
        db=db, clock=clock, settings=settings, publish=bus.publish,
        bureau_gateway=Gateway(db=db, clock=clock, keyring=ring, peer="bureau",
                               allowed_infnos=BUREAU_INFNOS, publish=bus.publish,
                               window=window, max_body_bytes=settings.max_body_bytes,
                               quarantine=QuarantineBound(rate=settings.quarantine_rate)),
        head_office_gateway=Gateway(db=db, clock=clock, keyring=ring, peer="headoffice",
                                    allowed_infnos=HEAD_OFFICE_INFNOS, publish=bus.publish,
                                    window=window, max_body_bytes=settings.max_body_bytes,
                                    quarantine=QuarantineBound(rate=settings.quarantine_rate)),
    )
    warm_feature_sql(db, clock)
    return Bank(db=db, clock=clock, settings=settings, bus=bus, app=create_app(ctx),
                context=ctx)


def settle_heap() -> None:
    """Once the app is built, before serving: collect, then move every object alive now (the
    imported libraries, the app, the compiled SQL) out of the collector's generations.

    Why: each full collection walks every tracked object. In a serving process most of them
    are start-up objects that live for ever, so each one stalled every request in flight.
    Measured by ``python -m bench.platform_load`` on a quiet machine, one run each way
    (docs/bench-platform.md): p95 of the institution view 200 → 56 ms, the trivial
    endpoint's p99 240 → 48 ms; the runs spread, so read these as a direction."""
    gc.collect()
    gc.freeze()


def warm_feature_sql(db: Database, clock: Clock) -> None:
    """Compile today's online feature SQL before the first request needs it (~0.3 s), so no
    decision pays the compile. A long-running server compiles again on its first decision of
    each new day."""
    from yibaodai.features.engines import compiled

    compiled(clock.today(), db.engine.dialect.name, one_institution=True)


def build_dispatcher(bank: Bank, *, bureau_url: str, head_office_url: str,
                     holder: str | None = None) -> Dispatcher:
    """``*_url``: the full receiving endpoints of the bureau and of head office."""
    settings = bank.settings
    return Dispatcher(db=bank.db, clock=bank.clock,
                      connector=Connector(keyring=keyring(settings.keys_dir, "bank"),
                                          timeout=settings.outbox_send_timeout_seconds),
                      endpoints={BUREAU: Endpoint(bureau_url, "bureau"),
                                 HEAD_OFFICE: Endpoint(head_office_url, "headoffice")},
                      publish=bank.bus.publish, holder=holder or default_holder(),
                      claim_for=timedelta(seconds=settings.outbox_claim_seconds))


def build_worker(bank: Bank, *, bureau_url: str | None = None,
                 head_office_url: str | None = None, holder: str | None = None) -> Worker:
    """The worker with the bank's jobs. Receiver URLs default to the settings; without them
    the worker runs every job but the outbox (``yibaodai jobs run`` on a machine that does not
    deliver)."""
    holder = holder or default_holder()
    bureau_url = bureau_url or bank.settings.bureau_url
    head_office_url = head_office_url or bank.settings.head_office_url
    dispatcher = (build_dispatcher(bank, bureau_url=bureau_url, head_office_url=head_office_url,
                                   holder=holder)
                  if bureau_url and head_office_url else None)
    return Worker(db=bank.db, clock=bank.clock, holder=holder,
                  lease_for=timedelta(seconds=bank.settings.job_lease_seconds),
                  jobs=standard_jobs(db=bank.db, bus=bank.bus, dispatcher=dispatcher,
                                     settings=bank.settings),
                  dispatcher=dispatcher)
