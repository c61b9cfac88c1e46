"""SM4, the national block cipher (GB/T 32907), as the envelope uses it.

``cryptography``'s ``algorithms.SM4`` in CBC mode, PKCS7 padding, a fresh random 16-byte IV
prepended to the ciphertext: ``blob = IV || CBC(key, IV, PKCS7(plaintext))``. CBC gives
confidentiality only, no integrity: the envelope signs the ciphertext with SM2 and the
signature is checked *before* decrypting (so there is no padding oracle). A wrong key is
refused by the padding check in about 255 of 256 cases; the envelope layer also refuses
plaintext that is not UTF-8 JSON, which catches the rest.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from yibaodai.errors import GatewayRefused
from yibaodai.protocol.errors import CryptoError

SM4_KEY_BYTES = 16
SM4_BLOCK_BYTES = 16


def check_sm4_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != SM4_KEY_BYTES:
        raise CryptoError("SM4 key must be 16 bytes")


def _sm4_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    check_sm4_key(key)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.SM4(bytes(key)), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def sm4_encrypt(key: bytes, plaintext: bytes) -> bytes:
    """SM4-CBC with PKCS7 padding; returns ``IV || ciphertext`` with a fresh random 16-byte IV."""
    return _sm4_cbc_encrypt(key, secrets.token_bytes(SM4_BLOCK_BYTES), plaintext)


def _decrypt_failed(en: str, zh: str) -> GatewayRefused:
    return GatewayRefused(
        message_zh=f"报文解密失败：{zh}",
        message_en=f"decryption failed: {en}",
        code="decrypt_failed",
    )


def sm4_decrypt(key: bytes, blob: bytes) -> bytes:
    """Inverse of :func:`sm4_encrypt`. Wrong key or corrupt data raises
    ``GatewayRefused(code="decrypt_failed")`` (see the module docstring for the limits of CBC)."""
    check_sm4_key(key)
    if len(blob) < 2 * SM4_BLOCK_BYTES or len(blob) % SM4_BLOCK_BYTES:
        raise _decrypt_failed("ciphertext length is invalid", "密文长度不正确")
    iv, body = blob[:SM4_BLOCK_BYTES], blob[SM4_BLOCK_BYTES:]
    decryptor = Cipher(algorithms.SM4(bytes(key)), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise _decrypt_failed("wrong key or corrupt data", "密钥错误或数据损坏") from None

