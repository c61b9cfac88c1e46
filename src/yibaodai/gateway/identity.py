"""Identity facts in a message against what the institution's authorization said (issue 14).

The authorization (8101) is the institution's own statement of who it is: its institution
code (which carries its area), its USCC and its name. Every later message about it (the
envelope's ``fixmedins_name``, a profile's ``uscc``, ``fixmedins_name`` and
``fix_blng_admdvs``) must say the same; a message that says otherwise is refused whole
(``identity_mismatch``), since the bank cannot tell which statement is true, and storing it
would let one institution's data be filed under another's name or registration.

:func:`contradictions` is the rule (pure); :func:`check_identity` reads the authorization."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.db.models import AuthorizationRow
from yibaodai.errors import FieldError, ValidationFailed
from yibaodai.gateway.rows import AuthorizationGranted, BureauRow, InstitutionProfile
from yibaodai.protocol.envelope import RequestEnvelope

#: The city-wide area code: an institution code or profile at city level names no district.
CITY_AREA = "210200"


@dataclass(frozen=True)
class Known:
    """What the institution's latest authorization said (None: not known)."""

    uscc: str | None
    name: str | None


@dataclass(frozen=True)
class Claim:
    """One identity fact a message states: where it is, which fact, and its value."""

    where: str
    fact: str
    value: str


def claims_of(envelope: RequestEnvelope, rows: Iterable[BureauRow]) -> list[Claim]:
    """The identity facts ``envelope`` and its rows state."""
    out = [Claim("fixmedins_name", "name", envelope.fixmedins_name.strip())]
    for i, row in enumerate(rows):
        where = f"input.data[{i}]"
        if isinstance(row, AuthorizationGranted | InstitutionProfile):
            out.append(Claim(f"{where}.uscc", "uscc", row.uscc))
            out.append(Claim(f"{where}.fixmedins_name", "name", row.fixmedins_name.strip()))
        if isinstance(row, InstitutionProfile):
            out.append(Claim(f"{where}.fix_blng_admdvs", "area", row.fix_blng_admdvs))
    return out


def contradictions(code: str, claims: Iterable[Claim], known: Known) -> list[FieldError]:
    """Every claim that contradicts ``known`` or the area within ``code`` (one letter, six
    digits of area, five of sequence). The facts of one message must also agree with each
    other (a grant's name is the envelope's)."""
    expected: dict[str, str | None] = {"uscc": known.uscc, "name": known.name,
                                       "area": code[1:7] if code[1:7] != CITY_AREA else None}
    first: dict[str, Claim] = {}
    out: list[FieldError] = []
    for claim in claims:
        want = expected.get(claim.fact)
        if want is None and claim.fact in first:
            want = first[claim.fact].value
        first.setdefault(claim.fact, claim)
        if want is not None and claim.value != want:
            out.append(FieldError(
                claim.where,
                f"{claim.where}：{claim.value} 与授权所载身份（{want}）不一致",
                f"{claim.where}: {claim.value} contradicts the authorized identity ({want})"))
    return out


def known_identity(session: Session, code: str) -> Known:
    """The latest authorization's facts (revoked or expired too: identity does not lapse)."""
    auth = session.scalars(select(AuthorizationRow).where(
        AuthorizationRow.fixmedins_code == code).order_by(AuthorizationRow.id.desc())).first()
    if auth is None:
        return Known(None, None)
    return Known(auth.uscc, auth.fixmedins_name)


def check_identity(session: Session, envelope: RequestEnvelope,
                   rows: Iterable[BureauRow]) -> None:
    """Refuse (``identity_mismatch``) a message whose identity facts contradict the
    institution's authorization. A new grant (8101) may rename the institution, so its name
    is compared with its own envelope only; its USCC never changes."""
    rows = list(rows)
    known = known_identity(session, envelope.fixmedins_code)
    if envelope.infno == "8101":
        known = Known(known.uscc, None)
    problems = contradictions(envelope.fixmedins_code, claims_of(envelope, rows), known)
    if problems:
        raise ValidationFailed(
            "报文所载机构身份与授权不一致", "identity facts contradict the authorization",
            code="identity_mismatch", fields=problems[:50])


__all__ = ["Claim", "Known", "check_identity", "claims_of", "contradictions",
           "known_identity"]
