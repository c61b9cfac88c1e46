"""What the web app needs, built once at start-up and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yibaodai.clock import Clock
from yibaodai.db.session import Database
from yibaodai.domain.events import Publish
from yibaodai.gateway.service import Gateway
from yibaodai.reports.dashboard_cache import DashboardCache
from yibaodai.settings import Settings


@dataclass
class AppContext:
    db: Database
    clock: Clock
    settings: Settings
    #: The message bus (``flow.handlers``): staff actions publish their events through it.
    publish: Publish
    bureau_gateway: Gateway | None = None
    head_office_gateway: Gateway | None = None
    #: The dashboards answered, per data scope (``reports.dashboard_cache``): this app's
    #: own, as it belongs to this app's database.
    dashboards: DashboardCache[Any] = field(default_factory=DashboardCache)
