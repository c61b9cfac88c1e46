"""The throughput paths of the gateway behave exactly like the plain ones: the spliced signing
string is byte-for-byte the re-encoded one, and large 8301 messages taken by the column path
store the same facts, replace resent days, and are refused whole naming the bad row and field."""

from __future__ import annotations

import base64
import json
import os
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.test_gateway_refusals import (
    CODE,
    Bureau,
    bureau,  # noqa: F401  (the fixture)
    daily_row,
    resign,
    to_bytes,
)
from yibaodai.db.models import SettlementFactRow, SettlementMonthRow
from yibaodai.gateway.service import PARALLEL_OPEN_MIN
from yibaodai.protocol.envelope import _compact, canonical_signing_bytes
from yibaodai.protocol.sm4 import sm4_encrypt

# ------------------------------------------------------------------ signing string splice


def _fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "infno": "8301", "msgid": "210200000001202609010900010001", "mdtrtarea_admvs": "210200",
        "insuplc_admdvs": "210200", "recer_sys_code": "YIBAODAI", "dev_no": "", "dev_safe_info": "",
        "signtype": "SM2", "infver": "V1.0", "opter_type": "1", "opter": "system",
        "opter_name": "系统", "inf_time": "2026-09-01 09:00:01", "fixmedins_code": CODE,
        "fixmedins_name": "诊所", "sign_no": "", "key_id": "bureau-1", "nonce": "0" * 32,
        "input": base64.b64encode(os.urandom(30_000)).decode("ascii"), "cainfo": "sig",
    }
    fields.update(changes)
    return fields


@pytest.mark.parametrize("changes", [
    {},
    {"opter_name": '"input":""'},                       # the placeholder inside a value
    {"fixmedins_name": 'x\\"input":"" \u2028 \x01 诊所'},  # escapes around it
    {"dev_safe_info": '"input":"","input":""'},
    {"input": "A" * 5000},
    {"input": "A" * 100},                                  # small: always re-encoded
    {"input": "A" * 5000 + '"'},                           # not verbatim: re-encoded
    {"input": "A" * 5000 + "\\"},
    {"input": "A" * 5000 + "\x1f"},
    {"input": "A" * 5000 + "\x7f"},
    {"input": "A" * 5000 + "é"},
    {"input": 12345},
])
def test_spliced_signing_string_is_the_reencoded_one(changes: dict[str, Any]) -> None:
    fields = _fields(**changes)
    whole = _compact({k: v for k, v in fields.items() if k != "cainfo"})
    assert canonical_signing_bytes(fields) == whole
    assert json.loads(whole) == {k: v for k, v in fields.items() if k != "cainfo"}


# ------------------------------------------------------------------ large 8301 messages

DAYS_BACK = 200
INSUTYPES = ["310", "320", "390", "410"]


def _rows(last: date, n: int, *, extra_cents: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        day = last - timedelta(days=i // (len(INSUTYPES) * 4))
        fund, acct, cash = 5000 + i % 977, 300 + i % 89, 700 + i % 131
        out.append(daily_row(
            setl_date=day.isoformat(), insutype=INSUTYPES[i // 4 % len(INSUTYPES)],
            clr_type=["11", "21", "41", "99"][i % 4], setl_cnt=20 + i % 17, refd_setl_cnt=i % 3,
            medfee_sumamt=f"{fund + acct + cash}.{(i + extra_cents) % 100:02d}",
            fund_pay_sumamt=f"{fund}.00", hifp_pay=f"{fund - 100}.00",
            acct_pay=f"{acct}.{(i + extra_cents) % 100:02d}", psn_cash_pay=f"{cash}.00"))
    return out


def _stored(b: Bureau) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    with b.db.unit_of_work() as s:
        return {(d.isoformat(), i, t): (n, r, m, f, h, a, c, src) for d, i, t, n, r, m, f, h, a, c,
                src in s.execute(select(
                    SettlementFactRow.setl_date, SettlementFactRow.insutype,
                    SettlementFactRow.clr_type, SettlementFactRow.setl_cnt,
                    SettlementFactRow.refd_setl_cnt, SettlementFactRow.medfee_sumamt,
                    SettlementFactRow.fund_pay_sumamt, SettlementFactRow.hifp_pay,
                    SettlementFactRow.acct_pay, SettlementFactRow.psn_cash_pay,
                    SettlementFactRow.source_msgid))}


def _expected(rows: list[dict[str, Any]], msgid: str) -> dict[tuple[str, str, str], Any]:
    return {(r["setl_date"], r["insutype"], r["clr_type"]): (
        r["setl_cnt"], r["refd_setl_cnt"], Decimal(str(r["medfee_sumamt"])),
        Decimal(str(r["fund_pay_sumamt"])), Decimal(str(r["hifp_pay"])),
        Decimal(str(r["acct_pay"])), Decimal(str(r["psn_cash_pay"])), msgid) for r in rows}


def _stored_months(b: Bureau) -> dict[str, tuple[Any, ...]]:
    m = SettlementMonthRow
    with b.db.unit_of_work() as s:
        return {month: tuple(rest) for month, *rest in s.execute(select(
            m.month, m.setl_cnt, m.refd_setl_cnt, m.medfee_sumamt, m.fund_pay_sumamt,
            m.hifp_pay, m.acct_pay, m.psn_cash_pay, m.last_setl_date).where(
            m.fixmedins_code == CODE))}


def _months_of(facts: dict[tuple[str, str, str], tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    """The monthly sums the roll-up must hold, summed here from the daily facts expected."""
    out: dict[str, list[Any]] = {}
    for (day, _i, _t), figures in facts.items():
        month = out.setdefault(day[:7], [0, 0, *[Decimal("0.00")] * 5, date.min])
        for k, v in enumerate(figures[:7]):
            month[k] += v
        month[7] = max(month[7], date.fromisoformat(day))
    return {k: tuple(v) for k, v in out.items()}


def test_large_message_is_stored_exactly_and_a_resend_replaces(
        bureau: Bureau) -> None:  # noqa: F811
    last = bureau.today() - timedelta(days=1)
    rows = _rows(last, 3000)
    env = bureau.seal("8301", rows)
    answer = bureau.post(env)
    assert answer.infcode == 0, answer.err_msg
    assert answer.output["accepted_rows"] == 3000
    assert _stored(bureau) == _expected(rows, env["msgid"])
    assert len(_months_of(_expected(rows, env["msgid"]))) >= 6
    assert _stored_months(bureau) == _months_of(_expected(rows, env["msgid"]))

    # The newest 400 rows again with other cents, one amount as an int and one with one
    # decimal (those forms take the row-by-row path): they replace the stored ones.
    again = _rows(last, 400, extra_cents=7)
    again[5]["psn_cash_pay"] = int(again[5]["psn_cash_pay"].split(".")[0])
    again[6]["fund_pay_sumamt"] = again[6]["fund_pay_sumamt"][:-1]
    env2 = bureau.seal("8301", again)
    answer = bureau.post(env2)
    assert answer.infcode == 0, answer.err_msg
    assert answer.output["accepted_rows"] == 400
    expected = _expected(rows[400:], env["msgid"]) | _expected(again, env2["msgid"])
    assert _stored(bureau) == expected
    assert _stored_months(bureau) == _months_of(expected)  # the resent days' months changed


@pytest.mark.parametrize(("index", "field", "value"), [
    (2500, "acct_pay", "1.001"),
    (2999, "setl_date", "2099-01-01"),
    (0, "hifp_pay", "999999.00"),
    (1234, "psn_no", "x"),
])
def test_large_message_with_one_bad_row_is_refused_whole(
        bureau: Bureau, index: int, field: str, value: str) -> None:  # noqa: F811
    rows = _rows(bureau.today() - timedelta(days=1), 3000)
    rows[index][field] = value
    answer = bureau.send("8301", rows)
    assert answer.infcode != 0
    fields = [f["field"] for f in answer.output["error"]["fields"]]
    assert any(f.startswith(f"input.data[{index}]") for f in fields), fields
    assert f"input.data[{index}]" in answer.err_msg
    assert _stored(bureau) == {}


def test_duplicate_rows_in_a_large_message_are_refused(bureau: Bureau) -> None:  # noqa: F811
    rows = _rows(bureau.today() - timedelta(days=1), 3000)
    rows[2100] = dict(rows[17])
    answer = bureau.send("8301", rows)
    assert answer.output["error"]["code"] == "duplicate_rows"
    assert answer.output["error"]["fields"][0]["field"] == "input.data[2100]"
    assert _stored(bureau) == {}


# ------------------------------------------------- large input decrypted beside the archive


def _large_env(b: Bureau, **kw: Any) -> dict[str, Any]:
    env = b.seal("8301", _rows(b.today() - timedelta(days=1), 3000), **kw)
    assert len(env["input"]) >= PARALLEL_OPEN_MIN  # takes the helper-thread path
    return env


@pytest.mark.parametrize(("plaintext", "code"), [
    (None, "decrypt_failed"),                  # not SM4 under the link key
    (b"[1,2]" + b" " * 400_000, "invalid_envelope"),  # decrypts, but not to an object
    (b'{"data":[],"data":[]}' + b" " * 400_000, "decrypt_failed"),  # duplicate key
])
@pytest.mark.parametrize("stale", [False, True])
def test_large_input_that_does_not_open_is_quarantined_not_archived(
        bureau: Bureau, plaintext: bytes | None, code: str, stale: bool) -> None:  # noqa: F811
    env = _large_env(bureau, now=bureau.later(-6) if stale else None)
    if plaintext is None:
        env["input"] = base64.b64encode(os.urandom(400_000)).decode("ascii")
    else:
        env["input"] = base64.b64encode(sm4_encrypt(
            bureau.ring.link_key(bureau.ring.peer_key_ids["bank"]), plaintext)).decode("ascii")
    before = bureau.counts()
    answer, _ = bureau.post_bytes(to_bytes(resign(env, bureau.ring)))
    after = bureau.counts()
    # the input's refusal comes first, also when the time window is missed too (as before)
    assert answer.output["error"]["code"] == code, answer.err_msg
    assert after["raw_messages"] == before["raw_messages"]
    assert after["quarantine"] == before["quarantine"] + 1
    assert after["settlement_facts"] == before["settlement_facts"]


def test_large_message_resent_gets_the_stored_answer(bureau: Bureau) -> None:  # noqa: F811
    env = _large_env(bureau)
    first, raw1 = bureau.post_bytes(to_bytes(env))
    assert first.infcode == 0, first.err_msg
    _, raw2 = bureau.post_bytes(to_bytes(env))
    assert raw2 == raw1
    assert bureau.counts()["raw_messages"] == 2  # 8101 + this one


def test_month_deltas_of_very_many_institution_months_go_in_several_upserts(
        db_url: str) -> None:
    """More institution-months than one upsert takes (``gateway.months._UPSERT_ROWS``):
    every one is inserted, and applied again every figure doubles and the last day stays."""
    from yibaodai.db.session import Database
    from yibaodai.gateway.months import FIGURES, MonthDelta, apply_month_deltas

    deltas = {(f"H2102020{n:04d}", f"2026-{m:02d}"): MonthDelta(
        [n + m + k for k in range(len(FIGURES))], date(2026, m, 28))
        for n in range(110) for m in range(1, 13)}  # 1,320 months
    db = Database(db_url)
    for _ in range(2):
        with db.unit_of_work() as s:
            apply_month_deltas(s, deltas)
            s.commit()
    m = SettlementMonthRow
    with db.unit_of_work() as s:
        stored = {(code, month): (cnt, fund, last) for code, month, cnt, fund, last in s.execute(
            select(m.fixmedins_code, m.month, m.setl_cnt, m.fund_pay_sumamt, m.last_setl_date))}
    db.dispose()
    assert stored == {k: (2 * d.figures[0], Decimal(2 * d.figures[3]) / 100, d.last_day)
                      for k, d in deltas.items()}
