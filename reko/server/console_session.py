"""The web console's sign-in session: a signed cookie instead of SigV4, because a browser cannot sign requests.

The cookie holds who signed in (key id, account, region), when it expires, a random session id and a fingerprint
of the secret it was checked against, all under an HMAC-SHA256 with a key made once per process: a restart signs
everyone out, and a key whose secret changed or that left the key store stops working at once. Sign-out revokes the
session id, so a copied cookie is dead too. The CSRF token is derived from the session id (so it needs no storage)
and must come back in a header on every state-changing call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from reko.server.credentials import Credential

COOKIE_NAME = "reko_console"
CSRF_HEADER = "x-reko-csrf"
# A working day: long enough not to interrupt an evaluation, short enough that a forgotten tab expires.
SESSION_LIFETIME_S = 12 * 3600
SIGNING_KEY_BYTES = 32


@dataclass(frozen=True)
class ConsoleSession:
    access_key_id: str
    account_id: str
    region: str
    expires_at_s: float  # Unix time
    session_id: str
    secret_fingerprint: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues and checks console session cookies against the server's key store."""

    def __init__(self, keys: Mapping[str, Credential], signing_key: bytes | None = None) -> None:
        self.keys = keys
        self._key = signing_key or secrets.token_bytes(SIGNING_KEY_BYTES)
        self._revoked: dict[str, float] = {}  # session id → expiry, dropped once past it
        self._lock = threading.Lock()

    def _mac(self, purpose: str, text: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}|{text}".encode(), hashlib.sha256).digest())

    def _fingerprint(self, key: Credential) -> str:
        return self._mac("secret", key.secret_access_key)

    def issue(self, key: Credential, region: str, now_s: float | None = None) -> tuple[str, ConsoleSession]:
        """A new session for a key whose secret the caller has already checked: (cookie value, session)."""
        session = ConsoleSession(
            access_key_id=key.access_key_id,
            account_id=key.account_id,
            region=region,
            expires_at_s=(now_s or time.time()) + SESSION_LIFETIME_S,
            session_id=_b64(secrets.token_bytes(16)),
            secret_fingerprint=self._fingerprint(key),
        )
        payload = _b64(json.dumps(session.__dict__, separators=(",", ":")).encode())
        return f"{payload}.{self._mac('session', payload)}", session

    def check(self, cookie: str | None, now_s: float | None = None) -> ConsoleSession | None:
        """The session a cookie proves, or None: forged, expired, revoked, or its key gone or changed."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, mac = cookie.split(".")
        if not hmac.compare_digest(mac.encode(), self._mac("session", payload).encode()):
            return None
        try:
            session = ConsoleSession(**json.loads(_unb64(payload)))
        except (binascii.Error, ValueError, TypeError):
            return None
        if session.expires_at_s <= (now_s or time.time()):
            return None
        with self._lock:
            if session.session_id in self._revoked:
                return None
        key = self.keys.get(session.access_key_id)
        if key is None or not hmac.compare_digest(self._fingerprint(key), session.secret_fingerprint):
            return None
        return session

    def csrf_token(self, session: ConsoleSession) -> str:
        return self._mac("csrf", session.session_id)

    def csrf_ok(self, session: ConsoleSession, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf_token(session).encode())

    def revoke(self, session: ConsoleSession, now_s: float | None = None) -> None:
        now = now_s or time.time()
        with self._lock:
            self._revoked = {sid: expiry for sid, expiry in self._revoked.items() if expiry > now}
            self._revoked[session.session_id] = session.expires_at_s


def check_secret(keys: Mapping[str, Credential], access_key_id: str, secret: str, token: str | None) -> Credential:
    """The key whose secret (and session token, for a key that has one) match; LookupError otherwise, with one
    message whichever part was wrong."""
    key = keys.get(access_key_id)
    # Compare against something even for an unknown key, so the answer takes the same time.
    expected = key.secret_access_key if key is not None else secrets.token_hex(20)
    secret_ok = hmac.compare_digest(secret.encode(), expected.encode())
    token_ok = key is None or key.session_token is None or hmac.compare_digest(
        (token or "").encode(), key.session_token.encode()
    )
    if key is None or not secret_ok or not token_ok:
        raise LookupError("The access key and secret do not match a key of this server.")
    return key
