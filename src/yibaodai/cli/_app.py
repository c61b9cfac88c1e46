"""The root ``yibaodai`` command, logging set-up and output helpers shared by every command
group. Each group lives in its own module of this package and registers itself on ``app``."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import structlog
import typer

app = typer.Typer(help="医保贷 yibaodai — bank lending on medical-insurance settlement data.",
                  no_args_is_help=True)


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
        # ``format_exc_info``: a logged exception carries its traceback, not ``exc_info: true``
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper("iso"),
                    structlog.processors.format_exc_info,
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


T = TypeVar("T")


def exit_on_refusal(run: Callable[[], T]) -> T:
    """``run()``, with the refusals an operator command can meet printed on stderr (Chinese,
    then English) as exit codes: 2 keys or settings missing or unsafe, 1 anything else the
    error tree names (tampering found, a refused restore...)."""
    from yibaodai.errors import ConfigurationError, YibaodaiError

    try:
        return run()
    except ConfigurationError as exc:
        typer.echo(f"{exc.message_zh} / {exc.message_en}", err=True)
        raise typer.Exit(2) from exc
    except YibaodaiError as exc:
        typer.echo(f"{exc.message_zh} / {exc.message_en}", err=True)
        raise typer.Exit(1) from exc


def emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))

