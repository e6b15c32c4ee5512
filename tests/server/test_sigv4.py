"""SigV4 verification as a pure function: exact signed headers, tokens, clock skew."""

from __future__ import annotations

import datetime as dt

import pytest

from reko.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from reko.server.credentials import Credential
from reko.server.sigv4 import SignedRequest, check_headers, check_signature, verify
from tests.server.conftest import sign_only
from tests.signing import signed_headers

URL = "http://reko.local:8085"
BODY = b'{"Image":{"S3Object":{"Bucket":"b","Name":"n"}}}'
KEY = Credential("AKIATESTKEY000000001", "test-secret", "123456789012")
NOW = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.UTC)


def as_received(headers: dict[str, str], body: bytes = BODY) -> SignedRequest:
    received = [(name.lower(), value) for name, value in headers.items()]
    if not any(name == "host" for name, _ in received):
        received.append(("host", "reko.local:8085"))
    return SignedRequest(method="POST", path="/", query="", headers=received, body=body)


def sign(key: Credential = KEY, **kwargs: object) -> dict[str, str]:
    return signed_headers(
        URL, BODY, "RekognitionService.DetectFaces", key_id=key.access_key_id, secret=key.secret_access_key,
        when=NOW.replace(tzinfo=None), **kwargs,  # type: ignore[arg-type]
    )


def test_valid_signature_gives_the_account() -> None:
    identity = verify(as_received(sign(region="ap-south-1")), {KEY.access_key_id: KEY}, now=NOW)
    assert (identity.account_id, identity.region) == ("123456789012", "ap-south-1")


def test_extra_signed_headers_such_as_user_agent_are_honoured() -> None:
    headers = sign(extra={"User-Agent": "lowcode-connector/1.0"})
    # botocore never signs user-agent; a client that does must still verify: re-sign including it.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    class SignsEverything(SigV4Auth):
        def headers_to_sign(self, request):  # type: ignore[no-untyped-def]
            names = super().headers_to_sign(request)
            names["user-agent"] = request.headers["User-Agent"]
            return names

    request = AWSRequest(method="POST", url=URL + "/", data=BODY, headers={
        k: v for k, v in headers.items() if k not in ("Authorization", "X-Amz-Date")})
    request.context["timestamp"] = NOW.strftime("%Y%m%dT%H%M%SZ")
    signer = SignsEverything(Credentials(KEY.access_key_id, KEY.secret_access_key), "rekognition", "us-east-1")
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    names = ";".join(sorted(signer.headers_to_sign(request)))
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, SignedHeaders={names}, Signature={signature}"
    )
    assert verify(as_received(dict(request.headers.items())), {KEY.access_key_id: KEY}, now=NOW)


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda h: h.pop("Authorization"), MissingAuthenticationTokenException),
        (lambda h: h.update(Authorization="AWS4-HMAC-SHA256 Credential=x"), IncompleteSignatureException),
        (lambda h: h.update(Authorization=h["Authorization"].replace("AKIATEST", "AKIANONE")),
         UnrecognizedClientException),
        (lambda h: h.update({"X-Amz-Target": "RekognitionService.DeleteCollection"}), InvalidSignatureException),
    ],
    ids=["unsigned", "incomplete", "unknown key", "tampered header"],
)
def test_bad_requests_raise_aws_errors(mutate, error) -> None:
    headers = sign()
    mutate(headers)
    with pytest.raises(error):
        verify(as_received(headers), {KEY.access_key_id: KEY}, now=NOW)


def test_clock_skew_over_fifteen_minutes_is_refused() -> None:
    with pytest.raises(InvalidSignatureException, match="Signature expired"):
        verify(as_received(sign()), {KEY.access_key_id: KEY}, now=NOW + dt.timedelta(minutes=16))
    assert verify(as_received(sign()), {KEY.access_key_id: KEY}, now=NOW + dt.timedelta(minutes=14))


def test_region_restriction() -> None:
    with pytest.raises(InvalidSignatureException, match="region"):
        verify(as_received(sign(region="eu-west-1")), {KEY.access_key_id: KEY}, ["us-east-1"], now=NOW)


def test_session_token_must_match_and_be_signed() -> None:
    key = Credential("AKIATESTKEY000000002", "s", "123456789012", session_token="token-1")
    keys = {key.access_key_id: key}
    good = sign(key, extra={"X-Amz-Security-Token": "token-1"})
    assert verify(as_received(good), keys, now=NOW).account_id == "123456789012"
    with pytest.raises(UnrecognizedClientException):
        verify(as_received(sign(key, extra={"X-Amz-Security-Token": "token-2"})), keys, now=NOW)
    with pytest.raises(UnrecognizedClientException):
        verify(as_received(sign(key)), keys, now=NOW)
    unsigned_token = sign(key) | {"X-Amz-Security-Token": "token-1"}
    with pytest.raises(InvalidSignatureException):
        verify(as_received(unsigned_token), keys, now=NOW)


def sign_over(names: list[str], extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "RekognitionService.DetectFaces"}
    key = (KEY.access_key_id, KEY.secret_access_key)
    return sign_only(URL, BODY, headers | (extra or {}), names, key, NOW.strftime("%Y%m%dT%H%M%SZ"))


def test_signature_over_the_required_headers_verifies() -> None:
    """The control for the refusals below: the same signer, signing what AWS requires, is accepted."""
    headers = sign_over(["content-type", "host", "x-amz-date", "x-amz-target"])
    assert verify(as_received(headers), {KEY.access_key_id: KEY}, now=NOW).account_id == KEY.account_id


@pytest.mark.parametrize(
    ("names", "extra", "unsigned"),
    [
        (["host", "x-amz-date"], {}, "x-amz-target"),
        (["host", "x-amz-date", "x-amz-target"], {"X-Amz-User-Agent": "aws-sdk-js/3"}, "x-amz-user-agent"),
        (["x-amz-date", "x-amz-target"], {}, "host"),
    ],
    ids=["target", "other x-amz header", "host"],
)
def test_headers_aws_requires_signed_must_be(names: list[str], extra: dict[str, str], unsigned: str) -> None:
    headers = sign_over(names, extra)
    with pytest.raises(InvalidSignatureException, match=f"'{unsigned}' must be a 'SignedHeader'"):
        check_headers(as_received(headers).headers, {KEY.access_key_id: KEY}, now=NOW)


def test_session_token_with_a_key_that_has_none_is_refused() -> None:
    headers = sign(extra={"X-Amz-Security-Token": "made-up"})
    with pytest.raises(UnrecognizedClientException, match="security token included in the request is invalid"):
        verify(as_received(headers), {KEY.access_key_id: KEY}, now=NOW)


@pytest.mark.parametrize("name", ["authorization", "x-amz-target", "x-amz-date"])
def test_repeated_signing_headers_are_refused(name: str) -> None:
    received = as_received(sign())
    first = next(value for header, value in received.headers if header == name)
    with pytest.raises(IncompleteSignatureException, match=f"{name} header must appear exactly once"):
        check_headers([*received.headers, (name, first)], {KEY.access_key_id: KEY}, now=NOW)


def test_repeated_authorization_parameter_is_refused() -> None:
    headers = sign()
    headers["Authorization"] += ", Signature=" + "0" * 64
    with pytest.raises(IncompleteSignatureException, match="repeats a parameter"):
        verify(as_received(headers), {KEY.access_key_id: KEY}, now=NOW)


def test_headers_are_checked_before_the_body_and_the_body_after() -> None:
    received = as_received(sign())
    check = check_headers(received.headers, {KEY.access_key_id: KEY}, now=NOW)
    assert check_signature(check, received).account_id == KEY.account_id
    with pytest.raises(InvalidSignatureException, match="does not match"):
        check_signature(check, as_received(sign(), body=BODY.replace(b'"b"', b'"c"')))
