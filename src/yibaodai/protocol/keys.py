"""The key ring one party holds, and the key files it is loaded from.

Key files
=========

One directory holds JSON files (UTF-8). Party names are short lower-case words
(``bureau``, ``bank``, ``headoffice``)::

    <party>.sm2.private.json   mode 0600, only on that party's machine
        {"kind": "sm2-private", "party": "bank", "key_id": "bank-2026-01",
         "private_key_hex": "<64 hex>", "public_key_hex": "<128 hex, no 04>"}
    <party>.sm2.public.json    given to every peer
        {"kind": "sm2-public", "party": "bank", "key_id": "bank-2026-01",
         "public_key_hex": "<128 hex, no 04>"}
    link.<a>--<b>.sm4.json     mode 0600, a < b alphabetically; held by both ends of the link
        {"kind": "sm4-link", "parties": ["bank", "bureau"], "key_hex": "<32 hex>"}

``write_party_keys`` writes the party's SM2 pair and creates the SM4 key of every link the party
takes part in (``DEFAULT_LINKS``: bureau—bank, bank—headoffice) unless that link file exists
already — whichever end is written first creates it, the other end reuses it.

``load_keyring(directory, party=...)`` reads the party's private file and, for every other party
that has a public file and a link file shared with ``party`` (or only ``peers=`` if given), the
public key and the link key. So the bureau never trusts head office's key, and vice versa.
In the keyring, ``peer_public_keys`` and ``sm4_keys`` are both indexed by the **peer's key id**:
a message from peer P carries ``key_id = P's key id``; the receiver verifies with
``peer_public_keys[key_id]`` and decrypts with ``sm4_keys[key_id]`` (the link key shared with P).
A sender encrypts with ``sm4_keys[peer_key_id]`` and signs with its own private key.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yibaodai.errors import ConfigurationError
from yibaodai.protocol.errors import CryptoError
from yibaodai.protocol.sm2 import (
    DEFAULT_USER_ID,
    SIGNATURE_ENCODINGS,
    SignatureEncoding,
    SM2KeyPair,
    generate_sm2_keypair,
    normalize_public_key_hex,
)
from yibaodai.protocol.sm4 import SM4_KEY_BYTES, check_sm4_key

# Which parties share an SM4 link key (see the module docstring).
DEFAULT_LINKS: dict[str, tuple[str, ...]] = {
    "bureau": ("bank",),
    "bank": ("bureau", "headoffice"),
    "headoffice": ("bank",),
}


@dataclass(frozen=True)
class KeyRing:
    """Everything one party needs to seal and open envelopes.

    ``peer_public_keys`` and ``sm4_keys`` are indexed by the peer's key id (see module docstring);
    ``peer_key_ids`` maps a peer party name to its key id (for ``seal_request(peer_key_id=...)``).
    """

    own_key_id: str
    own_signing: SM2KeyPair
    peer_public_keys: dict[str, str]
    sm4_keys: dict[str, bytes] = field(repr=False)
    signature_encoding: SignatureEncoding = "rs_base64"
    own_party: str = ""
    peer_key_ids: dict[str, str] = field(default_factory=dict)
    user_id: bytes = DEFAULT_USER_ID

    def __post_init__(self) -> None:
        if self.signature_encoding not in SIGNATURE_ENCODINGS:
            raise ConfigurationError(
                message_zh=f"未知的签名编码：{self.signature_encoding}",
                message_en=f"unknown signature encoding: {self.signature_encoding}",
                code="bad_signature_encoding",
            )
        for key in self.sm4_keys.values():
            check_sm4_key(key)
        object.__setattr__(
            self,
            "peer_public_keys",
            {k: normalize_public_key_hex(v) for k, v in self.peer_public_keys.items()},
        )

    def link_key(self, peer_key_id: str) -> bytes:
        try:
            return self.sm4_keys[peer_key_id]
        except KeyError:
            raise ConfigurationError(
                message_zh=f"没有与密钥 {peer_key_id} 对应的 SM4 链路密钥",
                message_en=f"no SM4 link key for peer key id {peer_key_id}",
                code="no_link_key",
            ) from None


def _private_path(directory: Path, party: str) -> Path:
    return directory / f"{party}.sm2.private.json"


def _public_path(directory: Path, party: str) -> Path:
    return directory / f"{party}.sm2.public.json"


def _link_path(directory: Path, a: str, b: str) -> Path:
    x, y = sorted((a, b))
    return directory / f"link.{x}--{y}.sm4.json"


def _check_name(kind: str, value: str) -> None:
    ok = bool(value) and all(c.isascii() and (c.isalnum() or c in "-_.") for c in value)
    if not ok or value.startswith(".") or (kind == "party" and "--" in value):
        raise ConfigurationError(
            message_zh=f"{kind} 名称无效：{value!r}",
            message_en=f"invalid {kind} name: {value!r}",
            code="bad_key_name",
        )


def _write_json(path: Path, payload: Mapping[str, Any], *, secret: bool) -> None:
    data = (json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if secret else 0o644)
    try:
        if secret:
            os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _read_json(path: Path, kind: str) -> dict[str, Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            message_zh=f"无法读取密钥文件 {path}",
            message_en=f"cannot read key file {path}: {exc}",
            code="key_file_unreadable",
        ) from exc
    if not isinstance(payload, dict) or payload.get("kind") != kind:
        raise ConfigurationError(
            message_zh=f"密钥文件 {path} 类型不是 {kind}",
            message_en=f"key file {path} is not of kind {kind}",
            code="key_file_invalid",
        )
    return payload


def write_party_keys(
    directory: Path,
    *,
    party: str,
    key_id: str,
    links: Iterable[str] | None = None,
) -> None:
    """Generate ``party``'s SM2 key pair (private file 0600, public file 0644) and the SM4 key of
    each link ``party``—peer, for peer in ``links`` (default ``DEFAULT_LINKS[party]``), whose file
    does not exist yet (link files are 0600). Overwrites the party's own SM2 files."""
    _check_name("party", party)
    _check_name("key id", key_id)
    peers = list(DEFAULT_LINKS.get(party, ()) if links is None else links)
    for peer in peers:
        _check_name("party", peer)
    directory.mkdir(parents=True, exist_ok=True)
    pair = generate_sm2_keypair()
    _write_json(
        _private_path(directory, party),
        {
            "kind": "sm2-private",
            "party": party,
            "key_id": key_id,
            "private_key_hex": pair.private_key_hex,
            "public_key_hex": pair.public_key_hex,
        },
        secret=True,
    )
    _write_json(
        _public_path(directory, party),
        {
            "kind": "sm2-public",
            "party": party,
            "key_id": key_id,
            "public_key_hex": pair.public_key_hex,
        },
        secret=False,
    )
    for peer in peers:
        if peer == party:
            continue
        path = _link_path(directory, party, peer)
        if not path.exists():
            _write_json(
                path,
                {
                    "kind": "sm4-link",
                    "parties": sorted((party, peer)),
                    "key_hex": secrets.token_bytes(SM4_KEY_BYTES).hex(),
                },
                secret=True,
            )


def load_keyring(
    directory: Path,
    *,
    party: str,
    peers: Iterable[str] | None = None,
    signature_encoding: SignatureEncoding = "rs_base64",
    user_id: bytes = DEFAULT_USER_ID,
) -> KeyRing:
    """Load ``party``'s private key, the peers' public keys and the SM4 link keys shared with them.

    Default peers: every other party with a ``*.sm2.public.json`` **and** a link file shared with
    ``party`` (a party only trusts the parties it has a link with). Peers named explicitly in
    ``peers`` are loaded even without a link file; they get no SM4 key (sealing to them raises
    ``ConfigurationError``, opening their requests ``GatewayRefused("decrypt_failed")``)."""
    _check_name("party", party)
    own = _read_json(_private_path(directory, party), "sm2-private")
    try:
        pair = SM2KeyPair(str(own["private_key_hex"]), str(own["public_key_hex"]))
        own_key_id = str(own["key_id"])
    except (KeyError, CryptoError) as exc:
        raise ConfigurationError(
            message_zh=f"{party} 的私钥文件无效",
            message_en=f"private key file of {party} is invalid: {exc}",
            code="key_file_invalid",
        ) from exc
    if peers is None:
        suffix = ".sm2.public.json"
        names = sorted(p.name[: -len(suffix)] for p in directory.glob(f"*{suffix}"))
        peer_list = [n for n in names if n != party and _link_path(directory, party, n).exists()]
    else:
        peer_list = list(peers)
    public: dict[str, str] = {}
    sm4: dict[str, bytes] = {}
    key_ids: dict[str, str] = {}
    for peer in peer_list:
        _check_name("party", peer)
        info = _read_json(_public_path(directory, peer), "sm2-public")
        try:
            kid = str(info["key_id"])
            public[kid] = normalize_public_key_hex(str(info["public_key_hex"]))
        except (KeyError, CryptoError) as exc:
            raise ConfigurationError(
                message_zh=f"{peer} 的公钥文件无效",
                message_en=f"public key file of {peer} is invalid: {exc}",
                code="key_file_invalid",
            ) from exc
        if kid == own_key_id or kid in key_ids.values():
            raise ConfigurationError(
                message_zh=f"密钥标识重复：{kid}",
                message_en=f"duplicate key id: {kid}",
                code="duplicate_key_id",
            )
        key_ids[peer] = kid
        link = _link_path(directory, party, peer)
        if link.exists():
            info = _read_json(link, "sm4-link")
            try:
                key = bytes.fromhex(str(info["key_hex"]))
                check_sm4_key(key)
            except (KeyError, ValueError) as exc:
                raise ConfigurationError(
                    message_zh=f"链路密钥文件 {link.name} 无效",
                    message_en=f"link key file {link.name} is invalid",
                    code="key_file_invalid",
                ) from exc
            sm4[kid] = key
    return KeyRing(
        own_key_id=own_key_id,
        own_signing=pair,
        peer_public_keys=public,
        sm4_keys=sm4,
        signature_encoding=signature_encoding,
        own_party=party,
        peer_key_ids=key_ids,
        user_id=user_id,
    )
