"""``yibaodai users``: the bank's log-ins, as the administrator sees them from a shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from yibaodai.bootstrap import open_database
from yibaodai.cli._app import app, emit, exit_on_refusal
from yibaodai.db.models import UserRow
from yibaodai.settings import Settings, load_settings

users_app = typer.Typer(help="The platform's users.", no_args_is_help=True)
app.add_typer(users_app, name="users")

#: Written by ``yibaodai demo`` (mode 0600) beside the demo's database: the demo's initial
#: passwords, so ``users list`` can print the log-ins again. Never written outside demo mode.
DEMO_ACCOUNTS_FILE = "demo-accounts.json"


def demo_accounts_path(settings: Settings) -> Path:
    return settings.var_dir / DEMO_ACCOUNTS_FILE


def write_demo_accounts(settings: Settings, accounts: list[dict[str, Any]]) -> Path:
    """Keep the demo's log-ins for ``users list`` (demo mode only, readable by the owner)."""
    path = demo_accounts_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps({a["username"]: a["password"] for a in accounts},
                               ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@users_app.callback()
def _group() -> None:
    """The platform's users (creating and resetting them is the administrator's page)."""


@users_app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    sub_branch: Annotated[str | None, typer.Option(help="Only this sub-branch, e.g. DL003.")
                          ] = None,
) -> None:
    """Every user: username, name, role, sub-branch, whether active. On the demo's
    installation (the folder holds the demo's accounts file) also each demo account's initial
    password, as the demo printed it; a password the user has since changed is not known here."""
    settings = load_settings()
    demo = demo_accounts_path(settings)
    if demo.exists():  # read-only: the demo's database opens with the demo's chain keys
        settings = settings.model_copy(update={"demo_mode": True})

    def go() -> list[dict[str, Any]]:
        db = open_database(settings)
        try:
            with db.unit_of_work() as s:
                query = select(UserRow).order_by(UserRow.sub_branch_code.is_not(None),
                                                 UserRow.sub_branch_code, UserRow.username)
                if sub_branch:
                    query = query.where(UserRow.sub_branch_code == sub_branch.upper())
                rows = s.scalars(query).all()
                return [{"username": u.username, "display_name": u.display_name,
                         "role": u.role, "sub_branch": u.sub_branch_code, "active": u.active,
                         "must_change_password": u.must_change_password} for u in rows]
        finally:
            db.dispose()

    users = exit_on_refusal(go)
    if demo.exists():
        initial = json.loads(demo.read_text(encoding="utf-8"))
        for u in users:
            u["demo_password"] = initial.get(u["username"])
    if as_json:
        emit(users)
        return
    _print(users)


def _print(users: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"用户 Users ({len(users)})")
    columns = ["username", "display_name", "role", "sub_branch", "active"]
    if any("demo_password" in u for u in users):
        columns.append("demo_password")
    for col in columns:
        table.add_column(col)
    for u in users:
        table.add_row(*("-" if u.get(c) is None else str(u.get(c)) for c in columns))
    Console().print(table)
