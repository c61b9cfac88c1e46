"""The pure retention rule and the ASCII-only inf_time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from yibaodai.clock import SHANGHAI
from yibaodai.errors import ValidationFailed
from yibaodai.gateway.retention import AuthorizationSpan, add_years, judge
from yibaodai.protocol.envelope import parse_inf_time

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)


def _span(end: str, revoked: datetime | None = None) -> AuthorizationSpan:
    return AuthorizationSpan(date(2025, 1, 1), date.fromisoformat(end), revoked)


def test_running_authorization_keeps_everything() -> None:
    v = judge("H21020200255", [_span("2026-12-31"), _span("2026-01-31")], had_case=False,
              now=NOW)
    assert v.ended_at is None and not v.due(NOW + timedelta(days=10_000))


def test_expiry_ends_at_the_next_midnight_and_revocation_at_its_time() -> None:
    v = judge("X", [_span("2026-08-31")], had_case=False, now=NOW)
    assert v.ended_at == datetime(2026, 9, 1, tzinfo=SHANGHAI)
    assert v.keep_until == v.ended_at + timedelta(days=180)
    revoked = datetime(2026, 3, 5, 14, 0, tzinfo=SHANGHAI)
    v = judge("X", [_span("2029-12-31", revoked), _span("2026-08-31")], had_case=True, now=NOW)
    assert v.ended_at == datetime(2026, 9, 1, tzinfo=SHANGHAI)  # the later of the two
    assert v.keep_until == datetime(2031, 9, 1, tzinfo=SHANGHAI)
    assert not v.due(datetime(2031, 8, 31, 23, 59, tzinfo=SHANGHAI))
    assert v.due(datetime(2031, 9, 1, tzinfo=SHANGHAI))


def test_revoking_an_expired_authorization_does_not_extend_it() -> None:
    v = judge("X", [_span("2026-01-31", datetime(2026, 8, 1, tzinfo=SHANGHAI))],
              had_case=False, now=NOW)
    assert v.ended_at == datetime(2026, 2, 1, tzinfo=SHANGHAI)


def test_no_authorization_means_no_verdict_and_leap_days_fold() -> None:
    assert judge("X", [], had_case=True, now=NOW).keep_until is None
    assert add_years(datetime(2028, 2, 29, 8, tzinfo=SHANGHAI), 5) == datetime(
        2033, 2, 28, 8, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text", ["２０２６-09-01 09:00:00", "2026-09-01 ０9:00:00",
                                  "2026-09-01 09:00:0\u0663"])
def test_inf_time_takes_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_inf_time(text)
    assert parse_inf_time("2026-09-01 09:00:00") == NOW
