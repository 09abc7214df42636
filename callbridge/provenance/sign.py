"""Sign an MP4 with a C2PA manifest: created, composite with trained algorithmic media, templates named."""

from __future__ import annotations

import json
from pathlib import Path

import c2pa

from callbridge.provenance.authority import ExhibitAuthority

OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
TEMPLATES_LABEL = "org.callbridge.templates"


def sign_video(src: Path, dst: Path, authority: ExhibitAuthority, templates: list[str], title: str) -> None:
    """Write `src` to `dst` with a signed manifest (`dst` must not be `src`)."""
    from importlib.metadata import version

    manifest = {
        "claim_generator_info": [{"name": "callbridge", "version": version("callbridge")}],
        "title": title,
        "format": "video/mp4",
        "assertions": [{"label": TEMPLATES_LABEL, "data": {"templates": sorted(set(templates))}}],
    }
    context = c2pa.Context.from_dict(OFFLINE)
    signer = c2pa.Signer.from_callback(authority.sign, c2pa.C2paSigningAlg.ES256, authority.leaf_pem.decode(), None)
    with c2pa.Builder(json.dumps(manifest), context) as builder:
        builder.set_intent(
            c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
        )
        builder.sign_file(src, dst, signer)
    signer.close()
