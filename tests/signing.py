"""Signing raw requests the way an AWS SDK does, for tests that need to send what boto3 would not."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY


def signed_headers(
    url: str,
    body: bytes,
    target: str,
    key_id: str = DEV_ACCESS_KEY_ID,
    secret: str = DEV_SECRET_ACCESS_KEY,
    region: str = "us-east-1",
    service: str = "rekognition",
    when: dt.datetime | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers of a SigV4-signed AWS JSON 1.1 POST, optionally signed at another time."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target, **(extra or {})}
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    signer = SigV4Auth(Credentials(key_id, secret), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    return dict(request.headers.items())
