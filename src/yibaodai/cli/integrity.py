"""``yibaodai verify``, ``audit verify``, ``case-events verify``, ``checkpoint`` and
``chain-key``: tamper evidence of the audit log, the archive and the case events.

Exit codes: 0 intact (one summary line per chain), 1 something was altered, removed or
rewritten (the first bad or missing record is named), 2 keys or settings missing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from yibaodai.cli._app import app, emit, exit_on_refusal
from yibaodai.errors import ConfigurationError
from yibaodai.settings import load_settings

AsJson = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
Anchor = Annotated[Path | None, typer.Option(
    "--anchor", help="Checkpoints kept off the machine (`yibaodai checkpoint --json`); "
                     "the chains must still match them.")]
Checkpoint = Annotated[bool, typer.Option(
    "--checkpoint/--no-checkpoint",
    help="Sign the head of each intact chain that moved (needs the bank's private key).")]


def run_verify(names: Sequence[str] | None, *, as_json: bool, anchor: Path | None,
               checkpoint: bool) -> None:
    """Shared by every ``verify`` command: verify, optionally checkpoint, report, exit."""
    from yibaodai.audit.keys import signing_keys
    from yibaodai.bootstrap import open_database
    from yibaodai.clock import SystemClock
    from yibaodai.ops.integrity import Verified, read_exported, verify_chains

    def go() -> list[Verified]:
        settings = load_settings()
        signing = signing_keys(settings.keys_dir)
        if checkpoint and signing.pair is None:
            raise ConfigurationError(
                "本机没有银行签名私钥，无法写检查点（可用 --no-checkpoint 只做校验）",
                "no bank signing key here to write checkpoints (use --no-checkpoint to only "
                "verify)", code="no_signing_key")
        exported = read_exported(anchor) if anchor else []
        db = open_database(settings)
        try:
            return verify_chains(db, signing=signing, names=names, exported=exported,
                                 checkpoint_at=SystemClock().now() if checkpoint else None)
        finally:
            db.dispose()

    results = exit_on_refusal(go)
    ok = all(v.report.ok for v in results)
    if as_json:
        emit({"ok": ok, "chains": [{**v.report.as_dict(), "checkpoint_written":
                                    None if v.written is None else v.written.seq}
                                   for v in results]})
    else:
        for v in results:
            typer.echo(v.report.line(), err=not v.report.ok)
    if not ok:
        raise typer.Exit(1)


@app.command("verify")
def verify_all(
    chain: Annotated[list[str] | None, typer.Option(
        help="audit, archive or case-events (repeatable; default all three).")] = None,
    as_json: AsJson = False, anchor: Anchor = None, checkpoint: Checkpoint = True,
) -> None:
    """Verify the keyed chains and their signed checkpoints; exit 1 naming the first bad or
    missing record."""
    run_verify(chain, as_json=as_json, anchor=anchor, checkpoint=checkpoint)


audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
case_events_app = typer.Typer(help="Case events (the history of every case).",
                              no_args_is_help=True)
app.add_typer(case_events_app, name="case-events")


@audit_app.command("verify")
def audit_verify(as_json: AsJson = False, anchor: Anchor = None,
                 checkpoint: Checkpoint = True) -> None:
    """Verify the audit log's chain and checkpoints; exit 1 naming the first bad record."""
    run_verify(["audit"], as_json=as_json, anchor=anchor, checkpoint=checkpoint)


@case_events_app.command("verify")
def case_events_verify(as_json: AsJson = False, anchor: Anchor = None,
                       checkpoint: Checkpoint = True) -> None:
    """Verify the case events' chain and checkpoints; exit 1 naming the first bad record."""
    run_verify(["case-events"], as_json=as_json, anchor=anchor, checkpoint=checkpoint)


@app.command("checkpoint")
def checkpoint_now(as_json: AsJson = False) -> None:
    """Check the records since each chain's last checkpoint and sign the new heads now. The
    JSON output's ``latest`` can be kept off the machine and given to ``verify --anchor``."""
    from yibaodai.audit.keys import signing_keys
    from yibaodai.bootstrap import open_database
    from yibaodai.clock import SystemClock
    from yibaodai.ops.integrity import CheckpointRun, write_checkpoints

    def go() -> CheckpointRun:
        settings = load_settings()
        db = open_database(settings)
        try:
            return write_checkpoints(db, signing=signing_keys(settings.keys_dir),
                                     now=SystemClock().now())
        finally:
            db.dispose()

    run = exit_on_refusal(go)
    if as_json:
        emit({"written": [r.as_dict() for r in run.written],
              "latest": [r.as_dict() for r in run.latest],
              "problems": {k: e.as_dict() for k, e in run.problems.items()}})
    else:
        for r in run.written:
            typer.echo(f"checkpoint #{r.seq}: {r.chain} at record {r.last_id} "
                       f"({r.records} records, head {r.head_hash[:16]})")
        if not run.written:
            typer.echo("no chain moved since its last checkpoint")
        for name, exc in run.problems.items():
            typer.echo(f"{name}: {exc.message_zh} / {exc.message_en}", err=True)
    if run.problems:
        raise typer.Exit(1)


chain_key_app = typer.Typer(help="The bank's chain keys (HMAC-SM3).", no_args_is_help=True)
app.add_typer(chain_key_app, name="chain-key")


@chain_key_app.command("new")
def chain_key_new() -> None:
    """Create the chain key file, or rotate: add a key and make it current (older keys stay
    to verify the rows they linked)."""
    from yibaodai.audit.keys import new_chain_key

    settings = load_settings()
    key_id = new_chain_key(settings.chain_keys_path, demo=settings.demo_mode)
    typer.echo(f"chain key {key_id} is current in {settings.chain_keys_path}")
