"""Which container a file is, from its first bytes; nothing else gets near a demuxer."""

from __future__ import annotations

from pathlib import Path

from callbridge.ingest.errors import NOT_A_VIDEO, UploadError

HEAD_BYTES = 64
MP4 = "mp4"  # FFmpeg's mov/mp4 demuxer: MP4, MOV, M4V, 3GP
MATROSKA = "matroska"  # FFmpeg's Matroska demuxer: MKV and WebM
EXTENSIONS = {MP4: "mp4", MATROSKA: "mkv"}

# Box types a QuickTime file may open with; modern MP4 and MOV open with 'ftyp'.
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
_EBML = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPES = (b"webm", b"matroska")
# Things people rename to .mp4, named in the refusal.
_KNOWN = (
    (b"#EXTM3U", "an HLS playlist"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF file (WAV or AVI)"),
    (b"ID3", "an MP3 file"),
)
_WANTED = "an MP4, MOV, WebM or MKV video"


def sniff_container(head: bytes) -> str:
    """'mp4' or 'matroska' from a file's first bytes, or UploadError(415)."""
    if len(head) >= 8 and head[4:8] in _MP4_BOXES:
        size = int.from_bytes(head[:4], "big")
        if size in (0, 1) or size >= 8:  # 0: to the end of the file, 1: a 64-bit size follows
            return MP4
    if head.startswith(_EBML) and any(doctype in head for doctype in _EBML_DOCTYPES):
        return MATROSKA
    if not head:
        raise UploadError(NOT_A_VIDEO, f"the file is empty, not {_WANTED}")
    for magic, what in _KNOWN:
        if head.startswith(magic):
            raise UploadError(NOT_A_VIDEO, f"the file is {what}, not {_WANTED}")
    raise UploadError(NOT_A_VIDEO, f"the file is not {_WANTED}")


def sniff_file(path: Path) -> str:
    """`sniff_container` of the file's first bytes."""
    with open(path, "rb") as fh:
        return sniff_container(fh.read(HEAD_BYTES))
