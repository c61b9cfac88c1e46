"""Every refusal of the bureau gateway: infcode != 0, a bilingual err_msg naming the field and
the rule, nothing written to the facts, and a quarantine row with the reason code.

The helpers at the top (valid sealed messages, posting, counting) are shared by the other
gateway test modules."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from yibaodai.bootstrap import keyring
from yibaodai.db.models import (
    AuthorizationRow,
    DataQualityFlagRow,
    FundDisbursementRow,
    InstitutionEventRow,
    InstitutionRow,
    QuarantineRow,
    RawMessageRow,
    ReconciliationTotalRow,
    SettlementFactRow,
)
from yibaodai.domain.codes import make_institution_code, make_uscc
from yibaodai.errors import SignatureInvalid
from yibaodai.gateway.service import INFCODES
from yibaodai.protocol.envelope import (
    ResponseEnvelope,
    canonical_signing_bytes,
    open_response,
    seal_request,
)
from yibaodai.protocol.keys import KeyRing
from yibaodai.protocol.sm2 import generate_sm2_keypair, sm2_sign
from yibaodai.protocol.sm4 import sm4_encrypt

BUREAU_SENDER = "210200000001"
CODE = make_institution_code(letter="H", area_code="210202", seq=255)
OTHER_CODE = make_institution_code(letter="H", area_code="210203", seq=17)
USCC = make_uscc(area_code="210202", org_body8="MA0ABC12")
OTHER_USCC = make_uscc(area_code="210203", org_body8="MA0XY834")
NAME = "大连市中山区康宁诊所"

FACT_TABLES = {
    "settlement_facts": SettlementFactRow,
    "institutions": InstitutionRow,
    "authorizations": AuthorizationRow,
    "institution_events": InstitutionEventRow,
    "reconciliation_totals": ReconciliationTotalRow,
    "data_quality_flags": DataQualityFlagRow,
    "fund_disbursements": FundDisbursementRow,
}


def auth_row(code: str = CODE, uscc: str = USCC, *, auth_no: str | None = None,
             scope: list[str] | None = None, begndate: str = "2026-08-01",
             enddate: str = "2029-07-31") -> dict[str, Any]:
    return {"fixmedins_code": code, "fixmedins_name": NAME, "uscc": uscc,
            "auth_no": auth_no or f"AUTH{code}", "auth_scope": scope or
            ["profile", "events", "settlement"], "begndate": begndate, "enddate": enddate}


def profile_row(code: str = CODE, uscc: str = USCC, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "fixmedins_code": code, "fixmedins_name": NAME, "uscc": uscc, "fixmedins_type": "1",
        "hosp_lv": "一级", "fix_blng_admdvs": "210202", "addr": "大连市中山区人民路1号",
        "biz_stas": "1", "cred_lv_name": "A", "begntime": "2018-03-01",
        "endtime": "2030-02-28", "legrep_name": "张三", "bankacct": "6222000011112222",
        "latitude": 38.91, "longitude": 121.63, "ownership": "private",
    }
    row.update(changes)
    return row


def daily_row(code: str = CODE, *, setl_date: str = "2026-08-20", **changes: Any
              ) -> dict[str, Any]:
    row: dict[str, Any] = {
        "fixmedins_code": code, "setl_date": setl_date, "insutype": "310", "clr_type": "11",
        "setl_cnt": 40, "refd_setl_cnt": 1, "medfee_sumamt": "12000.50",
        "fund_pay_sumamt": "8000.00", "hifp_pay": "7000.00", "acct_pay": "1000.25",
        "psn_cash_pay": "3000.25",
    }
    row.update(changes)
    return row


def recon_row(code: str = CODE, **changes: Any) -> dict[str, Any]:
    """8302 totals for August 2026 equal to one ``daily_row()`` (2026-08-20, 310/11)."""
    row: dict[str, Any] = {
        "fixmedins_code": code, "stmt_begndate": "2026-08-01", "stmt_enddate": "2026-08-31",
        "insutype": "310", "clr_type": "11", "medfee_sumamt": "12000.50",
        "fund_pay_sumamt": "8000.00", "acct_pay": "1000.25", "fixmedins_setl_cnt": 40,
    }
    row.update(changes)
    return row


def disb_row(code: str = CODE, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "fixmedins_code": code, "dfr_id": "DFR202608000001", "dfr_sumamt": "7200.00",
        "bankacct": "6222000011112222", "fin_acen_time": "2026-08-05 10:30:00",
        "clr_type": "11", "setlym": "202607",
    }
    row.update(changes)
    return row


def to_bytes(envelope: Mapping[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def resign(envelope: Mapping[str, Any], ring: KeyRing) -> dict[str, Any]:
    env = dict(envelope)
    env["cainfo"] = ""
    env["cainfo"] = sm2_sign(ring.own_signing.private_key_hex, ring.own_signing.public_key_hex,
                             canonical_signing_bytes(env), encoding=ring.signature_encoding,
                             user_id=ring.user_id)
    return env


@dataclass
class Bureau:
    """The bureau's side of the tests: its key ring, the bank's URL and a message counter."""

    url: str
    ring: KeyRing
    head_office_ring: KeyRing
    clock: Any
    db: Any
    max_body_bytes: int
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def for_installation(cls, installation: Any, server_url: str) -> Bureau:
        keys = installation.settings.keys_dir
        return cls(url=f"{server_url}/fsi/api/bank/callService", ring=keyring(keys, "bureau"),
                   head_office_ring=keyring(keys, "headoffice"), clock=installation.clock,
                   db=installation.bank.db,
                   max_body_bytes=installation.settings.max_body_bytes)

    def seal(self, infno: str, rows: list[dict[str, Any]] | None = None, *,
             input: Mapping[str, Any] | None = None, code: str = CODE,
             now: datetime | None = None, ring: KeyRing | None = None,
             area: str = "210200") -> dict[str, Any]:
        ring = ring or self.ring
        return seal_request(
            infno=infno, input=input if input is not None else {"data": rows or []},
            sender_code=BUREAU_SENDER, fixmedins_code=code, fixmedins_name=NAME, area=area,
            keyring=ring, peer_key_id=ring.peer_key_ids["bank"],
            now=now or self.clock.now(), seq=next(self._seq) % 10_000)

    def post_bytes(self, body: bytes) -> tuple[ResponseEnvelope, dict[str, Any]]:
        resp = httpx.post(self.url, content=body, timeout=60,
                          headers={"content-type": "application/json"})
        assert resp.status_code == 200, resp.text[:500]
        return open_response(resp.content, keyring=self.ring), resp.json()

    def post(self, envelope: Mapping[str, Any]) -> ResponseEnvelope:
        return self.post_bytes(to_bytes(envelope))[0]

    def send(self, infno: str, rows: list[dict[str, Any]], **kw: Any) -> ResponseEnvelope:
        return self.post(self.seal(infno, rows, **kw))

    def counts(self) -> dict[str, int]:
        with self.db.unit_of_work() as s:
            out = {name: s.scalar(select(func.count()).select_from(model)) or 0
                   for name, model in FACT_TABLES.items()}
            out["quarantine"] = s.scalar(select(func.count()).select_from(QuarantineRow)) or 0
            out["raw_messages"] = s.scalar(select(func.count()).select_from(RawMessageRow)) or 0
        return out

    def last_quarantine(self) -> QuarantineRow:
        with self.db.unit_of_work() as s:
            row = s.scalars(select(QuarantineRow).order_by(QuarantineRow.id.desc())).first()
            assert row is not None
            s.expunge(row)
            return row

    def today(self) -> date:
        return date.fromisoformat(self.clock.now().date().isoformat())

    def later(self, minutes: int) -> datetime:
        return self.clock.now() + timedelta(minutes=minutes)  # type: ignore[no-any-return]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ------------------------------------------------------------------------------ the fixtures


@pytest.fixture
def bureau(installation: Any, bank_server: Any) -> Bureau:
    """The bureau, with CODE already authorized (so refusals are due to the one mutation)."""
    b = Bureau.for_installation(installation, bank_server.url)
    answer = b.send("8101", [auth_row()])
    assert answer.infcode == 0, answer.err_msg
    return b


# ------------------------------------------------------------------------------ the cases

Case = Callable[[Bureau], bytes]


def _env(b: Bureau, infno: str = "8301", rows: list[dict[str, Any]] | None = None,
         **kw: Any) -> dict[str, Any]:
    return b.seal(infno, rows if rows is not None else [daily_row()], **kw)


def _daily(**changes: Any) -> Case:
    return lambda b: to_bytes(_env(b, "8301", [daily_row(**changes)]))


def _daily_without(name: str) -> Case:
    def case(b: Bureau) -> bytes:
        row = daily_row()
        del row[name]
        return to_bytes(_env(b, "8301", [row]))
    return case


def _profile(**changes: Any) -> Case:
    return lambda b: to_bytes(_env(b, "8201", [profile_row(**changes)]))


def _auth(**changes: Any) -> Case:
    def case(b: Bureau) -> bytes:
        row = auth_row(OTHER_CODE, OTHER_USCC)
        row.update(changes)
        return to_bytes(_env(b, "8101", [row], code=OTHER_CODE))
    return case


def _envelope(**changes: Any) -> Case:
    """Change envelope fields after sealing and sign again (a well-signed bad envelope)."""
    def case(b: Bureau) -> bytes:
        env = _env(b)
        env.update(changes)
        return to_bytes(resign(env, b.ring))
    return case


def _drop_envelope_field(name: str) -> Case:
    def case(b: Bureau) -> bytes:
        env = _env(b)
        del env[name]
        return to_bytes(resign(env, b.ring))
    return case


def _tampered(b: Bureau) -> bytes:
    env = _env(b)
    env["opter_name"] = "篡改者"  # changed after signing
    return to_bytes(env)


def _foreign_signature(b: Bureau) -> bytes:
    env = _env(b)
    pair = generate_sm2_keypair()
    env["cainfo"] = sm2_sign(pair.private_key_hex, pair.public_key_hex,
                             canonical_signing_bytes(env), encoding=b.ring.signature_encoding)
    return to_bytes(env)


def _no_cainfo_field(b: Bureau) -> bytes:
    env = _env(b)
    del env["cainfo"]
    return to_bytes(env)


def _inner(plaintext: bytes) -> Case:
    def case(b: Bureau) -> bytes:
        env = _env(b)
        blob = sm4_encrypt(b.ring.link_key(b.ring.peer_key_ids["bank"]), plaintext)
        env["input"] = b64(blob)
        return to_bytes(resign(env, b.ring))
    return case


def _undecryptable(b: Bureau) -> bytes:
    env = _env(b)
    env["input"] = b64(bytes(range(64)))
    return to_bytes(resign(env, b.ring))


def _head_office_key(b: Bureau) -> bytes:
    return to_bytes(b.seal("8301", [daily_row()], ring=b.head_office_ring))


def _msgid_reused(b: Bureau) -> bytes:
    first = _env(b)
    assert b.post(first).infcode == 0
    other = b.seal("8301", [daily_row(setl_date="2026-08-21")])
    other["msgid"] = first["msgid"]
    return to_bytes(resign(other, b.ring))


def _other_institution(setup: Callable[[Bureau], None]) -> Case:
    """8301 for OTHER_CODE after ``setup`` (which posts whatever authorization state)."""
    def case(b: Bureau) -> bytes:
        setup(b)
        return to_bytes(_env(b, "8301", [daily_row(OTHER_CODE)], code=OTHER_CODE))
    return case


def _grant_other(scope: list[str], begndate: str = "2026-08-01",
                 enddate: str = "2029-07-31") -> Callable[[Bureau], None]:
    def setup(b: Bureau) -> None:
        answer = b.send("8101", [auth_row(OTHER_CODE, OTHER_USCC, scope=scope,
                                          begndate=begndate, enddate=enddate)],
                        code=OTHER_CODE)
        assert answer.infcode == 0, answer.err_msg
    return setup


def _grant_and_revoke(b: Bureau) -> None:
    _grant_other(["settlement"])(b)
    answer = b.send("8102", [{"fixmedins_code": OTHER_CODE, "auth_no": f"AUTH{OTHER_CODE}",
                              "revoke_time": "2026-09-01 08:30:00"}], code=OTHER_CODE)
    assert answer.infcode == 0, answer.err_msg


def _recon(**changes: Any) -> Case:
    return lambda b: to_bytes(_env(b, "8302", [recon_row(**changes)]))


def _disb(**changes: Any) -> Case:
    return lambda b: to_bytes(_env(b, "8303", [disb_row(**changes)]))


def _other_sends(infno: str, row: Callable[..., dict[str, Any]],
                 setup: Callable[[Bureau], None]) -> Case:
    """``infno`` for OTHER_CODE after ``setup`` (8302/8303 and authorization)."""
    def case(b: Bureau) -> bytes:
        setup(b)
        return to_bytes(_env(b, infno, [row(OTHER_CODE)], code=OTHER_CODE))
    return case


def _revoked_other(scope: list[str]) -> Callable[[Bureau], None]:
    def setup(b: Bureau) -> None:
        _grant_other(scope)(b)
        answer = b.send("8102", [{"fixmedins_code": OTHER_CODE, "auth_no": f"AUTH{OTHER_CODE}",
                                  "revoke_time": "2026-09-01 08:30:00"}], code=OTHER_CODE)
        assert answer.infcode == 0, answer.err_msg
    return setup


def _dfr_conflict(b: Bureau) -> bytes:
    _grant_other(["disbursement"])(b)
    assert b.send("8303", [disb_row(OTHER_CODE)], code=OTHER_CODE).infcode == 0
    return to_bytes(_env(b, "8303", [disb_row(OTHER_CODE, dfr_sumamt="7300.00")],
                         code=OTHER_CODE))


def _dfr_twice(b: Bureau) -> bytes:
    _grant_other(["disbursement"])(b)
    return to_bytes(_env(b, "8303", [disb_row(OTHER_CODE), disb_row(OTHER_CODE,
                                                                    dfr_sumamt="1.00")],
                         code=OTHER_CODE))


def _nothing(b: Bureau) -> None:
    return None


def _flip_check(uscc: str) -> str:
    return uscc[:17] + ("0" if uscc[17] != "0" else "1")


ROW = "input.data[0]"

#: (id, build the body, expected reason code, a field the answer must name)
CASES: list[tuple[str, Case, str, str]] = [
    # signature and keys
    ("signature-empty", lambda b: to_bytes({**_env(b), "cainfo": ""}), "signature_missing",
     "cainfo"),
    ("signature-field-absent", _no_cainfo_field, "signature_missing", "cainfo"),
    ("signature-tampered-field", _tampered, "signature_invalid", "cainfo"),
    ("signature-other-key", _foreign_signature, "signature_invalid", "cainfo"),
    ("signature-garbage", lambda b: to_bytes({**_env(b), "cainfo": "AAAA"}),
     "signature_invalid", "cainfo"),
    ("key-id-unknown", _envelope(key_id="nobody-2026-01"), "unknown_key_id", "key_id"),
    ("key-id-head-office-on-bureau-endpoint", _head_office_key, "unknown_key_id", "key_id"),
    ("input-not-decryptable", _undecryptable, "decrypt_failed", "input"),
    ("input-decrypts-to-list", _inner(b"[1,2]"), "invalid_envelope", "input"),
    # time and replay
    ("timestamp-stale", lambda b: to_bytes(_env(b, now=b.later(-6))), "stale_timestamp",
     "inf_time"),
    ("timestamp-future", lambda b: to_bytes(_env(b, now=b.later(6))), "future_timestamp",
     "inf_time"),
    ("msgid-reused-other-body", _msgid_reused, "msgid_reused", "msgid"),
    # body and envelope
    ("json-malformed", lambda b: b'{"infno": "8301",', "malformed_json", "body"),
    ("json-array", lambda b: b"[]", "malformed_json", "body"),
    ("json-binary-garbage", lambda b: b"\xff\x00\xfe\x00garbage", "malformed_json", "body"),
    ("json-duplicate-key", lambda b: to_bytes(_env(b))[:-1] + b',"infno":"8301"}',
     "malformed_json", "body"),
    ("body-oversized", lambda b: b" " * (b.max_body_bytes + 1), "body_too_large", "body"),
    ("envelope-missing-opter", _drop_envelope_field("opter"), "invalid_envelope", "opter"),
    ("envelope-opter-type-int", _envelope(opter_type=1), "invalid_envelope", "opter_type"),
    ("envelope-unknown-field", _envelope(extra_field="x"), "invalid_envelope", "extra_field"),
    ("envelope-unknown-area", _envelope(mdtrtarea_admvs="110101"), "invalid_area_code",
     "mdtrtarea_admvs"),
    ("envelope-fullwidth-inf-time", lambda b: to_bytes(resign(
        {**_env(b), "inf_time": "２０２６-09-01 09:00:00"}, b.ring)), "invalid_envelope",
     "inf_time"),
    ("infno-unknown", _envelope(infno="9999"), "infno_not_allowed", "infno"),
    ("infno-head-office-only", _envelope(infno="8601"), "infno_not_allowed", "infno"),
    # rows: types, missing, extra
    ("row-count-as-string", _daily(setl_cnt="40"), "invalid_rows", f"{ROW}.setl_cnt"),
    ("row-date-as-number", _daily(setl_date=20260820), "invalid_rows", f"{ROW}.setl_date"),
    ("row-missing-amount", _daily_without("medfee_sumamt"), "invalid_rows",
     f"{ROW}.medfee_sumamt"),
    ("row-extra-field", _daily(remark="x"), "invalid_rows", f"{ROW}.remark"),
    ("row-not-object", lambda b: to_bytes(_env(b, "8301", ["x"])),  # type: ignore[list-item]
     "invalid_rows", ROW),
    ("data-empty", lambda b: to_bytes(_env(b, "8301", input={"data": []})), "missing_data",
     "input.data"),
    ("input-extra-key", lambda b: to_bytes(_env(b, "8301", input={
        "data": [daily_row()], "note": "x"})), "invalid_rows", "input.note"),
    ("rows-duplicated", lambda b: to_bytes(_env(b, "8301", [daily_row(), daily_row()])),
     "duplicate_rows", "input.data[1]"),
    # identifiers
    ("uscc-bad-check-char", _profile(uscc=_flip_check(USCC)), "invalid_rows", f"{ROW}.uscc"),
    ("uscc-fullwidth", _profile(uscc=USCC[:5] + "０" + USCC[6:]), "invalid_rows",
     f"{ROW}.uscc"),
    ("institution-code-short", _daily(fixmedins_code=CODE[:11]), "invalid_rows",
     f"{ROW}.fixmedins_code"),
    ("institution-code-fullwidth", _daily(fixmedins_code=CODE[:5] + "２" + CODE[6:]),
     "invalid_rows", f"{ROW}.fixmedins_code"),
    ("area-code-unknown", _profile(fix_blng_admdvs="110101"), "invalid_rows",
     f"{ROW}.fix_blng_admdvs"),
    ("area-code-fullwidth", _profile(fix_blng_admdvs="２１０２０２"), "invalid_rows",
     f"{ROW}.fix_blng_admdvs"),
    # counts and amounts
    ("count-negative", _daily(setl_cnt=-1, refd_setl_cnt=0), "invalid_rows",
     f"{ROW}.setl_cnt"),
    ("count-huge", _daily(setl_cnt=10**30), "invalid_rows", f"{ROW}.setl_cnt"),
    ("totals-inconsistent", _daily(medfee_sumamt="99999.00"), "invalid_rows", ROW),
    ("hifp-over-fund", _daily(hifp_pay="9000.00"), "invalid_rows", ROW),
    ("refunds-over-count", _daily(refd_setl_cnt=41), "invalid_rows", ROW),
    ("amount-three-decimals", _daily(hifp_pay="7000.001"), "invalid_rows", f"{ROW}.hifp_pay"),
    ("amount-float", _daily(hifp_pay=7000.5), "invalid_rows", f"{ROW}.hifp_pay"),
    ("amount-fullwidth", _daily(hifp_pay="７０００.00"), "invalid_rows", f"{ROW}.hifp_pay"),
    ("amount-exponent", _daily(hifp_pay="7e3"), "invalid_rows", f"{ROW}.hifp_pay"),
    # dates
    ("setl-date-future", _daily(setl_date="2099-01-01"), "invalid_rows", f"{ROW}.setl_date"),
    ("setl-date-impossible", _daily(setl_date="2026-02-30"), "invalid_rows",
     f"{ROW}.setl_date"),
    ("auth-end-far-future", _auth(enddate="2199-12-31"), "invalid_rows", f"{ROW}.enddate"),
    ("auth-end-before-begin", _auth(begndate="2026-09-01", enddate="2026-08-01"),
     "invalid_rows", ROW),
    ("profile-name-nul", _profile(fixmedins_name="康宁\x00诊所"), "invalid_rows",
     f"{ROW}.fixmedins_name"),
    # scope: other institution, authorization
    ("row-for-other-institution", _daily(fixmedins_code=OTHER_CODE), "invalid_rows",
     f"{ROW}.fixmedins_code"),
    ("no-authorization", _other_institution(_nothing), "not_authorized", "fixmedins_code"),
    ("authorization-other-scope", _other_institution(_grant_other(["profile"])),
     "not_authorized", "fixmedins_code"),
    ("authorization-expired", _other_institution(_grant_other(
        ["settlement"], begndate="2025-01-01", enddate="2026-08-31")), "not_authorized",
     "fixmedins_code"),
    ("authorization-revoked", _other_institution(_grant_and_revoke), "not_authorized",
     "fixmedins_code"),
    ("auth-no-duplicate", lambda b: to_bytes(_env(b, "8101", [auth_row()])), "duplicate_auth",
     "auth_no"),
    ("revoke-unknown-auth", lambda b: to_bytes(_env(b, "8102", [{
        "fixmedins_code": CODE, "auth_no": "NOSUCH", "revoke_time": "2026-09-01 08:00:00"}])),
     "unknown_auth", "auth_no"),
    # 8302 reconciliation totals
    ("recon-end-before-begin", _recon(stmt_begndate="2026-08-31", stmt_enddate="2026-08-01"),
     "invalid_rows", ROW),
    ("recon-period-two-months", _recon(stmt_begndate="2026-07-15", stmt_enddate="2026-08-14"),
     "invalid_rows", ROW),
    ("recon-end-future", _recon(stmt_begndate="2026-09-01", stmt_enddate="2026-09-30"),
     "invalid_rows", f"{ROW}.stmt_enddate"),
    ("recon-parts-over-total", _recon(fund_pay_sumamt="12000.00"), "invalid_rows", ROW),
    ("recon-rows-duplicated", lambda b: to_bytes(_env(b, "8302", [recon_row(), recon_row()])),
     "duplicate_rows", "input.data[1]"),
    ("recon-after-revocation", _other_sends("8302", recon_row, _revoked_other(["settlement"])),
     "not_authorized", "fixmedins_code"),
    # 8303 fund disbursements
    ("disb-amount-zero", _disb(dfr_sumamt="0.00"), "invalid_rows", f"{ROW}.dfr_sumamt"),
    ("disb-time-iso-t", _disb(fin_acen_time="2026-08-05T10:30:00"), "invalid_rows",
     f"{ROW}.fin_acen_time"),
    ("disb-setlym-after-booking", _disb(setlym="202609"), "invalid_rows", ROW),
    ("disb-bankacct-fullwidth", _disb(bankacct="６２２２000011112222"), "invalid_rows",
     f"{ROW}.bankacct"),
    ("disb-dfr-id-twice", _dfr_twice, "duplicate_rows", "input.data[1].dfr_id"),
    ("disb-dfr-id-conflict", _dfr_conflict, "dfr_conflict", "input.data[0].dfr_id"),
    ("disb-other-scope", _other_sends("8303", disb_row, _grant_other(["settlement"])),
     "not_authorized", "fixmedins_code"),
    ("disb-after-revocation", _other_sends("8303", disb_row, _revoked_other(["disbursement"])),
     "not_authorized", "fixmedins_code"),
    # personal data
    ("personal-field-in-row", _daily(psn_name="张三"), "personal_data", f"{ROW}.psn_name"),
    ("personal-field-nested", lambda b: to_bytes(_env(b, "8301", input={
        "data": [daily_row()], "meta": {"certno": "210202199001011234"}})), "personal_data",
     "input.meta.certno"),
]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _has_english(text: str) -> bool:
    return sum(c.isascii() and c.isalpha() for c in text) >= 8


def test_the_table_is_big_enough() -> None:
    assert len({c[0] for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize(("build", "code", "field"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_refusal(bureau: Bureau, build: Case, code: str, field: str) -> None:
    body = build(bureau)
    before = bureau.counts()
    answer, _ = bureau.post_bytes(body)
    after = bureau.counts()

    assert answer.infcode == INFCODES[code] != 0, answer.err_msg
    assert answer.output["error"]["code"] == code
    assert 0 < len(answer.err_msg) <= 200
    assert _has_cjk(answer.err_msg) and _has_english(answer.err_msg), answer.err_msg
    fields = [f["field"] for f in answer.output["error"]["fields"]]
    assert any(field in f for f in fields), fields
    assert field in answer.err_msg, answer.err_msg
    for f in answer.output["error"]["fields"]:
        assert _has_cjk(f["message_zh"]) and f["message_en"].isascii() is not None
    # nothing written to the facts; the refusal is quarantined with its reason
    for table in FACT_TABLES:
        assert after[table] == before[table], table
    assert after["quarantine"] == before["quarantine"] + 1
    assert bureau.last_quarantine().reason_code == code


def test_refusal_answers_are_signed_by_the_bank(bureau: Bureau) -> None:
    """open_response verified the bank's signature; a forged answer would not open."""
    answer, raw = bureau.post_bytes(b"{}")
    assert answer.infcode != 0
    raw["err_msg"] = "ok"
    with pytest.raises(SignatureInvalid):
        open_response(to_bytes(raw), keyring=bureau.ring)


@pytest.mark.parametrize("name", ["'); DROP TABLE institutions;--",
                                  "<script>alert(1)</script>",
                                  "Robert'); DELETE FROM authorizations; --\"诊所"])
def test_injection_looking_names_are_stored_verbatim(bureau: Bureau, name: str) -> None:
    def send(infno: str, row: dict[str, Any]) -> ResponseEnvelope:
        env = bureau.seal(infno, [row], code=OTHER_CODE)  # the envelope names it the same
        return bureau.post(resign({**env, "fixmedins_name": name}, bureau.ring))

    granted = send("8101", {**auth_row(OTHER_CODE, OTHER_USCC), "fixmedins_name": name})
    assert granted.infcode == 0, granted.err_msg
    answer = send("8201", profile_row(OTHER_CODE, OTHER_USCC, fixmedins_name=name,
                                      fix_blng_admdvs="210203"))
    assert answer.infcode == 0, answer.err_msg
    with bureau.db.unit_of_work() as s:
        inst = s.get(InstitutionRow, OTHER_CODE)
        assert inst is not None and inst.fixmedins_name == name
        assert s.scalar(select(func.count()).select_from(AuthorizationRow)) == 2
    assert bureau.counts()["institutions"] == 1


def test_valid_settlement_is_accepted(bureau: Bureau) -> None:
    """The baseline every refusal mutates is itself accepted."""
    assert bureau.send("8201", [profile_row()]).infcode == 0
    answer = bureau.send("8301", [daily_row(), daily_row(setl_date="2026-08-21")])
    assert answer.infcode == 0, answer.err_msg
    assert answer.output["accepted_rows"] == 2
    assert bureau.counts()["settlement_facts"] == 2
