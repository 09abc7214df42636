"""The limits an uploaded template clip must keep."""

from __future__ import annotations

from dataclasses import dataclass

from callbridge.ingest.errors import TOO_BIG, UploadError

MB = 1_000_000


@dataclass(frozen=True)
class Caps:
    """Upload limits. Width and height hold either way round (a portrait 1080x1920 fits)."""

    max_bytes: int = 200 * MB
    max_width: int = 1920
    max_height: int = 1080
    max_fps: float = 60.0
    min_fps: float = 1.0  # a rate claimed lower than this is a broken or crafted header
    max_duration_s: float = 30.0
    max_frames: int = 1800


DEFAULT_CAPS = Caps()


def check_size(n_bytes: int, caps: Caps = DEFAULT_CAPS) -> None:
    """UploadError(413) for an upload over the size cap (from Content-Length, or bytes read so far)."""
    if n_bytes > caps.max_bytes:
        raise UploadError(TOO_BIG, f"the file is {n_bytes / MB:,.0f} MB; at most {caps.max_bytes / MB:g} MB")
