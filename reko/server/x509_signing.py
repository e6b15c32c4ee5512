"""The X.509 variant of SigV4 that IAM Roles Anywhere's CreateSession takes, and the trust chain behind it.

As AWS documents it: the canonical request and string to sign are SigV4's, the algorithm is
`AWS4-X509-RSA-SHA256` or `AWS4-X509-ECDSA-SHA256`, the credential scope starts with the signing certificate's
serial number (decimal), `X-Amz-X509` carries that certificate (base64 DER) and `X-Amz-X509-Chain` its
intermediates (comma-separated, base64 DER), and the signature is the private key's signature of the string to
sign (RSA PKCS#1 v1.5 or ECDSA, SHA-256), hex-encoded. The certificate must chain to a configured trust anchor and
every certificate of the chain must be valid now.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256

from reko.errors import (
    AccessDeniedException,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)
from reko.server import sigv4
from reko.server.credentials import format_expiration

SERVICE_NAME = "rolesanywhere"
ALGORITHMS = {"AWS4-X509-RSA-SHA256": rsa.RSAPublicKey, "AWS4-X509-ECDSA-SHA256": ec.EllipticCurvePublicKey}
MAX_CHAIN_CERTIFICATES = 5  # leaf + intermediates; Roles Anywhere documents a chain of at most 5
_AUTH_FIELD = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]+)")
UNTRUSTED = "Untrusted signing certificate."


@dataclass(frozen=True)
class X509Caller:
    """Who signed a CreateSession request: the certificate (verified, trusted now) and the scope's region."""

    certificate: x509.Certificate
    region: str


def load_trust_anchors(path: Path) -> list[x509.Certificate]:
    """Every CA certificate in a PEM file (a bundle may hold several trust anchors)."""
    anchors = x509.load_pem_x509_certificates(path.read_bytes())
    for anchor in anchors:
        if not _is_ca(anchor):
            raise ValueError(f"{path}: '{anchor.subject.rfc4514_string()}' is not a CA certificate")
    return anchors


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _parse_authorization(value: str | None) -> tuple[str, list[str], list[str], str]:
    if not value:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    algorithm = value.split(" ", 1)[0]
    if algorithm not in ALGORITHMS:
        raise IncompleteSignatureException(
            f"Authorization header requires {' or '.join(ALGORITHMS)}; got '{algorithm}'."
        )
    fields = dict(_AUTH_FIELD.findall(value))
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise IncompleteSignatureException("Authorization header requires Credential, SignedHeaders and Signature.")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[3] != SERVICE_NAME or scope[4] != "aws4_request":
        raise IncompleteSignatureException(
            f"Credential must be serial/date/region/{SERVICE_NAME}/aws4_request, got '{fields['Credential']}'."
        )
    return algorithm, scope, fields["SignedHeaders"].lower().split(";"), fields["Signature"]


def _certificate(encoded: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(base64.b64decode(encoded.strip(), validate=True))
    except (binascii.Error, ValueError) as error:
        raise AccessDeniedException("X-Amz-X509 and X-Amz-X509-Chain must be base64 DER certificates.") from error


def verify_request(
    request: sigv4.SignedRequest, anchors: Sequence[x509.Certificate], now: dt.datetime | None = None
) -> X509Caller:
    """Check a CreateSession request's X.509 signature and trust chain; raise the AWS error on any failure."""
    now = now or dt.datetime.now(dt.UTC)
    for name in ("authorization", "x-amz-date", "x-amz-x509", "x-amz-x509-chain"):
        if [key for key, _ in request.headers].count(name) > 1:
            raise IncompleteSignatureException(f"The {name} header must appear exactly once.")
    algorithm, scope, signed_names, signature = _parse_authorization(
        sigv4.header_value(request.headers, "authorization")
    )
    serial, date, region = scope[0], scope[1], scope[2]
    encoded_leaf = sigv4.header_value(request.headers, "x-amz-x509")
    if not encoded_leaf:
        raise IncompleteSignatureException("The X-Amz-X509 header (the signing certificate) is required.")
    leaf = _certificate(encoded_leaf)
    if serial != str(leaf.serial_number):
        raise InvalidSignatureException("Credential must start with the signing certificate's serial number.")
    amz_date = sigv4.header_value(request.headers, "x-amz-date")
    if not amz_date or amz_date[:8] != date:
        raise InvalidSignatureException("Credential should be scoped to a valid date matching X-Amz-Date.")
    sigv4.check_timestamp(amz_date, now)
    sigv4.check_signed_names(request.headers, signed_names)
    sigv4.check_content_hash(request)
    canonical = sigv4.canonical_request(request, signed_names, amz_date)
    string_to_sign = "\n".join(
        [algorithm, amz_date, "/".join(scope[1:]), hashlib.sha256(canonical.encode()).hexdigest()]
    )
    _check_signature(leaf, algorithm, signature, string_to_sign.encode())
    chain = sigv4.header_value(request.headers, "x-amz-x509-chain")
    intermediates = [_certificate(part) for part in chain.split(",")] if chain else []
    check_trust(leaf, intermediates, anchors, now)
    return X509Caller(certificate=leaf, region=region)


def _check_signature(leaf: x509.Certificate, algorithm: str, signature: str, string_to_sign: bytes) -> None:
    key = leaf.public_key()
    if not isinstance(key, ALGORITHMS[algorithm]):
        raise InvalidSignatureException(f"{algorithm} does not match the signing certificate's key type.")
    try:
        raw = bytes.fromhex(signature)
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, string_to_sign, padding.PKCS1v15(), SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, string_to_sign, ec.ECDSA(SHA256()))
    except (ValueError, InvalidSignature) as error:
        raise InvalidSignatureException(
            "The request signature does not verify with the signing certificate's public key."
        ) from error


def _valid_now(certificate: x509.Certificate, now: dt.datetime) -> bool:
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def check_trust(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    now: dt.datetime,
) -> None:
    """The leaf is an end-entity certificate for signatures, and issuer by issuer (through CA certificates the
    client sent) reaches a trust anchor, every certificate on the way valid at `now`."""
    if _is_ca(leaf):
        raise AccessDeniedException(f"{UNTRUSTED} It is a CA certificate, not an end-entity certificate.")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            raise AccessDeniedException(f"{UNTRUSTED} Its key usage does not include digitalSignature.")
    except x509.ExtensionNotFound:
        pass
    if len(intermediates) + 1 > MAX_CHAIN_CERTIFICATES:
        raise AccessDeniedException(f"{UNTRUSTED} The chain holds more than {MAX_CHAIN_CERTIFICATES} certificates.")
    current = leaf
    for _ in range(MAX_CHAIN_CERTIFICATES):
        if not _valid_now(current, now):
            start, end = current.not_valid_before_utc, current.not_valid_after_utc
            raise AccessDeniedException(
                f"{UNTRUSTED} '{current.subject.rfc4514_string()}' is valid from {format_expiration(start)} "
                f"to {format_expiration(end)}."
            )
        anchor = next((anchor for anchor in anchors if _issued_by(current, anchor)), None)
        if anchor is not None:
            if not _valid_now(anchor, now):
                raise AccessDeniedException(f"{UNTRUSTED} The trust anchor is outside its validity period.")
            return
        issuer = next((cert for cert in intermediates if _is_ca(cert) and _issued_by(current, cert)), None)
        if issuer is None:
            break
        current = issuer
    raise AccessDeniedException(f"{UNTRUSTED} It does not chain to the configured trust anchor.")
