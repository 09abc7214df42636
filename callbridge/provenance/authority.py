"""The installation's exhibit CA: a root and a signing leaf, made at first use in the data directory.

There is no timestamp server offline, so C2PA checks the leaf's validity when a file
is read: the leaf lives for years. The keys are readable by their owner only.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FOLDER = "provenance"
ROOT_YEARS, LEAF_YEARS = 30, 20
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class ExhibitAuthority:
    root_pem: bytes
    leaf_pem: bytes
    leaf_key: ec.EllipticCurvePrivateKey

    @classmethod
    def load_or_create(cls, data_dir: Path, name: str = "callbridge exhibit") -> ExhibitAuthority:
        folder = data_dir / FOLDER
        paths = [folder / n for n in ("root.pem", "leaf.pem", "leaf.key")]
        if not all(p.exists() for p in paths):
            _create(folder, name)
        key = serialization.load_pem_private_key(paths[2].read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{paths[2]} is not an EC key")
        return cls(paths[0].read_bytes(), paths[1].read_bytes(), key)

    def sign(self, data: bytes) -> bytes:
        return self.leaf_key.sign(data, ec.ECDSA(hashes.SHA256()))


def _create(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root")])
    root = (
        _base(root_name, root_name, root_key.public_key(), now, ROOT_YEARS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} signer")])
    leaf = (
        _base(leaf_name, root_name, leaf_key.public_key(), now, LEAF_YEARS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    _write(folder / "root.key", _private(root_key), secret=True)
    _write(folder / "leaf.key", _private(leaf_key), secret=True)
    _write(folder / "leaf.pem", leaf.public_bytes(serialization.Encoding.PEM))
    _write(folder / "root.pem", root.public_bytes(serialization.Encoding.PEM))  # last: its presence means complete


def _base(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: dt.datetime, years: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * years))
    )


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, secret: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
