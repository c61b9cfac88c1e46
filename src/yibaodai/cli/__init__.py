"""The ``yibaodai`` command line: one module per command group, each registering itself on
the root ``app`` (``_app``). A new group is a new module here and one name in the import below."""

from __future__ import annotations

from yibaodai.cli import (  # noqa: F401  (each module registers its commands)
    archive,
    backup,
    bureau,
    cases,
    db,
    decision,
    demo,
    ews,
    inspect,
    integrity,
    marketing,
    model,
    model_workbench,
    reconcile,
    retention,
    service,
    sim,
    sla,
    users,
)
from yibaodai.cli._app import app, configure_logging, emit

__all__ = ["app", "configure_logging", "emit"]

if __name__ == "__main__":
    app()
