"""Setting up a bank installation: database schema, organisation, keys, demo accounts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibaodai.audit.keys import load_chain_keys
from yibaodai.auth.passwords import hash_demo_password
from yibaodai.auth.roles import Role
from yibaodai.db.models import SubBranchRow, UserRow
from yibaodai.db.session import Database
from yibaodai.domain.organisation import Branch, load_organisation
from yibaodai.protocol.keys import KeyRing, load_keyring, write_party_keys
from yibaodai.settings import Settings

PARTIES = {"bureau": "bureau-2026-01", "bank": "bank-2026-01", "headoffice": "ho-2026-01"}


def ensure_keys(directory: Path) -> None:
    """Create each party's SM2 key pair and the SM4 link keys once (demo installations)."""
    directory.mkdir(parents=True, exist_ok=True)
    for party, key_id in PARTIES.items():
        if not (directory / f"{party}.sm2.private.json").exists():
            write_party_keys(directory, party=party, key_id=key_id)


def keyring(directory: Path, party: str) -> KeyRing:
    return load_keyring(directory, party=party)


def open_database(settings: Settings) -> Database:
    """The installation's database with the chain keys its settings name (read now, so a
    missing or unsafe key file fails here rather than at the first audit row)."""
    return Database(settings.database_url, chain_keys=load_chain_keys(settings))


def seed_organisation(session: Session, branch: Branch | None = None) -> int:
    """Load the branch's sub-branches from the editable data file; idempotent."""
    branch = branch or load_organisation()
    existing = set(session.scalars(select(SubBranchRow.code)).all())
    added = 0
    for sub in branch.sub_branches:
        if sub.code in existing:
            continue
        session.add(SubBranchRow(code=sub.code, name_zh=sub.name_zh, name_en=sub.name_en,
                                 address=sub.address, phone=sub.phone, latitude=sub.latitude,
                                 longitude=sub.longitude, districts=list(sub.districts)))
        added += 1
    session.flush()
    return added


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    sub_branch: str | None
    display_name: str


_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def seed_demo_users(session: Session, *, seed: int) -> list[Account]:
    """Demo log-ins: branch roles plus one department manager and two client managers per
    sub-branch. Passwords are random per seed and printed by the demo, never fixed in code."""
    rng = random.Random(seed)
    subs = session.scalars(select(SubBranchRow.code).order_by(SubBranchRow.code)).all()
    plan: list[tuple[str, Role, str | None]] = [
        ("admin", Role.BRANCH_ADMIN, None), ("gm", Role.BRANCH_MANAGER, None),
        ("auditor", Role.AUDITOR, None)]
    for code in subs:
        plan.append((f"mgr_{code.lower()}", Role.SUB_BRANCH_MANAGER, code))
        plan += [(f"cm_{code.lower()}_{n}", Role.CLIENT_MANAGER, code) for n in (1, 2)]
    accounts: list[Account] = []
    existing = set(session.scalars(select(UserRow.username)).all())
    for n, (username, role, sub) in enumerate(plan, start=1):
        password = f"Yb-{rng.randrange(16**8):08x}"
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN)
        if username in existing:
            continue
        session.add(UserRow(username=username, display_name=name, staff_no=f"S{n:05d}",
                            role=role.value, sub_branch_code=sub,
                            password_hash=hash_demo_password(password), active=True))
        accounts.append(Account(username, password, role.value, sub, name))
    session.flush()
    return accounts
