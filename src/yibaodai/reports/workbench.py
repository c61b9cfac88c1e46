"""The model workbench in the platform (department managers and above): a version's validation
report and its monthly monitoring, both read within the caller's data scope.

Nothing here computes a statistic: ``modelkit.validation.validate`` and
``modelkit.monitoring.monthly_stability`` do, and this module only chooses the rows and types
the JSON they return for the API (so the front-end's types are generated, not guessed).

- **Development**: the validation attached to the version when it was exported (on the build's
  own sample — optimistic for the "sample" figures; the build's test and out-of-time figures
  are the honest ones), as stored.
- **Recent**: the version's build run now on the live population of the last ``months``
  calendar months (the decisions' stored inputs, in scope, through the version's knock-outs),
  and on the bank's own labelled history (loans with an outcome) when it has both outcomes.

A version without a build report attached (the initial rule, a hand-written draft) has no
development distribution to compare with: ``NotFound`` with code ``no_development``.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.admission.versions import load_version
from yibaodai.auth.roles import Actor
from yibaodai.db.models import InstitutionRow
from yibaodai.errors import NotFound
from yibaodai.modelkit import monitoring, samples, validation
from yibaodai.modelkit.build import BuildReport
from yibaodai.modelkit.excel import Sheet
from yibaodai.modelkit.export import latest_report
from yibaodai.reports.models import VersionRef
from yibaodai.reports.schema import Out
from yibaodai.reports.scope import Scope

#: The bank's own labelled rows below this many are not a validation sample (noise only).
MIN_LABELLED_ROWS = 30


class Discrimination(Out):
    rows: int
    bads: int
    bad_rate: float | None
    auc: float | None
    ks: float | None
    gini: float | None


class CalibrationRow(Out):
    band: str
    rows: int
    bads: int
    observed_bad_rate: float | None
    predicted_bad_rate: float | None
    binomial_p_value: float | None


class CutoffRow(Out):
    cutoff: int
    approved: int
    approval_rate: float | None
    bad_rate_approved: float | None
    bad_rate_refused: float | None


class StabilityBin(Out):
    bin: str
    expected: int
    actual: int
    expected_share: float
    actual_share: float
    contribution: float


class Stability(Out):
    """PSI (or CSI) with its status — stable < 0.10 ≤ watch < 0.25 ≤ shift — and the noise
    floor a population this small shows with no change at all (``caution``)."""

    value: float | None
    status: str
    expected_rows: int
    actual_rows: int
    noise_floor: float | None
    caution: bool
    bins: list[StabilityBin]


class SegmentStability(Out):
    score: Stability
    characteristics: dict[str, Stability]


class SegmentValidation(Out):
    segment: str
    model: str
    cutoff: int
    development: dict[str, Discrimination]
    sample: Discrimination | None
    calibration: list[CalibrationRow]
    cutoffs: list[CutoffRow]
    out_of_time: Discrimination | None
    stability: SegmentStability | None


class Thresholds(Out):
    watch: float
    shift: float
    caution_noise_floor: float


class ValidationReport(Out):
    subject: str
    thresholds: Thresholds
    bad_label: str
    sample_rows: int
    recent_rows: int
    segments: list[SegmentValidation]
    cautions: list[str]


class ValidationPage(Out):
    version: VersionRef
    as_of: datetime
    months: int
    #: Attached at export: the build's own sample (see the module docstring).
    development: ValidationReport | None
    #: Run now on the live population in scope (and the bank's labelled history, if any).
    recent: ValidationReport
    labelled_source: str


class MonitoredSegment(Out):
    segment: str
    rows: int
    stability: SegmentStability | None


class MonitoredMonth(Out):
    month: str
    decisions: int
    in_policy: int
    segments: list[MonitoredSegment]


class MonitoringReport(Out):
    version_id: int
    version: str
    as_of: datetime
    thresholds: Thresholds
    development_rows: dict[str, int]
    months: list[MonitoredMonth]


def visible_codes(session: Session, actor: Actor) -> frozenset[str] | None:
    """The institution codes the caller's scope covers (None: the whole branch)."""
    scope = Scope.of(actor)
    if scope.branch_wide:
        return None
    return frozenset(session.scalars(select(InstitutionRow.fixmedins_code).where(
        scope.institution_clause(session))))


def _build_of(session: Session, version_id: int) -> BuildReport:
    stored = latest_report(session, version_id=version_id, kind="build")
    if stored is None:
        raise NotFound("该版本没有构建报告（开发样本），无法验证或监测；请在模型工作台构建新版本",
                       "this version has no build report (development sample) attached, so "
                       "it cannot be validated or monitored; build a version in the workbench",
                       code="no_development")
    return BuildReport.model_validate(stored)


def _within(code: str, visible: Container[str] | None) -> bool:
    return visible is None or code in visible


def validation_report(session: Session, *, version_id: int, actor: Actor, now: datetime,
                      months: int = 3) -> ValidationPage:
    """The version's stored development validation and a validation run now in scope."""
    version = load_version(session, version_id)
    build = _build_of(session, version_id)
    policy = version.model.policy
    visible = visible_codes(session, actor)
    live = [inputs for _, inputs in samples.decisions_between(
        session, start=samples.months_back(now, months), end=now)
        if _within(inputs.fixmedins_code, visible)]
    history = [o for o in samples.database_sample(session, now=now)
               if o.bad is not None and _within(o.inputs.fixmedins_code, visible)
               and samples.in_policy(o, policy)]
    bads = sum(o.bad or 0 for o in history)
    usable = len(history) >= MIN_LABELLED_ROWS and 0 < bads < len(history)
    labelled = samples.observation_table(history, policy=policy) if usable else None
    recent = validation.validate(build, sample=labelled,
                                 recent=samples.population(live, policy=policy),
                                 subject=f"{version.label} — recent {months} months")
    development = _stored_validation(session, version_id)
    n = len(history)
    source = (f"本行有结果的贷款 {n} 行 / the bank's loans with an outcome, {n} rows"
              if usable else f"本行有结果的贷款仅 {n} 行（坏 {bads}），未作验证样本 / only {n} "
              f"of the bank's loans have an outcome ({bads} bad): not used as a sample")
    return ValidationPage(version=VersionRef(id=version.id, label=version.label), as_of=now,
                          months=months, development=development,
                          recent=ValidationReport.model_validate(recent),
                          labelled_source=source)


def _stored_validation(session: Session, version_id: int) -> ValidationReport | None:
    """The validation attached at export, if it is a full report (a validation attached by
    another tool in another shape is left out rather than failing the page)."""
    stored = latest_report(session, version_id=version_id, kind="validation")
    if stored is None:
        return None
    try:
        return ValidationReport.model_validate(stored)
    except PydanticValidationError:
        return None


def validation_sheets(page: ValidationPage) -> list[Sheet]:
    """The page as workbook sheets (``modelkit.validation.sheets`` of each report)."""
    parts: list[tuple[str, ValidationReport]] = [("Recent", page.recent)]
    if page.development is not None:
        parts.insert(0, ("Dev", page.development))
    out = []
    for prefix, report in parts:
        for sheet in validation.sheets(report.model_dump(mode="json")):
            out.append(Sheet(f"{prefix} {sheet.name}"[:31], sheet.title, sheet.columns,
                             sheet.rows))
    return out


def monitoring_report(session: Session, *, version_id: int, actor: Actor, now: datetime,
                      months: int = 6) -> MonitoringReport:
    """Monthly PSI / CSI of the live population in scope against the version's development."""
    _build_of(session, version_id)  # the same refusal as the validation, before any work
    data: dict[str, Any] = monitoring.monthly_stability(
        session, now=now, months=months, version_id=version_id,
        visible=visible_codes(session, actor))
    return MonitoringReport.model_validate(data)
