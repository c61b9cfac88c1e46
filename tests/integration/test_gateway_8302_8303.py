"""8302 reconciliation totals (stored as received, compared with the summed 8301 facts in the
same transaction, differences flagged, never dropped), 8303 fund disbursements (a resent
identical dfr_id is accepted and changes nothing), the data-quality route's scope, and the
retention of data after authorizations end (the clock is moved, never slept on)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import Installation
from tests.integration.test_gateway_refusals import (
    CODE,
    OTHER_CODE,
    OTHER_USCC,
    Bureau,
    auth_row,
    bureau,  # noqa: F401  (the fixture)
    daily_row,
    disb_row,
    profile_row,
    recon_row,
)
from yibaodai.audit.log import verify_chain
from yibaodai.cli.retention import retention_app
from yibaodai.db.models import (
    AuditRow,
    AuthorizationRow,
    CaseRow,
    DataQualityFlagRow,
    DecisionRow,
    FundDisbursementRow,
    InstitutionRow,
    RawMessageRow,
    ReconciliationTotalRow,
    SettlementFactRow,
)
from yibaodai.gateway import retention
from yibaodai.gateway.archive import verify_archive
from yibaodai.sim.server import ServerThread


def _flags(b: Bureau) -> list[DataQualityFlagRow]:
    with b.db.unit_of_work() as s:
        rows = list(s.scalars(select(DataQualityFlagRow).order_by(DataQualityFlagRow.id)))
        s.expunge_all()
        return rows


def test_reconciliation_totals_are_kept_and_differences_flagged(bureau: Bureau) -> None:  # noqa: F811
    days = [daily_row(), daily_row(setl_date="2026-08-21", setl_cnt=10, refd_setl_cnt=2,
                                   medfee_sumamt="-50.00", fund_pay_sumamt="-40.00",
                                   hifp_pay="-40.00", acct_pay="-10.00", psn_cash_pay="0.00")]
    assert bureau.send("8301", days).infcode == 0
    # equal to the sum (refund day included: counts 40 + 10, amounts net)
    same = recon_row(medfee_sumamt="11950.50", fund_pay_sumamt="7960.00", acct_pay="990.25",
                     fixmedins_setl_cnt=50)
    answer = bureau.send("8302", [same])
    assert answer.infcode == 0 and answer.output["flags_raised"] == 0, answer.err_msg
    # within 0.01 yuan: no flag
    answer = bureau.send("8302", [{**same, "medfee_sumamt": "11950.51"}])
    assert answer.output["flags_raised"] == 0
    # a count off by one and an amount off by 1 yuan; a type with no daily facts at all
    answer = bureau.send("8302", [{**same, "fixmedins_setl_cnt": 51, "fund_pay_sumamt":
                                   "7961.00"}, recon_row(insutype="390", clr_type="21")])
    assert answer.infcode == 0 and answer.output["flags_raised"] == 2, answer.err_msg
    first, second = _flags(bureau)
    assert first.kind == "reconciliation_mismatch" and first.fixmedins_code == CODE
    assert (first.period_begin.isoformat(), first.period_end.isoformat()) == (
        "2026-08-01", "2026-08-31")
    assert first.details["difference"] == {"fund_pay_sumamt": "1.00", "fixmedins_setl_cnt": 1}
    assert first.details["bureau"]["fixmedins_setl_cnt"] == 51
    assert first.details["daily"] == {"medfee_sumamt": "11950.50", "fund_pay_sumamt": "7960.00",
                                      "acct_pay": "990.25", "setl_cnt": 50, "refd_setl_cnt": 3,
                                      "days": 2}
    assert second.details["daily"]["days"] == 0
    assert second.details["difference"]["medfee_sumamt"] == "12000.50"
    assert first.source_msgid == second.source_msgid and first.resolved_at is None
    with bureau.db.unit_of_work() as s:  # every total is stored as received
        stored = list(s.scalars(select(ReconciliationTotalRow).order_by(
            ReconciliationTotalRow.id)))
        assert len(stored) == 4
        assert stored[1].medfee_sumamt == Decimal("11950.51")
        assert stored[2].fixmedins_setl_cnt == 51
        assert s.scalar(select(func.count()).select_from(SettlementFactRow)) == 2


def test_disbursements_resent_identically_are_accepted_once(bureau: Bureau) -> None:  # noqa: F811
    grant = auth_row(OTHER_CODE, OTHER_USCC, scope=["disbursement"])
    assert bureau.send("8101", [grant], code=OTHER_CODE).infcode == 0
    rows = [disb_row(OTHER_CODE), disb_row(OTHER_CODE, dfr_id="DFR202608000002",
                                           dfr_sumamt="800.00")]
    answer = bureau.send("8303", rows, code=OTHER_CODE)
    assert answer.infcode == 0 and answer.output["new_rows"] == 2, answer.err_msg
    again = bureau.send("8303", rows, code=OTHER_CODE)  # a new msgid, the same rows
    assert again.infcode == 0 and again.output["new_rows"] == 0, again.err_msg
    third = bureau.send("8303", [rows[0], disb_row(OTHER_CODE, dfr_id="DFR3")], code=OTHER_CODE)
    assert third.infcode == 0 and third.output["new_rows"] == 1
    with bureau.db.unit_of_work() as s:
        stored = {d.dfr_id: d for d in s.scalars(select(FundDisbursementRow))}
        assert sorted(stored) == ["DFR202608000001", "DFR202608000002", "DFR3"]
        first = stored["DFR202608000001"]
        assert first.dfr_sumamt == Decimal("7200.00") and first.setlym == "202607"
        assert first.fin_acen_time.isoformat() == "2026-08-05T10:30:00+08:00"
    # the institution whose authorization lacks the scope is refused (CODE: no disbursement)
    assert bureau.send("8303", [disb_row(dfr_id="DFR9")]).infcode == 1501


# -- the data-quality route ------------------------------------------------------------------

def _case(s: Any, code: str, sub_branch: str, now: Any) -> None:
    decision = DecisionRow(fixmedins_code=code, decided_at=now, trigger="test", result="admitted",
                           credit_limit=Decimal("100000.00"), reasons=[], inputs={},
                           rule_version="test", content_hash="0" * 64)
    s.add(decision)
    s.flush()
    s.add(CaseRow(fixmedins_code=code, decision_id=decision.id, sub_branch_code=sub_branch,
                  state="assigned", credit_limit=Decimal("100000.00"), assigned_at=now,
                  claim_deadline=now + timedelta(days=2)))


def _flag(s: Any, code: str, now: Any) -> None:
    s.add(DataQualityFlagRow(fixmedins_code=code, kind="reconciliation_mismatch",
                             period_begin=now.date(), period_end=now.date(),
                             details={"difference": {"fixmedins_setl_cnt": 1}}, raised_at=now,
                             source_msgid="M" * 30))


def test_data_quality_flags_by_role_and_scope(installation: Installation,
                                              bank_server: ServerThread) -> None:
    now = installation.clock.now()
    a, b, lone = CODE, OTHER_CODE, "H21021100001"
    with installation.bank.db.unit_of_work() as s:
        _case(s, a, "DL001", now)
        _case(s, b, "DL002", now)
        for code in (a, b, lone):
            _flag(s, code, now)
        s.commit()
    expected = {"gm": {a, b, lone}, "mgr_dl001": {a}, "mgr_dl002": {b}, "mgr_dl003": set()}
    for user, status in (("admin", 403), ("auditor", 403), ("cm_dl001_1", 403),
                         *((u, 200) for u in expected)):
        token = httpx.post(f"{bank_server.url}/api/auth/token", json={
            "username": user, "password": installation.accounts[user].password}).json()["token"]
        r = httpx.get(f"{bank_server.url}/api/data-quality",
                      headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == status, (user, r.text)
        if status == 200:
            assert {f["fixmedins_code"] for f in r.json()} == expected[user], user
    assert httpx.get(f"{bank_server.url}/api/data-quality").status_code == 401
    one = httpx.get(f"{bank_server.url}/api/data-quality", headers={
        "Authorization": "Bearer " + httpx.post(f"{bank_server.url}/api/auth/token", json={
            "username": "mgr_dl001", "password": installation.accounts["mgr_dl001"].password}
        ).json()["token"]}).json()[0]
    assert one["kind"] == "reconciliation_mismatch" and one["details"]["difference"]


# -- retention -------------------------------------------------------------------------------

def _held(b: Bureau, code: str) -> dict[str, int]:
    with b.db.unit_of_work() as s:
        out = {name: int(s.scalar(select(func.count()).select_from(model).where(
            model.fixmedins_code == code)) or 0)
            for name, model in retention.DELETED_TABLES.items()}
        out["institutions"] = 1 if s.get(InstitutionRow, code) else 0
        return out


def test_retention_after_revocation(bureau: Bureau, monkeypatch: pytest.MonkeyPatch  # noqa: F811
                                    ) -> None:
    every = ["profile", "events", "settlement", "disbursement"]
    for code, uscc in ((OTHER_CODE, OTHER_USCC),):
        assert bureau.send("8101", [auth_row(code, uscc, scope=every)], code=code).infcode == 0
    o = OTHER_CODE
    for infno, rows in (("8201", [profile_row(o, OTHER_USCC, fix_blng_admdvs="210203")]),
                        ("8202", [{"fixmedins_code": o, "evt_type": "penalty",
                                   "evt_date": "2026-08-10", "evt_amt": "500.00"}]),
                        ("8301", [daily_row(o)]), ("8302", [recon_row(o, acct_pay="1.00")]),
                        ("8303", [disb_row(o)])):
        assert bureau.send(infno, rows, code=o).infcode == 0, infno
    assert bureau.send("8201", [profile_row()]).infcode == 0
    assert bureau.send("8301", [daily_row()]).infcode == 0
    with bureau.db.unit_of_work() as s:  # CODE has a case: five years, not 180 days
        _case(s, CODE, "DL001", bureau.clock.now())
        s.commit()
    for code in (o, CODE):
        answer = bureau.send("8102", [{"fixmedins_code": code, "auth_no": f"AUTH{code}",
                                       "revoke_time": "2026-09-01 09:00:00"}], code=code)
        assert answer.infcode == 0, answer.err_msg
    revoked_at = bureau.clock.now()
    for infno, row in (("8301", daily_row(o)), ("8302", recon_row(o)),
                       ("8303", disb_row(o, dfr_id="LATE1"))):  # later data is refused
        assert bureau.send(infno, [row], code=o).infcode == 1501, infno
    before = _held(bureau, o)
    assert before == {"settlement_facts": 1, "settlement_months": 1, "reconciliation_totals": 1,
                      "data_quality_flags": 1, "fund_disbursements": 1,
                      "institution_events": 1, "institutions": 1}
    with bureau.db.unit_of_work() as s:
        archived = s.scalar(select(func.count()).select_from(RawMessageRow))

    bureau.clock.advance(timedelta(days=180) - timedelta(seconds=1))
    assert retention.apply(bureau.db, now=bureau.clock.now()) == []
    bureau.clock.advance(timedelta(seconds=1))
    preview = retention.apply(bureau.db, now=bureau.clock.now(), dry_run=True)
    assert [i.verdict.fixmedins_code for i in preview] == [o]
    assert _held(bureau, o) == before  # a dry run changes nothing
    # the command prints the same preview
    monkeypatch.setenv("YIBAODAI_DATABASE_URL", bureau.db.url)
    monkeypatch.setenv("YIBAODAI_DEMO_MODE", "1")  # the fixtures' installations are demo ones
    cli = CliRunner().invoke(retention_app, ["apply", "--dry-run", "--as-of",
                                             bureau.clock.now().isoformat()])
    assert cli.exit_code == 0, cli.output
    assert f"{o}: would delete" in cli.output and "1 institution(s)" in cli.output
    assert CliRunner().invoke(retention_app, ["apply", "--as-of", "2030-01-01T00:00:00"]
                              ).exit_code == 2
    assert _held(bureau, o) == before

    [done] = retention.apply(bureau.db, now=bureau.clock.now())
    assert done.counts == before
    assert set(_held(bureau, o).values()) == {0}
    assert _held(bureau, CODE)["settlement_facts"] == 1  # the case keeps CODE's data
    assert retention.apply(bureau.db, now=bureau.clock.now()) == []  # nothing twice
    with bureau.db.unit_of_work() as s:
        audit = s.scalars(select(AuditRow).where(AuditRow.action == "retention.delete")).all()
        assert [a.target for a in audit] == [o]
        assert audit[0].details["deleted"]["settlement_facts"] == 1
        assert audit[0].details["relationship_ended_at"] == revoked_at.isoformat()
        assert verify_chain(s) is None and verify_archive(s) is None
        assert s.scalar(select(func.count()).select_from(RawMessageRow)) == archived
        assert s.scalar(select(func.count()).select_from(AuthorizationRow)) == 2

    bureau.clock.set(revoked_at.replace(year=revoked_at.year + 5) - timedelta(seconds=1))
    assert retention.apply(bureau.db, now=bureau.clock.now()) == []
    bureau.clock.advance(timedelta(seconds=1))
    [late] = retention.apply(bureau.db, now=bureau.clock.now())
    assert late.verdict.fixmedins_code == CODE and late.verdict.had_case
    held = _held(bureau, CODE)
    assert held["settlement_facts"] == 0 and held["institutions"] == 1  # cases show the profile
    with bureau.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(DecisionRow)) >= 1
        assert s.scalar(select(func.count()).select_from(CaseRow)) == 1
