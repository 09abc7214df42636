"""`serve --tls`: a self-signed certificate made once in DATA/tls/ and reused (browsers give the
camera only to localhost or HTTPS pages).

The certificate names the bind host, localhost, 127.0.0.1, ::1 and this
machine's names. It is made again only when it is missing, unreadable, about
to expire, or does not name a host it is now asked to.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FOLDER = "tls"
LIFETIME = datetime.timedelta(days=825)  # the longest a browser accepts for a server certificate
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    made: bool  # True when made by this call, False when an existing one was reused

    def context(self) -> ssl.SSLContext:
        """A server context for aiohttp."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def ensure_certificate(data_dir: Path, hosts: list[str]) -> TlsFiles:
    """DATA/tls/cert.pem and key.pem (mode 600) naming `hosts` and loopback; made once, then reused."""
    folder = data_dir / FOLDER
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    wanted = _names(hosts)
    if _usable(cert_path, key_path, wanted):
        return TlsFiles(cert_path, key_path, made=False)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _self_signed(key, wanted)
    _write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _no_password()))
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return TlsFiles(cert_path, key_path, made=True)


def _no_password() -> serialization.KeySerializationEncryption:
    return serialization.NoEncryption()


def _names(hosts: list[str]) -> set[str]:
    names = {"localhost", "127.0.0.1", "::1"}
    for host in hosts:
        host = host.strip("[]").lower()
        if host and host not in ("0.0.0.0", "::"):
            names.add(host)
    return names


def _san(names: set[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in sorted(names):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _self_signed(key: ec.EllipticCurvePrivateKey, names: set[str]) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "callbridge relay (self-signed)")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + LIFETIME)
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )


def _usable(cert_path: Path, key_path: Path, wanted: set[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    if key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo):
        return False
    if cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) < RENEW_BEFORE:
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    have |= {name.lower() for name in san.get_values_for_type(x509.DNSName)}
    return {_canonical(n) for n in wanted} <= {_canonical(n) for n in have}


def _canonical(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower()


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Written to a temporary file with its final mode, then renamed into place."""
    temp = path.with_suffix(".part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(temp, mode)
    os.replace(temp, path)
