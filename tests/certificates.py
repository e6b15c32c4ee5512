"""Certificates the tests make with cryptography's x509: CAs, client certificates (RSA and EC), a TLS server
certificate, written as PEM files where a client or `reko serve` wants a path."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: PrivateKey

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        """`<name>.pem` and `<name>.key` in `folder`."""
        certificate, key = folder / f"{name}.pem", folder / f"{name}.key"
        certificate.write_bytes(self.certificate_pem)
        key.write_bytes(self.key_pem)
        return certificate, key


def new_key(kind: str) -> PrivateKey:
    return rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Reko tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name, key: PrivateKey, start: dt.datetime, end: dt.datetime
             ) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end))


def make_ca(common_name: str = "Reko test CA", kind: str = "rsa", issuer: Issued | None = None) -> Issued:
    """A CA valid from a day ago for ten years; self-signed, or issued by `issuer` (an intermediate)."""
    key = new_key(kind)
    now = dt.datetime.now(dt.UTC)
    builder = _builder(common_name, issuer.certificate.subject if issuer else _name(common_name), key,
                       now - dt.timedelta(days=1), now + dt.timedelta(days=3650))
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    builder = builder.add_extension(_usage(digital_signature=True, cert_sign=True), critical=True)
    return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


def _usage(digital_signature: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def make_client_certificate(
    ca: Issued, kind: str = "rsa", common_name: str = "reko-connector",
    valid_from: dt.datetime | None = None, valid_for: dt.timedelta = dt.timedelta(days=30),
) -> Issued:
    """An end-entity certificate for signing, as Roles Anywhere wants one, issued by `ca`."""
    key = new_key(kind)
    start = valid_from or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    builder = _builder(common_name, ca.certificate.subject, key, start, start + valid_for)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(_usage(digital_signature=True, cert_sign=False), critical=True)
    builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def make_server_certificate(ca: Issued) -> Issued:
    """A TLS server certificate for 127.0.0.1 and localhost, issued by `ca`."""
    key = new_key("ec")
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=30)
    builder = _builder("127.0.0.1", ca.certificate.subject, key, start, end)
    builder = builder.add_extension(
        x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
        critical=False,
    )
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)
