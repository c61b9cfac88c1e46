"""``yibaodai reconcile``: the outbox against what each receiver recorded, and every accepted
push against what was stored (``domain.reconciliation``). Exit 0 when everything was
delivered and stored exactly once, 1 when not (the report says where), 2 settings missing or
a bad option. ``--since DATE`` compares only what happened from that day on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer

from yibaodai.cli._app import app, emit, exit_on_refusal
from yibaodai.errors import ConfigurationError
from yibaodai.settings import load_settings


def _receivers(bureau: str | None, head_office: str | None) -> dict[str, str]:
    from yibaodai.ops.reconcile import records_url
    from yibaodai.outbound.outbox import BUREAU, HEAD_OFFICE

    settings = load_settings()
    found = {BUREAU: bureau or (settings.bureau_url and records_url(settings.bureau_url)),
             HEAD_OFFICE: head_office or (settings.head_office_url
                                          and records_url(settings.head_office_url))}
    missing = [name for name, url in found.items() if not url]
    if missing:
        raise ConfigurationError(
            f"对账需要接收方记录地址：{'、'.join(missing)}（--bureau/--head-office 或 "
            "YIBAODAI_BUREAU_URL/YIBAODAI_HEAD_OFFICE_URL）",
            f"reconciling needs the receivers' record URLs: {', '.join(missing)} "
            "(--bureau/--head-office, or YIBAODAI_BUREAU_URL/YIBAODAI_HEAD_OFFICE_URL)",
            code="receivers_missing")
    return {k: str(v) for k, v in found.items()}


def since_start(text: str | None, *, today: date) -> datetime | None:
    """``--since``: an ISO date (YYYY-MM-DD), not after ``today``; the start of that day in
    Asia/Shanghai. A bad one is refused naming the option, in Chinese then English."""
    from yibaodai.clock import SHANGHAI

    if text is None:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"--since：不是日期（应为 YYYY-MM-DD）/ not a date (YYYY-MM-DD): {text!r}",
            param_hint="--since") from exc
    if day > today:
        raise typer.BadParameter(
            f"--since：不能晚于今天（{today.isoformat()}）/ must not be after today "
            f"({today.isoformat()}): {text!r}", param_hint="--since")
    return datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)


@app.command("reconcile")
def reconcile_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    bureau: Annotated[str | None, typer.Option(
        help="The bureau's record of what it received (default: beside YIBAODAI_BUREAU_URL, "
             "/sim/received).")] = None,
    head_office: Annotated[str | None, typer.Option(
        help="Head office's record (default: beside YIBAODAI_HEAD_OFFICE_URL).")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="YYYY-MM-DD",
        help="Compare only what happened from this day on (00:00 Asia/Shanghai): outbox "
             "rows created and messages archived since then.")] = None,
) -> None:
    """Every message delivered exactly once from the receiver's view, every accepted push
    stored exactly once; exit 1 naming what is not."""
    from yibaodai.bootstrap import keyring, open_database
    from yibaodai.clock import SystemClock
    from yibaodai.ops.reconcile import reconcile

    start = since_start(since, today=SystemClock().today())

    def go() -> dict[str, Any]:
        receivers = _receivers(bureau, head_office)
        settings = load_settings()
        db = open_database(settings)
        try:
            return reconcile(db, receivers=receivers,
                             keyring=keyring(settings.keys_dir, "bank"), since=start)
        finally:
            db.dispose()

    result = exit_on_refusal(go)
    if as_json:
        emit(result)
    else:
        for name, r in result["receivers"].items():
            typer.echo(f"{name:<12} sent {r['sent']} received {r['received']} "
                       f"duplicates {r['duplicates']} missing {r['missing']} "
                       f"pending {r['pending']} dead {r['dead']}")
        for infno, k in result["pushes"].items():
            typer.echo(f"push {infno:<7} accepted {k['accepted']} stored {k['stored']} "
                       f"missing {k['missing']} duplicated {k['duplicated']} "
                       f"unanswered {k['unanswered']}")
        if result["since"]:
            typer.echo(f"since {result['since']}")
        for name, why in result["unreachable"].items():
            typer.echo(f"{name:<12} unreachable: {why}", err=True)
        typer.echo("ok" if result["ok"] else "NOT OK", err=not result["ok"])
    if not result["ok"]:
        raise typer.Exit(1)
