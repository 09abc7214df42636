"""How much address space an ingest child may take.

An ingest holds every decoded frame in memory (RGB, 3 bytes a pixel), then the
actor's track: per-frame maps and masks over the face's box, copied once more
while the cache file is written. Measured peaks (VmPeak, 2-core host, mediapipe
loaded: about 1 GB before any frame): 10 s of 640x480 at 25 fps 1.2 GB; 8 s of
1920x1080 at 30 fps with a 380 px face 3.4 GB; 4 s of 1920x1080 with a 690 px
face 2.6 GB; 30 s of 1920x1080 at 30 fps 8.6 GB. 1.25 GB plus 7 bytes for every
decoded pixel covers each with at least 10% to spare.
"""

from __future__ import annotations

import os
import resource

from callbridge.ingest.header import ClipHeader

MB = 1024 * 1024
BASE_MB = 1280  # Python, PyAV, numpy, mediapipe's graphs
BYTES_PER_PIXEL = 7  # decoded frame + track maps and masks + the cache file's copies
FLOOR_MB = 3072  # a small clip gets this much whatever its estimate
CEILING_MB = 12288  # never more than this (30 s of 1080p30 needs about 8.6 GB)
NEAR_LIMIT = 0.9


def estimate_mb(header: ClipHeader) -> int:
    """Address space an ingest of this clip should need, from its header alone."""
    pixels = header.frames * header.width * header.height
    return BASE_MB + -(-pixels * BYTES_PER_PIXEL // MB)


def default_ceiling_mb() -> int:
    """CEILING_MB, or half the machine's memory when that is less."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // MB
    except (ValueError, OSError):
        return CEILING_MB
    return max(FLOOR_MB, min(CEILING_MB, physical // 2))


def limit_mb(header: ClipHeader, ceiling_mb: int) -> int:
    """The limit for ingesting this clip: its estimate, at least FLOOR_MB, at most `ceiling_mb`."""
    return min(ceiling_mb, max(FLOOR_MB, estimate_mb(header)))


def cap_address_space(mb: int) -> None:
    """Lower this process's address-space limit to `mb` (it can never be raised again)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mb * MB
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def peaks_mb() -> dict[str, int]:
    """This process's peak resident size and peak address space, in MB."""
    peaks = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    peaks["peak_vm_mb"] = int(line.split()[1]) // 1024
    except OSError:
        pass
    return peaks


def ran_out(exc: BaseException) -> bool:
    """Whether `exc` most likely comes of the address-space limit.

    Python raises MemoryError (sometimes wrapped by a C extension), but FFmpeg and
    thread creation fail with errors that read like a damaged file, so an error
    raised within NEAR_LIMIT of the limit counts as running out too.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError):
            return True
        seen = seen.__cause__ or seen.__context__
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    peak = peaks_mb().get("peak_vm_mb")
    return limit != resource.RLIM_INFINITY and peak is not None and peak * MB >= NEAR_LIMIT * limit
