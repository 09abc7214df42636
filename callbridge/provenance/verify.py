"""Read a file's C2PA manifest offline: its state (Valid, Trusted, Invalid or none) and what it says."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa

from callbridge.provenance.sign import OFFLINE, TEMPLATES_LABEL


@dataclass
class Verdict:
    state: str  # "Valid", "Trusted", "Invalid" or "none"
    digital_source_type: str | None = None
    templates: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def verify_file(path: Path, trust_pem: bytes | None = None) -> Verdict:
    """OSError when the file cannot be read; a Verdict otherwise."""
    with open(path, "rb") as fh:
        fh.read(1)  # an unreadable file fails here, with the system's reason, before C2PA's vaguer one
    settings: dict[str, Any] = dict(OFFLINE)
    if trust_pem is not None:
        settings["trust"] = {"user_anchors": trust_pem.decode()}
    try:
        with c2pa.Reader(str(path), context=c2pa.Context.from_dict(settings)) as reader:
            store = json.loads(reader.json())
            state = str(reader.get_validation_state() or "Invalid")
    except c2pa.C2paError as exc:
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in str(exc) or "not found" in str(exc).lower():
            return Verdict("none")
        return Verdict("Invalid", problems=[str(exc)])
    return _summary(store, state)


def _summary(store: dict[str, Any], state: str) -> Verdict:
    manifest = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    verdict = Verdict(state)
    for assertion in manifest.get("assertions", []):
        label, data = assertion.get("label", ""), assertion.get("data", {})
        if label.startswith("c2pa.actions"):
            for action in data.get("actions", []):
                verdict.digital_source_type = verdict.digital_source_type or action.get("digitalSourceType")
        elif label == TEMPLATES_LABEL:
            verdict.templates = list(data.get("templates", []))
    verdict.problems = [s.get("code", "") for s in store.get("validation_status", []) or []]
    return verdict
