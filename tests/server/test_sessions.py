"""Issued session tokens as pure functions, and temporary credentials' expiry in SigV4 verification."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from reko.errors import ExpiredTokenException, UnrecognizedClientException
from reko.server.credentials import Credential, load_credentials
from reko.server.sessions import SessionIssuer, load_or_create_secret
from reko.server.sigv4 import verify
from tests.server.test_sigv4 import BODY, NOW, as_received
from tests.signing import signed_headers

LATER = NOW + dt.timedelta(hours=1)


def signed_with(key: Credential, when: dt.datetime = NOW) -> dict[str, str]:
    extra = {"X-Amz-Security-Token": key.session_token} if key.session_token else {}
    return signed_headers("http://reko.local:8085", BODY, "RekognitionService.DetectFaces", key_id=key.access_key_id,
                          secret=key.secret_access_key, when=when.replace(tzinfo=None), extra=extra)


def test_issued_credentials_verify_with_a_server_that_never_saw_them() -> None:
    key = SessionIssuer(b"k" * 32).issue("123456789012", "arn:aws:iam::123456789012:role/r", LATER)
    fresh_server = SessionIssuer(b"k" * 32)
    identity = verify(as_received(signed_with(key)), {}, now=NOW, issuer=fresh_server)
    assert (identity.access_key_id, identity.account_id) == (key.access_key_id, "123456789012")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # the MAC
        lambda token: token.replace("r1.", "r2.", 1),  # another format
        lambda token: "not-a-token",
    ],
)
def test_a_token_that_is_not_ours_is_unrecognised(tamper) -> None:  # type: ignore[no-untyped-def]
    issuer = SessionIssuer(b"k" * 32)
    key = issuer.issue("123456789012", "arn:aws:iam::123456789012:role/r", LATER)
    assert issuer.recognise(key.access_key_id, tamper(key.session_token)) is None


def test_a_token_belongs_to_its_own_key_only() -> None:
    issuer = SessionIssuer(b"k" * 32)
    first, second = (issuer.issue("123456789012", "arn:aws:iam::1:role/r", LATER) for _ in range(2))
    assert issuer.recognise(first.access_key_id, second.session_token) is None
    headers = signed_with(first) | {"X-Amz-Security-Token": second.session_token or ""}
    with pytest.raises(UnrecognizedClientException):
        verify(as_received(headers), {}, now=NOW, issuer=issuer)


def test_another_servers_secret_does_not_recognise_a_token() -> None:
    key = SessionIssuer(b"k" * 32).issue("123456789012", "arn:aws:iam::1:role/r", LATER)
    with pytest.raises(UnrecognizedClientException):
        verify(as_received(signed_with(key)), {}, now=NOW, issuer=SessionIssuer(b"x" * 32))


def test_issued_credentials_are_refused_after_their_expiration() -> None:
    issuer = SessionIssuer(b"k" * 32)
    key = issuer.issue("123456789012", "arn:aws:iam::1:role/r", NOW + dt.timedelta(minutes=15))
    at_expiry = NOW + dt.timedelta(minutes=15)
    with pytest.raises(ExpiredTokenException, match="expired"):
        verify(as_received(signed_with(key, when=at_expiry)), {}, now=at_expiry, issuer=issuer)


def test_configured_temporary_credentials_expire_too() -> None:
    key = Credential("ASIATEMPORARY0000001", "secret", "123456789012", session_token="token", expiration=NOW)
    before = NOW - dt.timedelta(seconds=1)
    assert verify(as_received(signed_with(key, when=before)), {key.access_key_id: key}, now=before)
    with pytest.raises(ExpiredTokenException):
        verify(as_received(signed_with(key)), {key.access_key_id: key}, now=NOW)


def test_credentials_json_and_environment_carry_an_expiration(tmp_path: Path) -> None:
    file = tmp_path / "credentials.json"
    file.write_text('[{"access_key_id": "ASIAFILE", "secret_access_key": "s", "account_id": "123456789012",'
                    ' "session_token": "t", "expiration": "2026-12-01T12:00:00Z"}]')
    env = {"REKO_ACCESS_KEY_ID": "ASIAENV", "REKO_SECRET_ACCESS_KEY": "s", "REKO_SESSION_TOKEN": "t",
           "REKO_SESSION_EXPIRATION": "2026-12-01T13:00:00+01:00"}
    keys = load_credentials(file, env)
    assert keys["ASIAFILE"].expiration == keys["ASIAENV"].expiration == dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def test_the_secret_is_made_once_private_and_then_kept(tmp_path: Path) -> None:
    path = tmp_path / "data" / "session-secret"
    first = load_or_create_secret(path)
    assert len(first) == 32 and load_or_create_secret(path) == first
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["session-secret"]
