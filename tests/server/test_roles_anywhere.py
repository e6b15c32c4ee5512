"""Roles Anywhere end to end: an independent client (PyPI `iam-rolesanywhere-session`) gets credentials from
`POST /sessions` over HTTPS with certificates the test makes, then calls DetectFaces with them through boto3."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError
from iam_rolesanywhere_session import CredentialsRetrievalError, IAMRolesAnywhereSession

from tests.certificates import Issued, make_ca, make_client_certificate, make_server_certificate
from tests.conftest import RunningServer, make_client, share_model_cache, start_server, stop_server

ACCOUNT_ID = "123456789012"
ANCHOR_ARN = f"arn:aws:rolesanywhere:eu-west-1:{ACCOUNT_ID}:trust-anchor/reko-anchor"
PROFILE_ARN = f"arn:aws:rolesanywhere:eu-west-1:{ACCOUNT_ID}:profile/reko-profile"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/reko-caller"
SETTINGS = {
    "REKO_TRUST_ANCHOR_ARNS": ANCHOR_ARN,
    "REKO_PROFILE_ARNS": PROFILE_ARN,
    "REKO_ROLE_ARNS": ROLE_ARN,
    "REKO_SESSION_ACCOUNT_ID": ACCOUNT_ID,
}


@dataclass(frozen=True)
class Pki:
    folder: Path
    anchor: Issued  # the trust anchor: the CA that issues client certificates
    tls_ca: Path  # the CA file that trusts the server's TLS certificate
    flags: tuple[str, ...]  # `reko serve` flags: TLS and the trust anchor

    def client_files(self, client: Issued) -> tuple[str, str]:
        certificate, key = client.write(self.folder, f"client-{client.certificate.serial_number}")
        return str(certificate), str(key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    anchor, tls_authority = make_ca("Reko test trust anchor"), make_ca("Reko test TLS CA", kind="ec")
    anchor_file, _ = anchor.write(folder, "anchor")
    tls_ca, _ = tls_authority.write(folder, "tls-ca")
    tls_cert, tls_key = make_server_certificate(tls_authority).write(folder, "tls")
    flags = ("--tls-cert", str(tls_cert), "--tls-key", str(tls_key), "--trust-anchor-ca", str(anchor_file))
    return Pki(folder, anchor, tls_ca, flags)


def start_roles_anywhere_server(pki: Pki, data_dir: Path) -> RunningServer:
    return start_server(data_dir, *pki.flags, env=SETTINGS, tls_ca=pki.tls_ca)


@pytest.fixture(scope="module")
def ra_server(server: RunningServer, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("reko-roles-anywhere")
    share_model_cache(server, data_dir)
    running = start_roles_anywhere_server(pki, data_dir)
    yield running
    stop_server(running)


def roles_anywhere(pki: Pki, server: RunningServer, client: Issued, **kwargs: object) -> IAMRolesAnywhereSession:
    certificate, key = pki.client_files(client)
    return IAMRolesAnywhereSession(
        profile_arn=kwargs.pop("profile_arn", PROFILE_ARN), role_arn=kwargs.pop("role_arn", ROLE_ARN),
        trust_anchor_arn=ANCHOR_ARN, certificate=certificate, private_key=key, region="eu-west-1",
        endpoint=server.url.split("//", 1)[1], verify=str(pki.tls_ca), **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_detect_faces_with_roles_anywhere_credentials(
    pki: Pki, ra_server: RunningServer, astronaut_jpeg: bytes, kind: str
) -> None:
    session = roles_anywhere(pki, ra_server, make_client_certificate(pki.anchor, kind=kind)).get_session()
    rekognition = session.client("rekognition", endpoint_url=ra_server.url)
    assert len(rekognition.detect_faces(Image={"Bytes": astronaut_jpeg})["FaceDetails"]) == 1
    arn = rekognition.create_collection(CollectionId=f"roles-anywhere-{kind}")["CollectionArn"]
    assert arn == f"arn:aws:rekognition:eu-west-1:{ACCOUNT_ID}:collection/roles-anywhere-{kind}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda pki: make_client_certificate(make_ca("Someone else's CA")), "does not chain"),
        (lambda pki: make_client_certificate(
            pki.anchor, valid_from=dt.datetime.now(dt.UTC) - dt.timedelta(days=60)), "is valid from"),
    ],
    ids=["wrong-ca", "expired-certificate"],
)
def test_untrusted_certificates_get_no_credentials(pki: Pki, ra_server: RunningServer, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CredentialsRetrievalError, match=message) as caught:
        roles_anywhere(pki, ra_server, make(pki)).get_session().get_credentials().get_frozen_credentials()
    assert caught.value.status_code == 403


def test_a_role_not_configured_gets_no_credentials(pki: Pki, ra_server: RunningServer) -> None:
    other_role = f"arn:aws:iam::{ACCOUNT_ID}:role/admin"
    session = roles_anywhere(pki, ra_server, make_client_certificate(pki.anchor), role_arn=other_role)
    with pytest.raises(CredentialsRetrievalError, match="roleArn .* is not configured") as caught:
        session.get_session().get_credentials().get_frozen_credentials()
    assert caught.value.status_code == 403


def test_issued_credentials_survive_a_restart(
    server: RunningServer, pki: Pki, tmp_path: Path, astronaut_jpeg: bytes
) -> None:
    """Issued by one server process, accepted by the next on the same data folder (its session secret)."""
    share_model_cache(server, tmp_path)
    first = start_roles_anywhere_server(pki, tmp_path)
    try:
        session = roles_anywhere(pki, first, make_client_certificate(pki.anchor)).get_session()
        frozen = session.get_credentials().get_frozen_credentials()
    finally:
        stop_server(first)
    second = start_roles_anywhere_server(pki, tmp_path)
    try:
        client = make_client(second.url, frozen.access_key, frozen.secret_key, aws_session_token=frozen.token,
                             verify=str(pki.tls_ca))
        assert len(client.detect_faces(Image={"Bytes": astronaut_jpeg})["FaceDetails"]) == 1
    finally:
        stop_server(second)


def test_issued_credentials_are_refused_after_expiry(pki: Pki, ra_server: RunningServer, astronaut_jpeg: bytes) -> None:
    """A certificate that expires in 15 s caps its session there: the credentials work, then answer
    ExpiredTokenException (plain credentials here: a refreshable session would refresh, and fail on the certificate)."""
    short_lived = make_client_certificate(pki.anchor, valid_for=dt.timedelta(hours=1, seconds=15))
    frozen = roles_anywhere(pki, ra_server, short_lived).get_session().get_credentials().get_frozen_credentials()
    client = make_client(ra_server.url, frozen.access_key, frozen.secret_key, aws_session_token=frozen.token,
                         verify=str(pki.tls_ca))
    assert len(client.detect_faces(Image={"Bytes": astronaut_jpeg})["FaceDetails"]) == 1
    left_s = (short_lived.certificate.not_valid_after_utc - dt.datetime.now(dt.UTC)).total_seconds()
    time.sleep(max(0.0, left_s) + 1.5)
    with pytest.raises(ClientError) as caught:
        client.detect_faces(Image={"Bytes": astronaut_jpeg})
    assert caught.value.response["Error"]["Code"] == "ExpiredTokenException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_sessions_are_off_without_a_trust_anchor(server: RunningServer) -> None:
    answer = httpx.post(server.url + "/sessions", content=b"{}")
    assert answer.status_code == 400
    assert answer.json()["__type"] == "UnknownOperationException"
    assert "REKO_TRUST_ANCHOR_CA" in answer.json()["Message"]
