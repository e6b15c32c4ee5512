"""AWS Signature Version 4 verification, reusing botocore's signer rather than a hand-rolled HMAC chain.

The canonical request is rebuilt from exactly the headers the client named in `SignedHeaders`; the timestamp is
the client's `X-Amz-Date` (never the current time, which is what `add_auth()` would stamp).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from reko.errors import (
    ExpiredTokenException,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from reko.server.credentials import Credential
from reko.server.sessions import SessionIssuer

SERVICE_NAME = "rekognition"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW = dt.timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTH_FIELD = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]+)")


@dataclass(frozen=True)
class SignedRequest:
    """What the edge hands over for verification: the raw request as received."""

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]  # lower-case names, in arrival order, repeats kept
    body: bytes


@dataclass(frozen=True)
class Identity:
    access_key_id: str
    account_id: str
    region: str


@dataclass(frozen=True)
class HeaderCheck:
    """Everything SigV4 can prove from the headers alone; the signature itself waits for the body's hash."""

    key: Credential
    region: str
    amz_date: str
    signed_names: tuple[str, ...]
    signature: str


class _ExactHeadersSigV4(SigV4Auth):
    """botocore's signer, told to sign exactly the client's `SignedHeaders` (botocore would drop some,
    such as user-agent, that other SDKs do sign)."""

    def __init__(self, credentials: Credentials, region: str, signed_headers: HTTPHeaders) -> None:
        super().__init__(credentials, SERVICE_NAME, region)
        self._signed = signed_headers

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        return self._signed


# Headers whose repeats would let the signer and the server read different values.
SINGLE_HEADERS = ("authorization", "host", "x-amz-date", "x-amz-target", "x-amz-security-token", "x-amz-content-sha256")
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"


def header_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _refuse_repeats(headers: Sequence[tuple[str, str]]) -> None:
    """Two `Authorization` (or `X-Amz-Target`, ...) headers: which one was meant is ambiguous, so neither is read.
    AWS answers an Authorization it cannot parse into one credential and one signature with
    IncompleteSignatureException (InvalidSignatureException means it parsed and did not match)."""
    names = [name for name, _ in headers]
    for name in SINGLE_HEADERS:
        if names.count(name) > 1:
            raise IncompleteSignatureException(
                f"The {name} header must appear exactly once; it appears {names.count(name)} times."
            )


def _parse_authorization(value: str) -> tuple[list[str], list[str], str]:
    if not value.startswith(ALGORITHM + " "):
        raise IncompleteSignatureException(
            f"Authorization header requires the {ALGORITHM} algorithm; got '{value.split(' ', 1)[0]}'."
        )
    found = _AUTH_FIELD.findall(value)
    fields = dict(found)
    if len(fields) != len(found):
        raise IncompleteSignatureException(f"Authorization header repeats a parameter. Authorization={value}")
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in fields:
            raise IncompleteSignatureException(
                f"Authorization header requires '{required}' parameter. Authorization={value}"
            )
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignatureException(
            f"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{fields['Credential']}'"
        )
    return scope, fields["SignedHeaders"].lower().split(";"), fields["Signature"]


def check_timestamp(amz_date: str, now: dt.datetime) -> None:
    try:
        stamp = dt.datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError as error:
        raise IncompleteSignatureException(f"X-Amz-Date '{amz_date}' is not in the format {AMZ_DATE_FORMAT}") from error
    if abs(now - stamp) > MAX_CLOCK_SKEW:
        raise InvalidSignatureException(
            f"Signature expired: {amz_date} is now outside the 15 minute window around "
            f"{now.strftime(AMZ_DATE_FORMAT)}."
        )


def check_signed_names(headers: Sequence[tuple[str, str]], signed_names: Sequence[str]) -> None:
    """`host`, `x-amz-date` and every `x-amz-*` header sent must be signed (as AWS requires), so a captured
    request cannot be re-aimed at another operation by changing an unsigned `X-Amz-Target`."""
    present = {name for name, _ in headers}
    must_sign = {"host", "x-amz-date"} | {name for name in present if name.startswith("x-amz-")}
    unsigned = sorted(must_sign - set(signed_names))
    if unsigned:
        raise InvalidSignatureException(f"'{unsigned[0]}' must be a 'SignedHeader' in the AWS Authorization.")
    absent = [name for name in signed_names if name not in present]
    if absent:
        raise InvalidSignatureException(f"Header '{absent[0]}' is named in SignedHeaders but absent.")


def _check_token(headers: Sequence[tuple[str, str]], key: Credential, now: dt.datetime) -> None:
    """A key with a session token needs exactly that token; a key without one refuses any token rather than
    ignoring it (a client that sends one believes it is using temporary credentials that Reko never issued).
    Temporary credentials past their expiration are refused with AWS's code, which makes botocore refresh
    refreshable credentials (Roles Anywhere sessions) instead of failing."""
    token = header_value(headers, "x-amz-security-token")
    if key.session_token is None:
        if token is not None:
            raise UnrecognizedClientException(INVALID_TOKEN)
    elif not hmac.compare_digest((token or "").encode(), key.session_token.encode()):
        raise UnrecognizedClientException(INVALID_TOKEN)
    if key.expired(now):
        raise ExpiredTokenException(EXPIRED_TOKEN)
    if header_value(headers, "x-amz-content-sha256") == "UNSIGNED-PAYLOAD":
        raise InvalidSignatureException("UNSIGNED-PAYLOAD is not accepted: sign the body's SHA-256.")


def check_headers(
    headers: Sequence[tuple[str, str]],
    keys: Mapping[str, Credential],
    allowed_regions: Sequence[str] = (),
    now: dt.datetime | None = None,
    issuer: SessionIssuer | None = None,
) -> HeaderCheck:
    """Everything but the signature, from the headers alone, so a stranger is refused before any body is read.

    A key not among `keys` may be one that `issuer` issued: its session token then says whose it is."""
    _refuse_repeats(headers)
    authorization = header_value(headers, "authorization")
    if not authorization:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    scope, signed_names, client_signature = _parse_authorization(authorization)
    access_key_id, date, region, service, _ = scope
    key = keys.get(access_key_id)
    if key is None and issuer is not None:
        key = issuer.recognise(access_key_id, header_value(headers, "x-amz-security-token"))
    if key is None:
        raise UnrecognizedClientException(INVALID_TOKEN)
    if service != SERVICE_NAME:
        raise InvalidSignatureException(f"Credential should be scoped to correct service: '{SERVICE_NAME}'.")
    if allowed_regions and region not in allowed_regions:
        raise InvalidSignatureException(
            f"Credential should be scoped to a valid region, not '{region}'. Valid: {', '.join(allowed_regions)}."
        )
    amz_date = header_value(headers, "x-amz-date")
    if not amz_date:
        raise IncompleteSignatureException("Authorization requires an X-Amz-Date header.")
    if date != amz_date[:8]:
        raise InvalidSignatureException("Credential should be scoped to a valid date matching X-Amz-Date.")
    now = now or dt.datetime.now(dt.UTC)
    check_timestamp(amz_date, now)
    check_signed_names(headers, signed_names)
    _check_token(headers, key, now)
    return HeaderCheck(key, region, amz_date, tuple(signed_names), client_signature)


def check_signature(check: HeaderCheck, request: SignedRequest) -> Identity:
    """The signature over the whole request, body included; the headers passed `check_headers` already."""
    check_content_hash(request)
    expected = _expected_signature(request, check.key, check.region, check.amz_date, check.signed_names)
    if not hmac.compare_digest(expected.encode(), check.signature.encode()):
        raise InvalidSignatureException(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        )
    return Identity(access_key_id=check.key.access_key_id, account_id=check.key.account_id, region=check.region)


def verify(
    request: SignedRequest,
    keys: Mapping[str, Credential],
    allowed_regions: Sequence[str] = (),
    now: dt.datetime | None = None,
    issuer: SessionIssuer | None = None,
) -> Identity:
    """Check a request's SigV4 signature and return who sent it; raise the AWS error on any failure."""
    return check_signature(check_headers(request.headers, keys, allowed_regions, now, issuer), request)


def check_content_hash(request: SignedRequest) -> None:
    """botocore trusts X-Amz-Content-SHA256 instead of hashing the body: make it tell the truth."""
    declared = header_value(request.headers, "x-amz-content-sha256")
    if declared is None:
        return
    if declared != hashlib.sha256(request.body).hexdigest():
        raise InvalidSignatureException(
            "The provided X-Amz-Content-SHA256 does not match the request body (UNSIGNED-PAYLOAD is not accepted)."
        )


def _aws_request(request: SignedRequest, signed_names: Sequence[str], amz_date: str) -> tuple[AWSRequest, HTTPHeaders]:
    signed = HTTPHeaders()
    for name in signed_names:
        for value in [value for header, value in request.headers if header == name]:
            signed[name] = value
    url = f"http://{header_value(request.headers, 'host') or 'localhost'}{request.path}"
    if request.query:
        url += "?" + request.query
    aws_request = AWSRequest(method=request.method, url=url, data=request.body, headers=dict(signed.items()))
    aws_request.context["timestamp"] = amz_date
    return aws_request, signed


def canonical_request(request: SignedRequest, signed_names: Sequence[str], amz_date: str) -> str:
    """SigV4's canonical request over exactly `signed_names`, as botocore builds it; the X.509 variant (Roles
    Anywhere) signs the same string with a private key instead of an HMAC."""
    aws_request, signed = _aws_request(request, signed_names, amz_date)
    return str(_ExactHeadersSigV4(Credentials("", ""), "", signed).canonical_request(aws_request))


def _expected_signature(
    request: SignedRequest, key: Credential, region: str, amz_date: str, signed_names: Sequence[str]
) -> str:
    aws_request, signed = _aws_request(request, signed_names, amz_date)
    signer = _ExactHeadersSigV4(Credentials(key.access_key_id, key.secret_access_key), region, signed)
    canonical = signer.canonical_request(aws_request)
    return str(signer.signature(signer.string_to_sign(aws_request, canonical), aws_request))
