"""The console's session cookie and CSRF token, checked without a server: what a cookie proves and when it stops."""

from __future__ import annotations

import base64

import pytest

from reko.server.console_session import SESSION_LIFETIME_S, SessionSigner, check_secret
from reko.server.credentials import Credential

KEY = Credential("AKIATESTCONSOLE00001", "secret-one", "111122223333")
NOW_S = 1_800_000_000.0


def signer_with(*keys: Credential) -> SessionSigner:
    return SessionSigner({key.access_key_id: key for key in keys}, signing_key=b"k" * 32)


def test_a_fresh_cookie_proves_its_key_account_and_region() -> None:
    signer = signer_with(KEY)
    cookie, issued = signer.issue(KEY, "eu-west-1", now_s=NOW_S)
    session = signer.check(cookie, now_s=NOW_S + 1)
    assert session == issued
    assert session is not None
    assert (session.access_key_id, session.account_id) == (KEY.access_key_id, KEY.account_id)
    assert session.region == "eu-west-1"
    assert "secret-one" not in cookie


def _other_payload(cookie: str) -> str:
    payload, mac = cookie.split(".")
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"us-east-1", b"eu-west-1")
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize(
    "spoil",
    [
        lambda cookie: cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"),  # the MAC
        lambda cookie: _other_payload(cookie),  # the payload, with the MAC of the old one
        lambda cookie: cookie.split(".")[0],  # no MAC at all
        lambda cookie: cookie + ".x",
        lambda cookie: "",
    ],
)
def test_a_spoilt_cookie_proves_nothing(spoil) -> None:
    signer = signer_with(KEY)
    cookie, _ = signer.issue(KEY, "us-east-1", now_s=NOW_S)
    assert signer.check(spoil(cookie), now_s=NOW_S) is None


def test_another_process_key_proves_nothing() -> None:
    cookie, _ = signer_with(KEY).issue(KEY, "us-east-1", now_s=NOW_S)
    other = SessionSigner({KEY.access_key_id: KEY})  # a restart: a new random signing key
    assert other.check(cookie, now_s=NOW_S) is None


def test_a_cookie_expires() -> None:
    signer = signer_with(KEY)
    cookie, _ = signer.issue(KEY, "us-east-1", now_s=NOW_S)
    assert signer.check(cookie, now_s=NOW_S + SESSION_LIFETIME_S - 1) is not None
    assert signer.check(cookie, now_s=NOW_S + SESSION_LIFETIME_S) is None


def test_sign_out_revokes_that_session_only() -> None:
    signer = signer_with(KEY)
    first, first_session = signer.issue(KEY, "us-east-1", now_s=NOW_S)
    second, _ = signer.issue(KEY, "us-east-1", now_s=NOW_S)
    signer.revoke(first_session, now_s=NOW_S)
    assert signer.check(first, now_s=NOW_S) is None
    assert signer.check(second, now_s=NOW_S) is not None


def test_a_removed_or_rotated_key_ends_its_sessions() -> None:
    keys = {KEY.access_key_id: KEY}
    signer = SessionSigner(keys, signing_key=b"k" * 32)
    cookie, _ = signer.issue(KEY, "us-east-1", now_s=NOW_S)
    keys[KEY.access_key_id] = Credential(KEY.access_key_id, "secret-two", KEY.account_id)
    assert signer.check(cookie, now_s=NOW_S) is None
    del keys[KEY.access_key_id]
    assert signer.check(cookie, now_s=NOW_S) is None


def test_the_csrf_token_belongs_to_one_session() -> None:
    signer = signer_with(KEY)
    _, first = signer.issue(KEY, "us-east-1", now_s=NOW_S)
    _, second = signer.issue(KEY, "us-east-1", now_s=NOW_S)
    assert signer.csrf_ok(first, signer.csrf_token(first))
    assert not signer.csrf_ok(first, signer.csrf_token(second))
    assert not signer.csrf_ok(first, None)
    assert not signer.csrf_ok(first, "")


def test_check_secret_refuses_with_one_message_whatever_was_wrong() -> None:
    temporary = Credential("ASIATESTCONSOLE00002", "secret-t", "111122223333", session_token="token-t")
    keys = {key.access_key_id: key for key in (KEY, temporary)}
    assert check_secret(keys, KEY.access_key_id, "secret-one", None) == KEY
    assert check_secret(keys, temporary.access_key_id, "secret-t", "token-t") == temporary
    messages = set()
    for key_id, secret, token in [
        (KEY.access_key_id, "wrong", None),
        ("AKIANOSUCHKEY0000000", "secret-one", None),
        (temporary.access_key_id, "secret-t", None),
        (temporary.access_key_id, "secret-t", "other"),
    ]:
        with pytest.raises(LookupError) as refused:
            check_secret(keys, key_id, secret, token)
        messages.add(str(refused.value))
    assert len(messages) == 1
