"""The admin token: from CALLBRIDGE_ADMIN_TOKEN, or generated once and kept in the data directory."""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ENV = "CALLBRIDGE_ADMIN_TOKEN"
FILE = "admin-token"
MIN_LENGTH = 12


class TokenError(ValueError):
    """An admin token that cannot be used; the message says why."""


@dataclass(frozen=True)
class AdminToken:
    value: str = ""
    source: Literal["environment", "file", "new"] = "new"

    def matches(self, given: str) -> bool:
        """Constant-time comparison, so response timing leaks nothing about the token."""
        return bool(self.value) and hmac.compare_digest(self.value.encode(), given.encode())


def load_admin_token(data_dir: Path) -> AdminToken:
    """The token from the environment, else the data directory's, else a new one written there (mode 600)."""
    from_env = os.environ.get(ENV, "").strip()
    if from_env:
        if len(from_env) < MIN_LENGTH:
            raise TokenError(f"{ENV} is too short: use at least {MIN_LENGTH} characters")
        return AdminToken(from_env, "environment")
    path = data_dir / FILE
    if path.exists():
        stored = path.read_text().strip()
        if len(stored) < MIN_LENGTH:
            raise TokenError(f"{path} holds no usable token: delete it to have a new one generated")
        return AdminToken(stored, "file")
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made one meanwhile: use theirs
        return load_admin_token(data_dir)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return AdminToken(token, "new")
