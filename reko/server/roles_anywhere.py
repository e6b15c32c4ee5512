"""`POST /sessions`: IAM Roles Anywhere's CreateSession, so the connector's way of getting credentials (a client
certificate, a trust anchor, a profile and a role) works against Reko unchanged.

The request is authenticated by its X.509 signature (x509_signing.py); what it asks is checked against the
configured ARNs; the answer holds temporary credentials for the configured account, issued by sessions.py.
Reko has no IAM: every issued session acts for that one account, whatever the role is called.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509

from reko.errors import AccessDeniedException, SerializationException, ValidationException
from reko.server.credentials import Credential, format_expiration
from reko.server.sessions import SessionIssuer
from reko.server.sigv4 import SignedRequest
from reko.server.x509_signing import X509Caller, verify_request

# CreateSession's documented range and default for durationSeconds.
MIN_DURATION_S = 900
MAX_DURATION_S = 43_200
DEFAULT_DURATION_S = 3_600
MAX_REQUEST_BYTES = 64 * 1024  # three ARNs, a duration, a session name: a few hundred bytes in practice
REQUIRED_MEMBERS = ("profileArn", "roleArn", "trustAnchorArn")


@dataclass(frozen=True)
class RolesAnywherePolicy:
    """What CreateSession accepts; an empty ARN list accepts any ARN for that member."""

    anchors: tuple[x509.Certificate, ...]
    trust_anchor_arns: tuple[str, ...]
    profile_arns: tuple[str, ...]
    role_arns: tuple[str, ...]
    account_id: str


def _members(request: SignedRequest) -> dict[str, Any]:
    """The request's members: AWS takes the three ARNs as query parameters or in the JSON body (its own signing
    helper sends them in the query, the Python session package in the body)."""
    members: dict[str, Any] = dict(parse_qsl(request.query))
    if request.body.strip():
        try:
            body = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SerializationException(f"The request body is not valid JSON: {error}") from error
        if not isinstance(body, dict):
            raise SerializationException("The request body must be a JSON object.")
        members.update(body)
    return members


def _duration_s(value: Any) -> int:
    if value is None:
        return DEFAULT_DURATION_S
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValidationException(f"durationSeconds must be an integer, got {value!r}.")
    duration = int(value)
    if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
        raise ValidationException(
            f"durationSeconds must be between {MIN_DURATION_S} and {MAX_DURATION_S} seconds, got {duration}."
        )
    return duration


def _check_arn(member: str, value: Any, accepted: tuple[str, ...]) -> str:
    if not isinstance(value, str) or not value.startswith("arn:"):
        raise ValidationException(f"{member} must be an ARN, got {value!r}.")
    if accepted and value not in accepted:
        raise AccessDeniedException(f"{member} '{value}' is not configured on this server.")
    return value


def create_session(
    request: SignedRequest, policy: RolesAnywherePolicy, issuer: SessionIssuer, now: dt.datetime | None = None
) -> dict[str, Any]:
    """CreateSession's answer for a verified request, or the AWS error."""
    now = now or dt.datetime.now(dt.UTC)
    caller = verify_request(request, policy.anchors, now)
    members = _members(request)
    missing = [name for name in REQUIRED_MEMBERS if name not in members]
    if missing:
        raise ValidationException(f"{missing[0]} is required.")
    _check_arn("trustAnchorArn", members["trustAnchorArn"], policy.trust_anchor_arns)
    _check_arn("profileArn", members["profileArn"], policy.profile_arns)
    role_arn = _check_arn("roleArn", members["roleArn"], policy.role_arns)
    duration_s = _duration_s(members.get("durationSeconds"))
    # A session never outlives the certificate that earned it (a judgement: AWS's page does not say).
    expiration = min(now + dt.timedelta(seconds=duration_s), caller.certificate.not_valid_after_utc)
    return _answer(caller, role_arn, issuer.issue(policy.account_id, role_arn, expiration))


def _answer(caller: X509Caller, role_arn: str, credential: Credential) -> dict[str, Any]:
    role_name = role_arn.rsplit("/", 1)[-1]
    session_name = str(caller.certificate.serial_number)
    account_id, key_id = credential.account_id, credential.access_key_id
    return {
        "credentialSet": [
            {
                "assumedRoleUser": {
                    "arn": f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
                    "assumedRoleId": f"{key_id}:{session_name}",
                },
                "credentials": {
                    "accessKeyId": key_id,
                    "secretAccessKey": credential.secret_access_key,
                    "sessionToken": credential.session_token,
                    "expiration": format_expiration(credential.expiration or dt.datetime.now(dt.UTC)),
                },
                "roleArn": role_arn,
                "sourceIdentity": caller.certificate.subject.rfc4514_string(),
            }
        ]
    }
