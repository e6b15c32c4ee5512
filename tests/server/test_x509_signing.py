"""CreateSession's X.509 signature and trust chain as pure functions, on requests signed by an independent client
(PyPI `iam-rolesanywhere-session`'s signer) with certificates the test makes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.awsrequest import AWSRequest
from iam_rolesanywhere_session import IAMRolesAnywhereSigner

from reko.errors import (
    AccessDeniedException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    ValidationException,
)
from reko.server.roles_anywhere import RolesAnywherePolicy, create_session
from reko.server.sessions import SessionIssuer
from reko.server.sigv4 import SignedRequest
from reko.server.x509_signing import verify_request
from tests.certificates import Issued, make_ca, make_client_certificate

URL = "https://reko.local:8443/sessions"
ANCHOR_ARN = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/anchor"
PROFILE_ARN = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/profile"
ROLE_ARN = "arn:aws:iam::123456789012:role/reko-caller"
MEMBERS = {"profileArn": PROFILE_ARN, "roleArn": ROLE_ARN, "trustAnchorArn": ANCHOR_ARN}


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


def signed(client: Issued, body: dict[str, object] | None = None, chain: list[Issued] | None = None,
           query: str = "") -> SignedRequest:
    """The request as Reko receives it, signed by the independent client's signer."""
    data = json.dumps(MEMBERS | {"durationSeconds": 900} if body is None else body).encode()
    request = AWSRequest(method="POST", url=URL + (f"?{query}" if query else ""), data=data)
    chain_pem = b"".join(link.certificate_pem for link in chain) if chain else None
    IAMRolesAnywhereSigner(client.certificate_pem, client.key_pem, certificate_chain=chain_pem,
                           region="eu-west-1").add_auth(request)
    headers = [(name.lower(), value) for name, value in request.headers.items()]
    return SignedRequest(method="POST", path="/sessions", query=query, headers=headers, body=data)


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_certificate_signed_request_verifies(ca: Issued, kind: str) -> None:
    client = make_client_certificate(ca, kind=kind)
    caller = verify_request(signed(client), [ca.certificate])
    assert caller.certificate.serial_number == client.certificate.serial_number
    assert caller.region == "eu-west-1"


def test_an_intermediate_sent_in_the_chain_header_is_followed(ca: Issued) -> None:
    intermediate = make_ca("Reko test intermediate", kind="ec", issuer=ca)
    client = make_client_certificate(intermediate)
    assert verify_request(signed(client, chain=[intermediate]), [ca.certificate])
    with pytest.raises(AccessDeniedException, match="does not chain"):
        verify_request(signed(client), [ca.certificate])


def test_another_ca_is_refused(ca: Issued) -> None:
    stranger = make_client_certificate(make_ca("Someone else's CA"))
    with pytest.raises(AccessDeniedException, match="does not chain to the configured trust anchor"):
        verify_request(signed(stranger), [ca.certificate])


@pytest.mark.parametrize(
    ("start_days", "what"), [(-40, "expired"), (2, "not yet valid")]
)
def test_a_certificate_outside_its_validity_is_refused(ca: Issued, start_days: int, what: str) -> None:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=start_days)
    client = make_client_certificate(ca, valid_from=start, valid_for=dt.timedelta(days=30))
    with pytest.raises(AccessDeniedException, match="is valid from"):
        verify_request(signed(client), [ca.certificate])


def test_a_body_changed_after_signing_is_refused(ca: Issued) -> None:
    request = signed(make_client_certificate(ca))
    changed = request.body.replace(b"reko-caller", b"reko-admin")
    with pytest.raises(InvalidSignatureException, match="does not verify"):
        verify_request(SignedRequest(request.method, request.path, "", request.headers, changed), [ca.certificate])


def test_a_certificate_swapped_for_another_of_the_same_ca_is_refused(ca: Issued) -> None:
    """Signed by one key, presented with another trusted certificate: the serial in the scope and the key differ."""
    request = signed(make_client_certificate(ca))
    other = signed(make_client_certificate(ca))
    swapped = [(name, dict(other.headers)["x-amz-x509"] if name == "x-amz-x509" else value)
               for name, value in request.headers]
    with pytest.raises(InvalidSignatureException):
        verify_request(SignedRequest("POST", "/sessions", "", swapped, request.body), [ca.certificate])


def test_a_ca_certificate_cannot_sign_for_itself(ca: Issued) -> None:
    with pytest.raises(AccessDeniedException, match="not an end-entity"):
        verify_request(signed(ca), [ca.certificate])


def test_an_unsigned_request_is_refused(ca: Issued) -> None:
    request = signed(make_client_certificate(ca))
    headers = [(name, value) for name, value in request.headers if name != "authorization"]
    with pytest.raises(MissingAuthenticationTokenException):
        verify_request(SignedRequest("POST", "/sessions", "", headers, request.body), [ca.certificate])


def _policy(ca: Issued, **arns: tuple[str, ...]) -> RolesAnywherePolicy:
    return RolesAnywherePolicy((ca.certificate,), arns.get("anchors", ()), arns.get("profiles", ()),
                               arns.get("roles", ()), "123456789012")


def test_create_session_answers_credentials_for_the_configured_account(ca: Issued) -> None:
    issuer = SessionIssuer(b"s" * 32)
    answer = create_session(signed(make_client_certificate(ca)), _policy(ca, roles=(ROLE_ARN,)), issuer)
    issued = answer["credentialSet"][0]
    credentials = issued["credentials"]
    assert credentials["accessKeyId"].startswith("ASIA") and len(credentials["accessKeyId"]) == 20
    assert issued["roleArn"] == ROLE_ARN
    assert issued["assumedRoleUser"]["arn"].startswith("arn:aws:sts::123456789012:assumed-role/reko-caller/")
    expiration = dt.datetime.fromisoformat(credentials["expiration"])
    assert 890 <= (expiration - dt.datetime.now(dt.UTC)).total_seconds() <= 900
    recognised = issuer.recognise(credentials["accessKeyId"], credentials["sessionToken"])
    assert recognised is not None and recognised.secret_access_key == credentials["secretAccessKey"]
    assert recognised.account_id == "123456789012"


def test_arns_may_come_in_the_query_as_aws_own_helper_sends_them(ca: Issued) -> None:
    query = "&".join(f"{name}={value.replace(':', '%3A').replace('/', '%2F')}" for name, value in MEMBERS.items())
    request = signed(make_client_certificate(ca), body={"durationSeconds": 1200}, query=query)
    answer = create_session(request, _policy(ca, profiles=(PROFILE_ARN,)), SessionIssuer(b"s" * 32))
    assert answer["credentialSet"][0]["roleArn"] == ROLE_ARN


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (MEMBERS | {"durationSeconds": 899}, ValidationException, "between 900 and 43200"),
        (MEMBERS | {"durationSeconds": 43201}, ValidationException, "between 900 and 43200"),
        (MEMBERS | {"durationSeconds": "soon"}, ValidationException, "integer"),
        ({"profileArn": PROFILE_ARN, "roleArn": ROLE_ARN}, ValidationException, "trustAnchorArn is required"),
        (MEMBERS | {"roleArn": "arn:aws:iam::123456789012:role/other"}, AccessDeniedException, "not configured"),
    ],
)
def test_create_session_refuses(ca: Issued, body: dict[str, object], error: type[Exception], message: str) -> None:
    policy = _policy(ca, anchors=(ANCHOR_ARN,), profiles=(PROFILE_ARN,), roles=(ROLE_ARN,))
    with pytest.raises(error, match=message):
        create_session(signed(make_client_certificate(ca), body=body), policy, SessionIssuer(b"s" * 32))


def test_a_session_never_outlives_its_certificate(ca: Issued) -> None:
    client = make_client_certificate(ca, valid_for=dt.timedelta(hours=1, minutes=10))  # from an hour ago
    answer = create_session(signed(client, body=MEMBERS | {"durationSeconds": 43200}), _policy(ca),
                            SessionIssuer(b"s" * 32))
    expiration = dt.datetime.fromisoformat(answer["credentialSet"][0]["credentials"]["expiration"])
    assert expiration == client.certificate.not_valid_after_utc
