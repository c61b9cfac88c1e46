"""``yibaodai model``: whitelist model versions and their governance.

The workbench commands (sample, build, validate, export, backtest, monitor, benchmark) are in
``model_workbench``, on the same group.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from yibaodai.cli._app import app, emit
from yibaodai.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from yibaodai.errors import YibaodaiError

PASSWORD_ENV = "YIBAODAI_PASSWORD"
T = TypeVar("T")

_HELP = (
    "Whitelist model versions: the lifecycle and the workbench.\n\n"
    "Commands that change a version (create-draft, submit, approve, reject, activate, "
    "set-challenger, retire, export) act as a signed-in staff user: --user NAME, with the "
    f"password from the {PASSWORD_ENV} environment variable or a prompt, checked with argon2 "
    "against the users table. The platform's rules then apply as on the web: department and "
    "client managers author and submit; only the branch department general manager "
    "(branch_manager) approves, rejects, activates, sets a challenger or retires a branch-wide "
    "model; whoever authored or submitted a version may not approve it.\n\n"
    "Reading commands (list, show, shadow and the workbench's sample, build, validate, "
    "backtest, monitor, benchmark) need only the server's database settings.")
model_app = typer.Typer(help=_HELP, no_args_is_help=True)
app.add_typer(model_app, name="model")

User = Annotated[str, typer.Option("--user", help=f"Staff username; password from "
                                                  f"{PASSWORD_ENV} or a prompt.")]


def refuse(exc: YibaodaiError) -> NoReturn:
    """Print a refusal (code, both languages, each field) on stderr and exit 1."""
    typer.echo(f"refused ({exc.code}): {exc.message_zh} / {exc.message_en}", err=True)
    for f in exc.fields:
        typer.echo(f"  {f.field}: {f.message_zh} / {f.message_en}", err=True)
    raise typer.Exit(1) from exc


@contextmanager
def database() -> Iterator[Session]:
    """A unit of work on the configured database (rolled back unless committed); refusals
    exit 1."""
    from yibaodai.bootstrap import open_database
    from yibaodai.errors import YibaodaiError

    db = open_database(load_settings())
    try:
        with db.unit_of_work() as session:
            yield session
    except YibaodaiError as exc:
        refuse(exc)
    finally:
        db.dispose()


def signed_in(user: str, work: Callable[[Session, datetime], T]) -> T:
    """Check ``user``'s password, then run ``work`` as that user in one unit of work and
    commit it; a refusal changes nothing."""
    from yibaodai.auth.credentials import authenticate
    from yibaodai.clock import SystemClock

    password = os.environ.get(PASSWORD_ENV) or typer.prompt(
        f"{user} 的密码 / password", hide_input=True)
    with database() as s:
        authenticate(s, username=user, password=password)
        result = work(s, SystemClock().now())
        s.commit()
    return result


def _move(version_id: int, action: str, user: str) -> None:
    from yibaodai.admission.versions import move
    from yibaodai.domain.model_version import Action

    stage = signed_in(user, lambda s, now: move(s, version_id=version_id,
                                                action=Action(action), username=user,
                                                now=now))
    typer.echo(f"model version {version_id}: {stage.value}")


@model_app.command("list")
def model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Versions with their stage (derived from the event log) and content hash."""
    from yibaodai.admission.versions import describe

    with database() as s:
        rows = describe(s)
    if as_json:
        emit(rows)
    else:
        for r in rows:
            typer.echo(f"{r['id']}\t{r['label']}\t{r['stage']}\t{r['content_hash'][:12]}")


@model_app.command("show")
def model_show(version_id: int) -> None:
    """A version's content (policy, scorecards, limit rule), its history and the reports
    attached to it, as JSON."""
    from yibaodai.admission.versions import describe, history, load_version
    from yibaodai.modelkit.export import latest_report

    with database() as s:
        loaded = load_version(s, version_id)
        meta = next(r for r in describe(s) if r["id"] == version_id)
        data = {**meta, "content": loaded.model.to_json(), "history": history(s, version_id),
                "reports": [kind for kind in ("build", "validation")
                            if latest_report(s, version_id=version_id, kind=kind)]}
    emit(data)


@model_app.command("create-draft")
def model_create_draft(
    from_id: Annotated[int, typer.Option("--from", help="Version to copy.")],
    user: User,
    label: Annotated[str | None, typer.Option(help="New version label.")] = None,
    changes: Annotated[Path | None, typer.Option(
        help="JSON file with a partial content to merge over the copy.")] = None,
) -> None:
    """A new draft copied from --from, optionally changed by a JSON file (signed in)."""
    from yibaodai.admission.versions import create_draft

    patch = json.loads(changes.read_text(encoding="utf-8")) if changes else None
    vid = signed_in(user, lambda s, now: create_draft(s, from_id=from_id, username=user,
                                                      now=now, label=label, changes=patch))
    typer.echo(f"model version {vid}: draft")


@model_app.command("submit")
def model_submit(version_id: int, user: User) -> None:
    """draft -> submitted (the maker)."""
    _move(version_id, "submit", user)


@model_app.command("approve")
def model_approve(version_id: int, user: User) -> None:
    """submitted -> approved, by the branch department general manager who neither authored
    nor submitted it (the checker)."""
    _move(version_id, "approve", user)


@model_app.command("reject")
def model_reject(version_id: int, user: User) -> None:
    """submitted -> rejected (final), by the checker."""
    _move(version_id, "reject", user)


@model_app.command("activate")
def model_activate(version_id: int, user: User) -> None:
    """approved/challenger -> active; the previous active version is retired."""
    _move(version_id, "activate", user)


@model_app.command("set-challenger")
def model_set_challenger(version_id: int, user: User) -> None:
    """approved -> challenger: runs in shadow on every decision, never affecting results."""
    _move(version_id, "set_challenger", user)


@model_app.command("retire")
def model_retire(version_id: int, user: User) -> None:
    """active/challenger -> retired (final)."""
    _move(version_id, "retire", user)


@model_app.command("shadow")
def model_shadow(limit: int = 50) -> None:
    """Active and challenger decisions side by side, as JSON."""
    from yibaodai.admission.service import shadow_report

    with database() as s:
        rows = shadow_report(s, limit=limit)
    emit(rows)
