"""Idempotency by msgid: the same message again gets the same answer and is processed once;
the same msgid with another body is refused; concurrent copies are processed once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.integration.test_gateway_refusals import (
    Bureau,
    auth_row,
    bureau,  # noqa: F401  (the fixture)
    daily_row,
    profile_row,
    resign,
    to_bytes,
)
from yibaodai.db.models import MessageOutcomeRow, SettlementFactRow


def _facts(b: Bureau) -> list[tuple[Any, ...]]:
    with b.db.unit_of_work() as s:
        return [tuple(r) for r in s.execute(select(
            SettlementFactRow.setl_date, SettlementFactRow.medfee_sumamt,
            SettlementFactRow.source_msgid).order_by(SettlementFactRow.setl_date))]


def test_same_msgid_same_body_same_answer(bureau: Bureau) -> None:  # noqa: F811
    env = bureau.seal("8301", [daily_row(), daily_row(setl_date="2026-08-21")])
    first, raw1 = bureau.post_bytes(to_bytes(env))
    assert first.infcode == 0, first.err_msg
    facts = _facts(bureau)
    _, raw2 = bureau.post_bytes(to_bytes(env))
    assert raw2 == raw1  # byte-for-byte the same signed answer
    assert _facts(bureau) == facts and len(facts) == 2
    with bureau.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(MessageOutcomeRow)) == 2  # 8101 + 8301


def test_same_msgid_same_body_refusal_is_repeated(bureau: Bureau) -> None:  # noqa: F811
    env = bureau.seal("8301", [daily_row(hifp_pay="1.001")])
    first, raw1 = bureau.post_bytes(to_bytes(env))
    assert first.infcode != 0
    _, raw2 = bureau.post_bytes(to_bytes(env))
    assert raw2 == raw1


def test_same_msgid_other_body_is_refused(bureau: Bureau) -> None:  # noqa: F811
    env = bureau.seal("8301", [daily_row()])
    assert bureau.post(env).infcode == 0
    other = bureau.seal("8301", [daily_row(medfee_sumamt="1.00", fund_pay_sumamt="0.50",
                                           hifp_pay="0.50", acct_pay="0.25",
                                           psn_cash_pay="0.25")])
    other["msgid"] = env["msgid"]
    answer = bureau.post(resign(other, bureau.ring))
    assert answer.infcode != 0
    assert answer.output["error"]["code"] == "msgid_reused"
    assert "msgid" in answer.err_msg
    assert [str(f[1]) for f in _facts(bureau)] == [daily_row()["medfee_sumamt"]]
    # and the original still answers as before
    assert bureau.post(env).infcode == 0


def test_concurrent_copies_are_processed_once(bureau: Bureau) -> None:  # noqa: F811
    for infno, rows in (("8201", [profile_row()]), ("8301", [daily_row()]),
                        ("8101", [auth_row(auth_no="AUTH-CONCURRENT")])):
        body = to_bytes(bureau.seal(infno, rows))

        def post(_: int, body: bytes = body) -> dict[str, Any]:
            r = httpx.post(bureau.url, content=body, timeout=60,
                           headers={"content-type": "application/json"})
            assert r.status_code == 200, r.text[:300]
            return dict(json.loads(r.content))

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(post, range(4)))
        assert all(a == answers[0] for a in answers), answers
        assert answers[0]["infcode"] == 0, answers[0]["err_msg"]
    with bureau.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(MessageOutcomeRow)) == 4
    assert bureau.counts()["settlement_facts"] == 1
    assert bureau.counts()["authorizations"] == 2
    assert bureau.counts()["quarantine"] == 0
