"""Where template clips live: random names under DATA/clips, every path kept inside the data directory."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

from callbridge.ingest.errors import BREAKS_RULE, NOT_A_VIDEO, UploadError
from callbridge.ingest.sniff import EXTENSIONS

CLIPS = "clips"
_TEMPLATE_NAME = re.compile(r"[a-z0-9-]{1,40}")


def check_template_name(name: str) -> str:
    """`name` when it is 1-40 lowercase letters, digits or '-', else UploadError(422)."""
    # fullmatch: with `$` a trailing newline would get through.
    if not isinstance(name, str) or not _TEMPLATE_NAME.fullmatch(name):
        raise UploadError(BREAKS_RULE, f"template name {name!r}: use 1-40 lowercase letters, digits or -")
    return name


def resolve_inside(data_dir: Path, relative: str | os.PathLike[str]) -> Path:
    """The real path of `relative` under `data_dir`, or UploadError(422) when it resolves
    anywhere else ('..', an absolute path, a symlink pointing out)."""
    root = Path(data_dir).resolve()
    try:
        path = (root / relative).resolve()
    except (ValueError, OSError):  # a NUL byte, a symlink loop
        raise UploadError(BREAKS_RULE, f"{str(relative)!r} is not a usable path") from None
    if path == root or not path.is_relative_to(root):
        raise UploadError(BREAKS_RULE, f"{str(relative)!r} is outside the data directory")
    return path


def store_clip(data_dir: Path, src: Path, container: str) -> str:
    """Copy an accepted upload to DATA/clips/<random>.<mp4|mkv> and return that path relative
    to `data_dir`. The file appears whole or not at all; `src` is left for the caller."""
    if container not in EXTENSIONS:
        raise UploadError(NOT_A_VIDEO, f"unknown container {container!r}")
    folder = Path(data_dir) / CLIPS
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{secrets.token_hex(16)}.{EXTENSIONS[container]}"
    tmp = folder / f".{final.name}.part"  # same folder: the rename is atomic
    try:
        with open(src, "rb") as reader, open(tmp, "xb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return final.relative_to(data_dir).as_posix()


def discard_clip(data_dir: Path, relative: str) -> None:
    """Delete a stored clip (a deleted or refused template's); a missing one is fine."""
    resolve_inside(data_dir, relative).unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
