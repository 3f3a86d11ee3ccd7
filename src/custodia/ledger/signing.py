"""Ed25519 checkpoint signing in the C2SP signed-note format (c2sp.org/signed-note,
c2sp.org/tlog-checkpoint)."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519_TYPE = b"\x01"


class KeyMissing(Exception):
    pass


def key_path() -> Path:
    from django.conf import settings

    return Path(settings.CUSTODIA_LEDGER_KEY_PATH)


def generate(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def load_private(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or key_path()
    if not path.exists():
        raise KeyMissing(f"No existe la llave del libro: {path} (custodia ledger keygen).")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMissing(f"La llave {path} no es Ed25519.")
    return key


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(name: str, public: bytes) -> bytes:
    """C2SP signed-note key ID: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ key)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public).digest()[:4]


def checkpoint_text(origin: str, size: int, root: bytes, timestamp: str) -> str:
    """The note body: origin, size and base64 root (tlog-checkpoint), then a timestamp line."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n{timestamp}\n"


@dataclass(frozen=True)
class Signed:
    text: str
    signature: bytes
    key_id: bytes

    def note(self, name: str) -> str:
        line = base64.b64encode(self.key_id + self.signature).decode()
        return f"{self.text}\n\u2014 {name} {line}\n"


def sign(text: str, key: Ed25519PrivateKey, name: str) -> Signed:
    public = raw_public(key.public_key())
    return Signed(text, key.sign(text.encode()), key_id(name, public))


def verify(text: str, signature: bytes, public: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())
    except (InvalidSignature, ValueError):
        return False
    return True
