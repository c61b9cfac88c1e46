"""``yibaodai sim``: files the simulated outside world hands over (the bureau's list)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from yibaodai.cli._app import app, emit

sim_app = typer.Typer(help="The simulated outside world's files.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")


@sim_app.command("bureau-list")
def bureau_list(
    output: Annotated[Path, typer.Argument(help="Where to write the .xlsx.")],
    seed: int = 7, institutions: Annotated[int, typer.Option(min=1, max=200_000)] = 300,
    as_of: Annotated[str, typer.Option(help="YYYY-MM-DD")] = "2026-08-31",
    duplicates: Annotated[float, typer.Option(min=0.0, max=0.5,
                                              help="Share of near-duplicate rows.")] = 0.05,
) -> None:
    """The synthetic city's list of designated institutions as the bureau would send it
    (messy on purpose); prints what was injected."""
    from yibaodai.sim.bureau_list import write_bureau_list
    from yibaodai.sim.city import generate_city

    day = date.fromisoformat(as_of)
    city = generate_city(seed=seed, institutions=institutions, as_of=day)
    manifest = write_bureau_list(city, output, seed=seed, as_of=day, duplicate_share=duplicates)
    emit({"file": str(output), **manifest.as_dict()})
