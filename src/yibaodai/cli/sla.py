"""``yibaodai sla``: deadlines from the one deadline function, the worker's SLA sweep on
demand, and the penalties (list; a branch manager lifts one with a reason)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from yibaodai.cli._app import app, emit
from yibaodai.cli.model import User, database, refuse, signed_in
from yibaodai.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

sla_app = typer.Typer(help="SLA deadlines (Chinese working days), the sweep (reminders, "
                           "breaches, escalations, penalties) and lifting a penalty.",
                      no_args_is_help=True)
app.add_typer(sla_app, name="sla")


def _instant(text: str, option: str) -> datetime:
    """ISO 8601; without an offset the time is read in Asia/Shanghai."""
    from yibaodai.clock import SHANGHAI

    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{option}：不是 ISO 8601 时间 / not an ISO 8601 time: "
                                 f"{text!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


@sla_app.command("due")
def sla_due(
    assigned: Annotated[str, typer.Option("--assigned", help="When the step began (ISO 8601; "
                                          "no offset = Asia/Shanghai).")],
    workdays: Annotated[int, typer.Option("--workdays", min=1, max=60,
                                          help="Working days allowed.")],
) -> None:
    """Print the deadline: the end (24:00 Asia/Shanghai) of the N-th working day after the
    day of ``--assigned``, written with its offset, from the function the system uses."""
    from yibaodai.cases.sla_policy import bank_calendar
    from yibaodai.domain.sla import as_midnight, due

    start = _instant(assigned, "--assigned")
    cal = bank_calendar(load_settings())
    deadline = due(start, workdays, cal)
    warning = cal.coverage_warning_between(start.date(), deadline.date())
    if warning is not None:
        typer.echo(warning, err=True)
    typer.echo(as_midnight(deadline).isoformat())


@sla_app.command("sweep")
def sla_sweep(
    at: Annotated[str | None, typer.Option("--at", help="Sweep as of this instant (ISO "
                                           "8601); default now.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run the worker's SLA sweep once (idempotent) and commit what it found."""
    from yibaodai.cases.sla_policy import bank_calendar, policy_of
    from yibaodai.cases.sla_sweep import run_sweep
    from yibaodai.clock import SystemClock

    settings = load_settings()
    now = _instant(at, "--at") if at else SystemClock().now()
    with database() as s:
        result = run_sweep(s, now=now, calendar=bank_calendar(settings),
                           policy=policy_of(settings))
        s.commit()
        summary = {"at": now.isoformat(), **result.summary()}
    if as_json:
        emit(summary)
        return
    typer.echo(f"{summary['at']}: reminders {summary['reminders']}, breaches "
               f"{summary['breaches']}, escalations {summary['escalations']}")
    if summary["calendar_warning"]:
        typer.echo(str(summary["calendar_warning"]), err=True)


@sla_app.command("penalties")
def sla_penalties(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every penalty, newest first; active ones keep new cases away from the sub-branch."""
    from yibaodai.cases.penalties import penalty_list
    from yibaodai.clock import SystemClock

    with database() as s:
        items = [p.model_dump(mode="json") for p in penalty_list(s, now=SystemClock().now())]
    if as_json:
        emit(items)
        return
    for p in items:
        state = "active" if p["active"] else ("lifted" if p["lifted_at"] else "over")
        typer.echo(f"{p['id']:>5} {p['sub_branch_code']} case {p['case_id']} {p['kind']} "
                   f"until {p['until']} {state}")


@sla_app.command("lift")
def sla_lift(
    penalty_id: Annotated[int, typer.Argument(help="The penalty's id (sla penalties).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is lifted (2-500 chars).")],
    user: User,
) -> None:
    """Lift a running penalty (branch managers), with a reason; audited."""
    from yibaodai.auth.roles import Actor, Role
    from yibaodai.cases.penalties import lift_penalty
    from yibaodai.db.models import UserRow
    from yibaodai.errors import YibaodaiError

    def work(s: Session, now: datetime) -> int:
        from sqlalchemy import select

        row = s.scalars(select(UserRow).where(UserRow.username == user)).one()
        actor = Actor(user_id=row.id, username=row.username, display_name=row.display_name,
                      staff_no=row.staff_no, role=Role(row.role),
                      sub_branch_code=row.sub_branch_code)
        return lift_penalty(s, actor=actor, penalty_id=penalty_id, reason=reason, now=now).id

    try:
        lifted = signed_in(user, work)
    except YibaodaiError as exc:
        refuse(exc)
    typer.echo(f"penalty {lifted} lifted")
