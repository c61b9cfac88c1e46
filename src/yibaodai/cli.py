"""The ``yibaodai`` command line."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
from sqlalchemy import func, select

from yibaodai.gateway.commands import retention_app
from yibaodai.settings import Settings, load_settings

app = typer.Typer(help="医保贷 yibaodai — bank lending on medical-insurance settlement data.",
                  no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
inspect_app = typer.Typer(help="Look at stored records.", no_args_is_help=True)
archive_app = typer.Typer(help="The raw-message archive.", no_args_is_help=True)
decision_app = typer.Typer(help="Admission decisions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(inspect_app, name="inspect")
app.add_typer(archive_app, name="archive")
app.add_typer(decision_app, name="decision")
bureau_app = typer.Typer(help="Act as the bureau: keys and signed messages.",
                         no_args_is_help=True)
app.add_typer(bureau_app, name="bureau")
app.add_typer(retention_app, name="retention")


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at write time (test runners swap and close theirs)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(quiet: bool) -> None:
    """Structured JSON lines on stderr (also used by the benchmarks' bank server)."""
    level = logging.WARNING if quiet else logging.INFO
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper("iso"),
                    structlog.processors.JSONRenderer(ensure_ascii=False)],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(
            file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


@app.callback()
def main() -> None:
    """Logs are structured JSON on stderr, so stdout carries only a command's own output."""
    configure_logging(quiet=False)


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to head and load the organisation."""
    from yibaodai.runtime import prepare_database

    settings = load_settings()
    prepare_database(settings).dispose()
    typer.echo(f"database at head: {settings.database_url}")


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Makes the whole demo deterministic.")] = 7,
    institutions: Annotated[int, typer.Option(min=20, max=5000)] = 300,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary.")] = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve",
                                        help="Serve the report platform afterwards.")] = True,
    fresh: Annotated[bool, typer.Option(help="Delete the SQLite demo database first.")] = True,
    port: int = 8000,
) -> None:
    """Run the end-to-end demo on real HTTP, then serve the report platform."""
    from yibaodai.demo import maybe_progress, run_demo

    settings = load_settings()
    configure_logging(quiet=True)
    if fresh and settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(settings.keys_dir, ignore_errors=True)
    with maybe_progress(not as_json) as progress:
        summary = run_demo(settings, seed=seed, institutions=institutions, progress=progress)
    if as_json:
        _emit(summary)
    else:
        _print_summary(summary)
    if serve:
        _serve(settings, port, frozen_at=summary["simulated_until"])


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="医保贷演示结果 Demo summary")
    table.add_column("stage")
    table.add_column("count", justify="right")
    for key, value in summary.items():
        if key != "accounts":
            table.add_row(key, str(value))
    console.print(table)
    accounts = Table(title="演示账号 Demo log-ins")
    for col in ("username", "password", "role", "sub_branch"):
        accounts.add_column(col)
    for a in summary["accounts"][:9]:
        accounts.add_row(a["username"], a["password"], a["role"], a["sub_branch"] or "-")
    console.print(accounts)
    console.print(f"(另有 {len(summary['accounts']) - 9} 个账号，见 --json 输出)")


def _serve(settings: Settings, port: int, frozen_at: str | None = None) -> None:
    from datetime import datetime

    import uvicorn

    from yibaodai.clock import SimulatedClock, SystemClock
    from yibaodai.runtime import build_bank

    clock = SimulatedClock(datetime.fromisoformat(frozen_at)) if frozen_at else SystemClock()
    bank = build_bank(settings, clock)
    typer.echo(f"报表平台 report platform: http://127.0.0.1:{port}  (Ctrl+C to stop)")
    uvicorn.run(bank.app, host="127.0.0.1", port=port, log_level="warning")


@app.command()
def serve(port: int = 8000) -> None:
    """Serve the bank: gateway endpoints, JSON API and report platform."""
    configure_logging(quiet=False)
    _serve(load_settings(), port)


@app.command()
def simulate(
    seed: int = 7, institutions: int = 300,
    as_of: Annotated[str, typer.Option(help="YYYY-MM-DD")] = "2026-08-31",
    output: Annotated[Path | None, typer.Option(help="Write JSON here instead of stdout.")] = None,
) -> None:
    """Generate the synthetic city (institutions only) as JSON."""
    from dataclasses import asdict

    from yibaodai.sim.city import generate_city

    city = [asdict(i) for i in generate_city(seed=seed, institutions=institutions,
                                            as_of=date.fromisoformat(as_of))]
    text = json.dumps(city, ensure_ascii=False, indent=2, default=str)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{len(city)} institutions -> {output}")
    else:
        typer.echo(text)


@inspect_app.command("institution")
def inspect_institution(code: str, as_json: Annotated[bool, typer.Option("--json")] = False
                        ) -> None:
    """Authorization state, settlement rows, latest decision and case state of CODE."""
    from yibaodai.db.models import (
        AuthorizationRow,
        CaseRow,
        DecisionRow,
        InstitutionRow,
        SettlementFactRow,
    )
    from yibaodai.db.session import Database

    db = Database(load_settings().database_url)
    with db.unit_of_work() as s:
        inst = s.get(InstitutionRow, code)
        auths = s.scalars(select(AuthorizationRow).where(
            AuthorizationRow.fixmedins_code == code).order_by(AuthorizationRow.id)).all()
        if inst is None and not auths:
            typer.echo(f"no institution {code}", err=True)
            raise typer.Exit(1)
        decision = s.scalars(select(DecisionRow).where(DecisionRow.fixmedins_code == code)
                             .order_by(DecisionRow.id.desc())).first()
        case = s.scalars(select(CaseRow).where(CaseRow.fixmedins_code == code)
                         .order_by(CaseRow.id.desc())).first()
        data = {
            "fixmedins_code": code,
            "fixmedins_name": inst.fixmedins_name if inst else None,
            "authorization": {
                "state": ("revoked" if auths and auths[-1].revoked_at else
                          "granted" if auths else "none"),
                "auth_no": auths[-1].auth_no if auths else None,
                "scope": auths[-1].auth_scope if auths else [],
            },
            "settlement_fact_rows": s.scalar(select(func.count()).select_from(
                SettlementFactRow).where(SettlementFactRow.fixmedins_code == code)),
            "latest_decision": None if decision is None else {
                "id": decision.id, "result": decision.result,
                "credit_limit": str(decision.credit_limit), "reasons": decision.reasons,
                "rule_version": decision.rule_version},
            "case": None if case is None else {
                "id": case.id, "state": case.state, "sub_branch": case.sub_branch_code,
                "loan_status": case.loan_status},
        }
    db.dispose()
    if as_json:
        _emit(data)
    else:
        for key, value in data.items():
            typer.echo(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")


@archive_app.command("verify")
def archive_verify() -> None:
    """Check the SM3 chain of the raw-message archive; exit 1 naming the first bad record."""
    from yibaodai.db.session import Database
    from yibaodai.gateway.archive import verify_archive

    db = Database(load_settings().database_url)
    with db.unit_of_work() as s:
        bad = verify_archive(s)
    db.dispose()
    if bad is not None:
        typer.echo(f"archive record {bad} or its link was altered", err=True)
        raise typer.Exit(1)
    typer.echo("archive intact")


@decision_app.command("list")
def decision_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List decisions: id, institution, time, result, limit, score, model version."""
    from yibaodai.db.models import DecisionRow, ModelVersionRow
    from yibaodai.db.session import Database

    db = Database(load_settings().database_url)
    with db.unit_of_work() as s:
        labels: dict[int | None, str] = {vid: label for vid, label in s.execute(
            select(ModelVersionRow.id, ModelVersionRow.label))}
        rows = [{"id": d.id, "fixmedins_code": d.fixmedins_code,
                 "decided_at": d.decided_at.isoformat(), "result": d.result,
                 "credit_limit": str(d.credit_limit), "score": d.score,
                 "model_version": labels.get(d.model_version_id, d.rule_version),
                 "model_version_id": d.model_version_id, "trigger": d.trigger}
                for d in s.scalars(select(DecisionRow).order_by(DecisionRow.id))]
    db.dispose()
    if as_json:
        _emit(rows)
    else:
        for r in rows:
            typer.echo("\t".join(str(v) for v in r.values()))


@decision_app.command("replay")
def decision_replay(decision_id: int) -> None:
    """Recompute a decision from its stored inputs and model version; exit 1 on any
    difference, naming each."""
    from yibaodai.admission.service import replay
    from yibaodai.db.models import DecisionRow
    from yibaodai.db.session import Database

    db = Database(load_settings().database_url)
    with db.unit_of_work() as s:
        decision = s.get(DecisionRow, decision_id)
        if decision is None:
            typer.echo(f"no decision {decision_id}", err=True)
            raise typer.Exit(2)
        same, diffs = replay(s, decision)
    db.dispose()
    if not same:
        typer.echo(f"decision {decision_id}: DIFFERS", err=True)
        for d in diffs:
            typer.echo(f"  {d}", err=True)
        raise typer.Exit(1)
    typer.echo(f"decision {decision_id}: identical")


# --- whitelist model versions -------------------------------------------------------------

model_app = typer.Typer(help="Whitelist model versions: draft, submit, approve, activate, "
                             "challenger.", no_args_is_help=True)
app.add_typer(model_app, name="model")


def _model_action(version_id: int, action: str, user: str) -> None:
    from yibaodai.admission.versions import move
    from yibaodai.clock import SystemClock
    from yibaodai.db.session import Database
    from yibaodai.domain.model_version import Action
    from yibaodai.errors import YibaodaiError

    db = Database(load_settings().database_url)
    try:
        with db.unit_of_work() as s:
            stage = move(s, version_id=version_id, action=Action(action), username=user,
                         now=SystemClock().now())
            s.commit()
    except YibaodaiError as exc:
        typer.echo(f"refused ({exc.code}): {exc.message_zh} / {exc.message_en}", err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    typer.echo(f"model version {version_id}: {stage.value}")


@model_app.command("list")
def model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Versions with their stage (derived from the event log) and content hash."""
    from yibaodai.admission.versions import describe
    from yibaodai.db.session import Database

    db = Database(load_settings().database_url)
    with db.unit_of_work() as s:
        rows = describe(s)
    db.dispose()
    if as_json:
        _emit(rows)
    else:
        for r in rows:
            typer.echo(f"{r['id']}\t{r['label']}\t{r['stage']}\t{r['content_hash'][:12]}")


@model_app.command("show")
def model_show(version_id: int) -> None:
    """A version's content (policy, scorecards, limit rule) and its history, as JSON."""
    from yibaodai.admission.versions import describe, history, load_version
    from yibaodai.db.session import Database
    from yibaodai.errors import YibaodaiError

    db = Database(load_settings().database_url)
    try:
        with db.unit_of_work() as s:
            loaded = load_version(s, version_id)
            meta = next(r for r in describe(s) if r["id"] == version_id)
            data = {**meta, "content": loaded.model.to_json(),
                    "history": history(s, version_id)}
    except YibaodaiError as exc:
        typer.echo(f"{exc.message_zh} / {exc.message_en}", err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    _emit(data)


@model_app.command("create-draft")
def model_create_draft(
    from_id: Annotated[int, typer.Option("--from", help="Version to copy.")],
    user: Annotated[str, typer.Option(help="Staff username of the author.")],
    label: Annotated[str | None, typer.Option(help="New version label.")] = None,
    changes: Annotated[Path | None, typer.Option(
        help="JSON file with a partial content to merge over the copy.")] = None,
) -> None:
    """A new draft copied from --from, optionally changed by a JSON file."""
    from yibaodai.admission.versions import create_draft
    from yibaodai.clock import SystemClock
    from yibaodai.db.session import Database
    from yibaodai.errors import YibaodaiError

    patch = json.loads(changes.read_text(encoding="utf-8")) if changes else None
    db = Database(load_settings().database_url)
    try:
        with db.unit_of_work() as s:
            vid = create_draft(s, from_id=from_id, username=user, now=SystemClock().now(),
                               label=label, changes=patch)
            s.commit()
    except YibaodaiError as exc:
        typer.echo(f"refused ({exc.code}): {exc.message_zh} / {exc.message_en}", err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    typer.echo(f"model version {vid}: draft")


@model_app.command("submit")
def model_submit(version_id: int, user: Annotated[str, typer.Option()]) -> None:
    """draft -> submitted (the maker)."""
    _model_action(version_id, "submit", user)


@model_app.command("approve")
def model_approve(version_id: int, user: Annotated[str, typer.Option()]) -> None:
    """submitted -> approved, by a manager who is not the submitter (the checker)."""
    _model_action(version_id, "approve", user)


@model_app.command("activate")
def model_activate(version_id: int, user: Annotated[str, typer.Option()]) -> None:
    """approved/challenger -> active; the previous active version is retired."""
    _model_action(version_id, "activate", user)


@model_app.command("set-challenger")
def model_set_challenger(version_id: int, user: Annotated[str, typer.Option()]) -> None:
    """approved -> challenger: runs in shadow on every decision, never affecting results."""
    _model_action(version_id, "set_challenger", user)


@model_app.command("shadow")
def model_shadow(limit: int = 50) -> None:
    """Active and challenger decisions side by side, as JSON."""
    from yibaodai.admission.service import shadow_report
    from yibaodai.db.session import Database

    db = Database(load_settings().database_url)
    with db.unit_of_work() as s:
        rows = shadow_report(s, limit=limit)
    db.dispose()
    _emit(rows)


@bureau_app.command("keygen")
def bureau_keygen(
    directory: Annotated[Path | None, typer.Option(help="Key directory (default var/keys).")
                         ] = None,
    party: str = "bureau", key_id: str = "bureau-2026-01",
) -> None:
    """Make an SM2 key pair (and missing SM4 link keys) for PARTY."""
    from yibaodai.gateway.crypto import write_party_keys

    target = directory or load_settings().keys_dir
    target.mkdir(parents=True, exist_ok=True)
    write_party_keys(target, party=party, key_id=key_id)
    typer.echo(f"keys for {party} ({key_id}) written to {target}")


@bureau_app.command("send")
def bureau_send(
    file: Annotated[Path, typer.Argument(help="Plain envelope JSON with a readable input.")],
    url: Annotated[str, typer.Option(help="The bank's callService URL.")],
    keys: Annotated[Path | None, typer.Option(help="Key directory (default var/keys).")] = None,
    seq: int = 1,
) -> None:
    """Sign and encrypt FILE exactly as the bureau would, post it, print the answer."""
    import httpx

    from yibaodai.bootstrap import keyring
    from yibaodai.clock import SystemClock
    from yibaodai.gateway.envelope import open_response, seal_request
    from yibaodai.sim.bureau import BUREAU_SENDER_CODE

    plain = json.loads(file.read_text(encoding="utf-8"))
    ring = keyring(keys or load_settings().keys_dir, "bureau")
    envelope = seal_request(
        infno=plain["infno"], input=plain["input"],
        sender_code=plain.get("sender_code", BUREAU_SENDER_CODE),
        fixmedins_code=plain["fixmedins_code"], fixmedins_name=plain["fixmedins_name"],
        area=plain.get("mdtrtarea_admvs", "210200"), keyring=ring,
        peer_key_id=ring.peer_key_ids["bank"], now=SystemClock().now(), seq=seq)
    response = httpx.post(url, json=envelope, timeout=60)
    answer = open_response(response.content, keyring=ring)
    _emit(answer.model_dump())
    if answer.infcode != 0:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
