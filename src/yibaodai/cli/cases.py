"""``yibaodai case``: moving a case by hand, as a signed-in branch or sub-branch manager."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from yibaodai.cli._app import app
from yibaodai.cli.model import User, refuse, signed_in
from yibaodai.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

case_app = typer.Typer(help="Cases: reassign by hand (branch managers anywhere, a sub-branch "
                            "manager within the sub-branch), always with a reason.",
                       no_args_is_help=True)
app.add_typer(case_app, name="case")


@case_app.command("reassign")
def case_reassign(
    case_id: Annotated[int, typer.Argument(help="The case's id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (2-500 characters).")],
    user: User,
    to_sub_branch: Annotated[str | None, typer.Option(
        "--to-sub-branch", help="Sub-branch code (it claims afresh).")] = None,
    to_client_manager: Annotated[str | None, typer.Option(
        "--to-client-manager", help="Client manager's username (holds the case).")] = None,
) -> None:
    """Move a case to a sub-branch or a client manager; recorded as a case event."""
    from sqlalchemy import select

    from yibaodai.auth.roles import Actor, Role
    from yibaodai.cases.reassignment import reassign
    from yibaodai.cases.sla_policy import bank_calendar, policy_of
    from yibaodai.db.models import UserRow
    from yibaodai.errors import YibaodaiError

    settings = load_settings()

    def work(s: Session, now: datetime) -> str:
        row = s.scalars(select(UserRow).where(UserRow.username == user)).one()
        actor = Actor(user_id=row.id, username=row.username, display_name=row.display_name,
                      staff_no=row.staff_no, role=Role(row.role),
                      sub_branch_code=row.sub_branch_code)
        case = reassign(s, actor=actor, case_id=case_id, reason=reason, now=now,
                        sub_branch_code=to_sub_branch, client_manager=to_client_manager,
                        calendar=bank_calendar(settings), policy=policy_of(settings))
        return f"case {case.id}: {case.state} at {case.sub_branch_code}"

    try:
        typer.echo(signed_in(user, work))
    except YibaodaiError as exc:
        refuse(exc)
