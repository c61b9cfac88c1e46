"""``yibaodai marketing``: import the bureau's list, assign, call lists, outcomes, campaigns.

Commands that act for a member of staff take ``--user USERNAME`` and run with that user's
role and data scope, exactly as the platform will. Refusals print the bilingual reason (as
JSON with ``--json``) and exit 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.bootstrap import open_database
from yibaodai.cli._app import app, emit
from yibaodai.settings import load_settings

marketing_app = typer.Typer(help="Marketing over the bureau's list: import, assign, call "
                                 "lists, outcomes, campaigns.", no_args_is_help=True)
campaign_app = typer.Typer(help="Campaigns: create, list, funnel.", no_args_is_help=True)
marketing_app.add_typer(campaign_app, name="campaign")
app.add_typer(marketing_app, name="marketing")

T = TypeVar("T")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
UserOption = Annotated[str, typer.Option("--user", help="Staff username acting.")]


@contextmanager
def _session() -> Iterator[Session]:

    db = open_database(load_settings())
    try:
        with db.unit_of_work() as s:
            yield s
    finally:
        db.dispose()


def _run(work: Callable[[Session], T], *, as_json: bool, commit: bool = True) -> T:
    """One unit of work; a refusal of the service exits 1 with its bilingual reason."""
    from yibaodai.errors import YibaodaiError

    try:
        with _session() as s:
            result = work(s)
            if commit:
                s.commit()
            return result
    except YibaodaiError as exc:
        if as_json:
            emit({"error": exc.as_dict()})
        else:
            typer.echo(f"refused ({exc.code}): {exc.message_zh} / {exc.message_en}", err=True)
            for f in exc.fields:
                typer.echo(f"  {f.field}: {f.message_zh} / {f.message_en}", err=True)
        raise typer.Exit(1) from exc


def _actor(session: Session, username: str) -> Any:
    from yibaodai.auth.roles import Actor, Role
    from yibaodai.db.models import UserRow
    from yibaodai.errors import NotFound

    user = session.scalars(select(UserRow).where(UserRow.username == username)).first()
    if user is None or not user.active:
        raise NotFound("用户不存在或已停用", f"no active user {username}", code="no_user")
    return Actor(user_id=user.id, username=user.username, display_name=user.display_name,
                 staff_no=user.staff_no, role=Role(user.role),
                 sub_branch_code=user.sub_branch_code)


def _now() -> Any:
    from yibaodai.clock import SystemClock

    return SystemClock().now()


@marketing_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="The bureau's list (.xlsx, .xls or .csv).")],
    as_json: JsonFlag = False,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the report "
                                                "as Excel here.")] = None,
    user: Annotated[str, typer.Option("--user", help="Recorded as the importer.")] = "cli",
) -> None:
    """Import (or re-import) the list; prints read/new/updated/merged/refused/warnings."""
    from yibaodai.marketing import import_list, import_report_xlsx
    from yibaodai.marketing.reader import unreadable

    now = _now()

    def work(s: Session) -> dict[str, Any]:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise unreadable(f"无法打开文件（{exc.strerror}）", f"cannot open it: {exc}") from exc
        return import_list(s, data=data, filename=file.name, actor=user, now=now).as_dict()

    result = _run(work, as_json=as_json)
    if report is not None:
        report.write_bytes(import_report_xlsx(result, produced_by=user, produced_at=now))
    if as_json:
        emit(result)
        return
    typer.echo(f"read {result['read']}, new {result['new']}, updated {result['updated']}, "
               f"merged {result['merged']}, refused {len(result['refused'])}, "
               f"warnings {len(result['warnings'])}")
    for issue in result["refused"]:
        typer.echo(f"  refused row {issue['row']}: {issue['reason']}")


@marketing_app.command("assign")
def assign_command(as_json: JsonFlag = False) -> None:
    """Assign every prospect still without a sub-branch (e.g. after a penalty ended)."""
    from yibaodai.marketing import assign_prospects

    now = _now()
    summary = _run(lambda s: assign_prospects(s, now=now), as_json=as_json)
    emit({"assigned": summary.assigned, "by_sub_branch": summary.by_sub_branch,
          "without_manager": summary.without_manager})


@marketing_app.command("calllist")
def calllist_command(
    manager: Annotated[str, typer.Option("--manager", help="Client manager's username.")],
    on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Write it as Excel here.")
                    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """A client manager's call list for a day (theirs, due, never do-not-contact)."""
    from yibaodai.marketing import call_list, call_list_xlsx

    now = _now()
    day = date.fromisoformat(on) if on else now.date()

    def work(s: Session) -> list[dict[str, Any]]:
        actor = _actor(s, manager)
        entries = call_list(s, actor=actor, on=day)
        if xlsx is not None:
            xlsx.write_bytes(call_list_xlsx(entries, manager_name=actor.display_name, on=day,
                                            produced_by=actor.username, produced_at=now))
        return [e.as_dict() for e in entries]

    rows = _run(work, as_json=as_json, commit=False)
    if as_json:
        emit({"manager": manager, "on": day.isoformat(), "entries": rows})
        return
    for r in rows:
        typer.echo(f"{r['prospect_id']}\t{r['name']}\t{'、'.join(r['phones'])}\t{r['state_zh']}"
                   f"\t{r['next_action_on'] or ''}")


@marketing_app.command("outcome")
def outcome_command(
    prospect_id: int,
    outcome: Annotated[str, typer.Argument(help="not_reached | not_interested | interested "
                                                "| visit_scheduled | visited | authorized")],
    user: UserOption,
    next_action: Annotated[str | None, typer.Option("--next", help="Next action date "
                                                    "YYYY-MM-DD.")] = None,
    note: str = "",
    as_json: JsonFlag = False,
) -> None:
    """Record an outreach outcome (appended to the prospect's log)."""
    from yibaodai.domain.marketing.outreach import Outcome
    from yibaodai.errors import FieldError, ValidationFailed
    from yibaodai.marketing import record_outcome

    now = _now()

    def work(s: Session) -> dict[str, Any]:
        try:
            chosen = Outcome(outcome)
            when = date.fromisoformat(next_action) if next_action else None
        except ValueError as exc:
            raise ValidationFailed("结果或日期无效", "unknown outcome or bad date",
                                   code="invalid_outcome", fields=[FieldError(
                                       "outcome", outcome, str(exc))]) from exc
        event = record_outcome(s, actor=_actor(s, user), prospect_id=prospect_id,
                               outcome=chosen, next_action_on=when, note=note, now=now)
        return {"event_id": event.id, "prospect_id": prospect_id, "from": event.from_state,
                "to": event.to_state}

    emit(_run(work, as_json=as_json))


@marketing_app.command("do-not-contact")
def do_not_contact_command(prospect_id: int, user: UserOption,
                           reason: Annotated[str, typer.Option()] = "",
                           undo: bool = False, as_json: JsonFlag = False) -> None:
    """Flag a prospect that asked not to be contacted (``--undo`` lifts the flag)."""
    from yibaodai.marketing import set_do_not_contact

    now = _now()
    emit(_run(lambda s: {"prospect_id": prospect_id, "do_not_contact": set_do_not_contact(
        s, actor=_actor(s, user), prospect_id=prospect_id, value=not undo, reason=reason,
        now=now).do_not_contact}, as_json=as_json))


@campaign_app.command("create")
def campaign_create(
    name: Annotated[str, typer.Option()],
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
    user: UserOption,
    target: Annotated[list[str] | None, typer.Option(help="CODE=COUNT:YUAN, repeatable.")
                      ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a campaign with its period and targets per sub-branch."""
    from yibaodai.errors import FieldError, ValidationFailed
    from yibaodai.marketing import create_campaign
    from yibaodai.marketing.campaigns import parse_target

    now = _now()

    def work(s: Session) -> dict[str, Any]:
        try:
            starts_on, ends_on = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError as exc:
            raise ValidationFailed("日期应为YYYY-MM-DD", "dates are YYYY-MM-DD",
                                   code="invalid_campaign",
                                   fields=[FieldError("start", start, end)]) from exc
        actor = _actor(s, user)
        campaign = create_campaign(s, name=name, starts_on=starts_on, ends_on=ends_on,
                                   targets=dict(parse_target(t) for t in target or ()),
                                   actor=actor, now=now)
        return {"id": campaign.id, "name": campaign.name}

    emit(_run(work, as_json=as_json))


@campaign_app.command("list")
def campaign_list(as_json: JsonFlag = False) -> None:
    """Campaigns with their periods and total targets."""
    from yibaodai.marketing import list_campaigns

    rows = _run(list_campaigns, as_json=as_json, commit=False)
    if as_json:
        emit(rows)
        return
    for r in rows:
        typer.echo(f"{r['id']}\t{r['name']}\t{r['starts_on']}..{r['ends_on']}")


@campaign_app.command("funnel")
def campaign_funnel_command(campaign_id: int, as_json: JsonFlag = False) -> None:
    """The campaign's funnel (total and per sub-branch, amounts in yuan) and leaderboard."""
    from yibaodai.marketing import campaign_funnel

    data = _run(lambda s: campaign_funnel(s, campaign_id=campaign_id), as_json=as_json,
                commit=False)
    if as_json:
        emit(data)
        return
    for step in data["total"]:
        amount = f"\t{step['amount']} 元" if step["amount"] is not None else ""
        typer.echo(f"{step['stage_zh']}\t{step['count']}{amount}")
