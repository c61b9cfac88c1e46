"""The workbench against the real database on both backends: the simulated sample sees what a
decision sees, an exported build enters the approval flow and is scored by the engine exactly as
the workbench scored it, the live population is monitored month by month, and loan outcomes
label the decisions that led to them."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.conftest import Installation
from tests.support.modelkit import synthetic_observations
from yibaodai.admission.service import gather_inputs, inputs_json
from yibaodai.admission.versions import active_version, move, stages
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import (
    AuditRow,
    CaseRow,
    DecisionRow,
    InstitutionRow,
    ModelReportRow,
    ModelVersionRow,
    SettlementFactRow,
)
from yibaodai.db.session import Database
from yibaodai.domain.admission import decide
from yibaodai.domain.model_version import Action, Stage
from yibaodai.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yibaodai.modelkit.build import BuildParams, BuildReport, build
from yibaodai.modelkit.export import export_version, latest_report
from yibaodai.modelkit.monitoring import monthly_stability
from yibaodai.modelkit.samples import (
    Observation,
    database_sample,
    facts_frame,
    observation_table,
)
from yibaodai.modelkit.scoring import score_frame
from yibaodai.modelkit.simulated import city_date, simulated_history
from yibaodai.modelkit.table import LabelledTable
from yibaodai.sim.city import daily_settlements, generate_city

CLERK, CHECKER, AUDITOR = "cm_dl001_1", "gm", "auditor"


@pytest.fixture(scope="module")
def workbench_build() -> BuildReport:
    table = observation_table(synthetic_observations(3000), policy=None)
    return build(table, params=BuildParams(min_segment_rows=1000, min_segment_bads=120),
                 source="synthetic")


def _export(installation: Installation, built: BuildReport, *, submit: bool = True) -> int:
    now = installation.clock.now()
    with installation.bank.db.unit_of_work() as s:
        vid = export_version(s, build=built, username=CLERK, now=now, submit=submit,
                             validation={"kind": "validation", "segments": []})
        s.commit()
    return vid


def test_an_exported_build_goes_through_approval_and_the_engine_scores_as_the_workbench(
        installation: Installation, workbench_build: BuildReport) -> None:
    vid = _export(installation, workbench_build)
    now = installation.clock.now()
    db = installation.bank.db
    with db.unit_of_work() as s:
        assert stages(s)[vid] is Stage.SUBMITTED
        stored = latest_report(s, version_id=vid, kind="build")
        assert stored is not None and BuildReport.model_validate(stored) == workbench_build
        assert latest_report(s, version_id=vid, kind="validation") is not None
        move(s, version_id=vid, action=Action.APPROVE, username=CHECKER, now=now)
        move(s, version_id=vid, action=Action.ACTIVATE, username=CHECKER, now=now)
        s.commit()
    with db.unit_of_work() as s:
        active = active_version(s, now)
        actions = s.scalars(select(AuditRow.action).where(
            AuditRow.target == f"model_version:{vid}").order_by(AuditRow.id)).all()
    assert active.id == vid
    assert actions == ["model.create", "model.report", "model.report", "model.submit",
                       "model.approve", "model.activate"]
    # the policy and limit rule came from the version it was copied from
    assert active.model.limit.multiple == Decimal("3")
    rows = synthetic_observations(1500, seed=9)
    by_segment: dict[str, list[Observation]] = {}
    for o in rows:
        by_segment.setdefault(o.inputs.segment, []).append(o)
    for segment, part in by_segment.items():
        engine = [decide(o.inputs, active.model).score for o in part]
        frame = facts_frame([o.inputs for o in part])
        assert score_frame(workbench_build.card_for(segment), frame).tolist() == engine


def test_a_build_on_other_columns_or_by_an_auditor_is_refused_and_writes_nothing(
        installation: Installation, workbench_build: BuildReport) -> None:
    foreign = observation_table(synthetic_observations(1500), policy=None)
    renamed = LabelledTable(foreign.frame.rename(columns={"cv_12m": "volatility"}),
                            foreign.segments, foreign.target, foreign.bad_label)
    other = build(renamed, params=BuildParams(min_segment_rows=10_000))
    now = installation.clock.now()
    with installation.bank.db.unit_of_work() as s:
        active_version(s, now)
        before = s.scalar(select(func.count()).select_from(ModelVersionRow))
        with pytest.raises(ValidationFailed) as refused:
            export_version(s, build=other, username=CLERK, now=now)
        assert refused.value.code == "not_exportable"
        assert any("volatility" in f.message_en for f in refused.value.fields)
        with pytest.raises(PermissionDenied) as auditor:
            export_version(s, build=workbench_build, username=AUDITOR, now=now)
        assert auditor.value.code == "role_not_allowed"
        assert s.scalar(select(func.count()).select_from(ModelVersionRow)) == before
        assert s.scalar(select(func.count()).select_from(ModelReportRow)) == 0


def _decision(inputs: Any, at: datetime, version_id: int) -> DecisionRow:
    return DecisionRow(fixmedins_code=inputs.fixmedins_code, decided_at=at, trigger="test",
                       result="admitted", credit_limit=Decimal("10000"), reasons=[],
                       inputs=inputs_json(inputs), rule_version="test", content_hash="0" * 64,
                       model_version_id=version_id, score=None)


def test_monitoring_compares_each_month_with_the_development_rows_and_flags_drift(
        installation: Installation, workbench_build: BuildReport) -> None:
    vid = _export(installation, workbench_build)
    now = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    db = installation.bank.db
    with db.unit_of_work() as s:
        move(s, version_id=vid, action=Action.APPROVE, username=CHECKER, now=now)
        move(s, version_id=vid, action=Action.ACTIVATE, username=CHECKER, now=now)
        same = synthetic_observations(2400, seed=21)
        drifted = synthetic_observations(2400, seed=22, shift=1.2)
        few = synthetic_observations(40, seed=23)
        for month, rows in ((9, same), (10, drifted), (11, few)):
            for n, o in enumerate(rows):
                s.add(_decision(o.inputs, datetime(2026, month, 1 + n % 19, 10,
                                                   tzinfo=SHANGHAI), vid))
        s.commit()
    with db.unit_of_work() as s:
        report = monthly_stability(s, now=now, months=3)
    months = {m["month"]: {g["segment"]: g for g in m["segments"]} for m in report["months"]}
    assert list(months) == ["2026-09", "2026-10", "2026-11"]
    stable = months["2026-09"]["pharmacy"]["stability"]
    assert stable["score"]["status"] == "stable" and not stable["score"]["caution"]
    moved = months["2026-10"]["pharmacy"]["stability"]
    assert moved["characteristics"]["avg_monthly_fund_pay_3m"]["status"] == "shift"
    assert moved["score"]["value"] > stable["score"]["value"]
    small = months["2026-11"]["hospital"]
    assert small["rows"] < 10 and (small["stability"] is None
                                   or small["stability"]["score"]["caution"])
    assert report["thresholds"] == {"watch": 0.10, "shift": 0.25, "caution_noise_floor": 0.05}


def test_a_version_without_a_development_sample_needs_one_to_be_monitored(
        installation: Installation) -> None:
    now = installation.clock.now()
    with installation.bank.db.unit_of_work() as s:
        first = active_version(s, now)
        with pytest.raises(NotFound) as missing:
            monthly_stability(s, now=now)
        assert missing.value.code == "no_development"
        report = monthly_stability(s, now=now, sample=[o.inputs for o in
                                                       synthetic_observations(500)])
    assert report["version_id"] == first.id and report["months"] == []
    assert set(report["development_rows"]) == {"pharmacy", "clinic", "hospital"}


def test_a_tampered_report_is_refused(installation: Installation,
                                      workbench_build: BuildReport) -> None:
    vid = _export(installation, workbench_build, submit=False)
    db = installation.bank.db
    with db.unit_of_work() as s:
        s.execute(update(ModelReportRow).where(ModelReportRow.kind == "validation")
                  .values(content={"kind": "validation", "segments": ["forged"]}))
        s.commit()
    with db.unit_of_work() as s, pytest.raises(Conflict) as tampered:
        latest_report(s, version_id=vid, kind="validation")
    assert tampered.value.code == "model_report_tampered"


def test_loan_outcomes_label_the_decisions_that_led_to_them(
        installation: Installation) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
    rows = synthetic_observations(5, seed=3)
    outcomes = [("overdue", 45, 300), ("drawn", 0, 300), ("drawn", 0, 30), ("approved", 0, 300),
                ("overdue", 10, 300)]
    with installation.bank.db.unit_of_work() as s:
        vid = active_version(s, now).id
        for o, (status, overdue, days_ago) in zip(rows, outcomes, strict=True):
            d = _decision(o.inputs, now - timedelta(days=days_ago), vid)
            s.add(d)
            s.flush()
            s.add(CaseRow(fixmedins_code=d.fixmedins_code, decision_id=d.id,
                          sub_branch_code="DL001", state="drawn", credit_limit=d.credit_limit,
                          assigned_at=d.decided_at, claim_deadline=d.decided_at,
                          loan_status=status, overdue_days=overdue))
        s.commit()
    with installation.bank.db.unit_of_work() as s:
        sample = database_sample(s, now=now)
    # 45 days overdue: bad; drawn 10 months ago: good; drawn a month ago: not known yet;
    # approved but never drawn: no loan; 10 days overdue and matured: good
    assert [o.bad for o in sample] == [1, 0, None, 0]
    assert [o.inputs for o in sample] == [rows[i].inputs for i in (0, 1, 2, 4)]


def test_the_simulated_sample_sees_what_a_decision_on_that_day_would_see(db: Database) -> None:
    as_of = date(2026, 6, 30)
    labelled, recent = simulated_history(seed=8, institutions=6, as_of=as_of, snapshots=2)
    city = generate_city(seed=8, institutions=6, as_of=city_date(as_of))
    start = min(o.observed_on for o in labelled) - timedelta(days=800)
    with db.unit_of_work() as s:
        for inst in city:
            s.add(InstitutionRow(
                fixmedins_code=inst.fixmedins_code, fixmedins_name=inst.fixmedins_name,
                uscc=inst.uscc, fixmedins_type=inst.fixmedins_type, hosp_lv=inst.hosp_lv or None,
                area_code=inst.area_code, biz_stas="1", cred_lv_name=inst.cred_lv_name,
                ownership=inst.ownership, begntime=inst.begntime, endtime=inst.endtime,
                updated_at=datetime(2026, 1, 1, tzinfo=SHANGHAI)))
            renewed = replace(inst, endtime=max(inst.endtime, as_of))
            for r in daily_settlements(renewed, seed=8, start=start,
                                       end=as_of - timedelta(days=1)):
                s.add(SettlementFactRow(
                    fixmedins_code=r.fixmedins_code, setl_date=r.setl_date,
                    insutype=r.insutype, clr_type=r.clr_type, setl_cnt=r.setl_cnt,
                    refd_setl_cnt=r.refd_setl_cnt, medfee_sumamt=r.medfee_sumamt,
                    fund_pay_sumamt=r.fund_pay_sumamt, hifp_pay=r.hifp_pay,
                    acct_pay=r.acct_pay, psn_cash_pay=r.psn_cash_pay, source_msgid="sim"))
        s.flush()
        checked = 0
        for o in [*labelled, *recent]:
            inst = s.get(InstitutionRow, o.inputs.fixmedins_code)
            assert inst is not None
            inst.biz_stas = o.inputs.biz_stas
            seen = gather_inputs(s, inst, o.observed_on)
            ours, theirs = dict(o.inputs.features), dict(seen.features)
            # the feature table's own copy of the profile field: the simulation's batch
            # table holds the city's status, the database the day's
            ours.pop("biz_stas"), theirs.pop("biz_stas")
            assert replace(o.inputs, features={}) == replace(seen, features={})
            assert ours.keys() == theirs.keys()
            for key, value in ours.items():
                if isinstance(value, float):
                    assert math.isclose(value, theirs[key], rel_tol=1e-9), key
                else:
                    assert value == theirs[key], key
            checked += 1
    assert checked == len(labelled) + len(recent) >= 12
