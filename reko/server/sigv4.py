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
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from reko.server.credentials import Credential

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


class _ExactHeadersSigV4(SigV4Auth):
    """botocore's signer, told to sign exactly the client's `SignedHeaders` (botocore would drop some,
    such as user-agent, that other SDKs do sign)."""

    def __init__(self, credentials: Credentials, region: str, signed_headers: HTTPHeaders) -> None:
        super().__init__(credentials, SERVICE_NAME, region)
        self._signed = signed_headers

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        return self._signed


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _parse_authorization(value: str) -> tuple[list[str], list[str], str]:
    if not value.startswith(ALGORITHM + " "):
        raise IncompleteSignatureException(
            f"Authorization header requires the {ALGORITHM} algorithm; got '{value.split(' ', 1)[0]}'."
        )
    fields = dict(_AUTH_FIELD.findall(value))
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


def _check_timestamp(amz_date: str, now: dt.datetime) -> None:
    try:
        stamp = dt.datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError as error:
        raise IncompleteSignatureException(f"X-Amz-Date '{amz_date}' is not in the format {AMZ_DATE_FORMAT}") from error
    if abs(now - stamp) > MAX_CLOCK_SKEW:
        raise InvalidSignatureException(
            f"Signature expired: {amz_date} is now outside the 15 minute window around "
            f"{now.strftime(AMZ_DATE_FORMAT)}."
        )


def verify(
    request: SignedRequest,
    keys: Mapping[str, Credential],
    allowed_regions: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> Identity:
    """Check a request's SigV4 signature and return who sent it; raise the AWS error on any failure."""
    authorization = _header(request.headers, "authorization")
    if not authorization:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    scope, signed_names, client_signature = _parse_authorization(authorization)
    access_key_id, date, region, service, _ = scope
    key = keys.get(access_key_id)
    if key is None:
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    if service != SERVICE_NAME:
        raise InvalidSignatureException(f"Credential should be scoped to correct service: '{SERVICE_NAME}'.")
    if allowed_regions and region not in allowed_regions:
        raise InvalidSignatureException(
            f"Credential should be scoped to a valid region, not '{region}'. Valid: {', '.join(allowed_regions)}."
        )
    amz_date = _header(request.headers, "x-amz-date")
    if not amz_date:
        raise IncompleteSignatureException("Authorization requires an X-Amz-Date header.")
    if date != amz_date[:8]:
        raise InvalidSignatureException("Credential should be scoped to a valid date matching X-Amz-Date.")
    _check_timestamp(amz_date, now or dt.datetime.now(dt.UTC))
    for needed in ("host", "x-amz-date"):
        if needed not in signed_names:
            raise InvalidSignatureException(f"Signed headers must include '{needed}'.")
    token = _header(request.headers, "x-amz-security-token")
    if token is not None and "x-amz-security-token" not in signed_names:
        raise InvalidSignatureException("X-Amz-Security-Token is present but not signed.")
    if key.session_token is not None and not hmac.compare_digest(token or "", key.session_token):
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    _check_content_hash(request)
    expected = _expected_signature(request, key, region, amz_date, signed_names)
    if not hmac.compare_digest(expected, client_signature):
        raise InvalidSignatureException(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        )
    return Identity(access_key_id=access_key_id, account_id=key.account_id, region=region)


def _check_content_hash(request: SignedRequest) -> None:
    """botocore trusts X-Amz-Content-SHA256 instead of hashing the body: make it tell the truth."""
    declared = _header(request.headers, "x-amz-content-sha256")
    if declared is None:
        return
    if declared != hashlib.sha256(request.body).hexdigest():
        raise InvalidSignatureException(
            "The provided X-Amz-Content-SHA256 does not match the request body (UNSIGNED-PAYLOAD is not accepted)."
        )


def _expected_signature(
    request: SignedRequest, key: Credential, region: str, amz_date: str, signed_names: Sequence[str]
) -> str:
    signed = HTTPHeaders()
    for name in signed_names:
        values = [value for header, value in request.headers if header == name]
        if not values:
            raise InvalidSignatureException(f"Header '{name}' is named in SignedHeaders but absent.")
        for value in values:
            signed[name] = value
    url = f"http://{_header(request.headers, 'host') or 'localhost'}{request.path}"
    if request.query:
        url += "?" + request.query
    aws_request = AWSRequest(method=request.method, url=url, data=request.body, headers=dict(signed.items()))
    aws_request.context["timestamp"] = amz_date
    signer = _ExactHeadersSigV4(Credentials(key.access_key_id, key.secret_access_key), region, signed)
    canonical = signer.canonical_request(aws_request)
    return str(signer.signature(signer.string_to_sign(aws_request, canonical), aws_request))
