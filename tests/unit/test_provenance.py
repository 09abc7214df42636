"""The exhibit CA as C2PA needs it: a root, and a leaf that signs documents and is not a CA."""

from __future__ import annotations

import asyncio
import stat

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from callbridge.provenance import ExhibitAuthority
from callbridge.provenance.authority import DOCUMENT_SIGNING
from tests.support.adminapi import admin_client


def test_the_leaf_is_a_document_signer_issued_by_the_root(tmp_path):
    authority = ExhibitAuthority.load_or_create(tmp_path)
    root = x509.load_pem_x509_certificate(authority.root_pem)
    leaf = x509.load_pem_x509_certificate(authority.leaf_pem)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature is True
    usages = set(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert usages == {ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING}
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    leaf.verify_directly_issued_by(root)
    years = (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days / 365
    assert years >= 10  # no timestamp server offline: C2PA checks validity when a file is read


def test_keys_are_private_and_the_authority_is_made_once(tmp_path):
    first = ExhibitAuthority.load_or_create(tmp_path)
    for name in ("leaf.key", "root.key"):
        assert stat.S_IMODE((tmp_path / "provenance" / name).stat().st_mode) == 0o600
    again = ExhibitAuthority.load_or_create(tmp_path)
    assert again.root_pem == first.root_pem and again.leaf_pem == first.leaf_pem


def test_the_relay_offers_its_root_certificate(tmp_path):
    async def go():
        async with admin_client(tmp_path) as (client, _):
            response = await client.get("/provenance/root.pem")
            return response.status, await response.read()

    status, body = asyncio.run(go())
    assert status == 200 and body == (tmp_path / "provenance" / "root.pem").read_bytes()
    assert body.startswith(b"-----BEGIN CERTIFICATE-----")
