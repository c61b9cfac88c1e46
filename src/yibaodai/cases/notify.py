"""Notices to staff: the platform inbox (``notifications``) and a pluggable way out of it.

The inbox row is the record (written in the caller's unit of work, once-only by key); a
:class:`Notifier` is told about each new row after it is written, so an SMS or mail adapter
can be plugged in without touching the sweep or the warnings' publisher.
:class:`LoggingNotifier` writes a structured log line, the default; the composition root (or
a test) plugs another in with :func:`use_notifier`, and every sender asks :func:`notifier`."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import NotificationRow

log = structlog.get_logger("yibaodai.notify")


class Notifier(Protocol):
    def send(self, notice: NotificationRow) -> None: ...


class LoggingNotifier:
    """Tells the log (``notification.sent``): where a real channel would send a message."""

    def send(self, notice: NotificationRow) -> None:
        log.info("notification.sent", user_id=notice.user_id, kind=notice.kind,
                 case_id=notice.case_id, key=notice.key, message=notice.message_zh)


_plugged: list[Notifier] = [LoggingNotifier()]


def notifier() -> Notifier:
    """The notifier in use (the logging one unless another was plugged in)."""
    return _plugged[-1]


def use_notifier(plugged: Notifier) -> Notifier:
    """Plug ``plugged`` in; returns the one it replaces (to put back)."""
    previous = _plugged[-1]
    _plugged[-1] = plugged
    return previous


def notify_once(session: Session, *, key: str, user_id: int, at: datetime, kind: str,
                case_id: int | None, message_zh: str, message_en: str) -> NotificationRow | None:
    """The new inbox row, or None when a notice with this key was already written."""
    if session.scalars(select(NotificationRow.id).where(NotificationRow.key == key)).first():
        return None
    row = NotificationRow(key=key, user_id=user_id, at=at, kind=kind, case_id=case_id,
                          message_zh=message_zh, message_en=message_en)
    session.add(row)
    return row
