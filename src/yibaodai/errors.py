"""One error tree. HTTP statuses and the national ``infcode`` are mapped only at the edge
(``web`` and ``gateway.endpoint``).

    YibaodaiError                 code, message_zh, message_en, fields
    ├── ValidationFailed          bad input; carries field-level messages
    ├── NotFound                  absent or outside the caller's data scope (both answer 404)
    ├── NotAuthenticated          no valid session or token (signed out, expired, revoked)
    ├── PermissionDenied          the role may not do this (or CSRF / origin refused)
    ├── RateLimited               too many failed attempts (log-in throttle)
    ├── Conflict                  the state does not allow it (e.g. claim a claimed case)
    ├── GatewayRefused            a bureau message refused at the gateway (infcode != 0)
    │   └── SignatureInvalid      forged, missing or unknown-key signature
    ├── TamperDetected            a hash chain, checkpoint or backup file does not verify
    └── ConfigurationError        settings missing or unsafe
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message_zh": self.message_zh, "message_en": self.message_en}


@dataclass
class YibaodaiError(Exception):
    message_zh: str
    message_en: str
    code: str = "error"
    fields: list[FieldError] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message_zh} / {self.message_en}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "fields": [f.as_dict() for f in self.fields],
        }


class ValidationFailed(YibaodaiError):
    pass


class NotFound(YibaodaiError):
    pass


class NotAuthenticated(YibaodaiError):
    pass


class PermissionDenied(YibaodaiError):
    pass


class RateLimited(YibaodaiError):
    pass


class Conflict(YibaodaiError):
    pass


class GatewayRefused(YibaodaiError):
    pass


class SignatureInvalid(GatewayRefused):
    pass


class TamperDetected(YibaodaiError):
    pass


class ConfigurationError(YibaodaiError):
    pass
