"""Detached Ed25519 signatures of pack files: generate a key pair, sign, verify.

A regulator signs the exact bytes of a pack file with its private key; the platform verifies the signature with
the public keys its operator configured (``settings.TAIZHANG_RULEPACK_SIGNING["keys"]``: key id → base64 of the
raw 32-byte public key). The signature travels beside the file as ``FILE.sig``, a small JSON document::

    {"format": "taizhang-rulepack-signature/1", "algorithm": "Ed25519", "key": "hz-czj-2026",
     "sha256": "<hex digest of the file>", "signature": "<base64 of the 64-byte signature over the file bytes>"}

``sha256`` lets a mismatch be reported as "the file changed after signing" rather than a bare "invalid". Pure: no
Django.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["SIGNATURE_FORMAT", "SignatureInvalid", "key_id_of", "keygen", "public_key_of", "sign", "verify"]

SIGNATURE_FORMAT = "taizhang-rulepack-signature/1"
ALGORITHM = "Ed25519"


class SignatureInvalid(Exception):
    """The signature is missing, malformed, made with an unknown key, or does not match the file."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)


def key_id_of(public_b64: str) -> str:
    """A default key id: ``ed25519:`` + the first 16 hex digits of the SHA-256 of the raw public key."""
    return "ed25519:" + hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def keygen() -> tuple[bytes, str]:
    """A new key pair: (private key as unencrypted PKCS#8 PEM, public key as base64 of the raw 32 bytes)."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    return pem, base64.b64encode(_raw(private.public_key())).decode("ascii")


def _private(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise SignatureInvalid(f"无法读取私钥（应为未加密的 PKCS#8 PEM 格式）：{error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureInvalid("私钥不是 Ed25519 密钥")
    return key


def public_key_of(pem: bytes) -> str:
    """The base64 raw public key of a private key (what the operator puts in the settings)."""
    return base64.b64encode(_raw(_private(pem).public_key())).decode("ascii")


def sign(source: bytes, pem: bytes, *, key_id: str | None = None) -> bytes:
    """The signature file for ``source`` (UTF-8 JSON, newline-terminated)."""
    private = _private(pem)
    public_b64 = base64.b64encode(_raw(private.public_key())).decode("ascii")
    document = {
        "format": SIGNATURE_FORMAT,
        "algorithm": ALGORITHM,
        "key": key_id or key_id_of(public_b64),
        "sha256": hashlib.sha256(source).hexdigest(),
        "signature": base64.b64encode(private.sign(source)).decode("ascii"),
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def verify(source: bytes, signature: bytes, keys: Mapping[str, str]) -> str:
    """Check ``signature`` (a signature file's bytes) against ``source``; returns the key id that signed it.

    Raises :class:`SignatureInvalid` with a Chinese message saying what is wrong.
    """
    try:
        document = json.loads(signature.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SignatureInvalid("签名文件格式不正确（应为 JSON）") from None
    if not isinstance(document, dict) or document.get("format") != SIGNATURE_FORMAT:
        raise SignatureInvalid(f"签名文件格式不正确（format 应为 {SIGNATURE_FORMAT}）")
    if document.get("algorithm") != ALGORITHM:
        raise SignatureInvalid(f"不支持的签名算法“{document.get('algorithm')}”，只支持 {ALGORITHM}")
    key_id = document.get("key")
    if not isinstance(key_id, str) or key_id not in keys:
        raise SignatureInvalid(f"签名密钥“{key_id}”未在本系统登记（TAIZHANG_RULEPACK_SIGNING.keys）")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[key_id], validate=True))
        value = base64.b64decode(str(document.get("signature", "")), validate=True)
    except (ValueError, binascii.Error):
        raise SignatureInvalid(f"签名或登记的公钥“{key_id}”不是有效的 base64 Ed25519 数据") from None
    if document.get("sha256") not in (None, hashlib.sha256(source).hexdigest()):
        raise SignatureInvalid("签名与文件不符：文件在签名后被修改过（SHA-256 不同）")
    try:
        public.verify(value, source)
    except InvalidSignature:
        raise SignatureInvalid(f"签名无效：不是密钥“{key_id}”对本文件的签名") from None
    return key_id
