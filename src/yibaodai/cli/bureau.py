"""``yibaodai bureau``: act as the bureau (keys, signed pushes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from yibaodai.cli._app import app, emit
from yibaodai.settings import load_settings

bureau_app = typer.Typer(help="Act as the bureau: keys and signed messages.",
                         no_args_is_help=True)
app.add_typer(bureau_app, name="bureau")


@bureau_app.command("keygen")
def bureau_keygen(
    directory: Annotated[Path | None, typer.Option(help="Key directory (default var/keys).")
                         ] = None,
    party: str = "bureau", key_id: str = "bureau-2026-01",
) -> None:
    """Make an SM2 key pair (and missing SM4 link keys) for PARTY."""
    from yibaodai.protocol.keys import write_party_keys

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
    from yibaodai.protocol.envelope import open_response, seal_request
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
    emit(answer.model_dump())
    if answer.infcode != 0:
        raise typer.Exit(1)
