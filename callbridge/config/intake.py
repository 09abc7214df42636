"""A clip's way into the campaign: checked, stored under a random name, ingested, recorded.

Every failure leaves nothing behind: no stored clip, no half-made record. The
checks and the ingest run in a child process (callbridge.ingest) with time and
memory limits, so a hostile file can at worst fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from callbridge.config.campaign import NotFound, TemplateRecord, check_template_name
from callbridge.config.store import Store
from callbridge.ingest import Caps, UploadError, ingest, probe, resolve_inside, sniff_container, store_clip

Progress = Callable[[float], None]
CAPS = Caps()


def check_upload(path: Path, caps: Caps = CAPS) -> str:
    """Size, container and header caps, and a face in a sample of frames; returns the container."""
    size = path.stat().st_size
    if size > caps.max_bytes:
        raise UploadError(413, f"the file is {size / 1e6:.0f} MB; at most {caps.max_bytes / 1e6:.0f} MB")
    with open(path, "rb") as fh:
        container = sniff_container(fh.read(64))
    probe(path, container)
    return container


def ingest_stored(data_dir: Path, clip: str, record: TemplateRecord, progress: Progress | None) -> TemplateRecord:
    """Track the actor through a stored clip; the record, ready. The clip is deleted if this fails."""
    path = resolve_inside(data_dir, clip)
    try:
        result = ingest(path, record.meta(), data_dir, progress or (lambda p: None))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return replace(
        record, clip=clip, clip_sha256=result.sha256, verdict=result.verdict, status="ready", progress=1.0, error=None
    )


def ingest_record(
    data_dir: Path, src: Path, record: TemplateRecord, progress: Progress | None = None
) -> TemplateRecord:
    """Check, store and ingest `src` for `record`, without touching the campaign (import uses it)."""
    check_template_name(record.name)
    container = check_upload(src)
    return ingest_stored(data_dir, store_clip(data_dir, src, container), record, progress)


def admit(store: Store, src: Path, record: TemplateRecord, progress: Progress | None = None) -> TemplateRecord:
    """Add `src` as a ready template of the campaign (blocking), or raise and change nothing."""
    check_template_name(record.name)
    store.reserve_template(record)

    def report(fraction: float) -> None:
        store.set_progress(record.name, fraction)
        if progress is not None:
            progress(fraction)

    try:
        ready = ingest_record(store.data_dir, src, record, report)
    except BaseException:
        store.remove_template(record.name)
        raise
    try:
        return store.mark_ready(record.name, ready.clip, ready.clip_sha256, ready.verdict or "")
    except NotFound:  # deleted while it was ingesting
        discard(store.data_dir, ready)
        raise


def discard(data_dir: Path, record: TemplateRecord) -> None:
    """Delete the stored clip of a record that will not be used (or was deleted)."""
    if record.clip and not record.builtin:
        resolve_inside(data_dir, record.clip).unlink(missing_ok=True)


def forget_removed(store: Store, removed: list[TemplateRecord]) -> None:
    """Delete the clips and cached actor tracks of deleted templates that no remaining template uses."""
    kept = store.campaign().templates
    clips, hashes = {t.clip for t in kept}, {t.clip_sha256 for t in kept}
    for record in removed:
        if record.clip not in clips:
            discard(store.data_dir, record)
        if record.clip_sha256 and record.clip_sha256 not in hashes:
            for track in (store.data_dir / "templates" / ".cache").glob(f"{record.clip_sha256}-*.npz"):
                track.unlink(missing_ok=True)
