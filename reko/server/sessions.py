"""Temporary credentials Reko issues itself (Roles Anywhere's CreateSession), kept in no table.

Like STS, the session token carries the session: its access key id, account and expiration, authenticated
with an HMAC under a server secret. The secret access key is derived from the same payload, so any server that
holds the secret can check a request signed with issued credentials without having seen them issued: they
survive a restart (the secret is a file in the data folder) and work across servers that share it, and nothing
grows per session. The price: an issued session cannot be revoked before it expires (at most 12 hours, Roles
Anywhere's longest); replacing the secret file revokes every one at once.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from reko.server.credentials import Credential

ISSUED_KEY_PREFIX = "ASIA"  # AWS's prefix for temporary access key ids; static keys start AKIA
SIGNING_SECRET_BYTES = 32
TOKEN_VERSION = "r1"
_BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_secret(path: Path) -> bytes:
    """The server's session secret: read from `path`, or made (random, mode 0600, written whole) when absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(SIGNING_SECRET_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)  # fails if another server made it meanwhile: theirs wins, both read it
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    secret = path.read_bytes()
    if len(secret) < SIGNING_SECRET_BYTES:
        raise ValueError(f"{path}: a session secret needs at least {SIGNING_SECRET_BYTES} bytes")
    return secret


class SessionIssuer:
    """Issues temporary credentials and recognises them again from their session token."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: bytes, payload: bytes) -> bytes:
        return hmac.new(self._secret, purpose + b"\0" + payload, hashlib.sha256).digest()

    def issue(self, account_id: str, role_arn: str, expiration: dt.datetime) -> Credential:
        """New credentials for `account_id` that every server holding the secret accepts until `expiration`."""
        key_id = ISSUED_KEY_PREFIX + "".join(secrets.choice(_BASE32_ALPHABET) for _ in range(16))
        expires_s = int(expiration.timestamp())
        body = {"k": key_id, "a": account_id, "e": expires_s, "r": role_arn}
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        token = f"{TOKEN_VERSION}.{_b64(payload)}.{_b64(self._mac(b'token', payload))}"
        return Credential(
            access_key_id=key_id,
            secret_access_key=self._secret_for(payload),
            account_id=account_id,
            session_token=token,
            expiration=dt.datetime.fromtimestamp(expires_s, dt.UTC),
        )

    def _secret_for(self, payload: bytes) -> str:
        return base64.b64encode(self._mac(b"secret", payload)).decode()[:40]

    def recognise(self, access_key_id: str, token: str | None) -> Credential | None:
        """The credentials `token` was issued with, if this server's secret made it for `access_key_id`; None for
        anything else (the caller answers as for an unknown key). Expiry is the caller's to check."""
        if token is None or not access_key_id.startswith(ISSUED_KEY_PREFIX):
            return None
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION:
            return None
        try:
            payload, mac = _unb64(parts[1]), _unb64(parts[2])
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(b"token", payload)):
            return None
        body = json.loads(payload)
        if body["k"] != access_key_id:
            return None
        return Credential(
            access_key_id=access_key_id,
            secret_access_key=self._secret_for(payload),
            account_id=str(body["a"]),
            session_token=token,
            expiration=dt.datetime.fromtimestamp(int(body["e"]), dt.UTC),
        )
