"""The data direct-connect gateway (数据直连): one signed, encrypted message in, one signed
answer out.

Order of work for every message, each step in its own place:
1. size and envelope checks, signature (``envelope.verify_request``), decryption
   (``envelope.decrypt_request``; on a helper thread for large messages, joined before any
   refusal and before the archive commit);
2. clock window and replay (same ``msgid`` + same body -> the stored answer again;
   same ``msgid`` + other body -> refused);
3. archive the raw message and commit (``archive``) — before any processing;
4. validate rows (``validation``, ``daily_columns``) and apply them in one transaction
   (``ingest``); publish what arrived (``domain.events``) to the injected message bus, whose
   handlers (the admission decision, the case, the answer to the bureau) run in the same
   transaction;
5. store the outcome and answer.
Refused messages go to the quarantine with the reason and change nothing else.
"""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibaodai.clock import Clock
from yibaodai.db.models import MessageOutcomeRow, QuarantineRow, RawMessageRow
from yibaodai.db.session import Database
from yibaodai.domain import events
from yibaodai.domain.codes import validate_area_code
from yibaodai.domain.events import Event, Publish
from yibaodai.errors import FieldError, GatewayRefused, ValidationFailed, YibaodaiError
from yibaodai.gateway import ingest
from yibaodai.gateway.archive import archive_message
from yibaodai.gateway.daily_columns import DailyColumns, parse_daily
from yibaodai.gateway.rows import (
    SCOPE_FOR_INFNO,
    AuthorizationGranted,
    AuthorizationRevoked,
    BureauRow,
    FundDisbursement,
    InstitutionEvent,
    InstitutionProfile,
    LoanStatus,
    ReconciliationTotal,
)
from yibaodai.gateway.validation import parse_rows
from yibaodai.protocol.envelope import (
    OpenedRequest,
    RequestEnvelope,
    VerifiedRequest,
    decrypt_request,
    parse_inf_time,
    seal_response,
    verify_request,
)
from yibaodai.protocol.keys import KeyRing
from yibaodai.protocol.sm3 import sm3_hex

log = structlog.get_logger(__name__)

#: National ``infcode`` for each refusal code (0 is success). Documented in docs/interface.md.
INFCODES: dict[str, int] = {
    "body_too_large": 1001, "malformed_json": 1002, "invalid_envelope": 1003,
    "invalid_area_code": 1004,
    "signature_missing": 1101, "signature_invalid": 1102, "unknown_key_id": 1103,
    "decrypt_failed": 1104, "stale_timestamp": 1201, "future_timestamp": 1202,
    "msgid_reused": 1203, "infno_not_allowed": 1301, "unknown_infno": 1302,
    "personal_data": 1401, "invalid_rows": 1402, "missing_data": 1403, "too_many_rows": 1404,
    "duplicate_rows": 1405, "dfr_conflict": 1406, "not_authorized": 1501, "duplicate_auth": 1502,
    "unknown_auth": 1503, "case_not_found": 1601, "retry_later": 1901,
}

#: The field named by refusals that carry no field of their own (checks on the whole message).
DEFAULT_FIELD: dict[str, str] = {
    "body_too_large": "body", "malformed_json": "body", "invalid_envelope": "envelope",
    "invalid_area_code": "mdtrtarea_admvs",
    "signature_missing": "cainfo", "signature_invalid": "cainfo", "unknown_key_id": "key_id",
    "decrypt_failed": "input", "stale_timestamp": "inf_time", "future_timestamp": "inf_time",
    "msgid_reused": "msgid", "infno_not_allowed": "infno", "unknown_infno": "infno",
    "personal_data": "input", "invalid_rows": "input.data", "missing_data": "input.data",
    "too_many_rows": "input.data", "duplicate_rows": "input.data", "dfr_conflict": "dfr_id",
    "not_authorized": "fixmedins_code", "duplicate_auth": "auth_no", "unknown_auth": "auth_no",
    "case_not_found": "case_id", "retry_later": "msgid",
}


def _clean(text: str) -> str:
    """Text safe to encode as UTF-8 and to store in PostgreSQL (no lone surrogates, no NUL)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _with_field(exc: YibaodaiError) -> YibaodaiError:
    """The refusal with at least one (clean) field error, so that every answer names a field."""
    fields = [FieldError(_clean(f.field), _clean(f.message_zh), _clean(f.message_en))
              for f in exc.fields[:50]]
    if not fields:
        name = DEFAULT_FIELD.get(exc.code, "envelope")
        fields = [FieldError(name, f"{name}：{_clean(exc.message_zh)}",
                             f"{name}: {_clean(exc.message_en)}")]
    return type(exc)(_clean(exc.message_zh), _clean(exc.message_en), code=exc.code,
                     fields=fields, details=exc.details)


def _err_msg(exc: YibaodaiError) -> str:
    """``中文：[field] rule / English: [field] rule``, at most 200 characters, both languages
    kept (each side shortened when needed)."""
    first = exc.fields[0]
    zh = f"{exc.message_zh}：[{first.field}] {first.message_zh.removeprefix(first.field + '：')}"
    en = f"{exc.message_en}: [{first.field}] {first.message_en.removeprefix(first.field + ': ')}"
    if len(zh) + len(en) + 3 > 200:
        zh = zh[:98]
        en = en[:200 - 3 - len(zh)]
    return f"{zh} / {en}"
REFMSG_AREA = "210200"

BUREAU_INFNOS = frozenset({"8101", "8102", "8201", "8202", "8301", "8302", "8303"})
HEAD_OFFICE_INFNOS = frozenset({"8601"})


@dataclass(frozen=True)
class GatewayAnswer:
    infcode: int
    envelope: dict[str, Any]


#: Sealed ``input`` at least this long (base64 characters) is decrypted on a helper thread,
#: overlapping the archive insert; shorter ones inline (a thread hop would cost more).
PARALLEL_OPEN_MIN = 256 * 1024


class _Opening:
    """Decrypting and parsing the ``input`` of a verified request (``decrypt_request``)."""

    def __init__(self, pool: ThreadPoolExecutor, verified: VerifiedRequest,
                 keyring: KeyRing) -> None:
        self.verified = verified
        self._future: Future[OpenedRequest] = Future()
        if len(verified.envelope.input) >= PARALLEL_OPEN_MIN:
            self._future = pool.submit(decrypt_request, verified, keyring=keyring)
            return
        try:
            self._future.set_result(decrypt_request(verified, keyring=keyring))
        except YibaodaiError as exc:
            self._future.set_exception(exc)

    def result(self) -> OpenedRequest:
        """The opened request, or the refusal ``open_request`` would have raised."""
        return self._future.result()

    def failure(self) -> YibaodaiError | None:
        try:
            self._future.result()
        except YibaodaiError as exc:
            return exc
        return None


def arrival(row: BureauRow, *, msgid: str, at: datetime) -> Event | None:
    """The event a stored row makes known (None for rows no handler needs: 8302, 8303)."""
    if isinstance(row, AuthorizationGranted):
        return events.AuthorizationGranted(
            at=at, fixmedins_code=row.fixmedins_code, auth_no=row.auth_no,
            auth_scope=tuple(row.auth_scope), begndate=row.begndate, enddate=row.enddate,
            msgid=msgid)
    if isinstance(row, AuthorizationRevoked):
        return events.AuthorizationRevoked(at=at, fixmedins_code=row.fixmedins_code,
                                           auth_no=row.auth_no, msgid=msgid)
    if isinstance(row, InstitutionProfile):
        return events.ProfileChanged(at=at, fixmedins_code=row.fixmedins_code, msgid=msgid)
    if isinstance(row, InstitutionEvent):
        return events.BureauEventRecorded(at=at, fixmedins_code=row.fixmedins_code,
                                          evt_type=row.evt_type, evt_date=row.evt_date,
                                          msgid=msgid)
    if isinstance(row, LoanStatus):
        return events.LoanStatusReported(
            at=at, fixmedins_code=row.fixmedins_code, case_id=row.case_id, status=row.status,
            drawn_amount=row.drawn_amount, balance=row.balance,
            overdue_days=row.overdue_days, msgid=msgid)
    return None


class Gateway:
    """One receiving endpoint for one peer party (the bureau, or head office)."""

    def __init__(self, *, db: Database, clock: Clock, keyring: KeyRing, peer: str,
                 allowed_infnos: frozenset[str], publish: Publish,
                 max_body_bytes: int = 8 * 1024 * 1024,
                 window: timedelta = timedelta(minutes=5)) -> None:
        """``publish``: the message bus the events of accepted messages go to (inside the
        message's unit of work); the gateway knows no package that handles them."""
        self.db, self.clock, self.keyring, self.peer = db, clock, keyring, peer
        self.publish = publish
        self.allowed_infnos = allowed_infnos
        self.max_body_bytes, self.window = max_body_bytes, window
        self._serial = itertools.count(1)
        self._serial_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="gateway-open")

    # -- the edge ----------------------------------------------------------------------

    def handle(self, body: bytes) -> GatewayAnswer:
        now = self.clock.now()
        opening: _Opening | None = None
        try:
            if len(body) > self.max_body_bytes:
                raise GatewayRefused("报文过大", f"body over {self.max_body_bytes} bytes",
                                     code="body_too_large")
            verified = verify_request(body, keyring=self.keyring)
            # ``input`` is decrypted and parsed (on a helper thread for large messages) while
            # the checks, the lookup and the archive insert run; every refusal and the archive
            # commit wait for it, so refusals, their order and what is archived are unchanged.
            opening = _Opening(self._pool, verified, self.keyring)
            self._check_peer_and_time(verified.envelope, verified.key_id, now)
            msgid = verified.envelope.msgid
            earlier = self._lookup(msgid)
            if earlier is None:
                try:
                    opened = self._archive(opening, body, now)
                except IntegrityError:  # a concurrent copy of the same msgid won the race
                    opened = opening.result()
                    earlier = self._lookup(msgid)
                    assert earlier is not None
            else:
                opened = opening.result()
        except YibaodaiError as exc:
            failed = opening.failure() if opening is not None else None
            refusal = exc if failed is None else failed  # a bad ``input`` is named first
            self._quarantine(body, None, refusal, now)
            return self._answer(refusal, {}, now)
        if earlier is not None:
            return self._repeat(opened, earlier, body, now)
        return self._process(opened, now)

    def _lookup(self, msgid: str) -> tuple[str, GatewayAnswer | None] | None:
        """(body SM3, stored answer or None) of an archived msgid, or None. The session is
        closed before the caller goes on (on SQLite every transaction holds the write lock)."""
        with self.db.unit_of_work() as session:
            body_sm3 = session.scalars(  # not the whole row: its body may be megabytes
                select(RawMessageRow.body_sm3).where(RawMessageRow.msgid == msgid)).first()
            if body_sm3 is None:
                return None
            outcome = session.get(MessageOutcomeRow, msgid)
            return body_sm3, (None if outcome is None
                                      else GatewayAnswer(outcome.infcode, outcome.response))

    def _check_peer_and_time(self, env: RequestEnvelope, key_id: str, now: datetime) -> None:
        if self.keyring.peer_key_ids.get(self.peer) != key_id:
            raise GatewayRefused("该密钥无权调用此接口", "key not allowed on this endpoint",
                                 code="unknown_key_id",
                                 fields=[FieldError("key_id",
                                                    f"key_id：{key_id} 无权调用此接口",
                                                    f"key_id: {key_id} may not call "
                                                    "this endpoint")])
        if env.infno not in self.allowed_infnos:
            raise GatewayRefused(f"本接口不受理交易 {env.infno}",
                                 f"infno {env.infno} not accepted here",
                                 code="infno_not_allowed",
                                 fields=[FieldError("infno", f"infno：本接口不受理 {env.infno}",
                                                    f"infno: {env.infno} not accepted here")])
        for name in ("mdtrtarea_admvs", "insuplc_admdvs"):
            validate_area_code(getattr(env, name), field=name)
        sent = parse_inf_time(env.inf_time)
        if sent < now - self.window:
            raise GatewayRefused("报文时间超出有效窗口（过早）", "inf_time older than the window",
                                 code="stale_timestamp",
                                 fields=[FieldError("inf_time",
                                                    f"inf_time：{env.inf_time} 早于允许窗口",
                                                    f"inf_time: {env.inf_time} is older than "
                                                    f"{int(self.window.total_seconds())} s")])
        if sent > now + self.window:
            raise GatewayRefused("报文时间超出有效窗口（未来时间）", "inf_time in the future",
                                 code="future_timestamp",
                                 fields=[FieldError("inf_time",
                                                    f"inf_time：{env.inf_time} 晚于当前时间",
                                                    f"inf_time: {env.inf_time} is more than "
                                                    f"{int(self.window.total_seconds())} s ahead")])

    def _repeat(self, opened: OpenedRequest, earlier: tuple[str, GatewayAnswer | None],
                body: bytes, now: datetime) -> GatewayAnswer:
        body_sm3, stored = earlier
        msgid = opened.envelope.msgid
        if body_sm3 != sm3_hex(body):
            exc = GatewayRefused("报文编号已使用且内容不同", "msgid reused with a different body",
                                 code="msgid_reused",
                                 fields=[FieldError("msgid",
                                                    f"msgid：{msgid} 已用于另一报文",
                                                    f"msgid: {msgid} was used for "
                                                    "another body")])
            self._quarantine(body, msgid, exc, now)
            return self._answer(exc, {}, now)
        if stored is not None:
            return stored
        # Archived but not processed yet: a concurrent copy is processing it (``_process``
        # waits for it and returns its answer), or a crash came in between (process it now).
        return self._process(opened, now)

    def _archive(self, opening: _Opening, body: bytes, now: datetime) -> OpenedRequest:
        """Archive the raw message; commit once ``input`` has been decrypted (a message whose
        ``input`` does not open is quarantined, not archived, as always)."""
        env, key_id = opening.verified.envelope, opening.verified.key_id
        with self.db.unit_of_work() as session:
            archive_message(session, msgid=env.msgid, infno=env.infno, key_id=key_id,
                            fixmedins_code=env.fixmedins_code, body=body, received_at=now)
            opened = opening.result()  # raises (and nothing is committed) if it fails
            session.commit()
        return opened

    @staticmethod
    def _claim(session: Session, msgid: str) -> GatewayAnswer | None:
        """Lock the archived message (PostgreSQL row lock; SQLite transactions are already
        exclusive) and return its stored answer if some other copy processed it meanwhile."""
        session.execute(select(RawMessageRow.id).where(RawMessageRow.msgid == msgid)
                        .with_for_update())
        outcome = session.get(MessageOutcomeRow, msgid)
        return None if outcome is None else GatewayAnswer(outcome.infcode, outcome.response)

    def _process(self, opened: OpenedRequest, now: datetime) -> GatewayAnswer:
        env = opened.envelope
        refusal: YibaodaiError
        with self.db.unit_of_work() as session:
            stored = self._claim(session, env.msgid)
            if stored is not None:
                return stored
            try:
                output = self._apply(session, opened, now)
                answer = self._answer(None, output, now)
                session.add(MessageOutcomeRow(msgid=env.msgid, infcode=0,
                                              response=answer.envelope, processed_at=now))
                session.commit()
            except YibaodaiError as exc:
                refusal = exc
            except IntegrityError:
                # A concurrent message changed the same data (e.g. the same auth_no). Nothing
                # is stored for this msgid, so the sender may simply send it again.
                session.rollback()
                log.warning("gateway.conflict", msgid=env.msgid, infno=env.infno)
                return self._answer(GatewayRefused(
                    "与并发报文冲突，请原样重发", "conflict with a concurrent message; resend it",
                    code="retry_later"), {}, now)
            else:
                log.info("gateway.accepted", msgid=env.msgid, infno=env.infno,
                         institution=env.fixmedins_code, **{k: v for k, v in output.items()
                                                            if isinstance(v, int)})
                return answer
        with self.db.unit_of_work() as session:
            stored = self._claim(session, env.msgid)
            if stored is not None:
                return stored
            answer = self._answer(refusal, {}, now)
            session.add(MessageOutcomeRow(msgid=env.msgid, infcode=answer.infcode,
                                          response=answer.envelope, processed_at=now))
            self._quarantine_in(session, opened.raw_body, env.msgid, refusal, now)
            session.commit()
        log.warning("gateway.refused", msgid=env.msgid, infno=env.infno, code=refusal.code)
        return answer

    # -- applying one transaction ------------------------------------------------------

    def _apply(self, session: Session, opened: OpenedRequest, now: datetime) -> dict[str, Any]:
        """Store what the message carries and publish what arrived (one event per fact
        stored); the handlers (decision, case, answer, loan status...) run in this unit of
        work through ``publish``."""
        env = opened.envelope
        code = env.fixmedins_code
        daily: DailyColumns | None = None
        rows: list[BureauRow] = []
        if env.infno == "8301":  # validated as columns: no object per row
            daily = parse_daily(opened.input, envelope_code=code, today=now.date())
        else:
            rows = parse_rows(env.infno, opened.input, envelope_code=code, today=now.date())
        scope = SCOPE_FOR_INFNO.get(env.infno)
        if scope is not None:
            ingest.require_authorization(session, code, scope, now.date())
        arrived: list[Event] = []
        for row in rows:
            if isinstance(row, AuthorizationGranted):
                ingest.grant(session, row, now)
            elif isinstance(row, AuthorizationRevoked):
                ingest.revoke(session, row, now)
            elif isinstance(row, InstitutionProfile):
                ingest.upsert_profile(session, row, now)
            event = arrival(row, msgid=env.msgid, at=now)
            if event is not None:
                arrived.append(event)
        if env.infno == "8202":
            ingest.add_events(session, [r for r in rows if isinstance(r, InstitutionEvent)],
                              env.msgid)
        elif daily is not None:
            ingest.add_daily_columns(session, daily, env.msgid)
            arrived.append(events.SettlementDataStored(
                at=now, fixmedins_code=code, msgid=env.msgid, first_date=min(daily.setl_date),
                last_date=max(daily.setl_date), rows=len(daily)))
        output: dict[str, Any] = {"accepted_rows": len(rows) if daily is None else len(daily)}
        if env.infno == "8302":
            output["flags_raised"] = ingest.add_reconciliation(
                session, [r for r in rows if isinstance(r, ReconciliationTotal)], env.msgid, now)
        elif env.infno == "8303":
            output["new_rows"] = ingest.add_disbursements(
                session, [r for r in rows if isinstance(r, FundDisbursement)], env.msgid)
        session.flush()
        decisions = [e for e in self.publish(session, arrived)
                     if isinstance(e, events.DecisionMade)]
        if decisions:
            output["decision"] = {"id": decisions[-1].decision_id,
                                  "result": decisions[-1].result}
        return output

    # -- answers and quarantine --------------------------------------------------------

    def unavailable(self) -> GatewayAnswer:
        """The answer while the bank's database is away: resend later. Nothing could be
        stored, not even in the quarantine; the sender resends the same message, whose msgid
        makes the resend safe (archived but unanswered messages are processed then)."""
        return self._answer(GatewayRefused(
            "本行系统暂不可用，请稍后原样重发", "the bank is unavailable; resend the message later",
            code="retry_later"), {}, self.clock.now())

    def _answer(self, exc: YibaodaiError | None, output: dict[str, Any],
                now: datetime) -> GatewayAnswer:
        if exc is None:
            infcode, err_msg = 0, ""
        else:
            exc = _with_field(exc)
            infcode = INFCODES.get(exc.code, 1999)
            err_msg = _err_msg(exc)
            output = {"error": exc.as_dict()}
        with self._serial_lock:
            serial = next(self._serial)
        envelope = seal_response(infcode=infcode, err_msg=err_msg, output=output,
                                 refmsgid_area=REFMSG_AREA, serial=serial, now=now,
                                 keyring=self.keyring)
        return GatewayAnswer(infcode, envelope)

    def _quarantine(self, body: bytes, msgid: str | None, exc: YibaodaiError,
                    now: datetime) -> None:
        with self.db.unit_of_work() as session:
            self._quarantine_in(session, body, msgid, exc, now)
            session.commit()

    @staticmethod
    def _quarantine_in(session: Session, body: bytes, msgid: str | None, exc: YibaodaiError,
                       now: datetime) -> None:
        session.add(QuarantineRow(
            received_at=now, msgid=msgid, reason_code=exc.code,
            reason=json.dumps(_with_field(exc).as_dict(), ensure_ascii=False)[:10_000],
            body=_clean(body[:65_536].decode("utf-8", errors="replace"))))


__all__ = ["BUREAU_INFNOS", "HEAD_OFFICE_INFNOS", "INFCODES", "Gateway", "GatewayAnswer",
           "ValidationFailed"]
