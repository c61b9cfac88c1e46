"""Masking of personal identifiers (phone, legal representative's name and ID number, bank
account), by rules from configuration: the compliance office edits ``data/masking.json`` (or
the file named by ``YIBAODAI_MASKING_FILE``), not the code. A rule keeps the first and last
few characters and stars the rest (``138****5678``); some roles see the field whole, and each
such unmasked view is audited by the caller (``unmasked`` says which fields were)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from yibaodai.auth.roles import Role


class FieldRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label_zh: str
    label_en: str
    keep_start: int = Field(ge=0)
    keep_end: int = Field(ge=0)
    unmasked_roles: frozenset[Role] = frozenset()


class MaskingRules(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    fields: dict[str, FieldRule]

    def sees_whole(self, role: Role, field: str) -> bool:
        rule = self.fields.get(field)
        return rule is not None and role in rule.unmasked_roles

    def mask(self, field: str, value: str | None, *, role: Role) -> str:
        """The value as ``role`` may see it. A field without a rule is masked whole."""
        if not value:
            return ""
        if self.sees_whole(role, field):
            return value
        rule = self.fields.get(field)
        if rule is None:
            return "*" * len(value)
        start, end = rule.keep_start, rule.keep_end
        if start + end >= len(value):  # too short to show anything safely
            start, end = min(start, 1), 0
        hidden = max(len(value) - start - end, 1)
        return value[:start] + "*" * hidden + (value[len(value) - end:] if end else "")


@lru_cache(maxsize=8)
def _load(path: str | None) -> MaskingRules:
    text = (Path(path).read_text(encoding="utf-8") if path
            else files("yibaodai.data").joinpath("masking.json").read_text(encoding="utf-8"))
    return MaskingRules.model_validate(json.loads(text))


def masking_rules(path: Path | None = None) -> MaskingRules:
    """The rules in force (the packaged file unless ``path``); validated, cached."""
    return _load(str(path) if path else None)
