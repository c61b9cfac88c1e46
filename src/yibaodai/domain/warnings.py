"""Post-loan early-warning rules (贷后预警): the rules live in ``domain.ews`` (docs/ews.md);
this module keeps the old import path for the names other modules use."""

from __future__ import annotations

from yibaodai.domain.ews.history import BorrowerHistory, BureauEvent, MonthFigures
from yibaodai.domain.ews.rules import LEVEL_RANK, RULES, RULES_VERSION, Signal, evaluate

WARNING_RULES_VERSION = RULES_VERSION

__all__ = ["LEVEL_RANK", "RULES", "WARNING_RULES_VERSION", "BorrowerHistory", "BureauEvent",
           "MonthFigures", "Signal", "evaluate"]
