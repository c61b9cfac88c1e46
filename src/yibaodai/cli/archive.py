"""``yibaodai archive``: the raw-message archive."""

from __future__ import annotations

import typer

from yibaodai.cli._app import app
from yibaodai.cli.integrity import Anchor, AsJson, Checkpoint, run_verify

archive_app = typer.Typer(help="The raw-message archive.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")


@archive_app.command("verify")
def archive_verify(as_json: AsJson = False, anchor: Anchor = None,
                   checkpoint: Checkpoint = True) -> None:
    """Verify the archive's keyed chain, every body's SM3 and the checkpoints; exit 1 naming
    the first bad or missing record."""
    run_verify(["archive"], as_json=as_json, anchor=anchor, checkpoint=checkpoint)
