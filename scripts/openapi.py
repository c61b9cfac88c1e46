"""Print the JSON API's OpenAPI schema, built from the code with no server and no database
connection, so `make test` can check that the front-end's generated TypeScript types
(frontend/src/api/schema.d.ts) are those of the current code.

    .venv/bin/python scripts/openapi.py > var/openapi.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from yibaodai.clock import SystemClock
from yibaodai.db.session import Database
from yibaodai.domain.events import Event
from yibaodai.settings import Settings
from yibaodai.web.app import create_app
from yibaodai.web.context import AppContext


def _unused(session: Session, events: Sequence[Event], /) -> list[Event]:
    raise AssertionError("the schema is built without handling requests")


def schema() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/unused.db", var_dir=Path(tmp),
                            demo_mode=True)
        db = Database(settings.database_url)  # an engine only: nothing connects to it
        try:
            app = create_app(AppContext(db=db, clock=SystemClock(), settings=settings,
                                        publish=_unused))
            return app.openapi()
        finally:
            db.dispose()


if __name__ == "__main__":
    json.dump(schema(), sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")
