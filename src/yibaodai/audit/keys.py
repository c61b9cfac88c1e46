"""The bank's keys for tamper evidence, and where they come from.

* **Chain keys** (``ChainKeys``): 32-byte HMAC-SM3 keys for the links of the audit log, the
  archive and the case events (``audit.chain``). One JSON file outside the repository,
  mode 0600, ``Settings.chain_keys_path`` (default ``<var>/keys/bank.chain-keys.json``)::

      {"kind": "chain-keys", "current": "chain-2",
       "keys": {"chain-1": {"key_hex": "<64 hex>", "demo": false}, "chain-2": {...}}}

  New links use ``current``; every row names the key it was linked with, so rotating
  (``yibaodai chain-key new``) adds a key and keeps the old ones for verifying old rows.
  In demo mode the file is created on first use (a random key marked ``"demo": true``);
  outside demo mode it must exist, and a key the demo created is refused.
* **Signing keys** (``SigningKeys``): the bank's SM2 key pair from the key directory
  (``bank.sm2.private.json``, as for the bureau link), which signs checkpoints and backup
  manifests; verification also accepts the bank's retired public keys kept as
  ``*.sm2.public.json`` files whose ``party`` is ``bank``.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from yibaodai.errors import ConfigurationError
from yibaodai.protocol.keys import load_keyring
from yibaodai.protocol.sm2 import SM2KeyPair, sm2_sign, sm2_verify
from yibaodai.settings import Settings

KIND = "chain-keys"
KEY_BYTES = 32
BANK = "bank"


@dataclass(frozen=True)
class ChainKeys:
    """The chain keys by id, and which one new links use."""

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.current_id not in self.keys:
            raise ConfigurationError(
                f"链密钥文件的当前密钥 {self.current_id} 不存在",
                f"the current chain key {self.current_id} is not in the key file",
                code="chain_keys_invalid")

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    def get(self, key_id: str | None) -> bytes | None:
        return None if key_id is None else self.keys.get(key_id)


def _invalid(path: Path, why: str) -> ConfigurationError:
    return ConfigurationError(f"链密钥文件 {path} 无效：{why}",
                              f"chain key file {path} is invalid: {why}",
                              code="chain_keys_invalid")


def _parse(path: Path, *, demo_mode: bool) -> ChainKeys:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"缺少链密钥文件 {path}，请用 yibaodai chain-key new 创建",
            f"the chain key file {path} is missing; create it with `yibaodai chain-key new`",
            code="chain_keys_missing") from None
    except (OSError, ValueError) as exc:
        raise _invalid(path, str(exc)) from exc
    if not isinstance(payload, dict) or payload.get("kind") != KIND:
        raise _invalid(path, f"kind is not {KIND}")
    keys: dict[str, bytes] = {}
    try:
        for key_id, entry in payload["keys"].items():
            if entry.get("demo") and not demo_mode:
                raise ConfigurationError(
                    f"生产模式不得使用演示创建的链密钥 {key_id}",
                    f"chain key {key_id} was made by the demo and may not be used outside "
                    "demo mode", code="unsafe_secret")
            key = bytes.fromhex(entry["key_hex"])
            if len(key) != KEY_BYTES:
                raise _invalid(path, f"key {key_id} is not {KEY_BYTES} bytes")
            keys[str(key_id)] = key
        return ChainKeys(current_id=str(payload["current"]), keys=keys)
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise _invalid(path, f"{type(exc).__name__}: {exc}") from exc


def _write(path: Path, payload: dict[str, Any], *, exclusive: bool) -> None:
    """Write the whole file beside its target, then move it in: a reader never sees half a
    file; ``exclusive`` fails with ``FileExistsError`` if another process made it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".chain-keys-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode())
        os.close(fd)
        if exclusive:
            os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _entry(*, demo: bool) -> dict[str, Any]:
    return {"key_hex": secrets.token_bytes(KEY_BYTES).hex(), "demo": demo}


def _create(path: Path, *, demo: bool) -> bool:
    """Make the file with its first key; False if it exists (perhaps made meanwhile by
    another process: the first writer wins, everyone then reads its file)."""
    if path.exists():
        return False
    try:
        _write(path, {"kind": KIND, "current": "chain-1",
                      "keys": {"chain-1": _entry(demo=demo)}}, exclusive=True)
    except FileExistsError:
        return False
    return True


def new_chain_key(path: Path, *, demo: bool = False) -> str:
    """Create the key file with one key, or add a key to it and make it current (rotation:
    older keys stay, for the rows they linked). Returns the new key's id."""
    if _create(path, demo=demo):
        return "chain-1"
    _parse(path, demo_mode=True)  # refuse to extend a broken file
    payload = json.loads(path.read_text(encoding="utf-8"))
    key_id = f"chain-{len(payload['keys']) + 1}"
    payload["keys"][key_id] = _entry(demo=demo)
    payload["current"] = key_id
    _write(path, payload, exclusive=False)
    return key_id


def load_chain_keys(settings: Settings) -> ChainKeys:
    """The chain keys ``settings`` name; in demo mode the file is made if missing."""
    path = settings.chain_keys_path
    if settings.demo_mode:
        _create(path, demo=True)
    return _parse(path, demo_mode=settings.demo_mode)


def session_chain_keys(session: Session) -> ChainKeys:
    """The chain keys of the ``Database`` the session came from (``db.session``)."""
    database = session.info.get("database")
    if database is not None:
        keys: ChainKeys = database.chain_keys
        return keys
    raise ConfigurationError("会话不属于已配置链密钥的数据库",
                             "this session does not come from a Database with chain keys",
                             code="chain_keys_missing")


# ----------------------------------------------------------------------------- signatures


@dataclass(frozen=True)
class SigningKeys:
    """The bank's SM2 signing key (absent on a machine that only verifies) and every public
    key of the bank that verification accepts, by key id."""

    public_keys: Mapping[str, str]
    key_id: str | None = None
    pair: SM2KeyPair | None = field(default=None, repr=False)

    @property
    def signer(self) -> str:
        """The id of the key that signs; ``ConfigurationError`` if this machine has none."""
        if self.pair is None or self.key_id is None:
            raise ConfigurationError("本机没有银行签名私钥", "no bank signing key on this machine",
                                     code="no_signing_key")
        return self.key_id

    def sign(self, message: bytes) -> str:
        """SM3withSM2 over ``message`` with the key :attr:`signer` (r||s, base64)."""
        self.signer  # noqa: B018  (raises when there is no key)
        assert self.pair is not None
        return sm2_sign(self.pair.private_key_hex, self.pair.public_key_hex, message)

    def verify(self, key_id: str, message: bytes, signature: str) -> bool:
        public = self.public_keys.get(key_id)
        return public is not None and sm2_verify(public, message, signature)


def signing_keys(keys_dir: Path) -> SigningKeys:
    """The bank's SM2 keys from ``keys_dir`` (see the module docstring)."""
    public: dict[str, str] = {}
    for path in sorted(keys_dir.glob("*.sm2.public.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and info.get("kind") == "sm2-public" \
                and info.get("party") == BANK:
            public[str(info["key_id"])] = str(info["public_key_hex"])
    if not (keys_dir / f"{BANK}.sm2.private.json").exists():
        return SigningKeys(public_keys=public)
    ring = load_keyring(keys_dir, party=BANK, peers=[])
    public[ring.own_key_id] = ring.own_signing.public_key_hex
    return SigningKeys(public_keys=public, key_id=ring.own_key_id, pair=ring.own_signing)
