"""``yibaodai reconcile`` finds what faults would leave behind: a message the bank marked sent
that its receiver never recorded, a receiver it cannot read, accepted settlement rows that are
no longer stored. (The fault tests, ``test_faults.py``, show it saying ok after real faults.)"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from tests.conftest import Installation
from tests.support.flow import city, likely_admitted, world
from tests.support.operator import run_cli
from yibaodai.db.models import OutboxRow, RawMessageRow, SettlementFactRow
from yibaodai.outbound.outbox import BUREAU, enqueue
from yibaodai.sim.server import ServerThread


def _reconcile(installation: Installation, bureau: str,
               head_office: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(installation.settings, "reconcile", "--json", "--bureau", bureau,
                     "--head-office", head_office)
    return result.exit_code, json.loads(result.stdout)


def test_an_accepted_flow_reconciles_and_each_kind_of_loss_is_named(
        installation: Installation, bank_server: ServerThread) -> None:
    inst = likely_admitted(city())[0]
    with world(installation, bank_server.url) as w:
        w.onboard(inst)
        w.dispatcher.dispatch_due()
        bureau = w.dispatcher.endpoints["bureau"].url.rsplit("/fsi/", 1)[0] + "/sim/received"
        head_office = (w.dispatcher.endpoints["headoffice"].url.rsplit("/fsi/", 1)[0]
                       + "/sim/received")
        code, report = _reconcile(installation, bureau, head_office)
        assert (code, report["ok"]) == (0, True), report
        assert report["receivers"]["bureau"]["sent"] == len(w.bureau_inbox.messages) >= 1
        settled = report["pushes"]["8301"]
        assert settled["accepted"] == settled["stored"] >= 1
        assert settled["rows_expected"] == settled["rows_stored"] > 0

        start = date(2024, 9, 1)  # the bureau corrects three days of its first message
        assert all(a.infcode == 0 for a in w.pusher.push_settlements(
            inst, start=start, end=start + timedelta(days=2)))
        code, report = _reconcile(installation, bureau, head_office)
        assert (code, report["ok"]) == (0, True), report
        assert report["pushes"]["8301"]["superseded"] == 1  # replaced rows are not lost

        with installation.bank.db.unit_of_work() as s:  # sent, says the bank; never arrived
            row = enqueue(s, destination=BUREAU, kind="admission_result",
                          idempotency_key="lost-on-the-way", now=installation.clock.now(),
                          payload={"fixmedins_code": inst.fixmedins_code})
            row.status = "sent"
            s.commit()
        code, report = _reconcile(installation, bureau, head_office)
        assert code == 1 and not report["ok"]
        assert report["receivers"]["bureau"]["faults"]["missing"] == ["lost-on-the-way"]
        with installation.bank.db.unit_of_work() as s:
            s.execute(update(OutboxRow).where(OutboxRow.idempotency_key == "lost-on-the-way")
                      .values(status="pending"))
            s.commit()

        with installation.bank.db.unit_of_work() as s:  # accepted rows gone from the store
            msgid = s.scalars(select(RawMessageRow.msgid).where(RawMessageRow.infno == "8301")
                              .order_by(RawMessageRow.id)).first()
            s.execute(delete(SettlementFactRow).where(SettlementFactRow.source_msgid == msgid))
            s.commit()
        code, report = _reconcile(installation, bureau, head_office)
        assert code == 1
        assert {"msgid": msgid, "fault": "missing"} in report["pushes"]["8301"]["faults"]

        code, report = _reconcile(installation, "http://127.0.0.1:9/sim/received", head_office)
        assert code == 1 and "bureau" in report["unreachable"]


def test_since_compares_only_what_happened_from_that_day_on(
        installation: Installation, bank_server: ServerThread) -> None:
    first, second = likely_admitted(city())[:2]
    with world(installation, bank_server.url) as w:
        w.onboard(first)
        w.dispatcher.dispatch_due()
        bureau = w.dispatcher.endpoints["bureau"].url.rsplit("/fsi/", 1)[0] + "/sim/received"
        head_office = (w.dispatcher.endpoints["headoffice"].url.rsplit("/fsi/", 1)[0]
                       + "/sim/received")
        with installation.bank.db.unit_of_work() as s:  # an old loss, before the window
            row = enqueue(s, destination=BUREAU, kind="admission_result",
                          idempotency_key="lost-long-ago", now=installation.clock.now(),
                          payload={"fixmedins_code": first.fixmedins_code})
            row.status = "sent"
            s.commit()
        _, everything = _reconcile(installation, bureau, head_office)
        installation.clock.advance(timedelta(days=3))
        day = installation.clock.today().isoformat()
        w.onboard(second)
        w.dispatcher.dispatch_due()

        code, whole = _reconcile(installation, bureau, head_office)
        assert code == 1 and whole["since"] is None
        assert whole["receivers"]["bureau"]["faults"]["missing"] == ["lost-long-ago"]
        result = run_cli(installation.settings, "reconcile", "--json", "--bureau", bureau,
                         "--head-office", head_office, "--since", day)
        recent = json.loads(result.stdout)
        assert (result.exit_code, recent["ok"]) == (0, True), recent
        assert recent["since"] == f"{day}T00:00:00+08:00"
        assert recent["receivers"]["bureau"]["sent"] == (
            whole["receivers"]["bureau"]["sent"] - everything["receivers"]["bureau"]["sent"]
        ) >= 1  # only the second institution's answer
        assert 1 <= recent["pushes"]["8301"]["accepted"] == (
            whole["pushes"]["8301"]["accepted"] - everything["pushes"]["8301"]["accepted"])

        for bad, says in (("2026-02-30", "不是日期"), ("yesterday", "not a date"),
                          ("2999-01-01", "不能晚于今天")):
            refused = run_cli(installation.settings, "reconcile", "--bureau", bureau,
                              "--head-office", head_office, "--since", bad)
            assert refused.exit_code == 2, refused.output
            assert says in refused.output and "--since" in refused.output
