"""A whole campaign as a TOML file (docs/campaigns.md, "Export and import").

Export writes the retention setting, every ready template with the path of its
stored clip, and every phrase. Import reads such a file, checks all of it
(naming the line of the first thing wrong; see campaign_check), ingests the
clips it does not have yet, and only then replaces the campaign in one
transaction: a bad file or a refused clip changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

from callbridge.config.campaign import Campaign, CampaignError, TemplateRecord
from callbridge.config.campaign_check import CampaignFile, TemplateSource, read_campaign_file
from callbridge.config.store import Store

Progress = Callable[[str, float], None]  # (template name, fraction done) while a clip is ingested


@dataclass(frozen=True)
class ExportSummary:
    templates: int
    phrases: int
    skipped: list[str] = field(default_factory=list)  # templates not ready (and so not exported)


@dataclass(frozen=True)
class ImportSummary:
    templates: int
    phrases: int
    ingested: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)  # same name and clip as already stored: not ingested again


# ---------------------------------------------------------------------------------------------- export


def export_campaign(store: Store, path: Path) -> ExportSummary:
    """Write the campaign to `path` (replacing it whole: a temporary file renamed into place)."""
    text, summary = dump_campaign(store, path.parent)
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return summary


def dump_campaign(store: Store, base: Path) -> tuple[str, ExportSummary]:
    """The campaign as TOML; clip paths under `base` are written relative to it, others absolute."""
    campaign = store.campaign()
    exported = [t for t in campaign.templates if not t.builtin and t.status == "ready" and t.clip]
    usable = {t.name for t in exported} | {t.name for t in campaign.templates if t.builtin}
    phrases = [r for r in campaign.phrases if r.template in usable]
    chunks = [
        f"# callbridge campaign (revision {campaign.revision}). Relative clip paths are relative to this file.\n"
        "# Load it with: callbridge campaign import FILE\n\n",
        tomli_w.dumps({"retention_days": store.retention_days()}),
    ]
    chunks += [_table("templates", _template_entry(t, store.data_dir, base)) for t in exported]
    chunks += [_table("phrases", r.to_dict()) for r in phrases]
    skipped = sorted({t.name for t in campaign.templates} - usable)
    return "".join(chunks), ExportSummary(len(exported), len(phrases), skipped)


def _table(name: str, entry: dict[str, Any]) -> str:
    # Each entry as its own [[name]] table: tomli_w alone would write short ones inline.
    return f"\n[[{name}]]\n" + tomli_w.dumps(entry)


def _template_entry(record: TemplateRecord, data_dir: Path, base: Path) -> dict[str, Any]:
    clip = (data_dir / record.clip).resolve()
    try:
        shown = clip.relative_to(base.resolve()).as_posix()
    except ValueError:
        shown = str(clip)
    return {
        "name": record.name,
        "clip": shown,
        "title": record.title,
        "tagline": record.tagline,
        "licence": record.licence,
        "max_duration_s": record.max_duration_s,
        "fallback": record.fallback,
    }


# ---------------------------------------------------------------------------------------------- import


def import_campaign(store: Store, path: Path, progress: Progress | None = None) -> ImportSummary:
    """Check `path` whole, ingest its new clips, then replace the campaign in one transaction.

    Raises CampaignError naming FILE:LINE; the campaign and the clips folder are then as before.
    """
    from callbridge.config import intake  # imported here: it brings the ingest machinery

    builtin = {t.name for t in store.campaign().templates if t.builtin}
    plan = read_campaign_file(path, builtin)
    records, fresh, reused = _ingest_all(store, plan, path.name, progress)
    before = [t for t in store.campaign().templates if not t.builtin]
    try:
        store.replace_campaign(Campaign(list(plan.phrases), records), plan.retention_days)
    except BaseException:
        _discard_all(store.data_dir, fresh)
        raise
    intake.forget_removed(store, before)  # templates the file dropped or replaced
    return ImportSummary(len(records), len(plan.phrases), [r.name for r in fresh], reused)


# ---------------------------------------------------------------------------------------------- ingest


def _ingest_all(
    store: Store, plan: CampaignFile, label: str, progress: Progress | None
) -> tuple[list[TemplateRecord], list[TemplateRecord], list[str]]:
    """Every template ready: (all records, the newly ingested ones, names reused as stored)."""
    records: list[TemplateRecord] = []
    fresh: list[TemplateRecord] = []
    reused: list[str] = []
    try:
        for source in plan.templates:
            same = _stored_same(store, source)
            if same is not None:
                records.append(same)
                reused.append(same.name)
                continue
            fresh.append(_ingest(store.data_dir, source, label, progress))
            records.append(fresh[-1])
    except BaseException:
        _discard_all(store.data_dir, fresh)  # all or nothing: no clip of a failed import stays
        raise
    return records, fresh, reused


def _stored_same(store: Store, source: TemplateSource) -> TemplateRecord | None:
    """The stored record of a template with this name and this very clip, with the file's metadata."""
    old = store.template(source.record.name)
    if old is None or old.builtin or old.status != "ready" or not old.clip:
        return None
    if not (store.data_dir / old.clip).is_file() or old.clip_sha256 != _sha256(source.clip):
        return None
    new = source.record
    return replace(
        old,
        title=new.title,
        tagline=new.tagline,
        licence=new.licence,
        max_duration_s=new.max_duration_s,
        fallback=new.fallback,
    )


def _ingest(data_dir: Path, source: TemplateSource, label: str, progress: Progress | None) -> TemplateRecord:
    from callbridge.config import intake  # imported here: it brings the ingest machinery

    name = source.record.name

    def report(fraction: float) -> None:
        if progress is not None:
            progress(name, fraction)

    try:
        return intake.ingest_record(data_dir, source.clip, source.record, report)
    except (ValueError, OSError) as exc:  # UploadError and CampaignError are ValueErrors
        raise CampaignError(f"{label}:{source.line}: template {name!r}: {_one_line(exc)}") from exc


def _discard_all(data_dir: Path, records: list[TemplateRecord]) -> None:
    from callbridge.config import intake

    for record in records:
        try:
            intake.discard(data_dir, record)
        except (ValueError, OSError):
            pass  # best effort while another error is on its way up


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
