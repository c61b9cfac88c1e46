"""Bulk data for the platform benchmark: a synthetic city's institutions, authorizations and
three years of daily settlement summaries (``yibaodai.sim.city``), admission decisions made by
the real rule (``domain.admission.decide`` on the reference features), cases in every state
with their events, and warnings — written with PostgreSQL ``COPY`` straight into the tables.
Nothing goes through the gateway: this builds the state three years of pushes would leave.

Generation of the daily rows is spread over processes (it is the slow part); the COPY runs in
this process on one connection."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from yibaodai.admission.service import content_hash, inputs_json, segment_of
from yibaodai.admission.versions import active_version
from yibaodai.audit.chain import GENESIS, KEYED, keyed_link
from yibaodai.audit.keys import ChainKeys, load_chain_keys
from yibaodai.bootstrap import Account, open_database, seed_demo_users, seed_organisation
from yibaodai.cases.assignment import branch_from_db
from yibaodai.cases.events import CASE_EVENTS
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import CaseEventRow, InstitutionRow
from yibaodai.domain.admission import AdmissionInputs, decide
from yibaodai.domain.calendar import WorkingDayCalendar
from yibaodai.domain.organisation import choose_sub_branch
from yibaodai.domain.sla import claim_deadline, verification_deadline
from yibaodai.features.settlement import DailyAmounts, settlement_features
from yibaodai.gateway.months import rebuild_settlement_months
from yibaodai.settings import Settings
from yibaodai.sim.city import SyntheticInstitution, daily_settlements, generate_city

SEED = 9
#: Cases by state (shares of the cases made).
STATE_MIX = (("assigned", 0.12), ("claimed", 0.10), ("verified", 0.08), ("rejected", 0.04),
             ("confirmed", 0.04), ("reported", 0.07), ("drawn", 0.55))


@dataclass(frozen=True)
class Loaded:
    institutions: int
    settlement_rows: int
    decisions: int
    cases: int
    warnings: int
    accounts: list[Account]
    case_codes: dict[int, tuple[str, str]]  # case id -> (institution code, sub-branch)


def _fen(value: Decimal) -> int:
    return int(value * 100)


def _rows_of(args: tuple[SyntheticInstitution, date, date]) -> tuple[str, bytes, list[Any]]:
    """One institution's daily rows as COPY text, and its daily amounts for the features."""
    inst, start, end = args
    buf = io.StringIO()
    amounts = []
    for r in daily_settlements(inst, seed=SEED, start=start, end=end):
        buf.write(f"{r.fixmedins_code}\t{r.setl_date.isoformat()}\t{r.insutype}\t{r.clr_type}\t"
                  f"{r.setl_cnt}\t{r.refd_setl_cnt}\t{_fen(r.medfee_sumamt)}\t"
                  f"{_fen(r.fund_pay_sumamt)}\t{_fen(r.hifp_pay)}\t{_fen(r.acct_pay)}\t"
                  f"{_fen(r.psn_cash_pay)}\tbench\n")
        amounts.append((r.setl_date, r.setl_cnt, r.refd_setl_cnt, r.medfee_sumamt,
                        r.fund_pay_sumamt))
    return inst.fixmedins_code, buf.getvalue().encode(), amounts


def _copy(conn: psycopg.Connection[Any], table: str, columns: Sequence[str],
          rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    with conn.cursor() as cur, cur.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _linked(events: Iterable[tuple[Any, ...]], keys: ChainKeys) -> Iterable[tuple[Any, ...]]:
    """The case events with their keyed chain links, in the order COPY gives them ids: the
    same links :func:`yibaodai.cases.events.append_case_event` would have written, so
    ``yibaodai verify`` holds on the benchmark's data too."""
    prev = GENESIS
    for case_id, at, event, from_state, to_state, actor_id, details in events:
        content = CASE_EVENTS.content(CaseEventRow(
            case_id=case_id, at=at, event=event, from_state=from_state, to_state=to_state,
            actor_id=actor_id, details=json.loads(details)))
        link = keyed_link(chain=CASE_EVENTS.name, key_id=keys.current_id, key=keys.current,
                          prev_hash=prev, content=content)
        yield (case_id, at, event, from_state, to_state, actor_id, details, prev, link, KEYED,
               keys.current_id)
        prev = link


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def load(url: str, *, var_dir: Path, institutions: int, cases: int, years: int, as_of: date,
         workers: int = 2) -> Loaded:
    """Fill the (migrated, empty) database at ``url``. ``as_of``: the first day after the
    data; decisions and cases are dated in the months before it. ``var_dir``: the bank's
    folder (its chain keys), shared with the server the benchmark then starts."""
    settings = Settings(database_url=url, var_dir=var_dir, demo_mode=True)
    db = open_database(settings)
    now = datetime.combine(as_of, datetime.min.time(), SHANGHAI) + timedelta(hours=9)
    with db.unit_of_work() as s:
        seed_organisation(s)
        accounts = seed_demo_users(s, seed=SEED)
        model = active_version(s, now - timedelta(days=400))
        s.commit()
        branch = branch_from_db(s)
        users = {u: i for i, u in s.execute(_users_sql()).tuples()}
    city = generate_city(seed=SEED, institutions=institutions, as_of=as_of - timedelta(days=1))
    start = date(as_of.year - years, as_of.month, 1)
    end = as_of - timedelta(days=1)
    raw = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    rng = random.Random(SEED)
    settlement_rows = 0
    features: dict[str, dict[str, Any]] = {}
    with raw:
        _copy(raw, "institutions", (
            "fixmedins_code", "fixmedins_name", "uscc", "fixmedins_type", "hosp_lv",
            "area_code", "addr", "latitude", "longitude", "biz_stas", "cred_lv_name",
            "ownership", "begntime", "endtime", "legrep_name", "bankacct", "updated_at"),
            ((i.fixmedins_code, i.fixmedins_name, i.uscc, i.fixmedins_type, i.hosp_lv,
              i.area_code, i.addr, i.latitude, i.longitude, i.biz_stas, i.cred_lv_name,
              i.ownership, i.begntime, i.endtime, i.legrep_name, i.bankacct, now)
             for i in city))
        _copy(raw, "authorizations", (
            "auth_no", "fixmedins_code", "uscc", "auth_scope", "begndate", "enddate",
            "granted_at"),
            ((f"BENCH{n:06d}", i.fixmedins_code, i.uscc, _json(["settlement", "profile"]),
              start, date(as_of.year + 2, 12, 31), now - timedelta(days=365))
             for n, i in enumerate(city)))
        with ProcessPoolExecutor(max_workers=workers) as pool, raw.cursor() as cur, cur.copy(
                "COPY settlement_facts (fixmedins_code, setl_date, insutype, clr_type, "
                "setl_cnt, refd_setl_cnt, medfee_sumamt_fen, fund_pay_sumamt_fen, hifp_pay_fen, "
                "acct_pay_fen, psn_cash_pay_fen, source_msgid) FROM STDIN") as copy:
            for code, text, amounts in pool.map(_rows_of, ((i, start, end) for i in city),
                                                chunksize=8):
                copy.write(text)
                settlement_rows += text.count(b"\n")
                features[code] = settlement_features(
                    [DailyAmounts(*a) for a in amounts if a[0] >= end - timedelta(days=800)],
                    as_of=as_of - timedelta(days=31))
        raw.commit()
        with db.unit_of_work() as s:  # what ingestion keeps beside the daily rows
            rebuild_settlement_months(s)
            s.commit()
        made = _decisions_and_cases(raw, city, features, model, branch, users, as_of, now,
                                    cases, rng, load_chain_keys(settings))
        raw.commit()
    raw.close()
    # as autovacuum would have left three years of pushes: statistics, hint bits and the
    # visibility map set, so the first reads of the benchmark do not write to the table
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as vacuum:
        vacuum.execute("VACUUM (ANALYZE)")
    db.dispose()
    return Loaded(institutions=len(city), settlement_rows=settlement_rows,
                  decisions=made[0], cases=made[1], warnings=made[2], accounts=accounts,
                  case_codes=made[3])


def _users_sql() -> Any:
    from sqlalchemy import text

    return text("SELECT id, username FROM users")


def _decisions_and_cases(raw: psycopg.Connection[Any], city: list[SyntheticInstitution],
                         features: dict[str, dict[str, Any]], model: Any, branch: Any,
                         users: dict[str, int], as_of: date, now: datetime, wanted: int,
                         rng: random.Random, keys: ChainKeys,
                         ) -> tuple[int, int, int, dict[int, tuple[str, str]]]:
    cal = WorkingDayCalendar()
    decisions: list[tuple[Any, ...]] = []
    case_rows: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    warnings: list[tuple[Any, ...]] = []
    codes: dict[int, tuple[str, str]] = {}
    states = [s for s, share in STATE_MIX for _ in range(round(share * 100))]
    for inst in city:
        if len(case_rows) >= wanted:
            break
        row = InstitutionRow(fixmedins_code=inst.fixmedins_code, fixmedins_type=inst.fixmedins_type,
                             hosp_lv=inst.hosp_lv)
        feats = features[inst.fixmedins_code]
        inputs = AdmissionInputs(
            fixmedins_code=inst.fixmedins_code, segment=segment_of(row), ownership=inst.ownership,
            biz_stas=inst.biz_stas, cred_lv_name=inst.cred_lv_name, penalties_24m=0,
            features=feats, months_since_last_penalty=None,
            designation_days_left=(inst.endtime - as_of).days,
            months_designated=(as_of.year - inst.begntime.year) * 12 + as_of.month
            - inst.begntime.month)
        outcome = decide(inputs, model.model)
        decided_at = now - timedelta(days=rng.randrange(5, 330), hours=rng.randrange(0, 8))
        stored = inputs_json(inputs)
        did = len(decisions) + 1
        decisions.append((did, inst.fixmedins_code, decided_at, "bench/first",
                          "admitted" if outcome.admitted else "refused",
                          _fen(outcome.credit_limit), _json(outcome.reasons_json()),
                          _json(stored), outcome.rule_version, content_hash(stored, outcome),
                          model.id, outcome.score))
        if not outcome.admitted:
            continue
        sub = choose_sub_branch(branch, district=inst.area_code, latitude=inst.latitude,
                                longitude=inst.longitude, excluded=frozenset())
        assert sub is not None
        cid = len(case_rows) + 1
        state = rng.choice(states)
        if cid <= 40:  # some due today and some overdue, for the dashboard
            state = "assigned" if cid % 2 else "claimed"
        # the first cases were assigned in the last days: due today, tomorrow, or just late
        assigned = now - timedelta(days=cid % 4, hours=1) if cid <= 40 else decided_at
        claimed = assigned + timedelta(hours=rng.randrange(2, 40)) if state != "assigned" else None
        verified = (claimed + timedelta(hours=rng.randrange(4, 40))
                    if claimed and state != "claimed" else None)
        cm = users[f"cm_{sub.code.lower()}_{1 + cid % 2}"] if claimed else None
        drawn = _fen(outcome.credit_limit) * rng.randrange(30, 100) // 100 \
            if state == "drawn" else None
        case_rows.append((
            cid, inst.fixmedins_code, did, sub.code, cm, state, _fen(outcome.credit_limit),
            assigned, claim_deadline(assigned, cal), claimed,
            verification_deadline(claimed, cal) if claimed else None, verified,
            verified if state in ("confirmed", "reported", "drawn") else None,
            verified + timedelta(hours=2) if verified and state in ("reported", "drawn")
            else None, "drawn" if drawn else None, drawn, drawn, 0 if drawn else None, 1))
        codes[cid] = (inst.fixmedins_code, sub.code)
        events.append((cid, assigned, "assigned", None, "assigned", None,
                       _json({"sub_branch": sub.code})))
        if claimed:
            events.append((cid, claimed, "claim", "assigned", "claimed", cm, "{}"))
        if verified:
            events.append((cid, verified, "verify_fail" if state == "rejected" else
                           "verify_pass", "claimed", state if state == "rejected" else
                           "verified", cm, _json({"checklist": {}, "note": "bench"})))
        if state == "drawn" and cid % 5 == 0:
            warnings.append((cid, inst.fixmedins_code, "W01", "bench", "2026-07",
                             now - timedelta(days=rng.randrange(0, 20)), "high",
                             _json({"month": "2026-07", "current": "1000.00",
                                    "baseline": "5000.00", "threshold": "0.5"}),
                             _json([{"rule_code": "W01", "text_zh": "结算收入骤降",
                                     "text_en": "settlement income dropped"}]), cm,
                             "open" if cid % 3 else "escalated"))
    _copy(raw, "decisions", ("id", "fixmedins_code", "decided_at", "trigger", "result",
                             "credit_limit_fen", "reasons", "inputs", "rule_version",
                             "content_hash", "model_version_id", "score"), decisions)
    _copy(raw, "cases", ("id", "fixmedins_code", "decision_id", "sub_branch_code",
                         "client_manager_id", "state", "credit_limit_fen", "assigned_at",
                         "claim_deadline", "claimed_at", "verification_deadline", "verified_at",
                         "confirmed_at", "reported_at", "loan_status", "loan_drawn_fen",
                         "loan_balance_fen", "overdue_days", "version"), case_rows)
    _copy(raw, "case_events", ("case_id", "at", "event", "from_state", "to_state", "actor_id",
                               "details", "prev_hash", "record_hash", "link_scheme",
                               "link_key_id"), _linked(events, keys))
    _copy(raw, "warnings", ("case_id", "fixmedins_code", "rule_code", "rule_version", "period",
                            "raised_at", "severity", "inputs", "reasons", "assigned_to",
                            "state"), warnings)
    for table in ("decisions", "cases"):
        raw.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
    return len(decisions), len(case_rows), len(warnings), codes

